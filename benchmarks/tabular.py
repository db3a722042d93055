"""Benchmark: every backbone as a TabularSynthesizer on real mixed-type tables.

For each table the rows are split in half (train / holdout, seeded). Each backbone is fitted on
the train half with the same wall-clock budget (``--max-time``, one CPU thread), samples as
many rows as the train half, and is scored by ``synthkit.metrics.evaluate`` against the
holdout: column shapes, pair trends, detection AUC, TSTR vs TRTR, DCR share, exact copies and
membership inference. Two references run beside them:

- ``shuffled``: each column resampled independently from the train half -- perfect
  marginals, no dependencies; a model must beat it on trends and detection;
- ``holdout``: the real holdout rows themselves -- what real data scores (the ceiling).

Run (results as a Markdown table on stdout and JSON in ``--out``):

    OMP_NUM_THREADS=1 python benchmarks/tabular.py --tables penguins,penguins_raw --max-time 60 \\
        --out benchmarks/results/tabular.json

Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = [("column_shapes", "shape"), ("pair_trends", "trend"), ("detection_auc", "det AUC"),
           ("tstr", "TSTR"), ("trtr", "TRTR"), ("dcr_share", "DCR share"), ("exact_copy_rate", "copies"),
           ("exact_copy_rate_holdout", "copies (holdout)"), ("mia_auc", "MIA AUC"),
           ("fit_seconds", "fit s"), ("rows_per_second", "rows/s")]


def split(df: pd.DataFrame, seed: int):
    idx = np.random.default_rng(seed).permutation(len(df))
    half = len(df) // 2
    return df.iloc[np.sort(idx[:half])].reset_index(drop=True), df.iloc[np.sort(idx[half:])].reset_index(drop=True)


def shuffled(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), n)] for c in train.columns}).astype(train.dtypes)


def score(train, synth, holdout, target, metadata, seed) -> dict:
    from synthkit.metrics import evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = evaluate(train, synth, holdout=holdout, target=target, metadata=metadata, random_state=seed)["summary"]
    key = "roc_auc" if "tstr_roc_auc" in s else "r2"
    s["tstr"], s["trtr"] = s.get(f"tstr_{key}"), s.get(f"trtr_{key}")
    return s


def run_backbone(name, train, holdout, target, args, params) -> dict:
    from synthkit.domains.tabular import TabularSynthesizer

    synth = TabularSynthesizer(name, backbone_params={"max_time": args.max_time, **params}, random_state=args.seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth.fit(train)
        fit_seconds = time.perf_counter() - start
        n_speed = max(len(train), args.speed_rows)
        start = time.perf_counter()
        fake = synth.sample(n_speed)
        rate = n_speed / (time.perf_counter() - start)
    out = score(train, fake.iloc[: len(train)], holdout, target, synth.metadata_, args.seed)
    out.update(fit_seconds=fit_seconds, rows_per_second=rate, steps=getattr(synth.generator_, "n_steps_", None),
               encoding=synth.encoder_.categorical)
    return out


def _warm_up() -> None:
    """One tiny fit first, so that torch's one-time start-up is not charged to the first backbone."""
    from synthkit.domains.tabular import TabularSynthesizer

    df = pd.DataFrame({"x": np.arange(20.0), "c": ["a", "b"] * 10})
    TabularSynthesizer("vae", backbone_params={"max_epochs": 1}, random_state=0).fit(df).sample(5)


def markdown(rows: list[dict]) -> str:
    head = "| table | model | " + " | ".join(label for _, label in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for r in rows:
        cells = []
        for key, _ in COLUMNS:
            v = r.get(key)
            cells.append("—" if v is None else (f"{v:.0f}" if key in ("rows_per_second",) else
                                                f"{v:.1f}" if key == "fit_seconds" else f"{v:.3f}"))
        lines.append(f"| {r['table']} | {r['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import torch

    import synthkit
    from synthkit.domains.tabular.datasets import TABLES, load_table
    from synthkit.domains.tabular.metadata import infer_metadata

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", default="penguins,penguins_raw,diabetes", help=f"comma list of {', '.join(TABLES)}")
    p.add_argument("--backbones", default=None, help="comma list (default: every registered backbone for rows)")
    p.add_argument("--max-time", type=float, default=60.0, help="training budget per backbone, seconds")
    p.add_argument("--param", action="append", default=[], metavar="BACKBONE.KEY=JSON",
                   help="extra backbone parameter, e.g. diffusion.n_sampling_steps=50 (repeatable)")
    p.add_argument("--speed-rows", type=int, default=2000, help="rows sampled to measure sampling speed")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the CPU is shared)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.backbones.split(",") if args.backbones else [b for b in synthkit.list_backbones() if b != "sequence"]
    extra: dict[str, dict] = {}
    for item in args.param:
        key, _, value = item.partition("=")
        backbone, _, param = key.partition(".")
        extra.setdefault(backbone, {})[param] = json.loads(value)

    _warm_up()
    rows = []
    for table in args.tables.split(","):
        try:
            df, target = load_table(table)
        except ValueError as err:
            print(f"skipping {table}: {err}", flush=True)
            continue
        train, holdout = split(df, args.seed)
        metadata = infer_metadata(train)
        refs = {"holdout": holdout, "shuffled": shuffled(train, len(train), args.seed)}
        for name, fake in refs.items():
            result = score(train, fake, holdout, target, metadata, args.seed)
            if name == "holdout":  # the holdout scored against itself: no distances, no TSTR
                result.update(dcr_share=None, mia_auc=None, exact_copy_rate=None, tstr=None)
            rows.append({"table": table, "model": f"({name})", **result})
            print(markdown(rows[-1:]).splitlines()[-1], flush=True)
        for name in names:
            try:
                result = run_backbone(name, train, holdout, target, args, extra.get(name, {}))
            except Exception as err:  # a benchmark reports a failing backbone and goes on
                result = {"error": f"{type(err).__name__}: {err}"}
                print(f"| {table} | {name} | failed: {result['error'][:200]} |", flush=True)
            rows.append({"table": table, "model": name, **result})
            if "error" not in result:
                print(markdown(rows[-1:]).splitlines()[-1], flush=True)
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows},
                                           indent=1, default=str))
    print()
    print(markdown([r for r in rows if "error" not in r]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
