"""Anomaly detection benchmark: every synthkit backbone's detector beside classic detectors.

Setting (novelty detection, as in ADBench's semi-supervised protocol): each detector is fitted
on normal rows only and scored by ROC AUC on *held-out* rows: normal rows it never saw, and
anomalies. Two kinds of task, all on real data shipped with scikit-learn:

* class tasks: one class is normal, the other classes are the anomalies
  (breast_cancer: benign normal; wine: class 1 normal; digits: digit 0 normal);
* injected tasks (ADBench, Han et al. 2022): anomalies synthesized from the held-out normal
  rows of breast_cancer (benign), wine (class 1) and diabetes (all rows), of four types:
  global (uniform over 1.1x the range), local (a GMM of the normals with covariances x5),
  clustered (the GMM's component means x5, in min-max scaled units) and dependency
  (each column drawn independently from its own marginal: marginals kept, dependence broken).

Each backbone runs with its own defaults (``default_steps``), capped at ``--max-time``
seconds; the classic detectors (IsolationForest, LocalOutlierFactor(novelty=True),
OneClassSVM, GaussianMixture) run on standardized columns. Columns that are constant among
the training normals are dropped for every method. Prints a markdown table.

Usage:
    python benchmarks/anomaly.py [--quick] [--max-time 30] [--backbones vae flow ...]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

import synthkit
from synthkit.anomaly import GenerativeDetector

BACKBONES = ("autoregressive", "vae", "gan", "flow", "diffusion", "ebm", "rbm")
INJECTIONS = ("global", "local", "clustered", "dependency")


# ---------------------------------------------------------------------- data
def normals_and_classes(name):
    """(normal rows, anomaly rows or None) of a real data set."""
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        return X[y == 1], X[y == 0]  # benign normal, malignant anomalous
    if name == "wine":
        X, y = load_wine(return_X_y=True)
        return X[y == 1], X[y != 1]
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return X[y == 0], X[y != 0]
    if name == "diabetes":
        return load_diabetes(return_X_y=True)[0], None
    raise ValueError(name)


def inject(kind, normals, n, rng):
    """ADBench-style synthetic anomalies built from ``normals``, in min-max scaled units
    (each column mapped to [0, 1] on the normals), returned in raw units."""
    lo, span = normals.min(0), np.ptp(normals, 0)
    span = np.where(span > 0, span, 1.0)
    Z = (normals - lo) / span
    if kind == "global":
        out = rng.uniform(-0.05, 1.05, size=(n, Z.shape[1]))  # 1.1 x the range, centred
    elif kind == "dependency":
        out = np.column_stack([rng.choice(Z[:, j], size=n) for j in range(Z.shape[1])])
    else:
        gmm = _gmm(Z, rng)
        if kind == "local":
            gmm.covariances_ = gmm.covariances_ * 5.0
        elif kind == "clustered":
            gmm.means_ = gmm.means_ * 5.0
        gmm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(gmm.covariances_))
        gmm.random_state = int(rng.integers(2**31))
        out = gmm.sample(n)[0]
    return out * span + lo


def _gmm(Z, rng):
    best, best_bic = None, np.inf
    for k in range(1, 6):
        g = GaussianMixture(k, covariance_type="full", reg_covar=1e-3, random_state=int(rng.integers(2**31))).fit(Z)
        bic = g.bic(Z)
        if bic < best_bic:
            best, best_bic = g, bic
    return best


def tasks(rng, quick):
    """Yield (data set, train normals, {task: (X_test, is_anomaly)})."""
    names = ("breast_cancer", "diabetes") if quick else ("breast_cancer", "wine", "digits", "diabetes")
    for name in names:
        normals, anomalies = normals_and_classes(name)
        train, test = train_test_split(normals, test_size=0.3, random_state=int(rng.integers(2**31)))
        keep = train.std(0) > 1e-8
        train, test = train[:, keep], test[:, keep]
        out = {}
        if anomalies is not None:
            anomalies = anomalies[:, keep]
            pick = rng.choice(len(anomalies), size=min(len(anomalies), len(test)), replace=False)
            out[f"{name} (other classes)"] = _stack(test, anomalies[pick])
        if name != "digits":  # injections need a covariance; 64 sparse pixels of ~120 rows give none worth having
            for kind in INJECTIONS:
                out[f"{name} + {kind}"] = _stack(test, inject(kind, train, len(test), rng))
        yield name, train, out


def _stack(normal, anomalous):
    return np.vstack([normal, anomalous]), np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]


# ---------------------------------------------------------------------- detectors
def classic_detectors(seed):
    """name -> fit(train) returning a fitted detector with ``score_samples``."""
    scaled = lambda est: make_pipeline(StandardScaler(), est)  # noqa: E731
    return {
        "IsolationForest": lambda X: IsolationForest(random_state=seed).fit(X),
        "LOF": lambda X: scaled(LocalOutlierFactor(novelty=True)).fit(X),
        "OneClassSVM": lambda X: scaled(OneClassSVM(gamma="scale", nu=0.1)).fit(X),
        "GaussianMixture": lambda X: _bic_gmm(X, seed),
    }


def _bic_gmm(X, seed):
    """GaussianMixture on standardized columns, 1-5 components chosen by BIC on the training rows."""
    fits = [scaled for k in range(1, 6) for scaled in [make_pipeline(
        StandardScaler(), GaussianMixture(k, covariance_type="full", reg_covar=1e-3, random_state=seed)).fit(X)]]
    return min(fits, key=lambda p: p[-1].bic(p[0].transform(X)))


def synthkit_detector(name, n_train, max_time, seed):
    cls = synthkit.registry.BACKBONES.get(name)
    params = cls().get_params()
    batch = min(int(params.get("batch_size", 256)), n_train)
    epochs = max(1, math.ceil(cls.default_steps / math.ceil(n_train / batch)))
    return GenerativeDetector(name, backbone_params={"max_epochs": epochs, "max_time": max_time}, random_state=seed)


# ---------------------------------------------------------------------- run
def run(args):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(args.seed)
    backbones = [b for b in args.backbones if b in synthkit.list_backbones()]
    auc: dict[str, dict[str, float]] = {}
    seconds: dict[str, list[float]] = {}
    notes = []
    for dataset, train, task_sets in tasks(rng, args.quick):
        methods = {**classic_detectors(args.seed), **{f"synthkit:{b}": b for b in backbones}}
        for method, make in methods.items():
            start = time.perf_counter()
            try:
                if isinstance(make, str):
                    est = synthkit_detector(make, len(train), args.max_time, args.seed).fit(train)
                else:
                    est = make(train)
                fit_s = time.perf_counter() - start
                for task, (X_test, y_test) in task_sets.items():
                    auc.setdefault(task, {})[method] = roc_auc_score(y_test, -est.score_samples(X_test))
                seconds.setdefault(method, []).append(fit_s)
            except Exception as err:  # noqa: BLE001 - a benchmark reports failures, it does not stop
                notes.append(f"{method} on {dataset}: {type(err).__name__}: {str(err)[:160]}")
                for task in task_sets:
                    auc.setdefault(task, {})[method] = float("nan")
            print(f"  {dataset:14s} {method:24s} {time.perf_counter() - start:6.1f}s", file=sys.stderr, flush=True)
    report(auc, seconds, backbones, notes, args)


def report(auc, seconds, backbones, notes, args):
    methods = list(next(iter(auc.values())))
    short = {m: m.replace("synthkit:", "") for m in methods}
    print(f"\n### Anomaly detection: ROC AUC on held-out rows (fit on normals only; seed {args.seed}; "
          f"max {args.max_time:g} s per synthkit fit)\n")
    print("| task | " + " | ".join(short[m] for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    for task, row in auc.items():
        best = np.nanmax(list(row.values()))
        cells = [("**%.3f**" if row[m] == best else "%.3f") % row[m] for m in methods]
        print(f"| {task} | " + " | ".join(cells) + " |")
    means = {m: np.nanmean([row[m] for row in auc.values()]) for m in methods}
    print("| **mean** | " + " | ".join("%.3f" % means[m] for m in methods) + " |")
    dep = [t for t in auc if t.endswith("dependency")]
    dep_means = {m: np.nanmean([auc[t][m] for t in dep]) for m in methods} if dep else {}
    if dep:
        print("| mean (dependency) | " + " | ".join("%.3f" % dep_means[m] for m in methods) + " |")
    print("| fit seconds (mean) | " + " | ".join("%.1f" % np.mean(seconds.get(m, [np.nan])) for m in methods) + " |")
    ours = [m for m in methods if m.startswith("synthkit:")]
    classic = [m for m in methods if not m.startswith("synthkit:")]
    if ours:
        best = max(ours, key=lambda m: means[m])
        beaten = [c for c in classic if means[best] > means[c]]
        print(f"\nBest synthkit detector: {short[best]} (mean AUC {means[best]:.3f}); above "
              f"{len(beaten)}/{len(classic)} classic detectors ({', '.join(beaten) or 'none'}).")
        if dep:
            below = [short[m] for m in ours if dep_means[m] < dep_means["IsolationForest"]]
            print(f"Dependency anomalies: backbones below IsolationForest ({dep_means['IsolationForest']:.3f}): "
                  f"{', '.join(below) or 'none'}.")
    missing = [b for b in BACKBONES if b not in backbones]
    if missing:
        print(f"Not run (not requested or not registered): {', '.join(missing)}.")
    for note in notes:
        print(f"- failed: {note}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two data sets only")
    parser.add_argument("--max-time", type=float, default=30.0, help="seconds per synthkit fit (default 30)")
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES))
    parser.add_argument("--seed", type=int, default=0)
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
