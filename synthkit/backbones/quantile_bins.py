"""Quantile bins: continuous columns as categories, and back, with an exact density.

A softmax (multinomial) visible unit models a category; to give one to a continuous column,
the column is cut at its training quantiles into at most ``n_bins`` bins of equal training
mass. The model's categorical distribution over the bins becomes a density on the real line
by spreading each bin's mass over the bin: uniformly inside the interior bins, and as an
exponential tail beyond the outermost cuts (its mean the training rows' mean distance past
the cut), so every real value has a finite density and a row far outside the training range
scores low instead of ``-inf``:

    log p(x) = log P(bin(x)) + log q(x | bin(x)),
    q = 1 / width (interior bins),  q = λ exp(-λ d) (tails, ``d`` the distance past the cut).

Sampling draws the bin from the model and ``x`` from ``q``. This is the dequantization of
discrete models of continuous data (Theis, van den Oord & Bethge 2016), with bins at the
quantiles as in histogram-based synthesizers of tabular data.

References:
    Salakhutdinov, Mnih & Hinton, "Restricted Boltzmann Machines for Collaborative
    Filtering", ICML 2007 (softmax visible units).
    Theis, van den Oord & Bethge, "A Note on the Evaluation of Generative Models", ICLR 2016.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def fit_quantile_bins(X: np.ndarray, n_bins: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Cuts and tail rates of every column of ``X``.

    Returns:
        ``cuts``: per column the sorted distinct inner cut points (the ``k / n_bins``
        quantiles, ``k = 1 .. n_bins - 1``; ties merge bins, so a column has
        ``len(cuts) + 1 <= n_bins`` bins, the first and last of them tails);
        ``rates``: array (columns, 2), the exponential rates of the lower and upper tail.
    """
    probs = np.arange(1, n_bins) / n_bins
    cuts, rates = [], []
    for x in np.asarray(X, dtype=np.float64).T:
        c = np.unique(np.quantile(x, probs))
        spread = float(np.std(x)) or 1.0
        # Mean distance past the outer cuts; a tail no training row reached gets the
        # column's spread over the bin count (its bin has ~no mass anyway).
        below, above = c[0] - x[x < c[0]], x[x >= c[-1]] - c[-1]
        fallback = spread / n_bins
        mean_below = below.mean() if below.size else fallback
        mean_above = above.mean() if above.size else fallback
        floor = 1e-6 * spread  # a tail of rows all at the cut is a point mass; keep it finite
        rates.append([1.0 / max(mean_below, floor), 1.0 / max(mean_above, floor)])
        cuts.append(c)
    return cuts, np.asarray(rates, dtype=np.float64)


class QuantileBins(nn.Module):
    """Vectorized encode / decode / log-density of fitted quantile bins (torch, batched).

    Args:
        cuts: per column the inner cut points (from :func:`fit_quantile_bins`).
        rates: (columns, 2) exponential rates of the lower and upper tails.

    Example:
        >>> X = np.random.default_rng(0).normal(size=(1000, 2))
        >>> bins = QuantileBins(*fit_quantile_bins(X, 8))
        >>> codes = bins.encode(torch.as_tensor(X, dtype=torch.float32))
        >>> bins.n_bins.tolist(), int(codes.max())
        ([8, 8], 7)
        >>> bins.decode(codes).shape
        torch.Size([1000, 2])
    """

    def __init__(self, cuts: list[np.ndarray], rates: np.ndarray):
        super().__init__()
        width = max(len(c) for c in cuts) if cuts else 1
        padded = np.full((len(cuts), width), np.inf)
        for j, c in enumerate(cuts):
            padded[j, : len(c)] = c
        self.register_buffer("cuts", torch.as_tensor(padded, dtype=torch.float32))
        self.register_buffer("n_bins", torch.as_tensor([len(c) + 1 for c in cuts], dtype=torch.long))
        self.register_buffer("rates", torch.as_tensor(np.asarray(rates).reshape(-1, 2), dtype=torch.float32))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Bin index of every value: ``x`` (rows, columns) -> long (rows, columns)."""
        return torch.searchsorted(self.cuts, x.T.contiguous(), right=True).T

    def _edges(self, codes: torch.Tensor):
        """Lower and upper cut of each value's bin (``lo`` of the lower tail and ``hi`` of
        the upper tail are the cut the tail hangs from)."""
        j = torch.arange(self.cuts.shape[0], device=codes.device)
        last = self.n_bins - 2  # index of the upper tail's cut
        lo = self.cuts[j, (codes - 1).clamp(min=0).minimum(last)]
        hi = self.cuts[j, codes.minimum(last)]
        return lo, hi

    def log_density(self, x: torch.Tensor, codes: torch.Tensor | None = None) -> torch.Tensor:
        """``Σ_j log q(x_j | bin)`` per row: the density inside the bins (not their mass)."""
        return self.log_densities(x, codes).sum(-1)

    def log_densities(self, x: torch.Tensor, codes: torch.Tensor | None = None) -> torch.Tensor:
        """``log q(x_j | bin)`` of every value, (rows, columns)."""
        codes = self.encode(x) if codes is None else codes
        lo, hi = self._edges(codes)
        lower, upper = codes == 0, codes == self.n_bins - 1
        interior = -torch.log((hi - lo).clamp_min(1e-30))
        tail_rate = torch.where(lower, self.rates[:, 0], self.rates[:, 1])
        tail = torch.log(tail_rate) - tail_rate * torch.where(lower, hi - x, x - lo)
        return torch.where(lower | upper, tail, interior)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """A draw of ``x`` from ``q(x | bin)`` for every code (uses torch's global generator)."""
        lo, hi = self._edges(codes)
        u = torch.rand(codes.shape, device=codes.device)
        lower, upper = codes == 0, codes == self.n_bins - 1
        exp = -torch.log1p(-u)  # standard exponential draws
        x = lo + u * (hi - lo)
        x = torch.where(lower, hi - exp / self.rates[:, 0], x)
        return torch.where(upper, lo + exp / self.rates[:, 1], x)
