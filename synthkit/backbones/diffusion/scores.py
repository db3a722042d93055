"""Score rules of a fitted :class:`~synthkit.backbones.diffusion.DDPM` (see :mod:`synthkit.scoring`).

``"denoising"`` (the default) is minus the squared error of the denoiser's estimate of ``x_0``
from ``x_t`` at a few fixed noise levels, per feature (Graham et al. 2023); ``"likelihood"`` is
the model's own variational bound, :meth:`DDPM.elbo`. Both draw their noise (and the bound its
time steps) as common random numbers, so a row scores the same alone or in any batch.

References:
    Graham et al., "Denoising diffusion models for out-of-distribution detection", CVPR-W 2023.
    Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020.
"""

from __future__ import annotations

import numpy as np
import torch

from synthkit.scoring import ScoreRule, common_normal, common_uniform, summed

#: fractions of the diffusion horizon at which the denoising error is measured
DENOISING_LEVELS = (0.02, 0.05, 0.1, 0.2, 0.4)
#: shared noise draws per level
DENOISING_DRAWS = 4


def denoising_levels(n_timesteps: int) -> list[int]:
    """The steps of :data:`DENOISING_LEVELS` on a horizon of ``n_timesteps``."""
    T = int(n_timesteps)
    return sorted({min(T - 1, max(1, int(round(f * T)))) for f in DENOISING_LEVELS})


def denoising_scores(model, x0: torch.Tensor) -> torch.Tensor:
    """Per-feature ``-1/2`` the SNR-weighted denoising error, averaged over the levels and the
    shared draws, shape (n, d) (model space).

    Each level's error :meth:`DDPM.denoising_error` is multiplied by its signal-to-noise ratio
    ``abar_t / (1 - abar_t)``, i.e. measured in units of the noise the level adds, so that the
    noisiest level (where any row is reconstructed badly) does not swamp the low-noise ones.
    """
    n, d = x0.shape
    levels = denoising_levels(model.n_timesteps)
    noise = common_normal((len(levels) * DENOISING_DRAWS, 1, d), x0)
    total = torch.zeros_like(x0)
    for i, level in enumerate(levels):
        t = torch.full((n,), level, dtype=torch.long, device=x0.device)
        abar = model.noise_schedule.abar(t[:1]).to(x0.dtype)
        for k in range(DENOISING_DRAWS):
            err = model.denoising_error(x0, t, noise[i * DENOISING_DRAWS + k].expand(n, d))
            total = total + err * (abar / (1 - abar))
    return -0.5 * total / noise.shape[0]


def diffusion_score_rules(model) -> dict[str, ScoreRule]:
    """The two rules of a (fitted or unfitted) DDPM: ``"denoising"`` first, then ``"likelihood"``."""

    def denoising(X):
        return model._score_rows(X, lambda x: denoising_scores(model, x))

    def elbo(x):
        K = int(model.n_score_timesteps)
        noise = common_normal((K + 1, x.shape[1]), x)
        return model.elbo(x, None, K, noise=noise, u=common_uniform((K,), x, seed=1))

    def likelihood(X):
        return model._score_rows(X, elbo) - np.log(model.scale_).sum()

    return {
        "denoising": ScoreRule("denoising", "minus the SNR-weighted denoising error at noise levels 2-40% of "
                               "the horizon (common random numbers)", summed(denoising), denoising,
                               kind="heuristic"),
        "likelihood": ScoreRule("likelihood", "the variational lower bound DDPM.elbo (common random numbers); "
                                "per-feature map = denoising error", likelihood, denoising, kind="lower_bound"),
    }
