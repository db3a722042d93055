"""Rejection filters: drop synthetic rows that real data makes implausible.

Two tests, both judged against the real rows of the same class:

``"density"``
    A density model fitted on the real rows scores every row; a synthetic row is dropped
    when its score falls below the ``quantile`` of the real rows' scores (real rows are
    scored leave-one-out, so the cut is not flattered by in-sample fit). The default model
    is the k-nearest-neighbour density ``-log r_k(x)`` on standardized columns, which
    works from a handful of rows up; any estimator with ``fit``/``score_samples``
    (``GaussianMixture``, ``KernelDensity``, a synthkit generator) can replace it, in which
    case real rows are scored in-sample.
``"classifier"``
    A classifier learns real-versus-synthetic (classes weighted equally); every row is
    scored by a model that did not see it (out-of-fold, as in a classifier two-sample
    test) and a synthetic row is dropped when its probability of being synthetic exceeds
    ``threshold``. With a perfect generator the probabilities hover near 0.5 and nothing
    systematic is dropped; rows the classifier can tell apart are.

References:
    Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017.
    Loftsgaarden & Quesenberry, "A nonparametric estimate of a multivariate density
    function", Ann. Math. Statist. 1965 (k-NN density).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import has_fit_parameter

FILTERS = ("density", "classifier")


def plausibility(X_real, X_synthetic, *, method="density", estimator=None, k=5, random_state=None):
    """Plausibility scores of synthetic rows, and the real rows' scores to compare against.

    Higher = more plausible for ``"density"`` (a log-density); for ``"classifier"`` the
    score is ``1 - P(synthetic)`` so that higher is also more plausible.

    Returns:
        (synthetic_scores, real_scores): arrays of shape (m,) and (n,).
    """
    X_real = np.asarray(X_real, dtype=np.float64)
    X_syn = np.asarray(X_synthetic, dtype=np.float64)
    if X_real.ndim != 2 or X_syn.ndim != 2 or X_real.shape[1] != X_syn.shape[1]:
        raise ValueError(f"real and synthetic rows must be 2-D with equal columns, got {X_real.shape} and {X_syn.shape}.")
    if len(X_real) < 2:
        raise ValueError("a rejection filter needs at least 2 real rows of the class.")
    if method == "density":
        return _density(X_real, X_syn, estimator, k)
    if method == "classifier":
        return _classifier(X_real, X_syn, estimator, random_state)
    raise ValueError(f"filter must be one of {FILTERS} or None, got {method!r}.")


def filter_synthetic(
    X_real, X_synthetic, *, method="density", quantile=0.05, threshold=0.7, estimator=None, random_state=None
) -> np.ndarray:
    """Boolean mask of the synthetic rows to keep.

    Args:
        X_real: real rows (of one class), shape (n, d).
        X_synthetic: candidate synthetic rows, shape (m, d).
        method: ``"density"`` or ``"classifier"`` (see the module docstring).
        quantile: ``"density"``: drop rows scoring below this quantile of the real rows.
        threshold: ``"classifier"``: drop rows whose out-of-fold probability of being
            synthetic exceeds this.
        estimator: replaces the default density model / classifier.
        random_state: seed of the classifier and its folds.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> real = rng.normal(size=(100, 2))
        >>> fake = np.vstack([rng.normal(size=(50, 2)), [[9.0, 9.0]]])
        >>> bool(filter_synthetic(real, fake)[-1])
        False
    """
    syn, real = plausibility(X_real, X_synthetic, method=method, estimator=estimator, random_state=random_state)
    if method == "density":
        return syn >= np.quantile(real, quantile)
    return syn >= 1.0 - threshold


def _density(X_real, X_syn, estimator, k):
    finite = np.isfinite(X_syn).all(1)
    syn_scores = np.full(len(X_syn), -np.inf)
    if estimator is not None:
        model = clone(estimator).fit(X_real)
        if finite.any():
            syn_scores[finite] = model.score_samples(X_syn[finite])
        return syn_scores, np.asarray(model.score_samples(X_real), dtype=np.float64)
    mean, scale = X_real.mean(0), X_real.std(0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    R = (X_real - mean) / scale
    k = int(min(k, len(R) - 1))
    nn = NearestNeighbors(n_neighbors=k + 1).fit(R)
    # leave-one-out for the real rows: their nearest neighbour is themselves
    real_scores = -np.log(nn.kneighbors(R)[0][:, k] + 1e-12)
    if finite.any():
        syn_scores[finite] = -np.log(nn.kneighbors((X_syn[finite] - mean) / scale, n_neighbors=k)[0][:, k - 1] + 1e-12)
    return syn_scores, real_scores


def _classifier(X_real, X_syn, estimator, random_state):
    finite = np.isfinite(X_syn).all(1)
    syn_scores = np.zeros(len(X_syn))  # non-finite rows: certainly synthetic
    S = X_syn[finite]
    if len(S) == 0:
        return syn_scores, np.ones(len(X_real))
    X = np.vstack([X_real, S])
    y = np.r_[np.zeros(len(X_real)), np.ones(len(S))]
    if estimator is None:
        estimator = RandomForestClassifier(
            n_estimators=100, min_samples_leaf=2, random_state=random_state, n_jobs=1
        )
    weight = np.where(y == 1, len(X_real) / len(S), 1.0)  # classes count equally
    n_splits = int(min(5, len(X_real), len(S)))
    if n_splits < 2:
        raise ValueError("the classifier filter needs at least 2 real and 2 synthetic rows.")
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    clf = clone(estimator)
    params = {"sample_weight": weight} if has_fit_parameter(clf, "sample_weight") else None
    proba = cross_val_predict(clf, X, y, cv=folds, method="predict_proba", params=params)[:, 1]
    syn_scores[finite] = 1.0 - proba[len(X_real):]
    return syn_scores, 1.0 - proba[: len(X_real)]
