"""Classifier two-sample test: can a classifier tell real rows from synthetic ones?

References:
    Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from synthkit.metrics.columns import MAX_TREE_CATEGORIES, TableEncoder, check_pair, infer_kinds

#: rows per side used by the DataFrame test (larger tables are subsampled)
MAX_ROWS = 10_000


def c2st_auc(
    real, synthetic, *, classifier="gbt", cv: int = 5, random_state=0, kinds=None, metadata=None,
    max_rows: int | None = None,
) -> float:
    """Cross-validated ROC AUC of a classifier separating ``real`` from ``synthetic`` rows.

    0.5 means the two samples are indistinguishable to the classifier; 1.0 means every
    synthetic row is recognized. Each row is scored only by a model that did not see it
    (out-of-fold predictions), so the AUC is a held-out figure.

    Arrays must be finite. :class:`pandas.DataFrame` inputs may hold numbers, categories,
    booleans, datetimes and missing values: for ``"gbt"`` categories become integer codes
    used through histogram gradient boosting's native categorical splits, datetimes become
    seconds and missing values stay ``NaN`` (the trees route them); for ``"knn"`` rows are
    embedded as standardized one-hot vectors (:class:`synthkit.metrics.columns.TableEncoder`).

    Args:
        real, synthetic: arrays of shape (n, d) and (m, d), or two DataFrames with the same columns.
        classifier: ``"gbt"`` (histogram gradient boosting) or ``"knn"`` (15 neighbours on
            standardized features), or any scikit-learn classifier with ``predict_proba``.
        cv: folds.
        kinds, metadata: column kinds of DataFrame inputs (see :func:`~synthkit.metrics.columns.infer_kinds`).
        max_rows: subsample each side to at most this many rows (default: all rows for
            arrays, ``MAX_ROWS`` for DataFrames).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> round(c2st_auc(rng.normal(size=(400, 2)), rng.normal(size=(400, 2))), 1)
        0.5
        >>> real = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
        >>> fake = real.assign(x=real["x"] + 3)
        >>> c2st_auc(real, fake) > 0.95
        True
    """
    rng = np.random.default_rng(random_state)
    if isinstance(real, pd.DataFrame) or isinstance(synthetic, pd.DataFrame):
        check_pair(real, synthetic)
        kinds = kinds or infer_kinds(real, metadata)
        limit = MAX_ROWS if max_rows is None else max_rows
        real, synthetic = _subsample(real, limit, rng), _subsample(synthetic, limit, rng)
        enc = TableEncoder(kinds, max_categories=MAX_TREE_CATEGORIES).fit(real, synthetic)
        if classifier == "gbt":
            X = np.vstack([enc.ordinal(real), enc.ordinal(synthetic)])
            informative = ~np.isnan(X).all(0)  # a column missing everywhere carries nothing (and breaks HGB)
            X = X[:, informative]
            classifier = _gbt(random_state, enc.categorical_mask[informative])
        else:
            X = np.vstack([enc.embed(real), enc.embed(synthetic)])
        n_real = len(real)
    else:
        real = np.asarray(real, dtype=float)
        synthetic = np.asarray(synthetic, dtype=float)
        if real.ndim != 2 or synthetic.ndim != 2 or real.shape[1] != synthetic.shape[1]:
            raise ValueError(
                f"real and synthetic must be 2-D with equal columns, got {real.shape} and {synthetic.shape}."
            )
        if not (np.isfinite(real).all() and np.isfinite(synthetic).all()):
            raise ValueError("real and synthetic must be finite (a generator produced NaN or inf?).")
        if max_rows is not None:
            real, synthetic = _subsample(real, max_rows, rng), _subsample(synthetic, max_rows, rng)
        X = np.vstack([real, synthetic])
        n_real = len(real)
    y = np.r_[np.zeros(n_real), np.ones(len(X) - n_real)]
    if classifier == "gbt":
        classifier = _gbt(random_state)
    elif classifier == "knn":
        classifier = make_pipeline(StandardScaler(), KNeighborsClassifier(15))
    return oof_auc(classifier, X, y, cv=cv, random_state=random_state)


def detection_score(auc: float) -> float:
    """SDMetrics' detection score ``1 - 2 max(AUC - 0.5, 0)``: 1 when undetectable, 0 when always caught."""
    return float(1.0 - 2.0 * max(auc - 0.5, 0.0))


def oof_auc(classifier, X: np.ndarray, y: np.ndarray, *, cv: int = 5, random_state=0) -> float:
    """ROC AUC of out-of-fold ``predict_proba`` scores of a binary classifier.

    Identical rows always share a fold: otherwise a synthetic copy of a real row would be
    scored by a model that saw its twin with the opposite label, which drives the AUC below
    0.5. Copies thus look indistinguishable (AUC about 0.5), as they are; the privacy
    metrics are what flag them.
    """
    counts = np.bincount(y.astype(int), minlength=2)
    if counts.min() < cv:
        raise ValueError(f"each side needs at least cv={cv} rows, got {counts[0]} and {counts[1]}.")
    groups = pd.util.hash_pandas_object(pd.DataFrame(X), index=False).to_numpy()
    if len(np.unique(groups)) >= cv:
        folds = StratifiedGroupKFold(cv, shuffle=True, random_state=random_state)
        splits = list(folds.split(X, y, groups))
    else:
        splits = list(StratifiedKFold(cv, shuffle=True, random_state=random_state).split(X, y))
    proba = cross_val_predict(classifier, X, y, cv=splits, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, proba))


def _gbt(random_state, categorical_mask=None) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=200,
        early_stopping=False,
        random_state=random_state,
        categorical_features=None if categorical_mask is None or not categorical_mask.any() else categorical_mask,
    )


def _subsample(data, limit: int, rng: np.random.Generator):
    if len(data) <= limit:
        return data
    idx = np.sort(rng.choice(len(data), limit, replace=False))
    return data.iloc[idx] if isinstance(data, pd.DataFrame) else data[idx]
