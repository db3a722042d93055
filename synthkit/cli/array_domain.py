"""CLI adapter for numeric matrices fitted directly by a core backbone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.datasets import list_datasets, load_dataset
from synthkit.io import read_numeric
from synthkit.registry import make_generator

DEFAULT_BACKBONE = "flow"


def read(data: str, target: str | None = None):
    """Rows (and the ``target`` column as labels) from a file or a bundled data set name.

    A ``.csv`` keeps its column names (they name the columns of sampled files).
    """
    if data in list_datasets() and not Path(data).exists():
        X, y = load_dataset(data, random_state=0)
        return X, (y if target else None)
    if not data.lower().endswith(".csv"):
        if target is not None:
            raise ValueError(f"{data}: --target needs a .csv file with that column.")
        return read_numeric(data), None
    import pandas as pd

    read_numeric(data)  # validates: exists, parses, all columns numeric
    frame = pd.read_csv(data)
    if target is None:
        return frame, None
    if target not in frame.columns:
        raise ValueError(f"{data}: no column {target!r} (columns: {', '.join(map(str, frame.columns))}).")
    return frame.drop(columns=[target]), frame[target].to_numpy()


def fit(data: str, *, backbone: str | None, params: dict, target: str | None = None, resume: bool = False):
    X, y = read(data, target)
    model = make_generator(backbone or DEFAULT_BACKBONE, **params).fit(X, y, resume=resume)
    if target is not None:
        model.target_name_ = target
    return model


def evaluate(real: str, synthetic: str, *, holdout=None, target=None, reference=None, report=None) -> dict:
    """Fidelity, detection, utility (with ``holdout`` and ``target``) and privacy scores;
    an HTML report with plots and its JSON when ``report`` is a path."""
    from synthkit.io import read_frame
    from synthkit.metrics import evaluate as score
    from synthkit.metrics.report import write_report

    R, S = read_frame(real), read_frame(synthetic)
    H = None if holdout is None else read_frame(holdout)
    results = score(R, S, holdout=H, target=target)
    if report is not None:
        write_report(results, R, S, report)
    return results


def example():
    """The demo's table: scikit-learn's breast cancer data (569 rows, 30 features) and its label."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    return frame, "label"
