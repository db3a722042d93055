"""``synthkit sample MODEL -n N --out FILE``: draw rows from a saved model, in batches."""

from __future__ import annotations

import numpy as np

from synthkit.base import Generator
from synthkit.io import write_batches
from synthkit.persistence import load
from synthkit.training.progress import progress_bar


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="generate data from a saved model")
    p.add_argument("model", help="folder written by 'synthkit fit' or Generator.save")
    p.add_argument("-n", "--n-samples", type=int, required=True, help="number of rows / molecules")
    p.add_argument("--out", required=True, metavar="FILE", help="output file: .csv, .parquet, .npy, .smi or .txt")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--batch-size", type=int, default=10_000, help="rows generated per batch (bounds memory)")
    p.add_argument("--label", help="class label to generate (class-conditional models)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.n_samples < 1:
        raise ValueError(f"-n must be positive, got {args.n_samples}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be positive, got {args.batch_size}")
    model = load(args.model)
    if hasattr(model, "sample_to_file") and args.label is None:  # domain-aware batched writer
        written = model.sample_to_file(args.out, args.n_samples, batch_size=args.batch_size,
                                       random_state=args.seed, progress=not args.quiet)
        print(f"wrote {written} rows to {args.out}")
        return 0
    draw = drawer(model, args.label)
    seeds = np.random.SeedSequence(args.seed).spawn(-(-args.n_samples // args.batch_size))
    bar = progress_bar(total=args.n_samples, verbose=not args.quiet, desc="sampling", unit="row")

    def batches():
        remaining = args.n_samples
        for seed in seeds:
            n = min(args.batch_size, remaining)
            yield draw(n, int(seed.generate_state(1)[0]))
            remaining -= n
            bar.update(n)

    try:
        written = write_batches(args.out, batches(), columns=_columns(model))
    finally:
        bar.close()
    print(f"wrote {written} rows to {args.out}")
    return 0


def drawer(model, label: str | None):
    """A function ``(n, seed) -> batch`` for this kind of model."""
    if not isinstance(model, Generator):  # domain synthesizers return their native type
        if label is not None:
            raise ValueError(f"--label is for core generators; {type(model).__name__} takes conditions in Python.")
        return lambda n, seed: model.sample(n, random_state=seed)
    kind = model.condition_kind_
    if kind == "continuous":
        raise ValueError("this model needs continuous conditions per row; sample it from Python with y=...")
    if kind is None:
        if label is not None:
            raise ValueError("this model is not class-conditional; drop --label.")
        return lambda n, seed: model.sample(n, random_state=seed)
    y = None if label is None else _label(model, label)

    def draw(n, seed):
        import pandas as pd

        X, labels = model.sample(n, y=y, random_state=seed, return_y=True)
        return pd.DataFrame(X, columns=_columns(model)[:-1]).assign(**{_columns(model)[-1]: labels})

    return draw


def _label(model, text: str):
    for c in model.classes_:
        if str(c) == text:
            return c
    raise ValueError(f"unknown label {text!r}; the model knows {[str(c) for c in model.classes_]}.")


def _columns(model):
    if not isinstance(model, Generator):
        return None
    names = getattr(model, "feature_names_in_", None)
    names = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(model.n_features_in_)]
    if model.condition_kind_ == "classes":
        names.append(getattr(model, "target_name_", None) or "label")
    return names
