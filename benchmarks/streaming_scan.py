"""Throughput and peak memory of the streamed scan and memory-mapped encoding of a table.

Usage: python benchmarks/streaming_scan.py FOLDER_OF_PARQUET  (see docs/benchmarks/streaming.md)
"""

import resource
import sys
import time

from synthkit.domains.tabular import TableEncoder
from synthkit.domains.tabular.streaming import (
    encode_to_memmap,
    scan_table,
    stream_metadata,
)


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main(source: str, out: str = "/tmp/encoded.npy") -> None:
    print(f"after imports: peak RSS {peak_mb()} MB")
    t = time.perf_counter()
    scan = scan_table(source, random_state=0)
    t_scan = time.perf_counter() - t
    print(f"scan: {scan.n_rows:,} rows in {t_scan:.1f} s ({scan.n_rows / t_scan:,.0f} rows/s), peak RSS {peak_mb()} MB")
    enc = TableEncoder(metadata=stream_metadata(scan), categorical="codes").fit(scan.reservoir)
    t = time.perf_counter()
    X = encode_to_memmap(source, enc, out, n_rows=scan.n_rows, random_state=0)
    t_enc = time.perf_counter() - t
    print(f"encode: {t_enc:.1f} s ({scan.n_rows / t_enc:,.0f} rows/s), width {X.shape[1]}, peak RSS {peak_mb()} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])
