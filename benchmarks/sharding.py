"""Sharded sampling throughput and memory: one file against parts written by 1 and K workers.

Fits the tabular default on the bundled tabular example (a short budget: the decode path,
not the model's quality, is measured), saves it, then draws ``--rows`` rows to Parquet three
ways, each in a fresh process so peak RSS is its own: ``synthkit sample`` to one file, a
sharded draw with 1 worker, and a sharded draw with ``--workers`` workers. Reports rows/s,
peak RSS of the main process and of the largest worker, and checks that the sharded draws
are byte-identical to each other and equal, row for row, to the single file.
Run: ``python benchmarks/sharding.py --rows 2000000 --workers 2``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DRAW = """
import json, resource, sys, time
from synthkit.sharding import sample_shards
from synthkit.cli import main
model, out, rows, workers, batch, shard = sys.argv[1:7]
start = time.perf_counter()
if workers == "file":
    main(["sample", model, "-n", rows, "--seed", "1", "--batch-size", batch, "--out", out, "--quiet"])
else:
    sample_shards(model, out, int(rows), seed=1, batch_size=int(batch), shard_rows=int(shard), workers=int(workers))
seconds = time.perf_counter() - start
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_main_mb": self_kb / 1024, "rss_worker_mb": child_kb / 1024}))
"""


def draw(model: Path, out: Path, rows: int, workers, batch: int, shard: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", DRAW, str(model), str(out), str(rows), str(workers), str(batch),
                           str(shard)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--shard", type=int, default=250_000)
    parser.add_argument("--fit-seconds", type=float, default=30)
    args = parser.parse_args(argv)

    import pandas as pd

    from synthkit.registry import DOMAINS
    from synthkit.sharding import digest

    tabular = DOMAINS.get("tabular")
    work = Path(tempfile.mkdtemp(prefix="bench-shards-"))
    example = tabular.example()
    train = work / "train.csv"
    tabular.write(example.data, train)
    model = work / "model"
    tabular.fit(str(train), params={"max_time": args.fit_seconds, "random_state": 0, "verbose": 0}).save(model)
    print(f"table: {example.data.shape[0]} rows x {example.data.shape[1]} columns; load {os.getloadavg()}")

    runs = {"one file (synthkit sample)": ("file", work / "one.parquet"),
            "sharded, 1 worker": (1, work / "one-worker"),
            f"sharded, {args.workers} workers": (args.workers, work / "k-workers")}
    rows = []
    for name, (workers, out) in runs.items():
        t = time.time()
        figures = draw(model, out, args.rows, workers, args.batch, args.shard)
        rows.append({"run": name, "rows/s": args.rows / figures["seconds"], "seconds": figures["seconds"],
                     "peak RSS main (MB)": figures["rss_main_mb"], "peak RSS worker (MB)": figures["rss_worker_mb"],
                     "load": os.getloadavg()[0]})
        print(rows[-1], f"({time.time() - t:.0f} s wall)", flush=True)
    one, k = runs["sharded, 1 worker"][1], runs[f"sharded, {args.workers} workers"][1]
    same_bytes = (one / "_manifest.json").read_bytes() == (k / "_manifest.json").read_bytes()
    equal_rows = pd.read_parquet(one).equals(pd.read_parquet(runs["one file (synthkit sample)"][1]))
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(f"{v:,.1f}" if isinstance(v, float) else str(v) for v in r.values()) + " |")
    print(f"parts byte-identical for 1 and {args.workers} workers: {same_bytes}; parts equal the single file: "
          f"{equal_rows}; part digest {digest(one / 'part-00000.parquet')[:12]}")
    return 0 if same_bytes and equal_rows else 1


if __name__ == "__main__":
    sys.exit(main())
