"""Fit the default tabular synthesizer on a table larger than memory: streamed against in memory.

Usage::

    python benchmarks/streaming_fit.py make FOLDER ROWS        # a generated Parquet folder
    python benchmarks/streaming_fit.py run FOLDER MODE SECONDS  # MODE: stream | memory

``run`` fits ``TabularSynthesizer()`` (MADE, early stopping) with a training budget of
``SECONDS`` and prints one JSON line: wall time per phase, training rows/s, the process's peak
RSS (``VmHWM``) and its peak anonymous memory (``RssAnon``, sampled every 0.1 s: heap, not the
memory map's page cache, which the kernel can drop), then column shapes and pair trends of
100,000 sampled rows against 100,000 fresh rows of the same generator (held out: never fitted).
Each mode runs in its own process so peaks do not mix; see docs/benchmarks/streaming.md.
"""

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROWS_PER_FILE = 1_000_000


def table(n: int, seed: int) -> pd.DataFrame:
    """Six dependent columns: a Gaussian, a gamma depending on a category, a gappy float and
    three categoricals with 4, 7 and 50 values."""
    rng = np.random.default_rng(seed)
    shop = rng.integers(0, 4, n)
    x = rng.normal(0, 1, n)
    amount = rng.gamma(2.0 + shop, 1.0 + 0.5 * np.tanh(x))
    score = np.where(rng.random(n) < 0.1, np.nan, x * 2.0 + rng.normal(0, 0.5, n))
    region = (shop * 2 + rng.integers(0, 2, n)) % 7
    item = rng.zipf(1.5, n) % 50
    return pd.DataFrame({"x": x, "amount": amount, "score": score, "shop": np.array(list("abcd"))[shop],
                         "region": region.astype(str), "item": item})


def make(folder: str, rows: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    n = int(rows)
    for k in range(0, n, ROWS_PER_FILE):
        table(min(ROWS_PER_FILE, n - k), seed=k).to_parquet(out / f"part-{k // ROWS_PER_FILE:04d}.parquet")
    print(f"wrote {n:,} rows to {out}")


class Peaks:
    """The largest ``RssAnon`` of this process, sampled in a background thread."""

    def __init__(self, every: float = 0.1):
        self.anon, self.every, self._stop = 0, every, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            self.anon = max(self.anon, status("RssAnon"))
            time.sleep(self.every)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"peak_rss_mb": status("VmHWM"), "peak_anon_mb": self.anon}


def status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    return 0


def run(folder: str, mode: str, seconds: str) -> None:
    from synthkit.domains.tabular import TabularSynthesizer
    from synthkit.domains.tabular.io import read_table
    from synthkit.metrics.fidelity import column_shapes, pair_trends

    record = {"mode": mode, "imports_mb": status("VmRSS")}
    peaks = Peaks()
    t0 = time.perf_counter()
    synth = TabularSynthesizer(backbone_params={"max_time": float(seconds)}, random_state=0, verbose=0)
    if mode == "stream":
        synth.fit_stream(folder, progress=False)
    else:
        synth.fit(read_table(folder) if Path(folder).is_file() else pd.read_parquet(folder))
    gen = synth.generator_
    history = gen.history_
    record.update(rows=synth.n_rows_, fit_s=round(time.perf_counter() - t0, 1),
                  train_s=round(history[-1]["seconds"], 1) if history else 0.0, epochs=gen.n_epochs_,
                  steps=gen.n_steps_, batch_size=int(gen.batch_size))
    record["train_rows_per_s"] = round(gen.n_steps_ * int(gen.batch_size) / max(record["train_s"], 1e-9))
    record.update(peaks.stop())
    t = time.perf_counter()
    fake = synth.sample(100_000, random_state=1)
    record["sample_rows_per_s"] = round(100_000 / (time.perf_counter() - t))
    held_out = table(100_000, seed=10**9)  # the same generator, rows never fitted
    record["column_shapes"] = round(float(np.mean([r["score"] for r in column_shapes(held_out, fake)])), 4)
    record["pair_trends"] = round(float(np.mean([r["score"] for r in pair_trends(held_out, fake)])), 4)
    record["val_loss"] = history[-1].get("val_loss") if history else None
    print(json.dumps(record))


if __name__ == "__main__":
    {"make": make, "run": run}[sys.argv[1]](*sys.argv[2:])
