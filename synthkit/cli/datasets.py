"""``synthkit datasets``: list bundled data sets, or export one to a file."""

from synthkit.datasets import list_datasets, load_dataset
from synthkit.io import write_batches


def add_parser(sub) -> None:
    p = sub.add_parser("datasets", help="list bundled data sets, or export one with its labels in column 'label'")
    p.add_argument("--export", metavar="NAME", help="data set to write out")
    p.add_argument("--out", metavar="FILE", help="output file (.csv, .parquet or .npy)")
    p.add_argument("--seed", type=int, default=0, help="seed for generated data sets")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.export is None:
        described = list_datasets()
        width = max(map(len, described))
        for name, description in described.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.out is None:
        raise ValueError("--export needs --out FILE")
    import pandas as pd

    X, y = load_dataset(args.export, random_state=args.seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(label=y)
    n = write_batches(args.out, [frame])
    print(f"wrote {n} rows of {args.export} to {args.out}")
    return 0
