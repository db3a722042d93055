"""Persistent Markov chains kept with a model: the replay buffer of an energy-based model's
Langevin chains (Du & Mordatch 2019) and an RBM's persistent Gibbs chains (Tieleman 2008).

The chains are registered buffers, so they are saved, restored and broadcast with the model
(and left alone by weight averaging, which only touches parameters' own modules).

References:
    Du & Mordatch, "Implicit Generation and Generalization in Energy-Based Models",
    NeurIPS 2019.
    Tieleman, "Training Restricted Boltzmann Machines using Approximations to the
    Likelihood Gradient", ICML 2008.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class ReplayBuffer(nn.Module):
    """Persistent Langevin chains (Du & Mordatch 2019) kept as registered buffers.

    ``x`` holds the samples, ``c`` the condition each was last moved under. For class
    labels the rows are grouped by class (contiguous blocks) and stay so, because a chain
    drawn for class ``k`` is written back under class ``k``.
    """

    def __init__(self, size: int, n_features: int, condition_dim: int):
        super().__init__()
        self.register_buffer("x", torch.randn(size, n_features))
        self.register_buffer("c", torch.zeros(size, condition_dim))

    @torch.no_grad()
    def reset_conditions(self, c: torch.Tensor | None, *, classes: bool) -> None:
        """Give every chain a condition drawn from the training conditions ``c``."""
        if c is None:
            return
        size = len(self.x)
        if classes:
            prior = c.float().mean(0).cpu().numpy()
            counts = _allocate(prior, size)
            labels = np.repeat(np.arange(len(prior)), counts)
            self.c.copy_(torch.nn.functional.one_hot(torch.as_tensor(labels), len(prior)).float())
        else:
            self.c.copy_(c[torch.randint(len(c), (size,))].to(self.c.device))

    def draw(self, n: int, c: torch.Tensor | None = None, *, classes: bool = False) -> torch.Tensor:
        """Indices of ``n`` chains; with ``classes``, chains of the class of each one-hot row of ``c``."""
        size = len(self.x)
        if c is None or not classes:
            return torch.randint(size, (n,), device=self.x.device)
        counts = self.c.sum(0).round().long()
        starts = torch.cumsum(counts, 0) - counts
        k = c.argmax(1).to(self.x.device)
        u = torch.rand(n, device=self.x.device)
        return starts[k] + (u * counts[k]).long().clamp_max(counts[k] - 1)

    @torch.no_grad()
    def store(self, idx: torch.Tensor, x: torch.Tensor, c: torch.Tensor | None = None) -> None:
        self.x[idx] = x.detach()
        if c is not None:
            self.c[idx] = c.detach().to(self.c.dtype)


def _allocate(prior: np.ndarray, size: int) -> np.ndarray:
    """Split ``size`` slots among classes in proportion to ``prior``, at least one each."""
    counts = np.maximum(1, np.floor(prior * size).astype(int))
    while counts.sum() > size:
        counts[np.argmax(counts)] -= 1
    counts[np.argmax(prior)] += size - counts.sum()
    return counts
