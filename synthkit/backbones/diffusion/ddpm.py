"""Denoising diffusion probabilistic model (DDPM) for flat vectors.

References:
    Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020.
    Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", ICML 2021.
    Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021.
    Salimans & Ho, "Progressive Distillation for Fast Sampling of Diffusion Models", ICLR 2022.
    Ho & Salimans, "Classifier-Free Diffusion Guidance", NeurIPS 2021 workshop, arXiv:2207.12598.
    Bao et al., "Analytic-DPM: an Analytic Estimate of the Optimal Reverse Variance in Diffusion
        Probabilistic Models", ICLR 2022.
    Kotelnikov et al., "TabDDPM: Modelling Tabular Data with Diffusion Models", ICML 2023.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch.nn import functional as F

from synthkit.backbones.diffusion.noise import build_noise
from synthkit.backbones.diffusion.schedule import SCHEDULES, NoiseSchedule
from synthkit.base import Generator
from synthkit.nn.denoiser import MLPDenoiser
from synthkit.nn.networks import build_network, check_output
from synthkit.training.distributed import agreed

PREDICTIONS = ("epsilon", "v")
SAMPLERS = ("ddpm", "ddim")
LOG_2PI = math.log(2 * math.pi)
#: rows x time steps evaluated in one forward pass of the likelihood bound: at most this many,
#: and at most ``_BOUND_VALUES / d`` (an image denoiser's activations grow with the row width)
_BOUND_CHUNK = 65536
_BOUND_VALUES = 2**18
#: training rows the reverse variances are measured on, and the largest share of a ``max_time``
#: budget kept for that measurement
_VARIANCE_ROWS = 512
_VARIANCE_SHARE = 0.25


def _bound_chunk(d: int) -> int:
    """Denoiser evaluations per forward pass of the bound and of the variance measurement."""
    return max(1, min(_BOUND_CHUNK, _BOUND_VALUES // max(d, 1)))


class DDPM(Generator):
    """Denoising diffusion model with strided DDPM / DDIM sampling and classifier-free guidance.

    Rows (standardized per column by the base class) are noised by
    ``q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)`` over ``n_timesteps`` steps; a
    residual-MLP denoiser with FiLM time conditioning
    (:class:`synthkit.nn.denoiser.MLPDenoiser`) learns to predict the velocity ``v``
    (default) or the noise ``epsilon`` with the simple mean-squared loss of Ho et al.
    Sampling runs the reverse chain on ``n_sampling_steps`` evenly spaced steps, with DDIM
    (``"ddim"``; ``eta=0`` is deterministic given the starting noise, ``eta=1`` equals
    ancestral sampling) or ancestrally (``"ddpm"``, the respaced chain of Nichol &
    Dhariwal). Predicted ``x_0`` is clipped to the training range of each column
    (``clip_denoised``), which keeps constant and bounded columns exact, or to one range
    for all columns (``clip_denoised="global"``, for images).

    With ``y`` the model is conditional: the condition is dropped (replaced by a learned
    "no condition" input) with probability ``cond_drop_prob`` in training, and sampling
    mixes the two predictions, ``f_uncond + guidance_scale (f_cond - f_uncond)``
    (classifier-free guidance; ``guidance_scale=1`` is plain conditional sampling, larger
    values trade diversity for class fidelity).

    ``score_samples`` is the variational lower bound on ``log p(x)`` of Ho et al. (eq. 5),
    ``likelihood = "lower_bound"``, in nats:

    * decoder ``L_0 = -log N(x_0; x0_hat(x_1), sigma_0^2 I)``, prior term
      ``KL(q(x_T | x_0) || N(0, I))`` in closed form;
    * ``L_t = KL(q(x_{t-1} | x_t, x_0) || N(mu_theta(x_t), sigma_t^2 I))`` for
      ``t = 1..T-1``, where ``mu_theta`` is the posterior mean with ``x0_hat`` plugged in
      and ``sigma_t^2`` the variance that is optimal for the model's mean on the training
      data (posterior variance plus the measured denoising error, after Bao et al. 2022;
      fixed at the end of ``fit``, so the bound stays a bound on new data);
    * the sum over ``t`` is estimated from ``n_score_timesteps`` steps, one per stratum of
      the inverse CDF of a proposal proportional to each term's expected size on the
      training data, importance-weighted (unbiased), one noise draw per row and step,
      with ``|eps|^2 - d`` as a control variate (it removes the noise-only part of the
      error that dominates small ``t``); the decoder and prior terms are computed for
      every row. The same steps serve all rows of a call and the base class seeds
      scoring, so scores are deterministic and rows are compared on common draws.

    The bound uses the unclipped ``x0_hat`` (clipping is for sampling), so rows a little
    outside the training range are not penalized out of proportion.

    Args:
        n_timesteps: diffusion steps ``T``.
        schedule: ``"cosine"`` (Nichol & Dhariwal) or ``"linear"`` (Ho et al.).
        prediction: what the network predicts: ``"epsilon"`` (the noise) or ``"v"``
            (``sqrt(abar) epsilon - sqrt(1 - abar) x_0``, Salimans & Ho).
        sampler: ``"ddim"`` or ``"ddpm"`` (ancestral).
        n_sampling_steps: reverse steps used by ``sample`` (``None``: all ``T``).
        eta: DDIM noise scale (0 deterministic, 1 ancestral).
        guidance_scale: classifier-free guidance weight for conditional sampling.
        cond_drop_prob: probability of dropping the condition in training.
        width, depth, time_embed_dim: denoiser size (see ``MLPDenoiser``).
        denoiser_network: the network ``f(x_t, t, c) -> (n, d)`` (:mod:`synthkit.nn.networks`;
            ``None``: the ``MLPDenoiser`` above); it gets one integer step per row in ``t``
            and, with a condition, ``c`` with one extra last column that is 1 where the
            condition is dropped.
        clip_denoised: ``True`` clips predicted ``x_0`` to each column's training range;
            ``"global"`` to the one range of all columns (images: a pixel's own training
            range would pin pixels that were constant, e.g. background, to that value);
            ``False`` does not clip.
        n_score_timesteps: Monte Carlo time steps per row in ``score_samples``.
        forward_noise: the noise ``epsilon`` of the forward process in training, noising and
            sampling: ``None`` / ``"gaussian"`` (white Gaussian, the default) or a registered
            noise (:mod:`synthkit.backbones.diffusion.noise`, e.g. AnoDDPM's ``"simplex"``
            for images); the likelihood bound keeps Gaussian noise.
        **training: see :class:`synthkit.Generator`; here ``learning_rate`` defaults to
            2e-3 and ``ema_decay`` to 0.995.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(200, 2))
        >>> model = DDPM(width=32, depth=1, max_epochs=2, n_sampling_steps=10,
        ...              verbose=0, random_state=0).fit(X)
        >>> model.sample(5).shape
        (5, 2)
        >>> bool(np.isfinite(model.score_samples(X[:3])).all())
        True
    """

    likelihood = "lower_bound"
    default_steps = 5000

    def __init__(
        self,
        *,
        n_timesteps=1000,
        schedule="cosine",
        prediction="v",
        sampler="ddim",
        n_sampling_steps=50,
        eta=0.0,
        guidance_scale=1.0,
        cond_drop_prob=0.1,
        width=128,
        depth=3,
        time_embed_dim=128,
        denoiser_network=None,
        clip_denoised=True,
        n_score_timesteps=50,
        forward_noise=None,
        max_epochs=None,
        max_time=None,
        batch_size=256,
        learning_rate=2e-3,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=20,
        ema_decay=0.995,
        grad_clip=1.0,
        checkpoint_dir=None,
        checkpoint_interval=60.0,
        device="auto",
        random_state=None,
        verbose=1,
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ set-up
    def _check_params(self) -> None:
        super()._check_params()
        for name in ("n_timesteps", "width", "depth", "time_embed_dim", "n_score_timesteps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if self.n_timesteps < 2:
            raise ValueError(f"n_timesteps must be at least 2, got {self.n_timesteps!r}.")
        if self.time_embed_dim % 2:
            raise ValueError(f"time_embed_dim must be even, got {self.time_embed_dim!r}.")
        for name, allowed in (("schedule", SCHEDULES), ("prediction", PREDICTIONS), ("sampler", SAMPLERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}.")
        k = self.n_sampling_steps
        if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
            raise ValueError(f"n_sampling_steps must be a positive integer or None, got {k!r}.")
        if not self.eta >= 0:
            raise ValueError(f"eta must be non-negative, got {self.eta!r}.")
        if not self.guidance_scale >= 0:
            raise ValueError(f"guidance_scale must be non-negative, got {self.guidance_scale!r}.")
        if self.clip_denoised not in (True, False, "global"):
            raise ValueError(f"clip_denoised must be True, False or 'global', got {self.clip_denoised!r}.")
        if not 0 <= self.cond_drop_prob < 1:
            raise ValueError(f"cond_drop_prob must be in [0, 1), got {self.cond_drop_prob!r}.")
        build_noise(self.forward_noise)  # an unknown noise fails here, not mid-training

    def _learn_data(self, X: np.ndarray) -> None:
        self.data_min_ = X.min(0)
        self.data_max_ = X.max(0)

    def _build(self):
        d, k = self.n_features_in_, self.condition_dim_
        k = k + 1 if k else 0  # a condition gets one extra input unit that flags "no condition" (dropped)
        denoiser = build_network(
            self.denoiser_network, "denoiser", "denoiser_network", in_features=d, out_features=d,
            condition_dim=k, n_timesteps=int(self.n_timesteps),
            default=lambda: MLPDenoiser(d, condition_dim=k, width=int(self.width), depth=int(self.depth),
                                        time_embed_dim=int(self.time_embed_dim), time_scale=1000.0 / self.n_timesteps),
        )
        if self.denoiser_network is not None:
            check_output(denoiser, "denoiser_network", (torch.zeros(2, d), torch.zeros(2, dtype=torch.long),
                                                        torch.zeros(2, k) if k else None), (2, d),
                         "a prediction (noise or velocity) for every column of every row")
        return {"schedule": NoiseSchedule(self.schedule, int(self.n_timesteps)), "denoiser": denoiser}

    def _fit(self, X, c):
        start, budget = time.perf_counter(), self.max_time
        if budget is not None:  # keep the time the reverse-variance measurement will take
            budget = budget - min(self._variance_seconds(X, c), _VARIANCE_SHARE * budget)
        self._train(X, c, ema_modules=["denoiser"], max_time=budget)
        self._fit_reverse_variances(X, c, deadline=None if self.max_time is None else start + self.max_time)

    def _denoiser(self, xt, t, c):
        """The denoiser's output; a given network gets one step per row (the default shares
        a single step's embedding across rows)."""
        if self.denoiser_network is not None and t.numel() == 1:
            t = t.reshape(1).expand(len(xt))
        return self.modules_["denoiser"](xt, t, c)

    @property
    def noise_schedule(self) -> NoiseSchedule:
        """The forward process: ``abar_t`` and the formulas built on it."""
        return self.modules_["schedule"]

    # ------------------------------------------------------------------ denoiser
    def _cond_input(self, c: torch.Tensor | None, keep: torch.Tensor | None = None):
        """Denoiser condition input ``[c * keep, 1 - keep]`` (``keep=0`` is "no condition")."""
        if c is None:
            return None
        if keep is None:
            keep = torch.ones(len(c), 1, device=c.device)
        return torch.cat([c * keep, 1 - keep], dim=1)

    def _clip_bounds(self, device):
        lo = (self.data_min_ - self.mean_) / self.scale_
        hi = (self.data_max_ - self.mean_) / self.scale_
        if self.clip_denoised == "global":  # one range for every column, in model space
            lo, hi = np.full_like(lo, lo.min()), np.full_like(hi, hi.max())
        return (torch.as_tensor(lo, dtype=torch.float32, device=device),
                torch.as_tensor(hi, dtype=torch.float32, device=device))

    def predict_start(self, xt, t, c=None, *, guidance_scale: float = 1.0, clip: bool | None = None):
        """Predicted ``x_0`` and ``epsilon`` at integer steps ``t``; ``x_0`` is clipped to the
        training range when ``clip`` (default: ``clip_denoised``).

        With a condition and ``guidance_scale != 1`` the network output is the
        classifier-free guided mix of the conditional and unconditional outputs.
        """
        net = self._denoiser
        if c is not None and guidance_scale != 1.0:
            drop = torch.cat([torch.ones(len(c), 1, device=c.device), torch.zeros(len(c), 1, device=c.device)])
            t2 = t if t.numel() == 1 else t.repeat(2)
            out_c, out_u = net(xt.repeat(2, 1), t2, self._cond_input(c.repeat(2, 1), drop)).chunk(2)
            out = out_u + guidance_scale * (out_c - out_u)
        else:
            out = net(xt, t, self._cond_input(c))
        sched = self.noise_schedule
        abar = sched.abar(t)
        if self.prediction == "epsilon":
            x0 = sched.x0_from_eps(xt, out, abar)
        else:
            x0 = sched.x0_from_v(xt, out, abar)
        if self.clip_denoised if clip is None else clip:
            lo, hi = self._clip_bounds(xt.device)
            x0 = torch.maximum(torch.minimum(x0, hi), lo)
        elif self.prediction == "epsilon":
            return x0, out
        return x0, sched.eps_from_x0(xt, x0, abar)

    # ------------------------------------------------------------------ process
    def noise_like(self, x: torch.Tensor) -> torch.Tensor:
        """Forward-process noise shaped like ``x``: ``torch.randn_like`` unless ``forward_noise`` names another."""
        make = build_noise(self.forward_noise)
        return torch.randn_like(x) if make is None else make(x)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Draw ``x_t ~ q(x_t | x_0)`` at 0-based integer steps ``t`` (one per row)."""
        noise = self.noise_like(x0) if noise is None else noise
        return self.noise_schedule.q_sample(x0, t, noise)

    def p_mean_variance(self, xt, t, c=None, *, t_prev=None, guidance_scale: float = 1.0):
        """Mean, variance and predicted ``x_0`` of ``p(x_{t_prev} | x_t)``.

        ``p`` is the posterior ``q(x_{t_prev} | x_t, x0_hat)`` with the predicted ``x_0``
        plugged in; ``t_prev`` defaults to ``t - 1`` (``-1`` means "to the data", where the
        variance is zero and the mean is ``x0_hat``).
        """
        t_prev = t - 1 if t_prev is None else t_prev
        x0, _ = self.predict_start(xt, t, c, guidance_scale=guidance_scale)
        sched = self.noise_schedule
        mean, var = sched.q_posterior(x0, xt, sched.abar(t), sched.abar(t_prev))
        return mean, var, x0

    def p_sample(self, xt, t, c=None, *, t_prev=None, noise=None, guidance_scale: float = 1.0):
        """One ancestral step ``x_{t_prev} ~ p(x_{t_prev} | x_t)``."""
        mean, var, _ = self.p_mean_variance(xt, t, c, t_prev=t_prev, guidance_scale=guidance_scale)
        noise = self.noise_like(xt) if noise is None else noise
        return mean + var.sqrt() * noise

    def ddim_step(self, xt, t, t_prev, c=None, *, eta: float = 0.0, noise=None, guidance_scale: float = 1.0):
        """One DDIM step from ``t`` to ``t_prev`` (Song et al. 2021, eq. 12).

        ``x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_hat + sigma z``
        with ``sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev)``.
        """
        x0, eps = self.predict_start(xt, t, c, guidance_scale=guidance_scale)
        sched = self.noise_schedule
        a_t, a_p = sched._col(sched.abar(t)), sched._col(sched.abar(t_prev))
        sigma = eta * ((1 - a_p) / (1 - a_t) * (1 - a_t / a_p)).clamp(min=0).sqrt()
        out = a_p.sqrt() * x0 + (1 - a_p - sigma**2).clamp(min=0).sqrt() * eps
        if eta > 0:
            out = out + sigma * (self.noise_like(xt) if noise is None else noise)
        return out

    def sampling_timesteps(self) -> np.ndarray:
        """The evenly spaced steps (ascending, from 0 to ``T - 1``) that ``sample`` visits."""
        T = int(self.n_timesteps)
        k = T if self.n_sampling_steps is None else min(int(self.n_sampling_steps), T)
        return np.unique(np.round(np.linspace(0, T - 1, k)).astype(np.int64))

    def p_sample_loop(self, x_T: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Run the reverse chain from noise ``x_T`` to data with the configured ``sampler``
        over :meth:`sampling_timesteps` (model space; deterministic for DDIM with ``eta=0``)."""
        x, device = x_T, x_T.device
        kw = dict(guidance_scale=float(self.guidance_scale))
        steps = self.sampling_timesteps().tolist()
        for t, t_prev in zip(reversed(steps), reversed([-1] + steps[:-1])):
            # one step shared by all rows: the denoiser embeds it once
            tt = torch.full((1,), t, device=device, dtype=torch.long)
            tp = torch.full((1,), t_prev, device=device, dtype=torch.long)
            if self.sampler == "ddim":
                x = self.ddim_step(x, tt, tp, c, eta=float(self.eta), **kw)
            else:
                x = self.p_sample(x, tt, c, t_prev=tp, **kw)
        return x

    def _sample(self, n, c):
        if build_noise(self.forward_noise) is None:
            return self.p_sample_loop(torch.randn(n, self.n_features_in_, device=self._device()), c)
        return self.p_sample_loop(self.noise_like(torch.empty(n, self.n_features_in_, device=self._device())), c)

    # ------------------------------------------------------------------ training
    def training_loss(self, x0: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Per-row simple loss ``|target - f(x_t, t, c)|^2`` at a uniform random step (Ho et al. eq. 14)."""
        n = len(x0)
        t = torch.randint(0, int(self.n_timesteps), (n,), device=x0.device)
        noise = self.noise_like(x0)
        xt = self.q_sample(x0, t, noise)
        keep = None
        if c is not None and self.cond_drop_prob > 0:
            keep = (torch.rand(n, 1, device=x0.device) >= self.cond_drop_prob).float()
        out = self._denoiser(xt, t, self._cond_input(c, keep))
        target = noise if self.prediction == "epsilon" else self.noise_schedule.v_target(x0, noise, self.noise_schedule.abar(t))
        return F.mse_loss(out, target, reduction="none").mean(1)

    def _training_step(self, x, c, step):
        loss = self.training_loss(x, c).mean()
        step(loss)
        return {"loss": loss.item()}

    def _validation_loss(self, x, c):
        return self.training_loss(x, c)

    # ------------------------------------------------------------------ likelihood bound
    def _denoise(self, x0, c, t, noise=None):
        """Squared error ``|x_0 - x0_hat(x_t)|^2`` per row and the noise statistic ``|eps|^2 - d``."""
        noise = torch.randn_like(x0) if noise is None else noise
        x0_hat, _ = self.predict_start(self.noise_schedule.q_sample(x0, t, noise), t, c, clip=False)
        return ((x0 - x0_hat).double() ** 2).sum(1), (noise.double() ** 2).sum(1) - x0.shape[1]

    def denoising_error(self, x0, t, noise, c=None) -> torch.Tensor:
        """Per-feature ``(x_0 - x0_hat(x_t))^2`` with ``x_t = q_sample(x_0, t, noise)`` and the
        predicted ``x_0`` clipped to the training range, shape (n, d) (model space)."""
        x0_hat, _ = self.predict_start(self.q_sample(x0, t, noise), t, c, clip=True)
        return (x0 - x0_hat) ** 2

    def _variance_grid(self) -> np.ndarray:
        T = int(self.n_timesteps)
        return np.unique(np.r_[np.geomspace(1, T, 24), np.linspace(1, T, 24)].round().astype(np.int64) - 1)

    def _variance_seconds(self, X: torch.Tensor, c: torch.Tensor | None) -> float:
        """Seconds :meth:`_fit_reverse_variances` will take, extrapolated from a pass of the
        denoiser over up to 1,024 rows of zeros."""
        device, d = self._device(), X.shape[1]
        n = min(len(X), _VARIANCE_ROWS) * len(self._variance_grid())
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
        pick = torch.randperm(len(X))[:_VARIANCE_ROWS]
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

    vlb = elbo

    def _log_prob(self, x, c):
        return self.elbo(x, c)

    def score_rules(self):
        """``"denoising"`` (default) and ``"likelihood"`` (:meth:`elbo`), both with common random
        numbers (see :mod:`synthkit.backbones.diffusion.scores`)."""
        from synthkit.backbones.diffusion.scores import diffusion_score_rules

        return diffusion_score_rules(self)
