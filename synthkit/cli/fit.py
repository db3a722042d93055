"""``synthkit fit DOMAIN DATA --out MODEL``: fit a generator to a file and save it.

Data-parallel on N processes with ``torchrun --standalone --nproc_per_node=N -m synthkit.cli
fit ...`` (:mod:`synthkit.training.distributed`): every process reads the data and trains its
share of each batch; without ``--seed`` rank 0's seed is used by all (before the domain draws
anything), and only rank 0 saves the model and prints.
"""

import inspect

from synthkit.cli import parse_params
from synthkit.registry import DOMAINS
from synthkit.training.checkpoint import resolve_seed
from synthkit.training.distributed import is_main, launched, ranks


def add_parser(sub) -> None:
    p = sub.add_parser("fit", help="fit a generator to data and save it")
    p.add_argument("domain", choices=list(DOMAINS), help="kind of data: " + "; ".join(
        f"{k}: {v}" for k, v in DOMAINS.describe().items()))
    p.add_argument("data", help="data file (or a bundled data set name for 'array')")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to save the fitted model in")
    p.add_argument("--backbone", help="generative backbone (see 'synthkit backbones'); default: the domain's")
    p.add_argument("--target", metavar="COLUMN", help="column to condition on (class labels)")
    p.add_argument("--max-time", type=float, metavar="SECONDS", help="training budget in seconds")
    p.add_argument("--max-epochs", type=int, metavar="N", help="training budget in epochs")
    p.add_argument("--seed", type=int, help="random seed (same seed, same model on CPU)")
    p.add_argument("--checkpoint-dir", metavar="DIR", help="write training checkpoints here")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    p.add_argument("--masks", metavar="DIR", help="label maps paired with the images by file name (medical)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="backbone parameter (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    params = parse_params(args.param)
    for key, value in [("max_time", args.max_time), ("max_epochs", args.max_epochs), ("random_state", args.seed),
                       ("checkpoint_dir", args.checkpoint_dir)]:
        if value is not None:
            params[key] = value
    if args.quiet:
        params["verbose"] = 0
    if args.resume and args.checkpoint_dir is None:
        raise ValueError("--resume needs --checkpoint-dir")
    domain = DOMAINS.get(args.domain)
    extra = {"resume": True} if args.resume else {}
    if args.masks is not None:
        if "masks" not in inspect.signature(domain.fit).parameters:
            raise ValueError(f"--masks is for image domains; the {args.domain} domain takes no masks.")
        extra["masks"] = args.masks
    if launched() and args.seed is None:  # one seed for every process (the checkpoint's on resume)
        params["random_state"] = ranks().broadcast_object(resolve_seed(None, args.checkpoint_dir, args.resume))
    model = domain.fit(args.data, backbone=args.backbone, params=params, target=args.target, **extra)
    if is_main():
        model.save(args.out)
        print(f"saved {type(model).__name__} to {args.out}")
    return 0
