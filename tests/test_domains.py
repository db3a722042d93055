"""The domain-adapter conformance suite over every registered domain, and every domain
through every command the CLI lists (issue 21)."""

import pytest

from synthkit.registry import DOMAINS
from synthkit.testing.domains import DOMAIN_CHECKS, DomainCase

_CASES: dict[str, DomainCase] = {}


def _case(name, tmp_path_factory) -> DomainCase:
    if name not in _CASES:
        try:
            adapter = DOMAINS.get(name)
        except ImportError as err:
            pytest.skip(f"domain {name} needs its extra: {err}")
        _CASES[name] = DomainCase(adapter, tmp_path_factory.mktemp(f"domain-{name}"))
    return _CASES[name]


@pytest.mark.parametrize("check", DOMAIN_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", list(DOMAINS))
def test_domain_conformance(name, check, tmp_path_factory):
    check(_case(name, tmp_path_factory))


@pytest.mark.parametrize("name", list(DOMAINS))
def test_every_domain_through_every_command(name, tmp_path, capsys):
    """``demo``, then ``fit``, ``sample`` and ``evaluate`` on the demo's files, and every
    extra command the domain declares: each exits 0 through ``synthkit.cli.main``."""
    from synthkit.cli import main

    try:
        adapter = DOMAINS.get(name)
    except ImportError as err:
        pytest.skip(f"domain {name} needs its extra: {err}")
    demo = tmp_path / "demo"
    assert main(["demo", "--domain", name, "--out", str(demo), "--max-time", "2", "-n", "40", "--quiet"]) == 0
    assert (demo / "report.html").exists() and (demo / "model").is_dir()
    train, holdout = (str(demo / f"{part}{adapter.suffix}") for part in ("train", "holdout"))
    model = tmp_path / "model"
    quick = [f"{k}={v}" for k, v in adapter.quick_params.items()]
    target = adapter.example().target
    assert main(["fit", name, train, "--out", str(model), "--quiet", "--seed", "0",
                 *[a for q in quick for a in ("--param", q)], *(["--target", target] if target else [])]) == 0
    synthetic = tmp_path / f"synthetic{adapter.suffix}"
    assert main(["sample", str(model), "-n", "40", "--out", str(synthetic), "--batch-size", "16", "--quiet"]) == 0
    assert len(adapter.read(str(synthetic))) == 40
    report = tmp_path / "report.html"
    assert main(["evaluate", "--domain", name, train, str(synthetic), "--holdout", holdout, "--report", str(report),
                 *(["--target", target] if target else [])]) == 0
    assert report.exists()
    if "design" in adapter.commands:
        best = tmp_path / "best.csv"
        assert main(["design", str(model), "--objective", "qed", "--budget", "16", "--batch-size", "8",
                     "--out", str(best), "--seed", "0", "--quiet"]) == 0
        assert best.exists()
    capsys.readouterr()
