"""``Synthesizer``: the base of every domain synthesizer (tables, molecules, images, audio).

A domain synthesizer composes a codec (raw domain data to rows of numbers and back) with a
core backbone. What is the same for every domain lives here, once:

- the parameters ``backbone`` (a registered name or an unfitted :class:`synthkit.Generator`,
  cloned at fit as scikit-learn meta-estimators clone ``estimator=``), ``backbone_params``,
  ``random_state`` and ``verbose``;
- the fit's seed (:meth:`_fit_seed`), drawn once, handed to the backbone and read back from
  the backbone's checkpoint on resume, so an unseeded fit resumes on identical rows;
- building the backbone (:func:`synthkit.registry.make_backbone`);
- ``save`` and ``sample_to_file``: batch ``i`` is drawn from seed child ``i`` of the call's
  seed (``SeedSequence(seed, spawn_key=(i,))``), so rows depend only on (seed, batch index)
  and any range of batches can be drawn on another machine and give the same rows.

A subclass implements ``fit`` (encode, then fit the backbone), ``sample(n, random_state=...)``
(draw, decode, accept: see :func:`synthkit.sampling.draw_until`) and ``_write_samples``.
Its ``__init__`` lists every parameter explicitly, as scikit-learn requires.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from synthkit.training.checkpoint import resolve_seed
from synthkit.training.runtime import seed_from
from synthkit.validation import check_count

#: the attribute every fitted synthesizer has (``check_is_fitted``)
FITTED = "fit_seed_"


class Synthesizer(BaseEstimator):
    """Base class of domain synthesizers (scikit-learn estimator contract).

    Class attributes:
        domain: the registered domain name (``synthkit.registry.DOMAINS``) whose adapter
            reads, writes and evaluates this synthesizer's data.
        backbone_attribute: the fitted attribute holding the backbone.
    """

    domain: ClassVar[str]
    backbone_attribute: ClassVar[str] = "backbone_"

    # ------------------------------------------------------------------ fit helpers
    def _fit_seed(self, resume: bool = False) -> int:
        """Resolve and record ``fit_seed_``: ``random_state``, else the backbone's own
        ``random_state``, else (on resume) the seed recorded in its checkpoint, else a
        fresh draw. Call first in ``fit``, before anything random."""
        params = self.backbone_params if isinstance(self.backbone_params, dict) else {}
        own = self.random_state if self.random_state is not None else params.get("random_state")
        if own is None and not isinstance(self.backbone, str):
            own = getattr(self.backbone, "random_state", None)
        directory = params.get("checkpoint_dir", getattr(self.backbone, "checkpoint_dir", None))
        self.fit_seed_ = resolve_seed(own, directory, resume)
        return self.fit_seed_

    def _make_backbone(self, *, defaults: dict | None = None, per_backbone: dict | None = None):
        """The unfitted backbone: ``backbone`` with ``backbone_params``, this fit's seed and
        ``verbose`` (and ``defaults`` / ``per_backbone`` unless the user set them)."""
        from synthkit.registry import make_backbone

        base = {"random_state": getattr(self, "fit_seed_", seed_from(self.random_state)), "verbose": self.verbose}
        return make_backbone(self.backbone, self.backbone_params, defaults={**(defaults or {}), **base},
                             per_backbone=per_backbone)

    @property
    def backbone_name_(self) -> str | None:
        """The registered name of the backbone (``None`` for an unregistered Generator class)."""
        from synthkit.registry import backbone_name

        return backbone_name(self.backbone)

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, *, random_state=None):
        """Draw ``n`` items in the domain's native type."""
        raise NotImplementedError

    def _sample_batch(self, n: int, seed: int, start: int, **options):
        """Batch of ``n`` items from ``seed``; ``start`` is its first row's index in the file
        (domains that number rows, e.g. identifier columns, use it); ``options`` are the
        domain's ``sample`` options (e.g. conditions). Default: ``sample``."""
        return self.sample(n, random_state=seed, **options)

    def _write_samples(self, path, batches, *, total: int, progress: bool) -> int:
        """Write the batches (an iterator) to ``path`` atomically; returns the count."""
        raise NotImplementedError

    def sample_to_file(self, path, n: int, *, batch_size: int = 10_000, random_state=None,
                       progress: bool = False, first_batch: int = 0, **options) -> int:
        """Generate ``n`` items in batches of ``batch_size`` straight to the file ``path``.

        Memory stays bounded by one batch and the file appears (atomically) only when
        complete. Batch ``i`` is drawn from ``SeedSequence(seed, spawn_key=(i,))`` only
        (``seed``: ``random_state``, default the synthesizer's), so the same seed and batch
        size give the same file, and batches can be drawn apart (sharded) and concatenated.
        ``options`` go to every batch (a domain's ``sample`` options). With ``first_batch=k``
        the file holds batches ``k, k+1, ...`` of the call's draw (rows from
        ``k * batch_size``), which is how :mod:`synthkit.sharding` writes one part of a
        larger draw. Returns the number written.
        """
        check_is_fitted(self, FITTED)
        n = check_count("n", n, 0)
        batch_size = check_count("batch_size", batch_size)
        seed = self.random_state if random_state is None else random_state
        first_batch = check_count("first_batch", first_batch, 0)
        batches = (self._sample_batch(m, batch_seed, start, **options)
                   for start, m, batch_seed in batch_seeds(n, batch_size, seed, first_batch=first_batch))
        return self._write_samples(path, batches, total=n, progress=progress)

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the fitted synthesizer to the folder ``path`` (load with ``synthkit.load``)."""
        from synthkit.persistence import save

        check_is_fitted(self, FITTED)
        return save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def batch_seed_sequence(random_state) -> np.random.SeedSequence:
    """The root ``SeedSequence`` of a batched draw (fresh entropy when unseeded; a
    ``SeedSequence`` is taken as it is)."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    return np.random.SeedSequence(seed_from(random_state))


def batch_seeds(n: int, batch_size: int, random_state, *, first_batch: int = 0):
    """``(start, size, seed)`` of each batch of an ``n``-item draw: batch ``i``'s integer seed
    comes from ``SeedSequence(root, spawn_key=(i,))`` only, so any batch can be drawn alone.

    With ``first_batch=k`` the draw is batches ``k, k+1, ...`` of a larger one (``start``
    counts from ``k * batch_size``). Seeds are 63-bit, so a draw of millions of batches has no
    two alike (among 77,000 batches, 32-bit seeds repeat one, rows and all, with odds 1/2).
    """
    root = batch_seed_sequence(random_state)
    for j, local in enumerate(range(0, n, batch_size)):
        i = first_batch + j
        child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i))
        yield i * batch_size, min(batch_size, n - local), int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
