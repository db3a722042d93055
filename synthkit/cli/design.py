"""``synthkit design MODEL --objective qed --budget 5000 --out best.csv``: REINVENT on a saved
molecule prior; parses arguments and calls the ``design`` of the domain whose adapter
declares it in ``commands`` (found through ``synthkit.registry.DOMAINS``, so the core never
imports a domain)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("design", help="steer a saved molecule model toward an objective (REINVENT)")
    p.add_argument("model", help="folder of a MoleculeGenerator saved by 'synthkit fit molecules'")
    p.add_argument("--objective", action="append", required=True, metavar="NAME",
                   help="qed, sa, logp, penalized_logp, similarity:SMILES, smarts:PATTERN, no-smarts:PATTERN; "
                        "repeat to combine (geometric-mean MPO)")
    p.add_argument("--budget", type=int, default=10_000, help="oracle calls (distinct molecules scored)")
    p.add_argument("--out", required=True, metavar="CSV", help="ranked molecules: rank, smiles, score, call, ...")
    p.add_argument("--filter", action="append", metavar="NAME",
                   help="molecules must pass it to be scored: pains, brenk, nih, zinc, organic, rings (repeatable)")
    p.add_argument("--batch-size", type=int, default=64, help="molecules sampled per agent update")
    p.add_argument("--sigma", type=float, default=120.0, help="score weight in the augmented likelihood")
    p.add_argument("--learning-rate", type=float, default=5e-4, help="agent step size")
    p.add_argument("--no-diversity-filter", action="store_true", help="turn off the scaffold diversity filter")
    p.add_argument("--top", type=int, metavar="N", help="write only the best N molecules")
    p.add_argument("--save-agent", metavar="DIR", help="also save the fine-tuned generator here")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    from synthkit.adapters import domains_with
    from synthkit.registry import DOMAINS

    serving = domains_with("design")
    if not serving:
        raise ValueError("no installed domain serves 'design'; install synthkit[molecules].")
    summary = DOMAINS.get(serving[0]).command("design")(
        args.model, args.objective, budget=args.budget, out=args.out, filters=args.filter,
        batch_size=args.batch_size, sigma=args.sigma, learning_rate=args.learning_rate,
        diversity_filter=not args.no_diversity_filter, top=args.top, save_agent=args.save_agent,
        random_state=args.seed, verbose=0 if args.quiet else 1,
    )
    print(f"{summary['oracle_calls']} oracle calls; best {summary['best']:.4f}, "
          f"top-10 mean {summary['top10_mean']:.4f}; wrote {summary['written']} molecules to {args.out}")
    return 0
