"""Per-column mixtures: Gaussian densities, discretized logistic masses, and a 1-D EM
(for initialization).

References:
    Salimans, Karpathy, Chen & Kingma, "PixelCNN++: Improving the PixelCNN with
    Discretized Logistic Mixture Likelihood and Other Modifications", ICLR 2017.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

LOG_2PI = math.log(2 * math.pi)


def mog_log_prob(x: torch.Tensor, log_w: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Log-density of ``x`` (n, d) under per-entry Gaussian mixtures (n, d, K)."""
    z = (x[..., None] - mu) / sigma
    return torch.logsumexp(log_w - 0.5 * z**2 - sigma.log() - 0.5 * LOG_2PI, dim=-1)


def discretized_logistic_log_prob(lo, hi, log_w, mu, scale) -> torch.Tensor:
    """``log sum_k w_k [S((hi - mu_k) / s_k) - S((lo - mu_k) / s_k)]`` with ``S`` the logistic
    sigmoid: the mass a mixture of logistics puts on ``[lo, hi)``; ``lo, hi`` (n, d, 1).

    Uses ``S(b) - S(a) = S(-a) S(b) (1 - e^(a - b))``, which is accurate in both tails.
    """
    a, b = (lo - mu) / scale, (hi - mu) / scale
    log_mass = F.logsigmoid(-a) + F.logsigmoid(b) + torch.log(-torch.expm1((a - b).clamp(max=-1e-6)))
    return torch.logsumexp(log_w + log_mass, dim=-1)


def logistic_sample(mu: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Draws from logistic distributions (inverse CDF of a uniform)."""
    u = torch.rand_like(mu).clamp(1e-6, 1 - 1e-6)
    return mu + scale * (torch.log(u) - torch.log1p(-u))


def snap_to_values(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each entry of ``x`` replaced by the nearest element of the sorted array ``values``."""
    if len(values) == 1:
        return np.full_like(x, values[0])
    hi = np.clip(np.searchsorted(values, x), 1, len(values) - 1)
    lo = hi - 1
    return np.where(values[hi] - x < x - values[lo], values[hi], values[lo])


def marginal_mixtures(X: torch.Tensor, K: int, floor: float, n_iter: int):
    """EM for a ``K``-component 1-D Gaussian mixture on every column of ``X`` at once.

    Returns log-weights, means and standard deviations, each of shape (n_columns, K);
    standard deviations stay at or above ``floor``.
    """
    # Start the means at quantiles of each column's distinct values, so that few-valued
    # columns begin with components on different values (from equal means EM never splits).
    q = (torch.arange(K, dtype=X.dtype) + 0.5) / K
    mu = torch.stack([torch.quantile(torch.unique(col), q) for col in X.T])  # (d, K)
    sigma = (X.std(0, keepdim=True).T / K).clamp(min=floor).expand(-1, K).contiguous()
    log_w = torch.full_like(mu, -math.log(K))
    x = X.T[:, :, None]  # (d, n, 1)
    for _ in range(n_iter):
        log_r = log_w[:, None] - 0.5 * ((x - mu[:, None]) / sigma[:, None]) ** 2 - sigma[:, None].log()
        r = torch.softmax(log_r, dim=-1)  # (d, n, K)
        nk = r.sum(1) + 1e-10
        mu = (r * x).sum(1) / nk
        sigma = ((r * (x - mu[:, None]) ** 2).sum(1) / nk).sqrt().clamp(min=floor)
        log_w = (nk / nk.sum(1, keepdim=True)).log()
    return log_w, mu, sigma
