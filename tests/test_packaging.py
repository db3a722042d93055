"""Packaging: every package in the tree is listed in pyproject, the core never imports a
domain, and every package imports only packages of lower layers."""

import ast
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: The layers of synthkit, lowest first. A module may import its own package and the
#: packages of strictly lower layers; packages that share a layer are independent of each
#: other. Units are the top-level names under ``synthkit`` (``"synthkit"`` is the package's
#: own ``__init__``, which re-exports ``Generator``, ``load`` and ``make_generator``;
#: ``"version"`` is ``synthkit.__version__``, a constant importable from anywhere) and one
#: unit per domain. Registry entries are import-path *strings* loaded on use (that is how
#: the registry names backbones, the CLI's array domain and the domains without importing
#: them), so they are deliberately not import statements and not checked here.
LAYERS = (
    ("version", "validation"),  # leaves without synthkit imports: the version, scalar parameter checks
    ("nn", "io", "datasets", "sampling", "scoring", "memmap"),  # leaves: networks, files, bundled data, rejection
    # loop, ScoreRule, chunked statistics of memory-mapped rows
    ("training", "rows", "conditions", "reporting"),  # the training loop; the generator's row and condition
    # contracts; the HTML report scaffolding (over io's atomic writes)
    ("persistence",),  # save/load of generators; classes are found by import path at load time
    ("base",),  # the Generator base class: trains through training, saves through persistence
    ("backbones",),  # the generative families, built from base, nn and training
    ("registry",),  # names backbones and domains; make_generator
    ("adapters", "synthesizer"),  # the domain contracts: DomainAdapter, the Synthesizer base
    ("synthkit",),  # the package root: re-exports from base, persistence and registry
    ("metrics", "privacy"),  # evaluation of real/synthetic pairs (incl. DCR, MIA); DP-SGD training
    ("anomaly", "augment", "sharding"),  # jobs built on any backbone / any saved model
    ("cli", "testing"),  # entry points: the `synthkit` command, the conformance suite
    ("domains",),  # synthkit.domains.*: above the whole core; one unit per domain
)

#: Imports that break the layer order on purpose: (file, imported module) -> reason.
ALLOWED = {
    ("synthkit/privacy/__init__.py", "synthkit.metrics"):
        "deprecated aliases synthkit.privacy.dcr / exact_copy_rate / membership_inference, imported "
        "lazily on first use (no import cycle); delete with the aliases.",
}

HOW_TO_FIX = (
    "Each package may import only itself and packages of strictly lower layers (LAYERS in "
    "tests/test_packaging.py); packages in one layer are independent. To fix: move what the lower "
    "package needs down into it (or into a package below both) and import it from there; if the "
    "dependency is meant and points this way for good, reorder LAYERS and say why in the commit; a "
    "deliberate exception goes in ALLOWED with its reason."
)


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "domains":
        parts.insert(0, "synthkit")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files():
    for top in ("synthkit", "domains"):
        yield from sorted((ROOT / top).rglob("*.py"))


def imports(source: str, name: str, is_package: bool = False):
    """``(line, imported module, statement)`` of every synthkit import in the source of module
    ``name``, at any depth (also inside functions); relative imports are resolved and
    ``from package import name`` counts as importing ``package.name``."""
    package = name if is_package else name.rpartition(".")[0]
    for node in sorted(ast.walk(ast.parse(source)), key=lambda n: getattr(n, "lineno", 0)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            if target == "synthkit" or target.startswith("synthkit."):
                yield node.lineno, target, ast.unparse(node)


def unit(module: str) -> str:
    """The layer unit of a dotted synthkit name (a module, or a module's attribute)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "synthkit"
    if parts[1] == "__version__":
        return "version"
    if parts[1] == "domains":
        return "domains" if len(parts) == 2 else f"domains.{parts[2]}"
    if (ROOT / "synthkit" / f"{parts[1]}.py").exists() or (ROOT / "synthkit" / parts[1]).is_dir():
        return parts[1]
    return "synthkit"  # a name re-exported by the package root, e.g. `from synthkit import load`


def layer(u: str) -> int:
    for i, units in enumerate(LAYERS):
        if u in units or (u.startswith("domains.") and "domains" in units):
            return i
    raise AssertionError(f"synthkit.{u} is in no layer: place it in LAYERS in tests/test_packaging.py.")


def edges():
    """``(file, line, importer unit, imported unit, imported module, statement)`` across units."""
    for path in source_files():
        rel = path.relative_to(ROOT).as_posix()
        src = unit(module_name(path))
        for line, target, statement in imports(path.read_text(), module_name(path), path.name == "__init__.py"):
            dst = unit(target)
            if dst != src:
                yield rel, line, src, dst, target, statement


def covers(entry, rel: str, target: str) -> bool:
    """Whether the ALLOWED ``entry`` (file, module) covers importing ``target`` in ``rel``."""
    file, module = entry
    return rel == file and (target == module or target.startswith(module + "."))


def shown(u: str) -> str:
    """``synthkit.<unit>`` with its layer, e.g. ``synthkit.io (layer 1: nn, io, datasets)``."""
    name = {"synthkit": "synthkit (the package root)", "version": "synthkit.__version__"}.get(u, f"synthkit.{u}")
    return f"{name} (layer {layer(u)}: {', '.join(LAYERS[layer(u)])})"


def is_domain(u: str) -> bool:
    return u == "domains" or u.startswith("domains.")


def test_pyproject_lists_every_package():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in (("synthkit", "synthkit"), ("domains", "synthkit.domains")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *rel.parts]))
    assert found == listed


def test_core_never_imports_a_domain():
    offenders = [f"{rel}:{line}: `{statement}`" for rel, line, src, dst, _, statement in edges()
                 if is_domain(dst) and not is_domain(src)]
    assert not offenders, (
        "the core imports a domain:\n  " + "\n  ".join(offenders)
        + "\nThe core never imports synthkit.domains: name the domain's module as a string in "
        "synthkit.registry (loaded on use), or move the code into the domain."
    )


def test_every_import_points_down_the_layers():
    offenders = []
    for rel, line, src, dst, target, statement in edges():
        if (is_domain(dst) and not is_domain(src)) or any(covers(e, rel, target) for e in ALLOWED):
            continue  # the core importing a domain is the test above
        if layer(dst) >= layer(src):
            offenders.append(f"{rel}:{line}: `{statement}`: {shown(src)} imports {shown(dst)}")
    assert not offenders, "imports against the layer order:\n  " + "\n  ".join(offenders) + "\n" + HOW_TO_FIX


def test_allowed_exceptions_are_still_needed():
    present = [(rel, target) for rel, _, _, _, target, _ in edges()]
    stale = [f"{file}: {module}" for file, module in ALLOWED
             if not any(covers((file, module), rel, target) for rel, target in present)]
    assert not stale, "ALLOWED in tests/test_packaging.py lists imports that are gone; delete: " + ", ".join(stale)


def test_the_check_sees_lazy_and_relative_imports():
    source = "def f():\n    from synthkit.cli import main\n    from ..anomaly import detector\n"
    found = [(line, target) for line, target, _ in imports(source, "synthkit.metrics.fake")]
    assert found == [(2, "synthkit.cli.main"), (3, "synthkit.anomaly.detector")]
    assert [unit(t) for _, t in found] == ["cli", "anomaly"]
    assert unit("synthkit.__version__") == "version" and unit("synthkit.load") == "synthkit"
    assert unit("synthkit.domains.tabular.io") == "domains.tabular" and layer("domains.tabular") == len(LAYERS) - 1
