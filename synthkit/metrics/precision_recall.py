"""Sample-level fidelity and diversity: k-NN precision, recall, density and coverage, and
α-precision, β-recall and authenticity.

Rows are compared in the standardized one-hot embedding of
:class:`synthkit.metrics.columns.TableEncoder` (Euclidean distance).

* **precision** (Kynkäänniemi et al. 2019): share of synthetic rows inside the real
  manifold, the union of balls around real rows reaching their k-th nearest real neighbour.
  **recall**: share of real rows inside the synthetic manifold, built the same way.
* **density** (Naeem et al. 2020): how many real balls contain a synthetic row on average,
  divided by k (about 1 when the distributions match; above 1 when synthetic rows crowd
  dense real regions). **coverage**: share of real rows whose ball holds a synthetic row
  (about ``1 - 2^-k``, i.e. 0.97 for k=5, when the distributions match).
* **α-precision / β-recall** (Alaa et al. 2022): the share of synthetic rows inside the
  α-support of the real data (a ball around the real centre holding a fraction α of real
  rows), as a curve over α; ideal is the diagonal, summarized as
  ``1 - sum |curve(α) - α| / sum α`` (1 is best). β-recall and authenticity follow the
  authors' reference estimator (van der Schaar lab, synthcity ``AlphaPrecision``): a real
  row counts as recalled at β when its nearest synthetic row lies in the synthetic
  β-support and is closer than the row's nearest real neighbour, and a synthetic row is
  authentic when it is farther from its nearest real row than that row's nearest real
  neighbour. With these nearest-neighbour tests two independent samples of one
  distribution score about 0.5 on both (not 1), while copies of the real rows score
  β-recall about 1 and authenticity 0. Departure from the paper: the embedding is the fixed
  standardized one-hot one, not a learned one-class (Deep SVDD) representation, so the
  α-supports are balls in that space.

References:
    Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing Generative
    Models", NeurIPS 2019.
    Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020.
    Alaa et al., "How Faithful is your Synthetic Data? Sample-level Metrics for Evaluating
    and Auditing Generative Models", ICML 2022.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors

from synthkit.metrics.columns import TableEncoder, check_pair, infer_kinds

#: rows per side used (larger tables are subsampled): the pairwise steps are O(n m)
MAX_ROWS = 5_000
N_ALPHAS = 30


def prdc(real: np.ndarray, synthetic: np.ndarray, *, k: int = 5) -> dict:
    """Precision, recall, density and coverage of two embedded samples (see the module docstring).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> out = prdc(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))
        >>> round(out["precision"], 1), round(out["coverage"], 1)
        (1.0, 1.0)
    """
    real = np.asarray(real, dtype=float)
    synthetic = np.asarray(synthetic, dtype=float)
    k = int(min(k, len(real) - 1, len(synthetic) - 1))
    if k < 1:
        raise ValueError("precision/recall need at least two real and two synthetic rows.")
    r_real = _kth_neighbour_distance(real, k)
    r_synth = _kth_neighbour_distance(synthetic, k)
    inside = np.zeros(len(synthetic), dtype=bool)
    n_balls = np.zeros(len(synthetic))
    start = 0
    for block in pairwise_distances_chunked(synthetic, real):  # bounded memory
        hits = block <= r_real[None, :]
        inside[start : start + len(block)] = hits.any(1)
        n_balls[start : start + len(block)] = hits.sum(1)
        start += len(block)
    recalled = np.zeros(len(real), dtype=bool)
    start = 0
    for block in pairwise_distances_chunked(real, synthetic):
        recalled[start : start + len(block)] = (block <= r_synth[None, :]).any(1)
        start += len(block)
    nearest_synth = NearestNeighbors(n_neighbors=1).fit(synthetic).kneighbors(real)[0][:, 0]
    return {
        "k": k,
        "precision": float(inside.mean()),
        "recall": float(recalled.mean()),
        "density": float(n_balls.sum() / (k * len(synthetic))),
        "coverage": float((nearest_synth <= r_real).mean()),
    }


def alpha_precision_beta_recall(real: np.ndarray, synthetic: np.ndarray, *, n_alphas: int = N_ALPHAS) -> dict:
    """α-precision and β-recall curves, their integrated scores, and authenticity.

    Returns:
        ``{"alpha_precision", "beta_recall", "authenticity", "alphas", "alpha_precision_curve",
        "beta_recall_curve"}`` — the two scores are ``1 - sum |curve - alpha| / sum alpha``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> real = rng.normal(size=(600, 3))
        >>> out = alpha_precision_beta_recall(real, rng.normal(size=(600, 3)))
        >>> round(out["alpha_precision"], 1), round(out["authenticity"], 1)
        (1.0, 0.5)
        >>> alpha_precision_beta_recall(real, real[:300])["authenticity"]
        0.0
    """
    real = np.asarray(real, dtype=float)
    synthetic = np.asarray(synthetic, dtype=float)
    alphas = np.linspace(0.0, 1.0, n_alphas)
    center_real = real.mean(0)
    center_synth = synthetic.mean(0)
    radii = np.quantile(np.linalg.norm(real - center_real, axis=1), alphas)
    synth_to_center = np.linalg.norm(synthetic - center_real, axis=1)
    real_to_real = NearestNeighbors(n_neighbors=2).fit(real).kneighbors(real)[0][:, 1]
    real_to_synth, nearest = NearestNeighbors(n_neighbors=1).fit(synthetic).kneighbors(real)
    real_to_synth, nearest = real_to_synth[:, 0], nearest[:, 0]
    matched_to_center = np.linalg.norm(synthetic[nearest] - center_synth, axis=1)
    synth_radii = np.quantile(matched_to_center, alphas)
    precision_curve = (synth_to_center[None, :] <= radii[:, None]).mean(1)
    closer = real_to_synth <= real_to_real
    recall_curve = (closer[None, :] & (matched_to_center[None, :] <= synth_radii[:, None])).mean(1)
    synth_to_real, nearest_real = NearestNeighbors(n_neighbors=1).fit(real).kneighbors(synthetic)
    authentic = synth_to_real[:, 0] > real_to_real[nearest_real[:, 0]]
    return {
        "alpha_precision": float(1.0 - np.abs(precision_curve - alphas).sum() / alphas.sum()),
        "beta_recall": float(1.0 - np.abs(recall_curve - alphas).sum() / alphas.sum()),
        "authenticity": float(authentic.mean()),
        "alphas": alphas.tolist(),
        "alpha_precision_curve": precision_curve.tolist(),
        "beta_recall_curve": recall_curve.tolist(),
    }


def precision_recall(
    real: pd.DataFrame, synthetic: pd.DataFrame, *, k: int = 5, kinds=None, metadata=None,
    max_rows: int = MAX_ROWS, random_state=0,
) -> dict:
    """All sample-level scores of two tables, on their standardized one-hot embedding.

    Args:
        real, synthetic: tables with the same columns (each subsampled to ``max_rows``).
        k: neighbours for the k-NN manifolds.

    Returns:
        The union of :func:`prdc` and :func:`alpha_precision_beta_recall`.
    """
    check_pair(real, synthetic)
    kinds = kinds or infer_kinds(real, metadata)
    rng = np.random.default_rng(random_state)
    real, synthetic = (_subsample(df, max_rows, rng) for df in (real, synthetic))
    enc = TableEncoder(kinds).fit(real, synthetic)
    R, S = enc.embed(real), enc.embed(synthetic)
    return {**prdc(R, S, k=k), **alpha_precision_beta_recall(R, S)}


def _kth_neighbour_distance(X: np.ndarray, k: int) -> np.ndarray:
    return NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)[0][:, k]


def _subsample(df: pd.DataFrame, limit: int, rng: np.random.Generator) -> pd.DataFrame:
    return df if len(df) <= limit else df.iloc[np.sort(rng.choice(len(df), limit, replace=False))]
