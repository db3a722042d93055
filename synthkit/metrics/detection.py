"""Classifier two-sample test: can a classifier tell real rows from synthetic ones?

References:
    Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score


def c2st_auc(real, synthetic, *, classifier="gbt", cv: int = 5, random_state=0) -> float:
    """Cross-validated ROC AUC of a classifier separating ``real`` from ``synthetic`` rows.

    0.5 means the two samples are indistinguishable to the classifier; 1.0 means every
    synthetic row is recognized. Each row is scored only by a model that did not see it
    (out-of-fold predictions), so the AUC is a held-out figure.

    Args:
        real, synthetic: arrays of shape (n, d) and (m, d).
        classifier: ``"gbt"`` (histogram gradient boosting) or ``"knn"`` (15 neighbours on
            standardized features), or any scikit-learn classifier with ``predict_proba``.
        cv: folds.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> round(c2st_auc(rng.normal(size=(400, 2)), rng.normal(size=(400, 2))), 1)
        0.5
    """
    real = np.asarray(real, dtype=float)
    synthetic = np.asarray(synthetic, dtype=float)
    if real.ndim != 2 or synthetic.ndim != 2 or real.shape[1] != synthetic.shape[1]:
        raise ValueError(f"real and synthetic must be 2-D with equal columns, got {real.shape} and {synthetic.shape}.")
    if not (np.isfinite(real).all() and np.isfinite(synthetic).all()):
        raise ValueError("real and synthetic must be finite (a generator produced NaN or inf?).")
    X = np.vstack([real, synthetic])
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    if classifier == "gbt":
        clf = HistGradientBoostingClassifier(max_iter=200, early_stopping=False, random_state=random_state)
    elif classifier == "knn":
        clf = make_pipeline(StandardScaler(), KNeighborsClassifier(15))
    else:
        clf = classifier
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    proba = cross_val_predict(clf, X, y, cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, proba))
