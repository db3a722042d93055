"""Augmentation benchmark: does generative oversampling help a classifier on rare classes?

Tasks are real data sets shipped with scikit-learn (and palmerpenguins when installed),
made binary and imbalanced by keeping only a few rows of one class (2-8 % of the rows):

* breast_cancer: malignant kept at 4 %;
* wine: class 0 versus the rest, class 0 kept at 8 %;
* digits: digit 3 versus the rest, digit 3 kept at 3 %; digit 8 versus the rest at 2 %;
* penguins: Chinstrap versus the rest on the four measurements, Chinstrap kept at 6 %.

A logistic regression (standardized inputs) is trained with no resampling, random
oversampling, SMOTE and each synthkit oversampler, inside an imbalanced-learn pipeline, and
scored by stratified k-fold cross-validation (:func:`synthkit.augment.evaluate_augmentation`):
resampling happens on the training folds only, and every score is measured on real held-out
rows. Figures: F1 of the rare class and balanced accuracy, mean over folds.

Each backbone runs with its own defaults (``default_steps``) capped at ``--max-time``
seconds per fit. Prints a markdown table.

Usage:
    python benchmarks/augment.py [--quick] [--max-time 20] [--backbones vae flow ...]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import synthkit
from synthkit.augment import GenerativeOversampler, evaluate_augmentation

BACKBONES = ("vae", "autoregressive", "flow", "diffusion", "gan", "ebm", "rbm")


def make_rare(X, y_binary, share, rng):
    """Keep all of class 0 and just enough of class 1 for it to be ``share`` of the rows."""
    major, minor = np.flatnonzero(y_binary == 0), np.flatnonzero(y_binary == 1)
    n_minor = max(10, int(round(share * len(major) / (1 - share))))
    keep = np.r_[major, rng.choice(minor, size=min(n_minor, len(minor)), replace=False)]
    return X[keep], y_binary[keep]


def tasks(rng, quick):
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer (malignant 4%)", *make_rare(X, (y == 0).astype(int), 0.04, rng)
    if not quick:
        X, y = load_wine(return_X_y=True)
        yield "wine (class 0, 8%)", *make_rare(X, (y == 0).astype(int), 0.08, rng)
    X, y = load_digits(return_X_y=True)
    yield "digits (3 vs rest, 3%)", *make_rare(X, (y == 3).astype(int), 0.03, rng)
    if not quick:
        yield "digits (8 vs rest, 2%)", *make_rare(X, (y == 8).astype(int), 0.02, rng)
        penguins = _penguins()
        if penguins is not None:
            yield "penguins (Chinstrap, 6%)", *make_rare(*penguins, 0.06, rng)


def _penguins():
    try:
        from palmerpenguins import load_penguins
    except ImportError:
        return None
    df = load_penguins().dropna(subset=["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"])
    X = df[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]].to_numpy(float)
    return X, (df["species"] == "Chinstrap").to_numpy().astype(int)


def oversamplers(backbones, n_rows, max_time, seed):
    out = {}
    for name in backbones:
        cls = synthkit.registry.BACKBONES.get(name)
        batch = int(cls().get_params().get("batch_size", 256))
        # the default budget for the larger (conditional) fit, capped in seconds
        epochs = max(1, math.ceil(cls.default_steps / math.ceil(n_rows / min(batch, n_rows))))
        params = {"max_epochs": epochs, "max_time": max_time}
        if name == "vae":
            for conditioning in ("conditional", "per_class"):
                out[f"vae ({conditioning})"] = GenerativeOversampler(
                    name, conditioning=conditioning, backbone_params=params, random_state=seed)
            out["vae (per_class, density filter)"] = GenerativeOversampler(
                name, conditioning="per_class", filter="density", backbone_params=params, random_state=seed)
        else:
            out[name] = GenerativeOversampler(name, backbone_params=params, random_state=seed)
    return out


def run(args):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(args.seed)
    backbones = [b for b in args.backbones if b in synthkit.list_backbones()]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    tables = {}
    for task, X, y in tasks(rng, args.quick):
        start = time.perf_counter()
        samplers = oversamplers(backbones, len(X), args.max_time, args.seed)
        tables[task] = evaluate_augmentation(clf, X, y, samplers, cv=args.cv, baselines=("real", "random", "smote"),
                                             random_state=args.seed)
        print(f"  {task}: {len(y)} rows, {int(y.sum())} rare, {time.perf_counter() - start:.0f}s",
              file=sys.stderr, flush=True)
    report(tables, args)


def report(tables, args):
    methods = list(next(iter(tables.values())).index)
    print(f"\n### Augmentation: logistic regression, {args.cv}-fold CV, scored on real held-out rows "
          f"(seed {args.seed}; max {args.max_time:g} s per synthkit fit)\n")
    for metric in ("f1_minority", "balanced_accuracy"):
        print(f"\n**{metric}** (mean over folds)\n")
        print("| task | " + " | ".join(methods) + " |")
        print("|---|" + "---|" * len(methods))
        for task, table in tables.items():
            best = table[metric].max()
            cells = [("**%.3f**" if table.loc[m, metric] == best else "%.3f") % table.loc[m, metric] for m in methods]
            print(f"| {task} | " + " | ".join(cells) + " |")
        means = pd.concat([t[metric] for t in tables.values()], axis=1).mean(1)
        print("| **mean** | " + " | ".join("%.3f" % means[m] for m in methods) + " |")
    fit = pd.concat([t["fit_seconds"] for t in tables.values()], axis=1).mean(1)
    print("\n| fit seconds per fold (mean) | " + " | ".join("%.1f" % fit[m] for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    both = {m: np.mean([np.mean([t.loc[m, "f1_minority"], t.loc[m, "balanced_accuracy"]]) for t in tables.values()])
            for m in methods}
    ours = [m for m in methods if m not in ("real only", "random oversampling", "SMOTE")]
    if ours:
        best = max(ours, key=both.get)
        verdict = "above" if both[best] > both["SMOTE"] else "not above"
        print(f"\nMean of (minority F1, balanced accuracy) over tasks: best synthkit oversampler {best} "
              f"{both[best]:.3f}, SMOTE {both['SMOTE']:.3f}, no resampling {both['real only']:.3f}: {verdict} SMOTE.")
    missing = [b for b in BACKBONES if b not in args.backbones or b not in synthkit.list_backbones()]
    if missing:
        print(f"Not run: {', '.join(missing)}.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two tasks, 3 folds")
    parser.add_argument("--max-time", type=float, default=20.0, help="seconds per synthkit fit (default 20)")
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES))
    parser.add_argument("--cv", type=int, default=None, help="folds (default 5, or 3 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.cv = args.cv or (3 if args.quick else 5)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
