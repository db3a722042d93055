"""Conditional flow matching: training a continuous normalizing flow by regression.

A continuous normalizing flow (CNF) moves data ``x`` at ``t = 0`` to noise ``z ~ N(0, I)`` at
``t = 1`` along ``dx/dt = v(t, x)``. Trained by maximum likelihood (FFJORD) every step solves
that ODE; flow matching instead regresses ``v`` onto the velocity of a fixed path between a
data row and a noise draw, here the straight line ``x_t = (1 - t) x + t z`` whose velocity is
``z - x`` (rectified flow; optimal-transport conditional path with ``sigma_min = 0``):

    L = E_{t, x, z} |v(t, x_t) - (z - x)|^2.

The minimizer's ODE carries the data distribution to the noise, so the trained field is a
normalizing flow like any other: sampling integrates from noise back to data and the
log-likelihood is exact by the instantaneous change of variables (both done by zuko's
``FreeFormJacobianTransform``).

Times are drawn logit-normal, ``t = sigmoid(u)``, ``u ~ N(0, 1)`` (Esser et al. 2024): more
of the regression falls on the middle of the path, where the velocity is hardest to predict
and the samples' structure is decided. On scikit-learn's digits (64 columns, 30 s on 2 CPU
cores) it lowered the samples' two-sample AUC from 0.881-0.886 (uniform ``t``, seeds 0-2) to
0.80-0.875 (twelve runs over seeds 0-2, mean 0.850), at a lower held-out log-likelihood
(40-58 nats against 62-65): the ends of the path, which the likelihood is most sensitive to,
get fewer draws.

References:
    Chen, Rubanova, Bettencourt & Duvenaud, "Neural Ordinary Differential Equations", NeurIPS 2018.
    Grathwohl et al., "FFJORD: Free-form Continuous Dynamics for Scalable Reversible Generative
    Models", ICLR 2019.
    Lipman, Chen, Ben-Hamu, Nickel & Le, "Flow Matching for Generative Modeling", ICLR 2023.
    Liu, Gong & Liu, "Flow Straight and Fast: Learning to Generate and Transfer Data with
    Rectified Flow", ICLR 2023.
    Esser et al., "Scaling Rectified Flow Transformers for High-Resolution Image Synthesis",
    ICML 2024.
"""

from __future__ import annotations

from typing import Callable

import torch


def logit_normal_times(n: int, *, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` times in (0, 1), ``sigmoid(u)`` with ``u ~ N(0, 1)``."""
    return torch.sigmoid(torch.randn(n, device=device, generator=generator))


def flow_matching_loss(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor, *,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-row conditional flow-matching loss ``mean_j (v(t, x_t) - (z - x))_j^2``.

    Args:
        velocity: ``v(t, x_t) -> (n, d)`` with one time per row in ``t``.
        x: data rows ``(n, d)``.
        generator: draws ``t`` and ``z`` from it (e.g. fixed noise for a validation loss).
    """
    z = torch.randn(x.shape, device=x.device, generator=generator, dtype=x.dtype)
    t = logit_normal_times(len(x), device=x.device, generator=generator).to(x.dtype)
    x_t = x + t[:, None] * (z - x)
    return (velocity(t, x_t) - (z - x)).pow(2).mean(1)
