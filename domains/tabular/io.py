"""Reading and writing tables: CSV and Parquet, both ways, written atomically.

Writers go through :func:`synthkit.io.write_batches`: rows are streamed batch by batch
into a temporary file beside the destination, which is renamed into place
(``os.replace``) only when every batch is in -- an interrupted run never leaves a
truncated file under the requested name, and memory stays bounded by one batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

READ_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
WRITE_SUFFIXES = (".csv", ".parquet")


def read_table(path) -> pd.DataFrame:
    """Read a ``.csv`` / ``.tsv`` / ``.parquet`` file as a DataFrame (ValueError if unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except ImportError as err:
        raise ValueError(f"{path}: reading Parquet needs pyarrow ({err}); pip install 'synthkit[tabular]'.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as err:
        raise ValueError(f"{path}: cannot read it as a table ({err}).") from None
    raise ValueError(f"{path}: unsupported table file type {suffix!r}; use one of {READ_SUFFIXES}.")


def write_table(df: pd.DataFrame, path) -> Path:
    """Write ``df`` to ``.csv`` or ``.parquet`` atomically; returns the path."""
    write_table_batches(path, [df])
    return Path(path)


def write_table_batches(path, batches: Iterable[pd.DataFrame], *, total: int | None = None,
                        progress: bool = False) -> int:
    """Stream DataFrame batches into one ``.csv`` or ``.parquet`` file; returns rows written.

    Args:
        path: destination; its suffix picks the format.
        batches: DataFrames with the same columns and dtypes.
        total: rows expected (for the progress bar).
        progress: show a progress bar (tqdm) on stderr.
    """
    from synthkit.io import write_batches

    path = Path(path)
    if path.suffix.lower() not in WRITE_SUFFIXES:
        raise ValueError(f"{path}: unsupported output type {path.suffix!r}; use one of {WRITE_SUFFIXES}.")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as err:
            raise ValueError(f"writing Parquet needs pyarrow ({err}); pip install 'synthkit[tabular]'.") from None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="rows", desc=path.name)

        def counted():
            for batch in batches:
                yield batch
                bar.update(len(batch))

        try:
            return write_batches(path, counted())
        finally:
            bar.close()
    return write_batches(path, batches)
