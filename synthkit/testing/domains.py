"""Conformance checks every domain adapter must pass (:class:`synthkit.adapters.DomainAdapter`).

As :func:`~synthkit.testing.generators.check_generator` does for backbones, the checks run a
domain's whole file-level life on its own bundled example at its ``quick_params`` budget:
split, write and read back, fit, save and load (identical samples for a seed), batched
sampling to a file (rows depend only on the seed and the batch index), evaluation with a
report, and bad inputs refused with a message. The test suite runs them over every
registered domain, one named test per check (:func:`domain_checks`).

Example:
    >>> from synthkit.registry import DOMAINS
    >>> check_domain(DOMAINS.get("array"))  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

#: rows of the example a check fits on at most (the rest of the split is the holdout)
MAX_TRAIN = 400


class DomainCase:
    """One adapter under test, with the files and the fitted model the checks share
    (built on first use, so each named check can run alone)."""

    def __init__(self, adapter, folder=None):
        self.adapter = adapter
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix=f"check-{adapter.name}-"))
        self._model = None
        self._paths = None

    @property
    def paths(self) -> dict[str, Path]:
        if self._paths is None:
            a = self.adapter
            example = a.example()
            test_size = max(0.25, 1 - MAX_TRAIN / max(len(example.data), 1))
            train, holdout = a.split(example.data, test_size=test_size, seed=0, target=example.target)
            self.target, self.n_train = example.target, len(train)
            self._paths = {"train": self.folder / f"train{a.suffix}", "holdout": self.folder / f"holdout{a.suffix}"}
            a.write(train, self._paths["train"])
            a.write(holdout, self._paths["holdout"])
        return self._paths

    @property
    def model(self):
        if self._model is None:
            params = {**self.adapter.quick_params, "random_state": 0, "verbose": 0}
            self._model = self.adapter.fit(str(self.paths["train"]), params=params, target=self.target)
        return self._model


def check_registration(case: DomainCase) -> None:
    """The registry hands out this adapter under its name; extra commands are methods."""
    from synthkit.adapters import DomainAdapter
    from synthkit.registry import DOMAINS

    a = case.adapter
    assert isinstance(a, DomainAdapter), f"{a!r} is not a DomainAdapter"
    assert DOMAINS.get(a.name) is a, f"DOMAINS.get({a.name!r}) is not this adapter"
    assert a.suffix.startswith("."), f"suffix {a.suffix!r} must start with a dot"
    for command in a.commands:
        assert callable(getattr(a, command, None)), f"declared command {command!r} is not a method"


def check_example_and_split(case: DomainCase) -> None:
    """The example is real data; the seeded split is a partition, the same every time."""
    a = case.adapter
    example = a.example()
    n = len(example.data)
    assert n >= 20, f"example() holds {n} items; a demo needs real data"
    train, holdout = a.split(example.data, test_size=0.25, seed=0, target=example.target)
    assert len(train) + len(holdout) == n and len(train) > len(holdout) > 0
    again, _ = a.split(example.data, test_size=0.25, seed=0, target=example.target)
    assert _same(train, again), "split is not reproducible for a seed"


def check_write_read(case: DomainCase) -> None:
    """What ``write`` writes, ``read`` reads back, item for item."""
    a, path = case.adapter, case.paths["train"]
    assert path.exists(), f"write did not create {path}"
    back = a.read(str(path))
    assert len(back) == case.n_train, f"read {len(back)} items back from {path}, wrote {case.n_train}"


def check_fit_save_load(case: DomainCase) -> None:
    """A fitted model saves, and the loaded one draws the same items for a seed."""
    import synthkit

    model = case.model
    folder = case.folder / "model"
    model.save(folder)
    loaded = synthkit.load(folder)
    assert type(loaded) is type(model)
    assert _same(model.sample(6, random_state=3), loaded.sample(6, random_state=3)), \
        "the loaded model samples differently from the saved one"


def check_sample_to_file(case: DomainCase) -> None:
    """Batched sampling writes exactly ``n`` items; rows depend only on (seed, batch index)."""
    a, model = case.adapter, case.model
    out = [case.folder / f"sample{i}{a.suffix}" for i in range(3)]
    assert a.sample(model, out[0], 7, batch_size=3, seed=5) == 7
    assert a.sample(model, out[1], 7, batch_size=3, seed=5) == 7
    assert a.sample(model, out[2], 3, batch_size=3, seed=5) == 3
    first, second, head = (a.read(str(p)) for p in out)
    assert len(first) == 7, f"{out[0]} holds {len(first)} items, 7 were asked for"
    assert _same(first, second), "the same seed and batch size gave different files"
    assert _same(_head(first, 3), head), "batch 0 of a longer draw differs from the same batch drawn alone"


def check_sharded_sample(case: DomainCase) -> None:
    """A sharded draw (:mod:`synthkit.sharding`) writes parts that, read in order, are the
    single-file draw of the same seed and batch size; a second call keeps every part."""
    from synthkit.sharding import sample_shards

    a, model = case.adapter, case.model
    single = case.folder / f"single{a.suffix}"
    a.sample(model, single, 7, batch_size=3, seed=5)
    whole = a.read(str(single))
    out = case.folder / "sharded"
    done = sample_shards(model, out, 7, seed=5, batch_size=3, shard_rows=3)
    assert done["complete"] and done["n_shards"] == 3, f"the sharded draw is incomplete: {done}"
    assert (out / "_manifest.json").exists(), "no manifest.json after every part was written"
    for k, (lo, hi) in enumerate([(0, 3), (3, 6), (6, 7)]):
        part = a.read(str(out / f"part-{k:05d}{a.part_suffix or a.suffix}"))
        assert _same(_rows(whole, lo, hi), part), f"part {k} differs from items {lo}:{hi} of the single-file draw"
    again = sample_shards(model, out, 7, seed=5, batch_size=3, shard_rows=3)
    assert (again["written"], again["kept"]) == (0, 3), f"a repeated call rewrote parts: {again}"


def check_evaluate(case: DomainCase) -> None:
    """``evaluate`` returns scores with a summary and writes the HTML report and its JSON."""
    a = case.adapter
    synthetic = case.folder / f"synthetic{a.suffix}"
    a.sample(case.model, synthetic, 60, seed=0)
    report = case.folder / "report.html"
    results = a.evaluate(str(case.paths["train"]), str(synthetic), holdout=str(case.paths["holdout"]),
                         target=case.target, report=str(report))
    assert isinstance(results, dict) and isinstance(results.get("summary"), dict) and results["summary"]
    assert report.exists() and report.stat().st_size > 0, "no HTML report was written"
    assert report.with_suffix(".json").exists(), "no JSON beside the report"


def check_bad_input(case: DomainCase) -> None:
    """A missing file, an empty file and an unknown parameter are refused with a message
    naming what was wrong."""
    a = case.adapter
    missing = case.folder / f"no-such-file{a.suffix}"
    _refuses(lambda: a.fit(str(missing), params=dict(a.quick_params)), str(missing.name), "fit on a missing file")
    empty = case.folder / f"empty{a.suffix}"
    empty.write_text("")
    _refuses(lambda: a.fit(str(empty), params=dict(a.quick_params)), "empty", "fit on an empty file")
    params = {**a.quick_params, "no_such_parameter": 1}
    _refuses(lambda: a.fit(str(case.paths["train"]), params=params), "no_such_parameter", "an unknown parameter")
    _refuses(lambda: a.evaluate(str(case.paths["train"]), str(missing)), str(missing.name),
             "evaluate with a missing file")


DOMAIN_CHECKS: tuple[Callable, ...] = (
    check_registration,
    check_example_and_split,
    check_write_read,
    check_fit_save_load,
    check_sample_to_file,
    check_sharded_sample,
    check_evaluate,
    check_bad_input,
)


def domain_checks() -> Iterator[Callable]:
    """The domain checks, each a callable taking a :class:`DomainCase`."""
    yield from DOMAIN_CHECKS


def check_domain(adapter, folder=None) -> None:
    """Run every domain check on ``adapter`` (files go to ``folder``, default a temporary
    one); raises on the first failure."""
    case = DomainCase(adapter, folder)
    for check in domain_checks():
        check(case)


def _refuses(call: Callable[[], object], needle: str, what: str) -> None:
    try:
        call()
    except (ValueError, FileNotFoundError) as err:
        assert needle.lower() in str(err).lower(), f"{what}: the message does not name {needle!r}: {err}"
    else:
        raise AssertionError(f"{what} was accepted")


def _head(data, n: int):
    return _rows(data, 0, n)


def _rows(data, lo: int, hi: int):
    return data.iloc[lo:hi] if hasattr(data, "iloc") else data[lo:hi]


def _same(a, b) -> bool:
    """Equal items of any native type (DataFrames, arrays, lists of strings, nested)."""
    if hasattr(a, "equals") and hasattr(a, "iloc"):
        return a.reset_index(drop=True).equals(b.reset_index(drop=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b
