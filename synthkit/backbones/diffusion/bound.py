"""The likelihood bound of a DDPM: the reverse variances measured on the training data
(Analytic-DPM) and the variational lower bound on ``log p(x_0)`` with importance-sampled
time steps.

After training, :meth:`VariationalBound._fit_reverse_variances` measures the denoising error
on up to ``VARIANCE_ROWS`` training rows on a grid of steps; the reverse variance optimal for
a Gaussian ``p(x_{t-1} | x_t)`` with the model's mean follows from it (the data-estimated form
of Bao et al. 2022), and a control variate cuts the Monte Carlo noise of each term.
:meth:`VariationalBound.elbo` then sums the exact decoder and prior terms and a stratified
importance-sampled estimate of the KL terms (proposal proportional to their expected size).

References:
    Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020.
    Bao et al., "Analytic-DPM: an Analytic Estimate of the Optimal Reverse Variance in Diffusion
        Probabilistic Models", ICLR 2022.
    Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", ICML 2021.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from synthkit.training.distributed import agreed

LOG_2PI = math.log(2 * math.pi)
#: rows x time steps evaluated in one forward pass of the likelihood bound: at most this many,
#: and at most ``_BOUND_VALUES / d`` (an image denoiser's activations grow with the row width)
_BOUND_CHUNK = 65536
_BOUND_VALUES = 2**18
#: training rows the reverse variances are measured on, and the largest share of a ``max_time``
#: budget kept for that measurement
VARIANCE_ROWS = 512
VARIANCE_SHARE = 0.25


def _bound_chunk(d: int) -> int:
    """Denoiser evaluations per forward pass of the bound and of the variance measurement."""
    return max(1, min(_BOUND_CHUNK, _BOUND_VALUES // max(d, 1)))


class VariationalBound:
    """The bound half of :class:`~synthkit.backbones.diffusion.DDPM` (a mixin: it reads the
    estimator's schedule, denoiser and ``n_timesteps`` / ``n_score_timesteps``)."""

    def _variance_grid(self) -> np.ndarray:
        T = int(self.n_timesteps)
        return np.unique(np.r_[np.geomspace(1, T, 24), np.linspace(1, T, 24)].round().astype(np.int64) - 1)

    def _variance_seconds(self, X: torch.Tensor, c: torch.Tensor | None) -> float:
        """Seconds :meth:`_fit_reverse_variances` will take, extrapolated from a pass of the
        denoiser over up to 1,024 rows of zeros."""
        device, d = self._device(), X.shape[1]
        n = min(len(X), VARIANCE_ROWS) * len(self._variance_grid())
        m = min(n, _bound_chunk(d), 1024)
        began = time.perf_counter()
        with torch.no_grad():
            self._denoiser(torch.zeros(m, d, device=device), torch.zeros(m, dtype=torch.long, device=device),
                           self._cond_input(None if c is None else c[:1].to(device).expand(m, -1)))
        return (time.perf_counter() - began) * n / m

    def _fit_reverse_variances(self, X: torch.Tensor, c: torch.Tensor | None, deadline: float | None = None) -> None:
        """Measure the denoising error on up to 512 training rows, on a grid of steps.

        Records per step ``t`` (log-interpolated between grid steps):

        ``denoising_error_[t]``: ``E|x_0 - x0_hat(x_t)|^2 / d``. The bound then uses the
        reverse variance that is optimal for a Gaussian ``p(x_{t-1} | x_t)`` with the
        model's mean on the training data, ``posterior variance + coef_t^2 denoising_error_[t]``
        (the data-estimated form of Bao et al. 2022, Analytic-DPM).

        ``noise_coef_[t]``: the regression slope of the squared error on ``|eps|^2 - d``,
        a control variate (its mean is zero) that the bound subtracts to cut the
        Monte Carlo noise of each term (at small ``t`` the error is mostly ``eps`` itself).

        The rows go through in chunks (bounded memory); past ``deadline`` the measurement
        stops after the chunk at hand and uses the rows done.
        """
        T = int(self.n_timesteps)
        device = self._device()
        grid = self._variance_grid()
        pick = torch.randperm(len(X))[:VARIANCE_ROWS]
        rows_per_chunk = max(1, _bound_chunk(X.shape[1]) // len(grid))
        errs, zs = [], []
        for lo in range(0, len(pick), rows_per_chunk):
            x0 = X[pick[lo : lo + rows_per_chunk]].to(device)
            n = len(x0)
            cr = None if c is None else c[pick[lo : lo + rows_per_chunk]].to(device).repeat(len(grid), 1)
            t = torch.as_tensor(grid, device=device).repeat_interleave(n)
            with torch.no_grad():
                err, z = (v.reshape(len(grid), n) for v in self._denoise(x0.repeat(len(grid), 1), cr, t))
            errs.append(err)
            zs.append(z)
            if deadline is not None and agreed(time.perf_counter() > deadline):
                break
        err, z = torch.cat(errs, 1), torch.cat(zs, 1)
        d = X.shape[1]
        slope = ((err - err.mean(1, keepdim=True)) * z).mean(1) / (z**2).mean(1)
        log_err = np.log(np.maximum(err.mean(1).cpu().numpy() / d, 1e-12))
        steps = np.arange(T)
        self.denoising_error_ = np.exp(np.interp(steps, grid, log_err))
        self.noise_coef_ = np.interp(steps, grid, slope.cpu().numpy())

    def _reverse_variance_terms(self, t: torch.Tensor):
        """For steps ``t >= 1``: ``coef_t^2 / sigma_t^2`` and the per-dimension variance mismatch
        ``(r - 1 - log r) / 2`` with ``r = posterior variance / sigma_t^2`` (float64)."""
        coef, post_var = self.noise_schedule.posterior_terms(t)
        err = torch.as_tensor(self.denoising_error_, device=t.device)[t.long()]
        sigma2 = post_var + coef**2 * err
        r = post_var / sigma2
        return coef**2 / sigma2, 0.5 * (r - 1 - r.log())

    def score_timesteps(self, n_steps: int | None = None, device=None, *, u=None):
        """Steps for the Monte Carlo sum of the KL terms, with weights: ``(t, w)`` such that
        ``sum_{t=1}^{T-1} L_t ~= sum_k w_k L_{t_k}`` (unbiased).

        One draw per stratum of the inverse CDF of a proposal proportional to the expected
        size of ``L_t`` on the training data (see the class docstring); ``u`` gives the
        position in each stratum (``n_steps`` values in [0, 1); ``None``: uniform draws).
        """
        device = self.noise_schedule.alphas_cumprod.device if device is None else device
        K = int(self.n_score_timesteps if n_steps is None else n_steps)
        t_all = torch.arange(1, int(self.n_timesteps), device=device)
        weight, mismatch = self._reverse_variance_terms(t_all)
        err = torch.as_tensor(self.denoising_error_, device=device)[t_all]
        q = mismatch + 0.5 * weight * err  # expected L_t per dimension
        cdf = q.cumsum(0)
        u = torch.rand(K, device=device, dtype=torch.float64) if u is None else torch.as_tensor(u, device=device)
        u = u.double()
        u = (torch.arange(K, device=device, dtype=torch.float64) + u) / K
        idx = torch.searchsorted(cdf, u * cdf[-1]).clamp(max=len(q) - 1)
        return t_all[idx], cdf[-1] / (K * q[idx])

    def elbo(self, x0: torch.Tensor, c: torch.Tensor | None = None, n_steps: int | None = None, *,
             noise: torch.Tensor | None = None, u: torch.Tensor | None = None) -> torch.Tensor:
        """Per-row variational lower bound on ``log p(x_0)`` in nats (model space).

        ``-(L_0 + sum_{t=1}^{T-1} L_t + L_T)`` with the decoder and prior terms exact and the
        middle sum estimated from ``n_steps`` (default ``n_score_timesteps``) stratified
        importance draws of ``t``.

        Args:
            x0, c: model-space rows and their condition.
            n_steps: Monte Carlo time steps ``K``.
            noise: the forward-process noise, ``(K + 1, d)`` shared by every row (common random
                numbers: a row's bound then does not depend on its batch) or ``(K + 1, n, d)``;
                the first is for the decoder term. ``None``: fresh draws.
            u: positions of the ``K`` steps in their strata (see :meth:`score_timesteps`).
        """
        sched = self.noise_schedule
        n, d = x0.shape

        def draws(lo, hi):  # noise of draws lo..hi-1, stacked step-major like x0.repeat(m, 1)
            if noise is None:
                return None
            part = noise[lo:hi]
            return (part.unsqueeze(1) if part.dim() == 2 else part).expand(hi - lo, n, d).reshape(-1, d)

        err0, z0 = self._denoise(x0, c, torch.zeros(n, dtype=torch.long, device=x0.device), draws(0, 1))
        b = torch.as_tensor(self.noise_coef_, device=x0.device)
        # L_0: Gaussian decoder N(x_0; x0_hat(x_1), sigma_0^2 I) at the first step
        var0 = max(float(self.denoising_error_[0]), 1e-12)
        nll = 0.5 * (err0 - b[0] * z0) / var0 + 0.5 * d * (LOG_2PI + math.log(var0))
        nll = nll + sched.prior_kl(x0)
        # KL terms L_t = d * mismatch_t + coef_t^2 |x_0 - x0_hat(x_t)|^2 / (2 sigma_t^2), t = 1..T-1
        steps, weights = self.score_timesteps(n_steps, device=x0.device, u=u)
        per_chunk = max(1, _bound_chunk(d) // max(n, 1))
        for lo in range(0, len(steps), per_chunk):
            ts, ws = steps[lo : lo + per_chunk], weights[lo : lo + per_chunk]
            m = len(ts)
            err, z = self._denoise(x0.repeat(m, 1), None if c is None else c.repeat(m, 1), ts.repeat_interleave(n),
                                   draws(1 + lo, 1 + lo + m))
            err = (err - b[ts].repeat_interleave(n) * z).reshape(m, n)
            weight, mismatch = self._reverse_variance_terms(ts)
            terms = d * mismatch[:, None] + 0.5 * weight[:, None] * err
            nll = nll + (ws[:, None] * terms).sum(0)
        return -nll
