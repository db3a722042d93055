"""CLI adapter for numeric matrices fitted directly by a core backbone."""

from __future__ import annotations

import json
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
    """Classifier two-sample AUC of synthetic vs real (and vs a real holdout when given)."""
    from synthkit.metrics import c2st_auc

    R, S = read_numeric(real), read_numeric(synthetic)
    results = {"n_real": len(R), "n_synthetic": len(S), "detection_auc": c2st_auc(R, S)}
    if holdout is not None:
        results["detection_auc_holdout"] = c2st_auc(read_numeric(holdout), S)
    if report is not None:
        from synthkit.io import write_text

        write_text(Path(report).with_suffix(".json"), json.dumps(results, indent=2))
    return results
