"""Machine-learning utility: train on synthetic, test on real (TSTR) beside train on real (TRTR).

The same model — histogram gradient boosting with native categorical splits and ``NaN``
routing, fixed hyper-parameters and seed — is trained once on the real training table
(TRTR) and once on the synthetic table (TSTR) to predict ``target``, and both are scored on
the same real holdout that neither saw. TSTR close to TRTR means the synthetic table
carries the relations a model needs.

References:
    Esteban, Hyland & Rätsch, "Real-valued (Medical) Time Series Generation with Recurrent
    Conditional GANs", 2017 (train-synthetic-test-real).
    Xu et al., "Modeling Tabular Data using Conditional GAN", NeurIPS 2019 (machine-learning efficacy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score, roc_auc_score

from synthkit.metrics.columns import MAX_TREE_CATEGORIES, TableEncoder, as_labels, as_numbers, check_pair, infer_kinds

#: an integer target with at most this many distinct values is treated as classes
MAX_CLASSES_FOR_INT = 20


def infer_task(real: pd.DataFrame, target, kinds) -> str:
    """``"classification"`` for categorical targets and integer ones with few values, else ``"regression"``."""
    if kinds[target] == "categorical":
        return "classification"
    values = as_numbers(real[target])
    values = values[np.isfinite(values)]
    if len(values) and np.all(values == np.round(values)) and len(np.unique(values)) <= MAX_CLASSES_FOR_INT:
        return "classification"
    return "regression"


def tstr(
    real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, target, *,
    task: str | None = None, kinds=None, metadata=None, random_state=0,
) -> dict:
    """Train-synthetic-test-real beside train-real-test-real for one target column.

    Args:
        real: the real table the generator was trained on.
        synthetic: the synthetic table.
        holdout: real rows neither the generator nor the TRTR model saw.
        target: the column to predict; rows where it is missing are dropped.
        task: ``"classification"`` or ``"regression"`` (inferred when omitted: categorical
            targets and integer targets with at most 20 values are classes).

    Returns:
        ``{"target", "task", "trtr": {...}, "tstr": {...}, "gap": {...}}`` where the
        inner dicts hold ``roc_auc`` (macro one-vs-rest for several classes), ``accuracy``
        and ``f1_macro`` for classification, or ``r2`` and ``mae`` for regression, and
        ``gap`` is ``trtr - tstr`` per metric. A metric that cannot be computed (e.g. the
        synthetic table has a single class) is ``None``, with a ``note``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> def draw(n):
        ...     x = rng.normal(size=n)
        ...     return pd.DataFrame({"x": x, "y": np.where(x + 0.3 * rng.normal(size=n) > 0, "p", "n")})
        >>> out = tstr(draw(300), draw(300), draw(300), "y")
        >>> out["task"], abs(out["gap"]["roc_auc"]) < 0.05
        ('classification', True)
    """
    check_pair(real, synthetic)
    check_pair(real, holdout, what="holdout")
    if target not in real.columns:
        raise ValueError(f"target {target!r} is not a column of the real table.")
    kinds = dict(kinds or infer_kinds(real, metadata))
    kinds[target] = kinds[target] if kinds[target] != "id" else "categorical"
    task = task or infer_task(real, target, kinds)
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}.")
    features = {c: k for c, k in kinds.items() if c != target}
    enc = TableEncoder(features, max_categories=MAX_TREE_CATEGORIES).fit(real, synthetic, holdout)
    if not enc.columns:
        raise ValueError(f"no feature columns besides the target {target!r}.")

    def xy(df):
        y = as_labels(df[target]) if task == "classification" else as_numbers(df[target])
        keep = ~pd.isna(y) if task == "classification" else np.isfinite(y)
        return enc.ordinal(df)[keep], y[keep]

    X_test, y_test = xy(holdout)
    if len(y_test) == 0:
        raise ValueError(f"the holdout has no rows with a value in {target!r}.")
    out = {"target": str(target), "task": task}
    for name, df in (("trtr", real), ("tstr", synthetic)):
        X_train, y_train = xy(df)
        out[name] = _fit_score(task, X_train, y_train, X_test, y_test, enc.categorical_mask, random_state)
    out["gap"] = {
        k: (None if out["trtr"][k] is None or out["tstr"][k] is None else out["trtr"][k] - out["tstr"][k])
        for k in out["trtr"]
        if k != "note"
    }
    return out


def _fit_score(task, X_train, y_train, X_test, y_test, cat_mask, random_state) -> dict:
    informative = ~np.isnan(X_train).all(0)  # HGB cannot bin a column with no value at all
    X_train, X_test, cat_mask = X_train[:, informative], X_test[:, informative], cat_mask[informative]
    cats = cat_mask if cat_mask.any() else None
    if task == "regression":
        if len(y_train) < 2:
            return {"r2": None, "mae": None, "note": "fewer than two training rows with a target"}
        model = HistGradientBoostingRegressor(categorical_features=cats, random_state=random_state)
        pred = model.fit(X_train, y_train).predict(X_test)
        return {"r2": float(r2_score(y_test, pred)), "mae": float(mean_absolute_error(y_test, pred))}
    empty = {"roc_auc": None, "accuracy": None, "f1_macro": None}
    if len(np.unique(y_train)) < 2:
        return {**empty, "note": "the training table holds fewer than two classes"}
    model = HistGradientBoostingClassifier(categorical_features=cats, random_state=random_state)
    model.fit(X_train, y_train.astype(str))
    pred = model.predict(X_test)
    result = {
        "accuracy": float(accuracy_score(y_test.astype(str), pred)),
        "f1_macro": float(f1_score(y_test.astype(str), pred, average="macro")),
    }
    classes = np.unique(y_test.astype(str))
    if len(classes) < 2:
        return {"roc_auc": None, **result, "note": "the holdout holds a single class"}
    # probabilities for the holdout's classes (0 for a class the model never saw), renormalized
    proba = np.zeros((len(y_test), len(classes)))
    known = {c: j for j, c in enumerate(model.classes_)}
    full = model.predict_proba(X_test)
    for k, c in enumerate(classes):
        proba[:, k] = full[:, known[c]] if c in known else 0.0
    if len(classes) == 2:
        auc = roc_auc_score(y_test.astype(str) == classes[1], proba[:, 1] - proba[:, 0])
    else:
        total = proba.sum(1, keepdims=True)
        proba = np.where(total > 0, proba / np.where(total > 0, total, 1), 1.0 / len(classes))
        auc = roc_auc_score(y_test.astype(str), proba, multi_class="ovr", average="macro", labels=classes)
    return {"roc_auc": float(auc), **result}
