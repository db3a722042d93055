"""Data-parallel scaling: 1 process x 1 thread against N processes x 1 thread (torchrun + gloo).

Trains the same deterministic normalizing flow (seeded, no dropout) on the same rows with
the same *global* batch, so the N-process run takes the same steps as the 1-process run;
reports steps/s of the training loop (``n_steps_ / history_[-1]["seconds"]``, start-up
excluded), the parallel efficiency and the largest difference of a weight from the
1-process fit. Run: ``python benchmarks/distributed.py --processes 2``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def worker(args) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from synthkit.backbones.flow import NormalizingFlow
    from synthkit.training.distributed import is_main

    rng = np.random.default_rng(0)
    z = rng.normal(size=(args.rows, args.columns))
    X = z @ rng.normal(size=(args.columns, args.columns)) + np.sin(z[:, :1])
    flow = NormalizingFlow(flow="maf", hidden_dims=(args.width, args.width), n_transforms=4,
                           batch_size=args.batch, max_epochs=args.epochs, verbose=0, random_state=0)
    flow.fit(X)
    if is_main():
        seconds = flow.history_[-1]["seconds"]
        torch.save(flow.modules_.state_dict(), args.out + ".pt")
        Path(args.out + ".json").write_text(json.dumps({"steps": flow.n_steps_, "seconds": seconds}))


def run(n: int, args, tmp: str, threads: int = 1) -> dict:
    out = os.path.join(tmp, f"p{n}t{threads}")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    flags = ["--worker", "--out", out, "--threads", str(threads), "--rows", str(args.rows), "--columns", str(args.columns),
             "--batch", str(args.batch), "--epochs", str(args.epochs), "--width", str(args.width)]
    launcher = [sys.executable] if n == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                f"--nproc_per_node={n}"]
    subprocess.run([*launcher, __file__, *flags], env=env, check=True)
    return json.loads(Path(out + ".json").read_text()) | {"out": out}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--columns", type=int, default=8)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--worker", action="store_true")
    p.add_argument("--out")
    args = p.parse_args()
    if args.worker:
        return worker(args)
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        one, many = run(1, args, tmp), run(args.processes, args, tmp)
        threaded = run(1, args, tmp, threads=args.processes)
        a, b = torch.load(one["out"] + ".pt"), torch.load(many["out"] + ".pt")
        diff = max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].is_floating_point())
    rate1, rate_n = one["steps"] / one["seconds"], many["steps"] / many["seconds"]
    rate_t = threaded["steps"] / threaded["seconds"]
    print(f"global batch {args.batch}, {one['steps']} steps, {args.rows} rows x {args.columns}, MAF width {args.width}")
    print(f"1 process x 1 thread: {rate1:.2f} steps/s")
    print(f"{args.processes} processes x 1 thread: {rate_n:.2f} steps/s "
          f"(speed-up {rate_n / rate1:.2f}, efficiency {rate_n / rate1 / args.processes:.0%})")
    print(f"1 process x {args.processes} threads: {rate_t:.2f} steps/s (speed-up {rate_t / rate1:.2f})")
    print(f"largest weight difference from 1 process: {diff:.2e}")


if __name__ == "__main__":
    main()
