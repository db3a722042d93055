"""Score rules: how a fitted generator scores rows (higher = more typical), one public template.

Every :class:`synthkit.Generator` declares its rules with ``score_rules() -> dict[str,
ScoreRule]`` (the default first). A rule is a deterministic function of each row: it
takes raw rows ``X`` (the user's data space, as ``fit`` saw them) and returns one score per
row, and, where the family decomposes over features, a per-feature map of shape (n, d)
(higher = more typical). Rules built on a stochastic bound use *common random numbers*: one
fixed set of noise draws (:func:`common_normal`) shared by every row, so a row scores the same
alone or in any batch. :class:`synthkit.anomaly.GenerativeDetector` reads only this hook;
``synthkit.testing.check_score_rules`` checks that an implementation keeps these promises.

The base class gives every generator with a ``likelihood`` a ``"likelihood"`` rule (its
per-row log-likelihood in float64); families add or replace rules in ``score_rules``.

Example:
    >>> import numpy as np
    >>> from synthkit.backbones.vae import VAE
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> vae = VAE(hidden_dims=(8,), max_epochs=1, verbose=0, random_state=0).fit(X)
    >>> rule = vae.score_rules()["likelihood"]
    >>> rule.kind, rule.score(X[:3]).shape, rule.feature_scores(X[:3]).shape
    ('lower_bound', (3,), (3, 2))
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

#: what a rule's number is: an exact log-likelihood, a lower bound on it, a log-density up to
#: a constant, or a score with no density meaning (reconstruction error, a critic's output)
SCORE_KINDS = ("exact", "lower_bound", "unnormalized", "heuristic")
#: seed of the common random numbers shared by all rows
CRN_SEED = 0
#: rows per chunk when a rule evaluates the networks (bounds the memory of k draws x rows)
SCORE_CHUNK = 1024


@dataclass(frozen=True)
class ScoreRule:
    """A named way to score rows with a fitted generator (higher = more typical).

    Attributes:
        name: the rule's name (``GenerativeDetector(score_rule=name)``).
        description: one line for error messages and docs.
        score: ``f(X) -> ndarray (n,)`` on raw rows ``X`` (float64).
        feature_scores: ``f(X) -> ndarray (n, d)`` per-feature contributions, or ``None``
            when the family gives no such decomposition.
        kind: one of :data:`SCORE_KINDS`.
    """

    name: str
    description: str
    score: Callable[..., np.ndarray]
    feature_scores: Callable[..., np.ndarray] | None = None
    kind: str = "heuristic"

    def __post_init__(self):
        if self.kind not in SCORE_KINDS:
            raise ValueError(f"ScoreRule kind must be one of {SCORE_KINDS}, got {self.kind!r}.")


def summed(feature_scores: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A row score that is the sum of a per-feature map."""
    return lambda X: feature_scores(X).sum(1)


def common_normal(shape, like: torch.Tensor, seed: int = CRN_SEED) -> torch.Tensor:
    """Standard normal draws from a fixed seed, the same at every call (common random numbers),
    with ``like``'s dtype and device. Give them a leading axis of size 1 over rows so every row
    of a batch sees the same draws."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(like.device, like.dtype)


def common_uniform(shape, like: torch.Tensor, seed: int = CRN_SEED) -> torch.Tensor:
    """Uniform draws on [0, 1) from a fixed seed (see :func:`common_normal`)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64).to(like.device, like.dtype)


@contextmanager
def float64(modules: torch.nn.Module):
    """Run ``modules`` in float64 for the duration, then give every parameter and buffer back
    its own dtype (a float64 buffer stays float64, a float32 one float32).

    In float32 a row's score changes in the 7th digit with the number of rows in the batch
    (matrix-multiply kernels sum in a different order); in float64 it does not, so a row
    scores the same alone or in any batch.
    """
    params, buffers = [], []
    for module in modules.modules():
        params += [(p, p.dtype) for p in module.parameters(recurse=False) if p.is_floating_point()]
        buffers += [(module, name, b.dtype) for name, b in module.named_buffers(recurse=False)
                    if b is not None and b.is_floating_point()]
    modules.double()
    try:
        yield modules
    finally:
        for p, dtype in params:
            p.data = p.data.to(dtype)
        for module, name, dtype in buffers:
            setattr(module, name, getattr(module, name).to(dtype))
