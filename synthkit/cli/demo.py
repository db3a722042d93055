"""``synthkit demo``: the whole job on a domain's bundled real data, in a few minutes on a CPU.

Split the domain's example (``DomainAdapter.example``) into training rows and a holdout,
fit a model, save it, generate a synthetic copy, and score it against the holdout, writing
an HTML report. Everything lands in one folder, named at the end. Only the domain-adapter
contract is used, so every registered domain has a demo.
"""

from __future__ import annotations

import time
from pathlib import Path

from synthkit.registry import DOMAINS

DEFAULT_DOMAIN = "tabular"


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="fit, sample and evaluate on a bundled data set; writes a report")
    p.add_argument("--out", default="synthkit-demo", metavar="DIR", help="output folder (default: synthkit-demo)")
    p.add_argument("--domain", default=DEFAULT_DOMAIN, choices=list(DOMAINS), help="which domain's bundled data set (default: tabular)")
    p.add_argument("--backbone", help="generative backbone (default: the domain's)")
    p.add_argument("--max-time", type=float, default=60.0, metavar="SECONDS", help="training budget (default 60)")
    p.add_argument("-n", type=int, default=None, metavar="N",
                   help="synthetic rows to sample and evaluate (default: as many as the training rows)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run)


def run(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    domain = DOMAINS.get(args.domain)
    example = domain.example()
    train, holdout = domain.split(example.data, test_size=0.25, seed=args.seed, target=example.target)
    paths = {name: out / f"{name}{domain.suffix}" for name in ("train", "holdout", "synthetic")}
    domain.write(train, paths["train"])
    domain.write(holdout, paths["holdout"])
    _say(f"data: {len(train)} training and {len(holdout)} holdout {domain.name} rows -> {out}")

    start = time.perf_counter()
    params = {"max_time": args.max_time, "random_state": args.seed, "verbose": 0 if args.quiet else 1}
    model = domain.fit(str(paths["train"]), backbone=args.backbone, params=params, target=example.target)
    model.save(out / "model")
    _say(f"fit: {type(model).__name__} in {time.perf_counter() - start:.1f} s -> {out / 'model'}")

    start = time.perf_counter()
    n = len(train) if args.n is None else args.n
    if n < 2:
        raise ValueError(f"demo -n must be at least 2 (the evaluation compares sets), got {n}.")
    written = domain.sample(model, paths["synthetic"], n, seed=args.seed, progress=not args.quiet)
    _say(f"sample: {written} synthetic rows in {time.perf_counter() - start:.1f} s -> {paths['synthetic']}")

    start = time.perf_counter()
    results = domain.evaluate(str(paths["train"]), str(paths["synthetic"]), holdout=str(paths["holdout"]),
                              target=example.target, report=str(out / "report.html"))
    _say(f"evaluate: {time.perf_counter() - start:.1f} s -> {out / 'report.html'} (and report.json)")
    for key, value in (results.get("summary") or {}).items():
        _say(f"  {key:<28} {value if not isinstance(value, float) else round(value, 3)}")
    _say(f"done: open {out / 'report.html'}")
    return 0


def _say(text: str) -> None:
    print(text, flush=True)
