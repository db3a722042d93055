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

import time
from typing import ClassVar

import numpy as np
import torch
from torch.nn import functional as F

from synthkit.backbones.diffusion.bound import VARIANCE_SHARE, VariationalBound
from synthkit.backbones.diffusion.noise import build_noise
from synthkit.backbones.diffusion.schedule import SCHEDULES, NoiseSchedule
from synthkit.base import Generator
from synthkit.nn.denoiser import MLPDenoiser
from synthkit.nn.networks import build_network, check_output
from synthkit.validation import check_count, check_non_negative

PREDICTIONS = ("epsilon", "v")
SAMPLERS = ("ddpm", "ddim")


class DDPM(VariationalBound, Generator):
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
        max_epochs, max_time, batch_size, learning_rate, ..., verbose: the training
            parameters of :class:`synthkit.Generator` (``TRAINING_DEFAULTS``; this family's own defaults
            close this docstring).

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
    training_defaults: ClassVar[dict] = {"learning_rate": 2e-3, "ema_decay": 0.995}

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
        check_count("n_timesteps", self.n_timesteps, 2)
        for name in ("width", "depth", "time_embed_dim", "n_score_timesteps"):
            check_count(name, getattr(self, name))
        if self.time_embed_dim % 2:
            raise ValueError(f"time_embed_dim must be even, got {self.time_embed_dim!r}.")
        for name, allowed in (("schedule", SCHEDULES), ("prediction", PREDICTIONS), ("sampler", SAMPLERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}.")
        check_count("n_sampling_steps", self.n_sampling_steps, none_ok=True)
        check_non_negative("eta", self.eta)
        check_non_negative("guidance_scale", self.guidance_scale)
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
            budget = budget - min(self._variance_seconds(X, c), VARIANCE_SHARE * budget)
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

    def _log_prob(self, x, c):
        return self.elbo(x, c)

    def score_rules(self):
        """``"denoising"`` (default) and ``"likelihood"`` (:meth:`elbo`), both with common random
        numbers (see :mod:`synthkit.backbones.diffusion.scores`)."""
        from synthkit.backbones.diffusion.scores import diffusion_score_rules

        return diffusion_score_rules(self)
