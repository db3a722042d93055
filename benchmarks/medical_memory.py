"""Peak memory of ``synthkit sample`` for a 3-D latent diffusion model: bounded by one batch,
not by the number of volumes drawn.

Fits a tiny 3-D :class:`~synthkit.domains.medical.synthesizer.ImageSynthesizer` (latent
diffusion, 32³ synthetic-shape volumes, a ``--max-time`` budget; quality is not the point),
saves it, then runs ``synthkit sample MODEL -n N --batch-size B --out DIR`` in a fresh child
process for each ``N`` and reads that child's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at exit, Linux: KiB). ``sample_to_file``
writes each batch's NIfTI files and drops the batch, so the peak should be the same for
n=100 and n=1,000 at one batch size (and grow with the batch size instead).

Measured figures: ``docs/benchmarks/medical.md`` (section "Memory of sampling to files").

Not part of the tests. Usage:
    python benchmarks/medical_memory.py [--max-time 20] [--n 100 1000] [--batch-size 50] [--steps 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from synthkit.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "peak_mib": peak_kib / 1024, "seconds": time.perf_counter() - start}))
"""


def fit_model(folder: Path, max_time: float, steps: int) -> Path:
    from synthkit.domains.medical import make_synthetic_shapes
    from synthkit.domains.medical.synthesizer import ImageSynthesizer

    images, _ = make_synthetic_shapes(32, image_size=32, spatial_dims=3, random_state=0)
    synth = ImageSynthesizer(spatial_dims=3, image_size=(32, 32, 32), latent=True, random_state=0, verbose=0,
                             backbone_params={"max_time": max_time, "n_sampling_steps": steps}).fit(images)
    return synth.save(folder / "model")


def measure(model: Path, n: int, batch_size: int, out: Path) -> dict:
    args = ["sample", str(model), "-n", str(n), "--batch-size", str(batch_size), "--out", str(out), "--quiet",
            "--seed", "0"]
    done = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True)
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record.update(n=n, batch_size=batch_size, files=sum(1 for _ in out.iterdir()))
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-time", type=float, default=20.0, help="fit budget in seconds")
    ap.add_argument("--n", type=int, nargs="+", default=[100, 1000], help="volumes to draw")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[50], help="volumes per batch")
    ap.add_argument("--steps", type=int, default=5, help="DDIM sampling steps (few: this measures memory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        model = fit_model(tmp, args.max_time, args.steps)
        print(f"fitted and saved in {time.perf_counter() - t0:.1f} s", flush=True)
        print("| n | batch size | files written | peak RSS (MiB) | seconds |")
        print("|---:|---:|---:|---:|---:|")
        for b in args.batch_size:
            for n in args.n:
                r = measure(model, n, b, tmp / f"out_{n}_{b}")
                print(f"| {r['n']} | {r['batch_size']} | {r['files']} | {r['peak_mib']:.0f} | {r['seconds']:.1f} |",
                      flush=True)


if __name__ == "__main__":
    main()
