"""Reading numeric data files and writing generated rows in batches, atomically.

Every output of the project is written through :func:`atomic_path` (one file) or
:func:`atomic_folder` (a folder of parts): a temporary beside the destination, renamed into
place only on success, with the usual file permissions.

``write_batches`` streams an iterator of batches to ``.csv``, ``.parquet``, ``.npy`` or
``.smi``/``.txt`` (one string per line) with bounded memory: it writes to a temporary
file beside the destination and renames it into place only when every batch is in, so
an interrupted run never leaves a truncated file under the requested name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ARRAY_SUFFIXES = (".npy", ".csv", ".parquet")
TEXT_SUFFIXES = (".smi", ".txt")


def read_numeric(path) -> np.ndarray:
    """Read a numeric matrix from ``.npy``, or a ``.csv`` / ``.parquet`` whose columns are all numbers."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".parquet"):
        X = read_numeric_frame(path).to_numpy(dtype=float)
    else:
        if not path.is_file():
            raise ValueError(f"{path}: no such file.")
        if path.suffix.lower() != ".npy":
            raise ValueError(f"{path}: unsupported file type {path.suffix.lower()!r}; use .npy, .csv or .parquet.")
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise ValueError(f"{path}: not a numeric .npy array ({err}).") from None
    if X.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D matrix, got shape {X.shape}.")
    return X


def read_numeric_frame(path):
    """A ``.csv`` or ``.parquet`` file whose columns are all numbers, as a DataFrame (names kept)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError, ValueError) as err:
        raise ValueError(f"{path}: cannot parse as {path.suffix.lower()[1:].upper()} ({err}).") from None
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]
    if bad:
        raise ValueError(
            f"{path}: column {bad[0]!r} is not numeric; use the tabular domain "
            "(synthkit fit tabular ...) for mixed-type tables."
        )
    return df


def write_batches(path, batches: Iterable, *, columns=None) -> int:
    """Write batches (ndarrays, DataFrames or lists of strings) to ``path``; returns rows written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES + TEXT_SUFFIXES:
        raise ValueError(f"{path}: unsupported output type {suffix!r}; use one of {ARRAY_SUFFIXES + TEXT_SUFFIXES}.")
    n = 0
    with atomic_path(path) as tmp:
        tmp = str(tmp)
        try:
            writer = _WRITERS[suffix](tmp, columns)
            for batch in batches:
                n += writer.write(batch)
            writer.close()
        finally:
            if os.path.exists(tmp + ".raw"):
                os.unlink(tmp + ".raw")
    return n


def _frame(batch, columns):
    import pandas as pd

    if isinstance(batch, pd.DataFrame):
        return batch
    arr = np.asarray(batch)
    if arr.ndim == 1:
        arr = arr[:, None]
    cols = columns if columns is not None else [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=cols)


class _CSV:
    def __init__(self, tmp, columns):
        self.tmp, self.columns, self.header = tmp, columns, True

    def write(self, batch) -> int:
        df = _frame(batch, self.columns)
        df.to_csv(self.tmp, mode="w" if self.header else "a", header=self.header, index=False)
        self.header = False
        return len(df)

    def close(self):
        if self.header:  # nothing written: still leave a valid (empty) file
            open(self.tmp, "w").close()


class _Parquet:
    def __init__(self, tmp, columns):
        self.tmp, self.columns, self.writer = tmp, columns, None

    def write(self, batch) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(_frame(batch, self.columns), preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))
        return table.num_rows

    def close(self):
        if self.writer is not None:
            self.writer.close()


class _NPY:
    """Collects batches on disk in a raw file, then writes the .npy header and data once."""

    def __init__(self, tmp, columns):
        self.tmp, self.raw, self.shape, self.dtype = tmp, open(tmp + ".raw", "wb"), None, None

    def write(self, batch) -> int:
        arr = np.ascontiguousarray(np.asarray(batch, dtype=float))
        self.shape = (0 if self.shape is None else self.shape[0]) + len(arr), *arr.shape[1:]
        self.raw.write(arr.tobytes())
        return len(arr)

    def close(self):
        self.raw.close()
        out = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=float, shape=self.shape or (0,))
        if self.shape and self.shape[0]:
            out[...] = np.memmap(self.tmp + ".raw", dtype=float, mode="r", shape=self.shape)
        out.flush()
        del out
        os.unlink(self.tmp + ".raw")


class _Text:
    def __init__(self, tmp, columns):
        self.f = open(tmp, "w")

    def write(self, batch) -> int:
        lines = [str(s) for s in batch]
        self.f.write("".join(f"{s}\n" for s in lines))
        return len(lines)

    def close(self):
        self.f.close()


_WRITERS = {".csv": _CSV, ".parquet": _Parquet, ".npy": _NPY, ".smi": _Text, ".txt": _Text}


def usual_mode(*, directory: bool = False) -> int:
    """The permissions a plain ``open`` / ``mkdir`` would give (``0666`` / ``0777`` less the
    umask), for files made with ``mkstemp`` / ``mkdtemp`` (``0600`` / ``0700``) and renamed
    into place."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


@contextmanager
def atomic_path(path, *, suffix: str = ".tmp", mode: int | None = None) -> Iterator[Path]:
    """A temporary file path beside ``path``, renamed onto ``path`` only if the block succeeds.

    The one atomic-write primitive of the project: write the whole file to the yielded path
    (``open``, ``torch.save``, a library writer...); on leaving the block it gets ``mode``
    (default :func:`usual_mode`, ``0666`` less the umask, not ``mkstemp``'s ``0600``) and is
    moved into place with ``os.replace`` (atomic within one file system, POSIX and Windows).
    On an error the temporary file is removed and an existing ``path`` stays as it was, so a
    reader never sees a half-written file. The parent folder is created. ``suffix`` ends the
    temporary name, for writers that choose the format by extension (e.g. ``".tmp.nii.gz"``).
    A folder of several files written as a whole is :func:`atomic_folder`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, usual_mode() if mode is None else mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_folder(path) -> Iterator[Path]:
    """A temporary folder beside ``path``, moved onto ``path`` (by :func:`replace_folder`) only
    if the block succeeds; removed with its contents on an error.

    For outputs that are a folder of parts (a saved model, a folder of clips or images): the
    folder appears complete or not at all, and an existing one is replaced only once the new
    one is complete. The folder gets the usual permissions (``0777`` less the umask, not
    ``mkdtemp``'s ``0700``). Callers check beforehand that an existing ``path`` may be replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    try:
        os.chmod(tmp, usual_mode(directory=True))
        yield tmp
        replace_folder(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(path, text: str) -> None:
    """Write a UTF-8 text file atomically (temporary file, then rename), creating its folder.

    The file gets the usual permissions (``0666`` less the umask), not ``mkstemp``'s ``0600``,
    so reports and tables written for a team are readable by it.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_frame(path):
    """A table from ``.csv``, ``.parquet`` or ``.npy`` (columns ``x0, x1, ...``) as a DataFrame."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except Exception as err:  # pandas / pyarrow raise many types for a bad file
        raise ValueError(f"{path}: cannot read as {suffix[1:]} ({err}).") from None
    if suffix == ".npy":
        X = read_numeric(path)
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .npy.")


def replace_folder(tmp: Path, path: Path) -> None:
    """Move the finished folder ``tmp`` to ``path`` (beside it, same file system), replacing
    an existing ``path`` only once ``tmp`` is complete: the old folder is renamed aside first
    and removed last, so a crash leaves either the old or the new folder, never a mix."""
    tmp, path = Path(tmp), Path(path)
    if path.exists():
        old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old-"))
        os.replace(path, old / path.name)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
