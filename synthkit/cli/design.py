"""``synthkit design MODEL --objective qed --budget 5000 --out best.csv``: REINVENT on a saved
molecule prior (see :func:`synthkit.domains.molecules.optimize`)."""

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
    from synthkit.persistence import load

    model = load(args.model)
    if not hasattr(model, "tokenizer_"):
        raise ValueError(f"{args.model} holds a {type(model).__name__}; design needs a model from 'synthkit fit molecules'.")
    from synthkit.domains.molecules import optimize
    from synthkit.domains.molecules.design import top_k_mean

    table, agent = optimize(
        model, args.objective, budget=args.budget, batch_size=args.batch_size, sigma=args.sigma,
        learning_rate=args.learning_rate, diversity_filter=None if args.no_diversity_filter else "scaffold",
        filters=args.filter, random_state=args.seed, verbose=0 if args.quiet else 1, return_agent=True,
    )
    out = table.head(args.top) if args.top else table
    out.to_csv(args.out, index_label="rank")
    if args.save_agent:
        agent.save(args.save_agent)
    print(f"{table.attrs['oracle_calls']} oracle calls; best {table['score'].max():.4f}, "
          f"top-10 mean {top_k_mean(table, 10):.4f}; wrote {len(out)} molecules to {args.out}")
    return 0
