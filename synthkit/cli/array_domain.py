"""The ``array`` domain: numeric matrices fitted directly by a core backbone.

Rows come from ``.npy`` or an all-numeric ``.csv`` (or a bundled data set's name); the
fitted model is the backbone itself (a :class:`synthkit.Generator`), which this adapter
samples to files in seeded batches (labels as the last column of a class-conditional model).
"""

from __future__ import annotations

from pathlib import Path

from synthkit.adapters import DomainAdapter, Example
from synthkit.datasets import list_datasets, load_dataset
from synthkit.io import read_numeric, read_numeric_frame, write_batches

DEFAULT_BACKBONE = "flow"


class ArrayAdapter(DomainAdapter):
    name = "array"
    suffix = ".csv"
    part_suffix = ".parquet"
    quick_params = {"max_epochs": 1, "hidden_dims": [16]}

    def read(self, path: str):
        """Rows of a file or a bundled data set (a ``.csv`` as a DataFrame, with its names)."""
        return self.read_xy(path)[0]

    def read_xy(self, path: str, target: str | None = None):
        """Rows (and the ``target`` column as labels) from a file or a bundled data set name.

        A ``.csv`` or ``.parquet`` keeps its column names (they name the columns of sampled files).
        """
        if path in list_datasets() and not Path(path).exists():
            X, y = load_dataset(path, random_state=0)
            return X, (y if target else None)
        if not str(path).lower().endswith((".csv", ".parquet")):
            if target is not None:
                raise ValueError(f"{path}: --target needs a .csv or .parquet file with that column.")
            return read_numeric(path), None
        frame = read_numeric_frame(path)  # validates: exists, parses, all columns numeric
        if target is None:
            return frame, None
        if target not in frame.columns:
            raise ValueError(f"{path}: no column {target!r} (columns: {', '.join(map(str, frame.columns))}).")
        return frame.drop(columns=[target]), frame[target].to_numpy()

    def write(self, data, path) -> None:
        write_batches(path, [data])

    def example(self) -> Example:
        """scikit-learn's breast cancer data (569 rows, 30 features) and its label."""
        from sklearn.datasets import load_breast_cancer

        return Example(load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"}), "label")

    def fit(self, data: str, *, backbone=None, params=None, target=None, resume: bool = False):
        from synthkit.registry import make_backbone

        X, y = self.read_xy(data, target)
        model = make_backbone(backbone or DEFAULT_BACKBONE, params).fit(X, y, resume=resume)
        if target is not None:
            model.target_name_ = target
        return model

    def sample(self, model, path, n: int, *, batch_size: int = 10_000, seed=None, label=None,
               progress: bool = False, first_batch: int = 0) -> int:
        """Seeded batches (batch ``i`` from seed child ``i``) of a core generator to a file."""
        from synthkit.base import Generator
        from synthkit.synthesizer import Synthesizer, batch_seeds
        from synthkit.training.progress import counting

        if isinstance(model, Synthesizer):
            return super().sample(model, path, n, batch_size=batch_size, seed=seed, label=label, progress=progress,
                                  first_batch=first_batch)
        if not isinstance(model, Generator):
            raise ValueError(f"the array domain samples synthkit Generators, not {type(model).__name__}.")
        draw = drawer(model, label)
        batches = (draw(m, batch_seed) for _, m, batch_seed in batch_seeds(n, batch_size, seed,
                                                                                first_batch=first_batch))
        with counting(batches, total=n, verbose=progress, unit="row") as counted:
            return write_batches(path, counted, columns=columns(model))

    def evaluate(self, real, synthetic, *, holdout=None, target=None, reference=None, report=None) -> dict:
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


ADAPTER = ArrayAdapter()


def drawer(model, label: str | None):
    """A function ``(n, seed) -> batch`` for a core generator (with its labels if conditional)."""
    kind = model.condition_kind_
    if kind == "continuous":
        raise ValueError("this model needs continuous conditions per row; sample it from Python with y=...")
    if kind is None:
        if label is not None:
            raise ValueError("this model is not class-conditional; drop --label.")
        return lambda n, seed: model.sample(n, random_state=seed)
    y = None if label is None else _label(model, label)
    names = columns(model)

    def draw(n, seed):
        import pandas as pd

        X, labels = model.sample(n, y=y, random_state=seed, return_y=True)
        return pd.DataFrame(X, columns=names[:-1]).assign(**{names[-1]: labels})

    return draw


def _label(model, text: str):
    for c in model.classes_:
        if str(c) == text:
            return c
    raise ValueError(f"unknown label {text!r}; the model knows {[str(c) for c in model.classes_]}.")


def columns(model) -> list[str]:
    """Column names of a core generator's sampled file (the label column last)."""
    names = getattr(model, "feature_names_in_", None)
    names = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(model.n_features_in_)]
    if model.condition_kind_ == "classes":
        names.append(getattr(model, "target_name_", None) or "label")
    return names
