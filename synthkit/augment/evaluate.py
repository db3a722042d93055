"""Does augmentation help a classifier? Cross-validated, scored on real held-out rows only.

Every method is run as an :class:`imblearn.pipeline.Pipeline` ``(sampler, estimator)``
inside scikit-learn's :func:`~sklearn.model_selection.cross_validate`: the sampler is
fitted on the training folds and its synthetic rows join only the training data; the
held-out fold is passed to ``predict`` as it is (an imbalanced-learn pipeline does not
resample at prediction time). So no synthetic row, and nothing fitted on the held-out rows,
can reach the score.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import StratifiedKFold, check_cv, cross_validate

BASELINES = ("real", "random", "smote")
BASELINE_NAMES = {"real": "real only", "random": "random oversampling", "smote": "SMOTE"}


def default_scoring(y) -> dict:
    """F1 of the rarest class and balanced accuracy (the two figures imbalance hurts)."""
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    minority = labels[np.argmin(counts)]
    if len(labels) == 2:
        f1 = make_scorer(f1_score, pos_label=minority, zero_division=0)
    else:  # the F1 of one class of several
        f1 = make_scorer(f1_score, pos_label=None, labels=[minority], average="macro", zero_division=0)
    return {"f1_minority": f1, "balanced_accuracy": "balanced_accuracy"}


def evaluate_augmentation(
    estimator,
    X,
    y,
    augmenter=None,
    *,
    cv=5,
    scoring=None,
    baselines=("real", "smote"),
    random_state=0,
    n_jobs=None,
) -> pd.DataFrame:
    """Cross-validated scores of ``estimator`` trained on real rows alone, with each
    augmenter, and with the baselines (random oversampling, SMOTE).

    Args:
        estimator: a scikit-learn classifier (cloned for every fold and method).
        X, y: the real data.
        augmenter: an imbalanced-learn sampler (e.g. :class:`GenerativeOversampler`), a
            dict ``{name: sampler}`` of several, or ``None`` for the baselines only.
        cv: number of stratified folds (shuffled with ``random_state``) or a splitter.
        scoring: as in :func:`~sklearn.model_selection.cross_validate`; default
            :func:`default_scoring` (minority-class F1 and balanced accuracy).
        baselines: any of ``"real"`` (no resampling), ``"random"`` (random oversampling)
            and ``"smote"``.
        random_state: seed of the folds and of the baselines.
        n_jobs: parallel folds.

    Returns:
        A DataFrame with one row per method: the mean of each metric over the held-out
        folds, its standard deviation (``<metric>_std``), the gain over ``"real only"``
        (``<metric>_gain``, when that baseline is run) and ``fit_seconds``. Per-fold
        scores are in ``table.attrs["folds"]``.

    Example:
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.linear_model import LogisticRegression
        >>> X, y = make_classification(300, weights=[0.9], random_state=0)
        >>> table = evaluate_augmentation(LogisticRegression(), X, y, cv=3)
        >>> list(table.index)
        ['real only', 'SMOTE']
    """
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"unknown baselines {sorted(unknown)}; choose from {BASELINES}.")
    X = X if hasattr(X, "iloc") else np.asarray(X)
    y = y if hasattr(y, "iloc") else np.asarray(y)
    splitter = check_cv(
        StratifiedKFold(cv, shuffle=True, random_state=random_state) if isinstance(cv, int) else cv,
        y,
        classifier=True,
    )
    scoring = default_scoring(y) if scoring is None else scoring

    methods: dict[str, object] = {}
    if "real" in baselines:
        methods[BASELINE_NAMES["real"]] = None
    if "random" in baselines:
        methods[BASELINE_NAMES["random"]] = RandomOverSampler(random_state=random_state)
    if isinstance(augmenter, dict):
        methods.update(augmenter)
    elif augmenter is not None:
        methods[_name(augmenter)] = augmenter
    if "smote" in baselines:
        smote = _smote(y, splitter, X, random_state)
        if smote is not None:
            methods[BASELINE_NAMES["smote"]] = smote

    rows, folds = {}, {}
    for name, sampler in methods.items():
        model = clone(estimator) if sampler is None else Pipeline([("resample", clone(sampler)), ("model", clone(estimator))])
        res = cross_validate(model, X, y, cv=splitter, scoring=scoring, n_jobs=n_jobs, error_score="raise")
        metrics = {k[len("test_"):]: v for k, v in res.items() if k.startswith("test_")}
        folds[name] = {k: v.tolist() for k, v in metrics.items()}
        row = {}
        for metric, values in metrics.items():
            row[metric] = float(np.mean(values))
            row[f"{metric}_std"] = float(np.std(values))
        row["fit_seconds"] = float(np.mean(res["fit_time"]))
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    real = BASELINE_NAMES["real"]
    if real in table.index:
        for metric in folds[real]:
            table.insert(table.columns.get_loc(f"{metric}_std") + 1, f"{metric}_gain", table[metric] - table.loc[real, metric])
    table.index.name = "method"
    table.attrs["folds"] = folds
    return table


def _name(sampler) -> str:
    backbone = getattr(sampler, "backbone", None)
    return f"{type(sampler).__name__}({backbone})" if isinstance(backbone, str) else type(sampler).__name__


def _smote(y, splitter, X, random_state):
    """SMOTE with as many neighbours (at most 5) as the smallest training fold's class allows."""
    y = np.asarray(y)
    smallest = min(np.unique(y[train], return_counts=True)[1].min() for train, _ in splitter.split(X, y))
    if smallest < 2:
        warnings.warn("a training fold has a class with a single row: SMOTE is left out.", UserWarning)
        return None
    return SMOTE(k_neighbors=int(min(5, smallest - 1)), random_state=random_state)
