"""Quality and speed of every backbone on 2-D toy densities and on digits.

For each data set and backbone: fit with a fixed wall-clock budget, draw 2,000 samples,
and report

* the classifier two-sample test AUC between the samples and held-out real rows
  (gradient boosting, out-of-fold; 0.5 = indistinguishable),
* the mean held-out log-likelihood where the family has one (exact, or a lower bound
  marked "≥", or unnormalized, not comparable and left out),
* fit seconds and sampling rows per second.

A scikit-learn ``GaussianMixture`` (10 components) sits in the same table as the
reference. Digits (17 grey levels) are dequantized for training (``(pixel + u) / 17``,
``u ~ U[0, 1)``), so that densities are defined and log-likelihoods are comparable; the
held-out log-likelihood is that of dequantized held-out digits. For the two-sample test the
generated pixels are quantized back to the 17 levels (``floor(17 x)`` clipped to 0..16,
as image models' samples are stored as 8-bit pixels) and compared with the real held-out
digits, scaled to [0, 1]: the test asks whether the samples are digits, not whether their
sub-level noise is uniform. Nothing here is part of the test suite.

Usage:
    python benchmarks/backbones.py --max-time 30            # the full table
    python benchmarks/backbones.py --quick                  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.mixture import GaussianMixture

import synthkit
from synthkit.datasets import load_dataset
from synthkit.metrics import c2st_auc

TOY = ("eight_gaussians", "moons", "pinwheel")
N_SAMPLES = 2000


def data(name: str, seed: int = 0):
    """Training rows and held-out rows."""
    if name == "digits":
        import sklearn.datasets

        X = sklearn.datasets.load_digits().data
        rng = np.random.default_rng(seed)
        X = (X + rng.uniform(size=X.shape)) / 17.0
        idx = rng.permutation(len(X))
        return X[idx[:1200]], X[idx[1200:]]
    X, _ = load_dataset(name, n_samples=4000, random_state=seed)
    return X[:2000], X[2000:]


def quantize(X: np.ndarray) -> np.ndarray:
    """Dequantized digits (or samples of them) back on the 17 grey levels, scaled to [0, 1]."""
    return np.clip(np.floor(X * 17.0), 0, 16) / 16.0


def run_one(name: str, X: np.ndarray, Xte: np.ndarray, max_time: float, seed: int, discrete: bool = False) -> dict:
    if name == "gmm":
        model = GaussianMixture(10, covariance_type="full", random_state=seed)
        start = time.perf_counter()
        model.fit(X)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        S = model.sample(N_SAMPLES)[0]
        rate = N_SAMPLES / (time.perf_counter() - start)
        ll, kind = float(model.score_samples(Xte).mean()), "exact"
    else:
        model = synthkit.make_generator(name, max_time=max_time, random_state=seed, verbose=0)
        model.fit(X)
        fit_s = model.fit_seconds_
        start = time.perf_counter()
        S = model.sample(N_SAMPLES)
        rate = N_SAMPLES / (time.perf_counter() - start)
        kind = model.likelihood
        ll = float(np.mean(model.score_samples(Xte))) if kind in ("exact", "lower_bound") else None
    finite = np.isfinite(S).all(axis=1)
    S = S[finite]
    if discrete:
        S, Xte = quantize(S), quantize(Xte)
    auc = c2st_auc(Xte, S) if len(S) > 10 else 1.0
    return {"auc": auc, "loglik": ll, "likelihood": kind, "fit_s": fit_s, "rows_per_s": rate,
            "nonfinite": int((~finite).sum())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=float, default=30.0, help="seconds per fit")
    parser.add_argument("--datasets", nargs="+", default=[*TOY, "digits"])
    parser.add_argument("--backbones", nargs="+", default=None, help="default: every flat-vector backbone + gmm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="3-second fits on two sets")
    parser.add_argument("--out", default="benchmarks/results/backbones.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_time, args.datasets = 3.0, ["moons", "digits"]
    names = args.backbones or [n for n in synthkit.list_backbones() if n != "sequence"] + ["gmm"]
    print(f"torch threads: {torch.get_num_threads()}, budget {args.max_time:.0f} s per fit", flush=True)
    results = {}
    for ds in args.datasets:
        X, Xte = data(ds, args.seed)
        for name in names:
            r = run_one(name, X, Xte, args.max_time, args.seed, discrete=ds == "digits")
            results[f"{ds}/{name}"] = r
            print(f"{ds:>16} {name:>15}  AUC {r['auc']:.3f}  loglik {_ll(r):>9}  fit {r['fit_s']:6.1f} s  "
                  f"sample {r['rows_per_s']:10.0f} rows/s", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print()
    print(table(results, args.datasets, names))
    return 0


def _ll(r: dict) -> str:
    if r["loglik"] is None:
        return "—"
    return ("≥" if r["likelihood"] == "lower_bound" else "") + f"{r['loglik']:.2f}"


def table(results: dict, datasets, names) -> str:
    head = "| backbone | " + " | ".join(f"{d} AUC | {d} loglik" for d in datasets) + " | mean fit s | sample rows/s |"
    rule = "|" + "---|" * (2 * len(datasets) + 3)
    rows = [head, rule]
    for name in names:
        cells = []
        for d in datasets:
            r = results[f"{d}/{name}"]
            cells += [f"{r['auc']:.3f}", _ll(r)]
        fit = np.mean([results[f"{d}/{name}"]["fit_s"] for d in datasets])
        rate = np.median([results[f"{d}/{name}"]["rows_per_s"] for d in datasets])
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {fit:.1f} | {rate:,.0f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
