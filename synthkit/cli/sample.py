"""``synthkit sample MODEL -n N --out FILE``: draw rows from a saved model, in batches.

The saved model names its domain (``Synthesizer.domain``; a core ``Generator`` is the
``array`` domain), whose adapter writes the file: batch ``i`` is drawn from seed child ``i``.
With ``--workers``, ``--shards`` or ``--shard-size`` the draw goes to a folder of parts and a
manifest instead (:mod:`synthkit.sharding`).
"""

from __future__ import annotations

import inspect

from synthkit.persistence import load
from synthkit.sharding import domain_adapter
from synthkit.validation import check_count


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="generate data from a saved model")
    p.add_argument("model", help="folder written by 'synthkit fit' or Generator.save")
    p.add_argument("-n", "--n-samples", type=int, required=True, help="number of rows / molecules")
    p.add_argument("--out", required=True, metavar="FILE", help="output file (.csv, .parquet, .npy, .smi, .txt; a folder for images and audio), or the folder of a sharded draw")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--batch-size", type=int, default=10_000, help="rows generated per batch (bounds memory)")
    p.add_argument("--label", help="class label to generate (class-conditional models)")
    p.add_argument("--masks", metavar="DIR", help="label maps to draw one image each for (medical, "
                   "mask-conditioned models); written beside their images")
    p.add_argument("--workers", type=int, default=None,
                   help="write a folder of parts (plus _manifest.json) with this many processes")
    p.add_argument("--shards", metavar="A:B", default=None,
                   help="write only parts A to B-1 of a sharded draw (a scheduler's job; same --seed everywhere)")
    p.add_argument("--shard-size", type=int, default=None,
                   help="rows per part of a sharded draw (default: 10 batches)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    check_count("-n", args.n_samples)
    check_count("--batch-size", args.batch_size)
    sharded = args.workers is not None or args.shards is not None or args.shard_size is not None
    if sharded and args.masks is not None:
        raise ValueError("--masks draws one image per mask into one folder; it does not combine with --workers, "
                         "--shards or --shard-size")
    if sharded:
        return run_sharded(args)
    model = load(args.model)
    domain = domain_adapter(model)
    extra = {}
    if args.masks is not None:
        if "masks" not in inspect.signature(domain.sample).parameters:
            raise ValueError(f"--masks is for image domains; the {domain.name} domain takes no masks.")
        extra["masks"] = args.masks
    written = domain.sample(model, args.out, args.n_samples, batch_size=args.batch_size, seed=args.seed,
                            label=args.label, progress=not args.quiet, **extra)
    print(f"wrote {written} rows to {args.out}")
    return 0


def run_sharded(args) -> int:
    from synthkit.sharding import parse_range, sample_shards

    shards = None if args.shards is None else parse_range(args.shards)
    done = sample_shards(args.model, args.out, args.n_samples, seed=args.seed, shard_rows=args.shard_size,
                         batch_size=args.batch_size, workers=args.workers or 1, shards=shards, label=args.label,
                         progress=not args.quiet)
    print(f"wrote {done['written']} parts ({done['rows']} rows), kept {done['kept']}, of {done['n_shards']} in "
          f"{args.out}" + (f"; manifest {done['manifest']}" if done["complete"] else "; manifest when all parts exist"))
    return 0
