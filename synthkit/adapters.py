"""The domain-adapter contract: what every domain the ``synthkit`` command serves implements.

A domain (tables, molecules, images, audio, plain arrays) is one :class:`DomainAdapter`
instance registered in :data:`synthkit.registry.DOMAINS`. The CLI's subcommands call only
these methods, so a new domain gets ``fit``, ``sample``, ``evaluate`` and ``demo`` by
implementing them, and :func:`synthkit.testing.check_domain` checks that it does. Extra
subcommands a domain serves (molecules' ``design``) are *declared* in ``commands``, never
discovered.

The adapter is the file-level face of a domain (paths in, a fitted model out); the
estimator a Python user fits is the domain's :class:`synthkit.synthesizer.Synthesizer`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Example:
    """A domain's bundled demo data: ``data`` in the domain's native type (a DataFrame, a
    list of SMILES, an array) and the column / field to condition on, if any."""

    data: Any
    target: str | None = None


class DomainAdapter(ABC):
    """One domain as the command line and the conformance suite see it.

    Class attributes:
        name: the registered name (``synthkit fit NAME ...``).
        suffix: the file type ``write`` produces for this domain's data (``".csv"``).
        part_suffix: the file type of each part of a sharded draw (:mod:`synthkit.sharding`);
            default ``suffix``.
        commands: extra subcommands this domain serves, e.g. ``("design",)``; each is a
            method of the same name.
        quick_params: fit parameters small enough for a conformance check in seconds.
    """

    name: ClassVar[str]
    suffix: ClassVar[str]
    part_suffix: ClassVar[str | None] = None
    commands: ClassVar[tuple[str, ...]] = ()
    quick_params: ClassVar[dict] = {"max_epochs": 1}

    # ------------------------------------------------------------------ data
    @abstractmethod
    def read(self, path: str):
        """The data in the file ``path`` (or a bundled set's name), in the native type."""

    @abstractmethod
    def write(self, data, path) -> None:
        """Write ``data`` (native type) to ``path`` atomically, readable by :meth:`read`."""

    @abstractmethod
    def example(self) -> Example:
        """Bundled real data for ``synthkit demo`` (shipped or generated, never downloaded)."""

    def split(self, data, test_size: float = 0.25, seed: int = 0, *, target: str | None = None):
        """``(train, holdout)``: a seeded random split, stratified by ``target`` when given.

        Lists, arrays and DataFrames are supported; override for data whose rows are not
        independent (several slices of one patient, several clips of one speaker).
        """
        from sklearn.model_selection import train_test_split

        strata = None
        if target is not None:
            strata = data[target] if hasattr(data, "columns") else None
        return tuple(train_test_split(data, test_size=test_size, random_state=seed, stratify=strata))

    # ------------------------------------------------------------------ jobs
    @abstractmethod
    def fit(self, data: str, *, backbone=None, params: dict | None = None, target: str | None = None,
            resume: bool = False):
        """Read ``data`` (a path or a bundled set), fit the domain's model and return it unsaved.

        ``params`` holds backbone parameters (``max_time``, ``--param`` values) and the
        synthesizer's own keys; ``resume`` continues from the backbone's ``checkpoint_dir``.
        """

    def sample(self, model, path, n: int, *, batch_size: int = 10_000, seed=None, label=None,
               progress: bool = False, first_batch: int = 0) -> int:
        """Write ``n`` draws of a fitted ``model`` to ``path`` in batches; returns the count.

        Batch ``i`` comes from seed child ``i`` only; with ``first_batch=k`` the file holds
        batches ``k, k+1, ...`` of the draw (one part of a sharded draw). ``batch_size`` is
        used as :meth:`sample_batch_size` makes it. The default serves every
        :class:`~synthkit.synthesizer.Synthesizer` through its ``sample_to_file``.
        """
        if label is not None:
            raise ValueError(f"--label is for core generators; a {type(model).__name__} takes conditions in Python.")
        return model.sample_to_file(path, n, batch_size=self.sample_batch_size(model, batch_size), random_state=seed,
                                    progress=progress, first_batch=first_batch)

    def sample_batch_size(self, model, batch_size: int) -> int:
        """The batch size :meth:`sample` really uses when asked for ``batch_size`` (a domain
        may cap it to bound memory); sharded draws align their parts to it."""
        return int(batch_size)

    @abstractmethod
    def evaluate(self, real: str, synthetic: str, *, holdout: str | None = None, target: str | None = None,
                 reference: str | None = None, report: str | None = None) -> dict:
        """Scores of ``synthetic`` against ``real`` (and ``holdout``); with ``report``, an HTML
        report with plots and a ``.json`` beside it. The dict has a ``"summary"`` of headline
        numbers."""

    # ------------------------------------------------------------------ extra commands
    def command(self, name: str):
        """The method serving the extra subcommand ``name``, if this domain declares it."""
        if name not in self.commands:
            raise ValueError(f"domain {self.name!r} has no {name!r} command.")
        return getattr(self, name)


def domains_with(command: str) -> list[str]:
    """Registered domains that declare the extra subcommand ``command`` (loads each)."""
    from synthkit.registry import DOMAINS

    out = []
    for name in DOMAINS:
        try:
            if command in DOMAINS.get(name).commands:
                out.append(name)
        except ImportError:  # a domain whose extra is not installed
            continue
    return out
