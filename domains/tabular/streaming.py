"""Tables larger than memory: one streamed pass for metadata, a second to encode into a memory map.

A table that does not fit in memory is read as a stream of record batches
(``pyarrow.dataset``: one Parquet or CSV file, or a folder of them). The first pass,
:func:`scan_table`, keeps

- a uniform **reservoir sample** of at most ``reservoir_rows`` rows (bottom-*k* of i.i.d.
  uniform keys, which is a uniform sample without replacement; Vitter 1985, "Random sampling
  with a reservoir", in its priority-sampling form), from which column kinds and the
  quantile encoder are inferred, and
- **exact** facts the sample can miss: every category's count (for columns with at most
  ``max_categories`` distinct values), each column's missing count, and numeric minima and
  maxima.

:func:`stream_metadata` infers the metadata from the reservoir and then overwrites the
sample's categories, gaps and ranges with the exact ones, so a category seen in one row of
twenty million is still a category of the model. :func:`encode_to_memmap` is the second pass:
each batch is encoded and written as float32 rows into a memory-mapped file, so the encoded
table lives on disk and only a batch is in memory at a time. :func:`fit_stream`
(:meth:`TabularSynthesizer.fit_stream`) puts the passes together and trains the backbone on
the map, which ``Generator.fit`` keeps on disk (:mod:`synthkit.memmap`).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from synthkit.domains.tabular.metadata import _plain, _sort_key, infer_metadata

#: rows of the reservoir the metadata and the quantile encoder are inferred from
RESERVOIR_ROWS = 200_000
#: rows per record batch read from the files
BATCH_ROWS = 65_536
#: columns with more distinct values than this stop being counted (numbers, identifiers)
MAX_CATEGORIES = 10_000
SUFFIX_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
#: the command line streams a Parquet file of more rows than this (or any folder) ...
STREAM_ROWS = 2_000_000
#: ... and a CSV file larger than this (pandas holds about 5 to 10 times a CSV's bytes)
STREAM_CSV_BYTES = 256 * 2**20


@dataclass
class TableScan:
    """What one streamed pass learned about a table (see :func:`scan_table`)."""

    n_rows: int
    reservoir: pd.DataFrame
    counts: dict = field(default_factory=dict)  # column -> {value: count}, or None once too many
    missing: dict = field(default_factory=dict)  # column -> number of missing cells
    minimum: dict = field(default_factory=dict)  # numeric column -> exact min
    maximum: dict = field(default_factory=dict)


def open_dataset(source):
    """A ``pyarrow.dataset`` over a Parquet/CSV file or a folder of them (ValueError otherwise)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIX_FORMATS
                       and not p.name.startswith(("_", ".")))
        if not files:
            raise ValueError(f"{path}: the folder holds no .parquet or .csv files.")
        kinds = {SUFFIX_FORMATS[p.suffix.lower()] for p in files}
        if len(kinds) > 1:
            raise ValueError(f"{path}: the folder mixes Parquet and CSV files; keep one format.")
        paths = [str(p) for p in files]
    elif path.is_file():
        if path.suffix.lower() not in SUFFIX_FORMATS:
            raise ValueError(f"{path}: unsupported table file type {path.suffix!r}; use .parquet or .csv.")
        kinds, paths = {SUFFIX_FORMATS[path.suffix.lower()]}, [str(path)]
    else:
        raise ValueError(f"{path}: no such file or folder.")
    try:
        return ds.dataset(paths, format=kinds.pop())
    except (pa.ArrowException, OSError) as err:
        raise ValueError(f"{path}: cannot read it as a table ({err}).") from None


def should_stream(source) -> bool:
    """Whether the command line should stream ``source`` rather than read it whole: a folder,
    a Parquet file of more than ``STREAM_ROWS`` rows (from its footer) or a large CSV file."""
    path = Path(source)
    if path.is_dir():
        return True
    if not path.is_file():
        return False  # the reader names the problem
    if path.suffix.lower() == ".csv":
        return path.stat().st_size > STREAM_CSV_BYTES
    if SUFFIX_FORMATS.get(path.suffix.lower()) == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows > STREAM_ROWS
        except Exception:  # noqa: BLE001  (not Parquet after all: the reader names the problem)
            return False
    return False


def iter_batches(source, batch_rows: int = BATCH_ROWS):
    """DataFrames of at most ``batch_rows`` rows, in file order, with the files' columns."""
    import pyarrow as pa

    # pyarrow's default read-ahead (4 files, 16 batches) buffers whole files ahead of a slower
    # consumer and the peak memory grew with the table; one of each keeps it near a batch
    batches = open_dataset(source).to_batches(batch_size=batch_rows, fragment_readahead=1, batch_readahead=1)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as err:
            raise ValueError(f"{source}: cannot read it as a table ({err}).") from None
        if batch.num_rows:
            yield batch.to_pandas()


def scan_table(source, *, reservoir_rows: int = RESERVOIR_ROWS, batch_rows: int = BATCH_ROWS,
               max_categories: int = MAX_CATEGORIES, random_state=None, progress: bool = False) -> TableScan:
    """Stream ``source`` once: a uniform reservoir sample plus exact counts, gaps and ranges."""
    rng = np.random.default_rng(random_state)
    keep, keys, n = None, np.zeros(0), 0
    counts, missing, lo, hi = {}, {}, {}, {}
    bar = _bar(progress, "scanning")
    for df in iter_batches(source, batch_rows):
        if keep is None:
            counts = {c: {} for c in df.columns}
        df.index = pd.RangeIndex(n, n + len(df))
        n += len(df)
        for c in df.columns:
            s = df[c]
            missing[c] = missing.get(c, 0) + int(s.isna().sum())
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                present = s.dropna()
                if len(present):
                    lo[c] = min(lo.get(c, np.inf), float(present.min()))
                    hi[c] = max(hi.get(c, -np.inf), float(present.max()))
            if counts.get(c) is not None:
                for value, k in s.value_counts(dropna=True).items():
                    counts[c][value] = counts[c].get(value, 0) + int(k)
                if len(counts[c]) > max_categories:
                    counts[c] = None
        # bottom-k of uniform keys over everything seen so far = a uniform k-subset
        new_keys = rng.random(len(df))
        pool = df if keep is None else pd.concat([keep, df])
        pool_keys = np.concatenate([keys, new_keys])
        if len(pool) > reservoir_rows:
            top = np.sort(np.argpartition(pool_keys, reservoir_rows - 1)[:reservoir_rows])
            pool, pool_keys = pool.iloc[top], pool_keys[top]
        keep, keys = pool, pool_keys
        bar.update(len(df))
    bar.close()
    if keep is None:
        raise ValueError(f"{source}: the table has no rows.")
    return TableScan(n, keep.sort_index(), counts, missing, lo, hi)


def stream_metadata(scan: TableScan, overrides=None) -> dict:
    """Metadata inferred on the reservoir, with exact categories, gaps and ranges from the scan."""
    md = infer_metadata(scan.reservoir.reset_index(drop=True), overrides)
    given = (overrides or {}).get("columns", {}) if isinstance(overrides, dict) else {}
    for name, col in md["columns"].items():
        user = given.get(name, {}) if isinstance(given.get(name), dict) else {}
        if "missing" not in user:
            col["missing"] = bool(scan.missing.get(name, 0))
        if col["kind"] == "categorical" and "categories" not in user and not col.get("ordered"):
            exact = scan.counts.get(name)
            if exact is not None:
                col["categories"] = [_plain(v) for v in sorted(exact, key=_sort_key)]
        if col["kind"] == "numerical" and name in scan.minimum:
            if "min" not in user:
                col["min"] = scan.minimum[name]
            if "max" not in user:
                col["max"] = scan.maximum[name]
        if col["kind"] == "id" and "start" in col and name in scan.maximum:
            col["start"] = int(scan.maximum[name]) + 1
    return md


def encode_to_memmap(source, encoder, path, *, n_rows: int, batch_rows: int = BATCH_ROWS, random_state=None,
                     check=None, progress: bool = False) -> np.memmap:
    """Encode every row of ``source`` with a fitted ``TableEncoder`` into a float32 memory map.

    Batch ``i`` is encoded with its own seed from ``(random_state, i)`` (the quantile
    encoder's tie-breaking noise), so the file depends only on the data and the seed. The
    map is written beside ``path`` and renamed into place when every row is in (``atomic_path``).
    ``check(batch)``, if given, sees each batch first (its index numbers the table's rows) and
    may raise to refuse the table.
    """
    from synthkit.io import atomic_path

    path = Path(path)
    root = np.random.SeedSequence(random_state)
    row, bar = 0, _bar(progress, "encoding")
    try:
        with atomic_path(path, suffix=".npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=(n_rows, encoder.n_features_out_))
            for i, df in enumerate(iter_batches(source, batch_rows)):
                if row + len(df) > n_rows:
                    raise ValueError(f"{source}: the table grew while it was read ({row + len(df)} > {n_rows} rows).")
                if check is not None:
                    df.index = pd.RangeIndex(row, row + len(df))
                    check(df)
                out[row : row + len(df)] = encoder.transform(df, random_state=_batch_rng(root, i))
                row += len(df)
                bar.update(len(df))
            if row != n_rows:
                raise ValueError(f"{source}: the table changed while it was read ({row} rows, {n_rows} scanned).")
            out.flush()
            del out
    finally:
        bar.close()
    return np.load(path, mmap_mode="r")


def fit_stream(synth, source, *, resume: bool = False, scratch_dir=None, progress: bool = False):
    """:meth:`TabularSynthesizer.fit_stream`: scan, fit the encoder on the reservoir, encode
    every row to a scratch memory map and train the backbone on it."""
    from synthkit.domains.tabular.synthesizer import check_rows

    start = time.perf_counter()
    if synth.dp is not None:
        raise ValueError("fit_stream does not support dp yet; fit a DataFrame (fit) for DP-SGD.")
    if synth.condition_column is not None:
        raise ValueError("fit_stream does not support condition_column yet: keep it an ordinary column "
                         "and sample with conditions= (rejection sampling) instead.")
    seed = synth._fit_seed(resume)  # the reservoir, the encoding's noise and the backbone share it
    scan = scan_table(source, reservoir_rows=RESERVOIR_ROWS, batch_rows=BATCH_ROWS, random_state=seed,
                      progress=progress)
    if scan.n_rows < 2:
        raise ValueError(f"{source}: the table has {scan.n_rows} row; at least 2 are needed.")
    synth.metadata_ = stream_metadata(scan, synth.metadata)
    constraints = synth._parse_constraints()
    sample = scan.reservoir.reset_index(drop=True)
    backbone = synth._fit_encoder(sample, n_rows=scan.n_rows, private=False)
    with tempfile.TemporaryDirectory(dir=scratch_dir, prefix="synthkit-stream-") as tmp:
        X = encode_to_memmap(source, synth.encoder_, Path(tmp) / "encoded.npy", n_rows=scan.n_rows,
                             batch_rows=BATCH_ROWS, random_state=seed, progress=progress,
                             check=lambda df: check_rows(constraints, df, synth.metadata_))
        backbone.fit(X, resume=resume)
        del X
    synth.privacy_ = None
    synth.n_rows_ = scan.n_rows
    synth.fit_seconds_ = time.perf_counter() - start
    return synth


def _batch_rng(root: np.random.SeedSequence, i: int) -> np.random.Generator:
    """Generator of batch ``i`` (files cut batches short, so their number is known only at the end)."""
    return np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i)))


def _bar(progress: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(unit="rows", desc=desc, disable=not progress)
