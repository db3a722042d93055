"""Quality and speed of every backbone on 2-D toy densities and on digits.

For each data set and backbone: fit with a fixed wall-clock budget, draw 2,000 samples,
and report

* the classifier two-sample test AUC between the samples and held-out real rows
  (gradient boosting, out-of-fold; 0.5 = indistinguishable),
* the mean held-out log-likelihood where the family has one (exact, or a lower bound
  marked "≥", or unnormalized, not comparable and left out),
* fit seconds and sampling rows per second;

and, in a second table, the share of samples nearer to a training row than to any
held-out row, with as many training rows as held-out ones (the DCR test of
:func:`synthkit.metrics.dcr`; 0.5: no sign of copying). The two-sample test compares
samples with held-out rows, but a model that reproduces its training rows passes it too
(they are real digits): on the 1,200 training digits the lowest AUCs come with the
highest shares (autoregressive, VAE and diffusion: 0.59-0.60 at 30 s, three seeds, where
the mixture is at 0.56), so read the two together.

A scikit-learn ``GaussianMixture`` (10 components) sits in the same table as the
reference.

Digits (17 grey levels) reach each family in the form its papers model images in
(``DIGITS_FORM``):

* ``"levels"`` (autoregressive): the levels scaled to [0, 1]; MADE finds the 17 values of
  each column and models them with discretized logistics (PixelCNN++);
* ``"codes"`` (VAE, RBM): level codes 0..16 as ``categorical_features``, a 17-way softmax
  per pixel in the decoder (as PixelRNN's 256-way softmax), a 17-way softmax visible unit
  per pixel in the RBM (Salakhutdinov et al. 2007; on normal scores with Gaussian units
  its two-sample AUC was 0.993 and its held-out log-likelihood 67.0, 30 s, three seeds);
* ``"normal_scores"`` (every other family, and the mixture): dequantized,
  ``(pixel + u) / 17`` with ``u ~ U[0, 1)`` (Theis et al. 2016), then each pixel mapped to
  a standard normal through its training quantiles (:class:`NormalScores`, the quantile
  transform of TabDDPM and of synthkit's tabular encoding, here with the support [0, 1]
  as its outer knots). Samples are mapped back. As the logit transform of RealNVP's image
  experiments, it is a change of variables: log-likelihoods get its exact Jacobian. Without
  it a pixel that is 0 in half the digits has a density cliff 16x high at the edge of its
  first level, which smooth models blur into faint ink (two-sample AUC on plain dequantized
  digits, 30 s: diffusion 0.978, flow 0.971, EBM 0.981, GAN 0.997).

Log-likelihoods are all reported as densities of dequantized held-out digits on [0, 1]^64:
a discrete model's ``log P(levels)`` becomes ``log P + 64 log 17`` (uniform dequantization
of its mass; for the VAE a bound, over the held-out rows whose levels each pixel took in
training). For the two-sample test every model's samples are put on the 17 levels (floor of
``17 x`` for dequantized samples, as image models' samples are stored as 8-bit pixels) and
compared with the real held-out digits, scaled to [0, 1]: the test asks whether the samples
are digits, not whether their sub-level noise is uniform.

The table also has a row for a shipped variant of a family that its defaults do not take
everywhere (``VARIANTS``): ``flow:nsf``, the neural spline flow, which ``flow="auto"``
takes on the 2-D sets but not on digits (there it takes the continuous flow) and the
anomaly detector scores with everywhere.

With ``--image-networks`` the table gains digits rows for the families whose networks can
be convolutional (``ebm+conv``: a conv energy; ``gan+conv``: a conv critic and generator;
``diffusion+conv``: a U-Net denoiser; :mod:`synthkit.nn.conv` and :mod:`synthkit.nn.unet`,
each pixel's normal score placed on the 8x8 grid): the networks the image papers use in
place of the MLP defaults for flat vectors.

How strict that test is: the real training digits with 5 % of their pixels moved one level
up or down (``perturbed_reference``) already score about 0.82; the table prints that line.
Nothing here is part of the test suite.

With several ``--seeds`` (the split, the dequantization noise and the model's seed change;
the wall-clock budget makes even one seed vary by a few hundredths) each cell shows the mean
and, in square brackets, the lowest and highest run.

Usage:
    python benchmarks/backbones.py --max-time 30            # the full table
    python benchmarks/backbones.py --max-time 30 --seeds 0 1 2
    python benchmarks/backbones.py --quick                  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.mixture import GaussianMixture

import synthkit
from synthkit.datasets import load_dataset
from synthkit.domains.tabular import transformers as quantiles
from synthkit.metrics import c2st_auc, dcr

TOY = ("eight_gaussians", "moons", "pinwheel")
N_SAMPLES = 2000
#: the form digits reach each family in (see the module docstring); default "normal_scores"
DIGITS_FORM = {"autoregressive": "levels", "vae": "codes", "rbm": "codes"}
N_LEVELS = 17
#: knots of the normal-scores transform
N_KNOTS = 1000
#: the network arguments a "<backbone>+<network>" row sets to a registered image network on digits
IMAGE_NETWORK_ARGUMENTS = {"ebm": ("energy_network",), "gan": ("critic_network", "generator_network"),
                           "diffusion": ("denoiser_network",)}
DIGITS_SHAPE = [1, 8, 8]
#: rows "<backbone>:<variant>" of the default table: a family with non-default parameters
VARIANTS = {"flow:nsf": {"flow": "nsf"}}


class NormalScores:
    """Per-column quantile transform to N(0, 1) with an exact log-Jacobian.

    The tabular encoding's transform (:mod:`synthkit.domains.tabular.transformers`): each
    column's CDF is piecewise linear between ``N_KNOTS`` training quantiles, here with the
    outer knots moved to the known support ``[lo, hi]``; ``z = Phi^-1(F(x))``.
    """

    def __init__(self, X: np.ndarray, lo: float = 0.0, hi: float = 1.0):
        self.knots = np.stack([quantiles.fit_quantiles(x, N_KNOTS) for x in X.T])  # (columns, knots)
        self.knots[:, 0], self.knots[:, -1] = lo, hi

    def forward(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([quantiles.quantile_forward(x, k) for x, k in zip(X.T, self.knots)])

    def inverse(self, Z: np.ndarray) -> np.ndarray:
        return np.column_stack([quantiles.quantile_inverse(z, k) for z, k in zip(Z.T, self.knots)])

    def log_det(self, X: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """``sum_j log |dz_j / dx_j|`` per row (``Z = forward(X)``): the CDF's slope, times the
        squeeze of ``u`` into ``[EPS, 1 - EPS]``, over the normal density at ``z``."""
        slopes = 1.0 / ((self.knots.shape[1] - 1) * np.diff(self.knots, axis=1))
        seg = [np.clip(np.searchsorted(k, x, side="right") - 1, 0, len(k) - 2) for x, k in zip(X.T, self.knots)]
        log_f = np.column_stack([np.log(s[i]) for s, i in zip(slopes, seg)]) + np.log1p(-2 * quantiles.EPS)
        return (log_f + 0.5 * Z**2 + 0.5 * np.log(2 * np.pi)).sum(1)


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
    return np.clip(np.floor(X * N_LEVELS), 0, N_LEVELS - 1) / (N_LEVELS - 1)


def to_form(X: np.ndarray, form: str) -> np.ndarray:
    """Dequantized digits in the form a family receives them."""
    if form == "levels":
        return quantize(X)
    if form == "codes":
        return np.round(quantize(X) * (N_LEVELS - 1))
    return X


def from_form(S: np.ndarray, form: str) -> np.ndarray:
    """Samples in a family's form (normal scores already mapped back) put on the 17 levels,
    scaled to [0, 1]."""
    if form == "levels":
        return np.clip(np.round(S * (N_LEVELS - 1)), 0, N_LEVELS - 1) / (N_LEVELS - 1)
    if form == "codes":
        return S / (N_LEVELS - 1)
    return quantize(S)


def closer_to_train(X: np.ndarray, S: np.ndarray, Xte: np.ndarray) -> float:
    """Share of the samples nearer to a training row than to any held-out row, with as many
    training rows as held-out ones (:func:`synthkit.metrics.dcr`; 0.5: no sign of copying)."""
    columns = [f"x{j}" for j in range(X.shape[1])]
    train, synthetic, holdout = (pd.DataFrame(A, columns=columns) for A in (X, S, Xte))
    return dcr(train, synthetic, holdout, kinds=dict.fromkeys(columns, "numeric"))["share_closer_to_train"]


def perturbed_reference(X: np.ndarray, Xte: np.ndarray, share: float = 0.05, seed: int = 0) -> float:
    """Two-sample AUC of 2,000 real training digits with ``share`` of their pixels moved one
    level up or down (clipped to the range) against the held-out digits."""
    rng = np.random.default_rng(seed)
    B = quantize(X)[rng.integers(0, len(X), N_SAMPLES)]
    move = (rng.uniform(size=B.shape) < share) * rng.choice([-1, 1], size=B.shape)
    return c2st_auc(quantize(Xte), np.clip(B + move / (N_LEVELS - 1), 0, 1))


def run_one(name: str, X: np.ndarray, Xte: np.ndarray, max_time: float, seed: int, digits: bool = False) -> dict:
    X_real = quantize(X) if digits else X
    variant = dict(VARIANTS.get(name, {}))
    name = name.partition(":")[0]
    name, _, network = name.partition("+")  # "ebm+conv": the EBM with the registered "conv" networks
    params = {argument: {"name": network, "image_shape": DIGITS_SHAPE}
              for argument in IMAGE_NETWORK_ARGUMENTS.get(name, ()) if network}
    params.update(variant)
    form = DIGITS_FORM.get(name, "normal_scores") if digits else None
    scores = NormalScores(X) if form == "normal_scores" else None
    if scores is not None:
        X, Xte_model = scores.forward(X), scores.forward(Xte)
        log_det = scores.log_det(Xte, Xte_model)
    elif form is not None:
        X, Xte_model, log_det = to_form(X, form), to_form(Xte, form), 0.0
    else:
        Xte_model, log_det = Xte, 0.0
    if name == "gmm":
        model = GaussianMixture(10, covariance_type="full", random_state=seed)
        start = time.perf_counter()
        model.fit(X)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        S = model.sample(N_SAMPLES)[0]
        rate = N_SAMPLES / (time.perf_counter() - start)
        ll, kind = float(np.mean(model.score_samples(Xte_model) + log_det)), "exact"
    else:
        if form == "codes":
            params["categorical_features"] = list(range(X.shape[1]))
        model = synthkit.make_generator(name, max_time=max_time, random_state=seed, verbose=0, **params)
        model.fit(X)
        fit_s = model.fit_seconds_
        start = time.perf_counter()
        S = model.sample(N_SAMPLES)
        rate = N_SAMPLES / (time.perf_counter() - start)
        kind = model.likelihood
        ll = None
        if kind in ("exact", "lower_bound"):
            if form == "codes":  # rows with a level a pixel never took in training have no code
                Xte_model = Xte_model[(Xte_model < np.asarray(model.n_categories_)).all(1)]
            ll = float(np.mean(model.score_samples(Xte_model) + log_det))
            if form in ("levels", "codes"):  # log P(levels) -> density of uniformly dequantized digits
                ll += X.shape[1] * np.log(N_LEVELS)
    finite = np.isfinite(S).all(axis=1)
    S = S[finite]
    if scores is not None:
        S = scores.inverse(S)
    if digits:
        S, Xte = from_form(S, form), quantize(Xte)
    auc = c2st_auc(Xte, S) if len(S) > 10 else 1.0
    share = closer_to_train(X_real, S, Xte) if len(S) > 10 else float("nan")
    return {"auc": auc, "dcr_share": share, "loglik": ll, "likelihood": kind, "fit_s": fit_s,
            "rows_per_s": rate, "nonfinite": int((~finite).sum()), "form": form}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=float, default=30.0, help="seconds per fit")
    parser.add_argument("--datasets", nargs="+", default=[*TOY, "digits"])
    parser.add_argument("--backbones", nargs="+", default=None,
                        help=f"default: every flat-vector backbone, {', '.join(VARIANTS)} and gmm")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--image-networks", action="store_true",
                        help="add digits rows ebm+conv, gan+conv and diffusion+conv (convolutional networks)")
    parser.add_argument("--quick", action="store_true", help="3-second fits on two sets")
    parser.add_argument("--out", default="benchmarks/results/backbones.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_time, args.datasets = 3.0, ["moons", "digits"]
    names = args.backbones or [n for n in synthkit.list_backbones() if n != "sequence"] + [*VARIANTS, "gmm"]
    if args.image_networks:
        names += [f"{n}+conv" for n in IMAGE_NETWORK_ARGUMENTS if f"{n}+conv" not in names]
    print(f"torch threads: {torch.get_num_threads()}, budget {args.max_time:.0f} s per fit", flush=True)
    results = {}  # "dataset/backbone" -> one result per seed
    for seed in args.seeds:
        for ds in args.datasets:
            X, Xte = data(ds, seed)
            for name in names:
                if "+" in name and ds != "digits":  # image networks are for images
                    continue
                r = run_one(name, X, Xte, args.max_time, seed, digits=ds == "digits")
                results.setdefault(f"{ds}/{name}", []).append(dict(r, seed=seed))
                print(f"seed {seed} {ds:>16} {name:>15}  AUC {r['auc']:.3f}  DCR {r['dcr_share']:.3f}"
                      f"  loglik {_ll([r['loglik']], r['likelihood']):>9}"
                      f"  fit {r['fit_s']:6.1f} s  sample {r['rows_per_s']:10.0f} rows/s", flush=True)
            if ds == "digits":
                ref = perturbed_reference(X, Xte, seed=seed)
                results.setdefault("digits/perturbed_reference", []).append({"auc": ref, "seed": seed})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    print()
    print(table(results, args.datasets, names))
    print("\nShare of samples closer to a training row than to a held-out one (0.5: no sign of copying):\n")
    print(dcr_table(results, args.datasets, names))
    if "digits" in args.datasets:
        ref = _cell([r["auc"] for r in results["digits/perturbed_reference"]])
        print(f"\nreference: real training digits, 5 % of pixels one level off: digits AUC {ref}")
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


def _cell(values, digits: int = 3) -> str:
    """The mean of one cell's runs, with the lowest and highest when there are several."""
    text = f"{np.mean(values):.{digits}f}"
    if len(values) > 1:
        text += f" [{min(values):.{digits}f}, {max(values):.{digits}f}]"
    return text


def _ll(logliks, likelihood: str) -> str:
    """Held-out log-likelihood cell ("≥" for a lower bound, "—" when the family has none)."""
    if any(v is None for v in logliks):
        return "—"
    return ("≥" if likelihood == "lower_bound" else "") + _cell(logliks, 2)


def table(results: dict, datasets, names) -> str:
    """Markdown table: per data set the two-sample AUC and the held-out log-likelihood (mean and
    range over seeds), then the mean fit seconds and the median sampling rate over all runs."""
    head = "| backbone | " + " | ".join(f"{d} AUC | {d} loglik" for d in datasets) + " | mean fit s | sample rows/s |"
    rule = "|" + "---|" * (2 * len(datasets) + 3)
    rows = [head, rule]
    for name in names:
        cells = []
        for d in datasets:
            runs = results.get(f"{d}/{name}")
            if runs is None:
                cells += ["—", "—"]
                continue
            cells += [_cell([r["auc"] for r in runs]), _ll([r["loglik"] for r in runs], runs[0]["likelihood"])]
        every = [r for d in datasets for r in results.get(f"{d}/{name}", [])]
        fit = np.mean([r["fit_s"] for r in every])
        rate = np.median([r["rows_per_s"] for r in every])
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {fit:.1f} | {rate:,.0f} |")
    return "\n".join(rows)



def dcr_table(results: dict, datasets, names) -> str:
    """Markdown table of the closer-to-train share per data set (mean and range over seeds)."""
    rows = ["| backbone | " + " | ".join(datasets) + " |", "|" + "---|" * (len(datasets) + 1)]
    for name in names:
        cells = [_cell([r["dcr_share"] for r in results[f"{d}/{name}"]]) if f"{d}/{name}" in results else "—"
                 for d in datasets]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
