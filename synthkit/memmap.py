"""Rows that live on disk: statistics and standardization of memory-mapped arrays in chunks.

A table larger than memory reaches a generator as a NumPy memory map (``np.load(path,
mmap_mode="r")``, e.g. written by :func:`synthkit.domains.tabular.streaming.encode_to_memmap`).
``Generator.fit`` must then never make a full in-memory copy: this module computes the
standardization's moments chunk by chunk (two passes, so the variance is as accurate as
``np.std``), writes the standardized float32 rows to a scratch memory map beside the input
(an unlinked temporary file, gone when the fit ends or the process dies) and sums rows for
the checkpoint fingerprint without a float64 copy. The training loop then indexes the map
through ``torch.from_numpy``: the operating system pages rows in as batches touch them.

In-memory arrays take the same paths (float32 output, chunked sums), so there is one code
path; only the moments of an in-memory array keep NumPy's one-shot ``mean`` and ``std``.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import torch

#: rows per chunk (of 64-column float64 rows: 32 MiB)
CHUNK_ROWS = 65_536


def mapped_file(X) -> str | None:
    """The file behind ``X`` if it is (a view of) a NumPy memory map, else ``None``."""
    while X is not None:
        if isinstance(X, np.memmap) and getattr(X, "filename", None):
            return str(X.filename)
        X = getattr(X, "base", None)
    return None


def chunks(n: int, size: int | None = None):
    """``(lo, hi)`` bounds covering ``range(n)`` in pieces of ``size`` rows (``CHUNK_ROWS``)."""
    size = CHUNK_ROWS if size is None else size
    return ((lo, min(lo + size, n)) for lo in range(0, n, size))


def moments(X: np.ndarray, *, pooled: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) standard deviation of ``X`` in two chunked passes.

    With ``pooled`` (a boolean column mask) one mean and one deviation over all those
    columns' cells are returned instead (as floats in length-1 arrays).
    """
    n = len(X)
    cols = slice(None) if pooled is None else np.flatnonzero(pooled)
    count = n if pooled is None else n * len(cols)
    total = 0.0
    for lo, hi in chunks(n):
        part = np.asarray(X[lo:hi][:, cols], dtype=np.float64)
        total = total + (part.sum(0) if pooled is None else part.sum())
    mean = total / count
    squares = 0.0
    for lo, hi in chunks(n):
        dev = np.asarray(X[lo:hi][:, cols], dtype=np.float64) - mean
        squares = squares + ((dev**2).sum(0) if pooled is None else (dev**2).sum())
    return np.atleast_1d(mean), np.atleast_1d(np.sqrt(squares / count))


def standardize(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X - mean) / scale`` as float32, chunk by chunk (computed in float64 per chunk).

    A memory-mapped ``X`` gets a memory-mapped result in a scratch file in the same folder
    (``TMPDIR`` if that folder is read-only; unlinked at once, so nothing is left behind); any
    other ``X`` a new in-memory array.
    """
    n, d = X.shape
    source = mapped_file(X)
    if source is None:
        out = np.empty((n, d), dtype=np.float32)
    else:
        scratch = _scratch_file(os.path.dirname(os.path.abspath(source)))
        out = np.memmap(scratch, dtype=np.float32, mode="w+", shape=(n, d))
        scratch.close()  # the map keeps the (unlinked) file open
    for lo, hi in chunks(n):
        out[lo:hi] = (X[lo:hi] - mean) / scale
    return out


def _scratch_file(folder: str):
    """An unlinked temporary file in ``folder`` (the input's disk), else in ``TMPDIR``."""
    try:
        return tempfile.TemporaryFile(dir=folder, prefix=".standardized-")  # the map outlives it
    except OSError:  # a read-only folder
        return tempfile.TemporaryFile(prefix="synthkit-standardized-")


def tensor_sums(X: torch.Tensor) -> tuple[float, float]:
    """``(sum, sum of squares)`` of every entry of ``X`` in float64, chunk by chunk."""
    total, squares = 0.0, 0.0
    for lo, hi in chunks(len(X)):
        part = X[lo:hi].double()
        total += float(part.sum())
        squares += float((part**2).sum())
    return total, squares


def distinct_values(column: np.ndarray, limit: int | None = None) -> np.ndarray | None:
    """The sorted distinct values of a 1-D ``column`` (``np.unique``), read in chunks; ``None``
    as soon as there are more than ``limit`` (a real-valued column stops after one chunk)."""
    seen = np.zeros(0, dtype=column.dtype)
    for lo, hi in chunks(len(column)):
        seen = np.union1d(seen, column[lo:hi])
        if limit is not None and len(seen) > limit:
            return None
    return seen
