"""Gaussian noise schedules and the closed-form algebra of the forward process.

The forward process ``q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)`` is fixed by the
cumulative products ``abar_t`` of ``alpha_t = 1 - beta_t``. Everything the model needs —
noising, the posterior ``q(x_{t-1} | x_t, x_0)``, conversions between the ``x_0``, ``epsilon``
and ``v`` parameterizations — is a function of ``abar`` at two time steps, so the same
formulas serve the full chain (training, the likelihood bound) and a strided sub-chain
(fast sampling, Nichol & Dhariwal 2021, section 4).

Time steps are 0-based: index ``t`` in ``0..T-1`` is step ``t + 1`` of Ho et al. (2020).

References:
    Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020.
    Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", ICML 2021.
    Salimans & Ho, "Progressive Distillation for Fast Sampling of Diffusion Models", ICLR 2022.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SCHEDULES = ("cosine", "linear")
MAX_BETA = 0.999


def make_betas(name: str, n_timesteps: int) -> torch.Tensor:
    """Noise variances ``beta_1..beta_T`` (float64).

    ``"linear"``: Ho et al.'s 1e-4 to 0.02 for T = 1000, rescaled so other T give the
    same process. ``"cosine"``: ``abar(t) = cos^2((t/T + s) / (1 + s) * pi/2)`` with
    ``s = 0.008`` (Nichol & Dhariwal 2021), each ``beta`` capped at 0.999.

    Example:
        >>> make_betas("cosine", 10).shape
        torch.Size([10])
    """
    if name == "linear":
        scale = 1000.0 / n_timesteps
        return torch.linspace(scale * 1e-4, scale * 0.02, n_timesteps, dtype=torch.float64)
    if name == "cosine":
        s = 0.008
        steps = torch.arange(n_timesteps + 1, dtype=torch.float64) / n_timesteps
        abar = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        return (1 - abar[1:] / abar[:-1]).clamp(max=MAX_BETA)
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {name!r}.")


class NoiseSchedule(nn.Module):
    """The forward process of a DDPM: ``abar_t`` and the formulas built on it.

    The tensors are non-persistent buffers (derived from the two hyper-parameters, so not
    saved) that follow the module to its device. Methods take ``abar`` values or 0-based
    integer time steps ``t`` and broadcast over rows.

    Args:
        name: ``"cosine"`` or ``"linear"``.
        n_timesteps: number of diffusion steps ``T``.

    Example:
        >>> sched = NoiseSchedule("cosine", 100)
        >>> x0 = torch.ones(4, 2)
        >>> sched.q_sample(x0, torch.full((4,), 99), torch.zeros(4, 2)).abs().max() < 1e-3
        tensor(True)
    """

    def __init__(self, name: str = "cosine", n_timesteps: int = 1000):
        super().__init__()
        betas = make_betas(name, n_timesteps)
        abar = torch.cumprod(1 - betas, 0)
        self.n_timesteps = n_timesteps
        self.register_buffer("betas", betas.float(), persistent=False)
        self.register_buffer("alphas_cumprod", abar.float(), persistent=False)
        # float64 copy for the likelihood bound, whose coefficients need 1 - abar near abar = 1
        self.register_buffer("alphas_cumprod64", abar, persistent=False)

    # ------------------------------------------------------------------ lookups
    def abar(self, t: torch.Tensor) -> torch.Tensor:
        """``abar_t`` for integer steps ``t``; ``t = -1`` gives 1 (no noise)."""
        one = torch.ones(1, device=self.alphas_cumprod.device)
        return torch.cat([one, self.alphas_cumprod])[t.long() + 1]

    @staticmethod
    def _col(a: torch.Tensor) -> torch.Tensor:
        return a.reshape(-1, 1)

    # ------------------------------------------------------------------ forward process
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Draw ``x_t ~ q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)`` with the given noise."""
        a = self._col(self.abar(t))
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def q_posterior(self, x0, xt, abar_t, abar_prev):
        """Mean and variance of ``q(x_prev | x_t, x_0)`` between two (possibly strided) steps.

        With ``beta = 1 - abar_t / abar_prev`` the one-step noise between them, the mean is
        ``sqrt(abar_prev) beta / (1 - abar_t) x_0 + sqrt(1 - beta) (1 - abar_prev) / (1 - abar_t) x_t``
        and the variance ``beta (1 - abar_prev) / (1 - abar_t)`` (Ho et al. 2020, eq. 7).
        """
        a_t, a_p = self._col(abar_t), self._col(abar_prev)
        beta = 1 - a_t / a_p
        mean = (a_p.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - a_p) * xt) / (1 - a_t)
        var = beta * (1 - a_p) / (1 - a_t)
        return mean, var

    # ------------------------------------------------------------------ parameterizations
    def x0_from_eps(self, xt, eps, abar_t):
        a = self._col(abar_t)
        return (xt - (1 - a).sqrt() * eps) / a.sqrt()

    def eps_from_x0(self, xt, x0, abar_t):
        a = self._col(abar_t)
        return (xt - a.sqrt() * x0) / (1 - a).sqrt()

    def x0_from_v(self, xt, v, abar_t):
        """``x_0 = sqrt(abar) x_t - sqrt(1 - abar) v`` (Salimans & Ho 2022)."""
        a = self._col(abar_t)
        return a.sqrt() * xt - (1 - a).sqrt() * v

    def v_target(self, x0, noise, abar_t):
        """``v = sqrt(abar) epsilon - sqrt(1 - abar) x_0``."""
        a = self._col(abar_t)
        return a.sqrt() * noise - (1 - a).sqrt() * x0

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        """Per-row ``KL(q(x_T | x_0) || N(0, I))`` in nats."""
        a = self.alphas_cumprod64[-1]
        x0 = x0.double()
        return 0.5 * (a * x0**2 + (1 - a) - 1 - torch.log1p(-a)).sum(1)

    def posterior_terms(self, t: torch.Tensor):
        """``x_0`` coefficient and variance of ``q(x_{t-1} | x_t, x_0)`` at steps ``t >= 1`` (float64).

        The coefficient multiplies ``x_0`` in the posterior mean, so two means that differ
        only in ``x_0`` are ``coef * (x_0 - x0_hat)`` apart.
        """
        abar = self.alphas_cumprod64
        a_t, a_p = abar[t.long()], abar[t.long() - 1]
        beta = 1 - a_t / a_p
        return a_p.sqrt() * beta / (1 - a_t), beta * (1 - a_p) / (1 - a_t)
