"""AnoGAN scoring of a fitted :class:`~synthkit.backbones.gan.GAN` (see :mod:`synthkit.scoring`).

A GAN has no likelihood. It scores a row by how well its generator can produce it: search the
latent space for the code ``z*`` whose ``G(z*)`` is closest to the row and take minus the
residual ``1/2 |x - G(z*)|^2``, per feature (Schlegl et al. 2017). The critic's output is the
other rule; it is not the default, because a Wasserstein critic is trained only near the data
and extrapolates (about linearly) away from it, so a far outlier can score *high*.

References:
    Schlegl et al., "Unsupervised Anomaly Detection with Generative Adversarial Networks to
    Guide Marker Discovery" (AnoGAN), IPMI 2017.
"""

from __future__ import annotations

import torch

from synthkit.scoring import ScoreRule, common_normal, summed

#: AnoGAN latent search: candidate starts shared by every row, then Adam steps on z
LATENT_STARTS = 16
LATENT_STEPS = 100
LATENT_LR = 0.05


def latent_search(gan, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """The code ``z*`` (n, latent_dim) with ``G(z*)`` closest to each model-space row of ``x``.

    The search starts from the best of ``LATENT_STARTS`` shared candidate codes (common random
    numbers) and takes ``LATENT_STEPS`` Adam steps on ``z`` alone (the networks are not changed,
    nor their ``.grad``). Adam acts on each coordinate separately, so a row's result does not
    depend on its batch.
    """
    n, k = len(x), int(gan.latent_dim)
    starts = common_normal((LATENT_STARTS, k), x)
    fits = torch.stack([((gan.generate(z.expand(n, k), c) - x) ** 2).sum(1) for z in starts])
    z = starts[fits.argmin(0)].clone()
    with torch.enable_grad():
        z.requires_grad_(True)
        opt = torch.optim.Adam([z], lr=LATENT_LR)
        for _ in range(LATENT_STEPS):
            loss = ((gan.generate(z, c) - x) ** 2).sum()
            (grad,) = torch.autograd.grad(loss, z)
            z.grad = grad
            opt.step()
    return z.detach()


def residual_scores(gan, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """Per-feature ``-1/2 (x - G(z*))^2`` after :func:`latent_search` (model space)."""
    return -0.5 * (x - gan.generate(latent_search(gan, x, c), c)) ** 2


def gan_score_rules(gan) -> dict[str, ScoreRule]:
    """``"reconstruction"`` (AnoGAN residual, the default) and ``"critic"`` of a GAN."""

    def residual(X):
        return gan._score_rows(X, lambda x: residual_scores(gan, x))

    def critic(X):
        return gan._score_rows(X, lambda x: gan.modules_["critic"](x, None).reshape(len(x)))

    return {
        "reconstruction": ScoreRule("reconstruction", "minus the residual |x - G(z*)|^2 after a latent search "
                                    "(AnoGAN)", summed(residual), residual, kind="heuristic"),
        "critic": ScoreRule("critic", "the critic's score D(x) (higher = judged more real; unreliable far from "
                            "the data, where a Wasserstein critic extrapolates)", critic, kind="heuristic"),
    }
