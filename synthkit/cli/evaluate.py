"""``synthkit evaluate REAL SYNTHETIC``: fidelity, utility and privacy of synthetic data."""

import json

from synthkit.registry import DOMAINS


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="compare synthetic data with real data; optional HTML report")
    p.add_argument("real", help="real data file (the rows the model was trained on)")
    p.add_argument("synthetic", help="synthetic data file")
    p.add_argument("--domain", default="tabular", choices=list(DOMAINS), help="kind of data (default: tabular)")
    p.add_argument("--holdout", help="real rows the model never saw (privacy and held-out scores)")
    p.add_argument("--target", metavar="COLUMN", help="column to predict for utility scores")
    p.add_argument("--reference", help="reference set (molecules: e.g. the training library)")
    p.add_argument("--report", metavar="HTML", help="write an HTML report here (and a .json beside it)")
    p.set_defaults(run=run)


def run(args) -> int:
    results = DOMAINS.get(args.domain).evaluate(
        args.real, args.synthetic, holdout=args.holdout, target=args.target,
        reference=args.reference, report=args.report,
    )
    print(json.dumps(results, indent=2, default=str))
    return 0
