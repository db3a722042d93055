"""``synthkit backbones``: list the registered generative backbones."""

from synthkit.registry import BACKBONES


def add_parser(sub) -> None:
    p = sub.add_parser("backbones", help="list generative backbones")
    p.set_defaults(run=run)


def run(args) -> int:
    width = max(map(len, BACKBONES))
    for name, description in BACKBONES.describe().items():
        print(f"{name:<{width}}  {description}")
    return 0
