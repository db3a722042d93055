"""Energy-based model trained with short-run Langevin dynamics and a replay buffer.

An energy network ``E(x, c)`` defines the unnormalized density ``p(x | c) ∝ exp(-E(x, c))``.
Training follows the maximum-likelihood gradient, estimated by contrastive divergence:
negatives ``x-`` come from a few steps of stochastic-gradient Langevin dynamics (SGLD)
started from a persistent replay buffer (or, with a small probability, from noise), and the
loss ``E(x+) - E(x-) + alpha (E(x+)^2 + E(x-)^2)`` lowers the energy of data and raises it
on model samples (``E`` here is the network part of the energy, see :class:`EBM`).

References:
    Du & Mordatch, "Implicit Generation and Generalization in Energy-Based Models",
    NeurIPS 2019.
    Nijkamp, Hill, Zhu & Wu, "Learning Non-Convergent Non-Persistent Short-Run MCMC
    Toward Energy-Based Model", NeurIPS 2019.
    Grathwohl et al., "Your Classifier is Secretly an Energy Based Model and You Should
    Treat it Like One" (JEM), ICLR 2020.
    Welling & Teh, "Bayesian Learning via Stochastic Gradient Langevin Dynamics", ICML 2011.
    Roberts & Tweedie, "Exponential convergence of Langevin distributions and their
    discrete approximations" (MALA), Bernoulli 1996.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from synthkit.backbones.replay import ReplayBuffer
from synthkit.base import Generator
from synthkit.nn import MLP
from synthkit.nn.networks import build_network, check_output, spectral_normalize
from synthkit.validation import (
    check_count,
    check_counts,
    check_fraction,
    check_non_negative,
    check_positive,
)

SAMPLING_INITS = ("buffer", "noise")


class EBM(Generator):
    """Energy-based model ``p(x | c) ∝ exp(-E(x, c))`` with an energy network (an MLP by default).

    The energy is ``E(x, c) = f(x, c) + |x|^2 / (2 prior_std^2)``: an MLP ``f`` with smooth
    activations (Langevin dynamics needs ``∇_x E``) plus a fixed wide Gaussian term that
    keeps ``exp(-E)`` normalizable and far-away points high in energy. A condition ``c``
    (one-hot class label or standardized continuous condition) is concatenated to the
    input of ``f``; class-conditional negatives are drawn from buffer entries of the same
    class, so every class keeps its own persistent chains.

    Training negatives come from ``n_langevin_steps`` steps of Langevin dynamics
    ``x <- x - step_size ∇E(x) + noise_scale sqrt(2 step_size) ξ`` started from a replay
    buffer of ``buffer_size`` persistent samples (kept as a registered tensor, so
    checkpoints and ``save``/``load`` carry it); each chain restarts from N(0, I) with
    probability ``reinit_prob``. ``sample`` starts from the buffer (or from noise) and runs
    ``n_sampling_steps`` steps with the trained step size (optionally Metropolis-adjusted,
    MALA), and can end with a noise-free denoising step.

    ``score_samples`` is ``-E(x, c)``: an unnormalized log-density
    (``likelihood = "unnormalized"``), good for ranking rows, not for comparing models.
    Persistent short-run chains equilibrate within a mode much faster than between
    distant modes, so the relative energy of well-separated modes is only loosely
    calibrated (``alpha`` pulls every mode's energy towards zero); ranking typical rows
    above outliers is reliable.

    ``learning_rate`` defaults to 3e-3, not the usual 1e-3: with the contrastive loss
    the energy has to become sharp within a short budget, and Adam without momentum
    (``beta1 = 0``, standard for EBMs) at 1e-3 needs several times more steps.

    Args:
        hidden_dims: hidden widths of the energy MLP.
        activation: smooth activation of the MLP (``"silu"``, ``"gelu"``, ``"tanh"``).
        energy_network: the network ``f(x, c) -> (n,)`` (:mod:`synthkit.nn.networks`;
            ``None``: the MLP above). Langevin dynamics needs its input gradient: prefer
            smooth activations.
        spectral_norm: spectral normalization of every linear (and convolution) layer of
            ``f`` (smoother, less sharp energies; off by default).
        alpha: weight of the energy-magnitude regularizer ``alpha (f(x+)^2 + f(x-)^2)``.
        prior_std: scale of the fixed Gaussian energy term (``None`` leaves it out).
        n_langevin_steps: Langevin steps per training iteration.
        n_sampling_steps: Langevin steps in ``sample``.
        step_size: Langevin step size ``ε`` (drift ``ε ∇E``, noise ``sqrt(2ε)``), in units
            of the standardized data, or ``"auto"``: adapted during training so that the
            Metropolis acceptance probability of the Langevin moves is ``target_acceptance``
            (small steps where the energy is sharp, large where it is smooth).
        target_acceptance: acceptance probability aimed at by ``step_size="auto"``.
        noise_scale: multiplier of the Langevin noise (1.0 is exact Langevin dynamics).
        buffer_size: persistent samples in the replay buffer.
        reinit_prob: chance that a drawn buffer sample is replaced by fresh noise.
        sampling_init: ``"buffer"`` (persistent chains) or ``"noise"`` (N(0, I)).
        metropolis: sample with Metropolis-adjusted Langevin (MALA) moves, exact for
            ``exp(-E)``, instead of the unadjusted moves the model was trained with.
        denoise: end ``sample`` with one noise-free gradient step ``x - ε ∇E(x)``.
        bounded: restrict the model to the per-column range of the training data: moves
            that leave that box are reflected back into it (image EBMs likewise keep pixels
            in [0, 1]), so samples stay inside the observed range of each column.
        max_epochs, max_time, batch_size, learning_rate, ..., verbose: the training
            parameters of :class:`synthkit.Generator` (``TRAINING_DEFAULTS``; this family's own
            defaults close this docstring).

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(200, 3))
        >>> ebm = EBM(max_epochs=2, buffer_size=500, verbose=0, random_state=0).fit(X)
        >>> ebm.sample(5).shape
        (5, 3)
        >>> ebm.score_samples(X[:2]).shape
        (2,)
    """

    likelihood = "unnormalized"
    default_steps = 3000
    training_defaults: ClassVar[dict] = {"learning_rate": 3e-3}

    def __init__(
        self,
        *,
        hidden_dims=(128, 128),
        activation="silu",
        energy_network=None,
        spectral_norm=False,
        alpha=0.01,
        prior_std=3.0,
        n_langevin_steps=10,
        n_sampling_steps=100,
        step_size="auto",
        target_acceptance=0.9,
        noise_scale=1.0,
        buffer_size=10000,
        reinit_prob=0.05,
        sampling_init="buffer",
        metropolis=False,
        denoise=False,
        bounded=True,
        max_epochs=None,
        max_time=None,
        batch_size=256,
        learning_rate=3e-3,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=20,
        ema_decay=None,
        grad_clip=1.0,
        checkpoint_dir=None,
        checkpoint_interval=60.0,
        device="auto",
        random_state=None,
        verbose=1,
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        super()._check_params()
        for name in ("n_langevin_steps", "buffer_size"):
            check_count(name, getattr(self, name))
        check_count("n_sampling_steps", self.n_sampling_steps, 0)
        if self.energy_network is None:
            check_counts("hidden_dims", self.hidden_dims)
        for name in ("alpha", "noise_scale"):
            check_non_negative(name, getattr(self, name), finite=True)
        if self.step_size != "auto" and not (isinstance(self.step_size, (int, float)) and self.step_size > 0):
            raise ValueError(f"step_size must be 'auto' or a positive number, got {self.step_size!r}.")
        check_fraction("target_acceptance", self.target_acceptance)
        check_fraction("reinit_prob", self.reinit_prob, zero_ok=True, one_ok=True)
        check_positive("prior_std", self.prior_std, none_ok=True)
        if self.sampling_init not in SAMPLING_INITS:
            raise ValueError(f"sampling_init must be one of {SAMPLING_INITS}, got {self.sampling_init!r}.")

    # ------------------------------------------------------------------ networks
    def _build(self):
        d, k = self.n_features_in_, self.condition_dim_
        energy = build_network(self.energy_network, "energy", "energy_network", in_features=d, out_features=1,
                               condition_dim=k, projection=self._classes,
                               default=lambda: _EnergyNet(d + k, tuple(self.hidden_dims), self.activation))
        if self.energy_network is not None:
            check_output(energy, "energy_network", (torch.zeros(2, d), torch.zeros(2, k) if k else None), (2,),
                         "one energy per row")
        return {
            "energy": spectral_normalize(energy) if self.spectral_norm else energy,
            "buffer": ReplayBuffer(int(self.buffer_size), d, k),
            "sampler": _StepSize(),
        }

    def _configure_optimizers(self):
        # No momentum (beta1 = 0), as is usual for EBMs: the contrastive loss chases a
        # moving target (the sampler), and momentum makes the two oscillate.
        params = self.modules_["energy"].parameters()
        return {"model": torch.optim.Adam(params, lr=self.learning_rate, betas=(0.0, 0.999))}

    def _fit(self, X, c):
        if self._classes and self.buffer_size < self.condition_dim_:
            raise ValueError(f"buffer_size={self.buffer_size} is smaller than the {self.condition_dim_} classes.")
        self.low_ = X.min(0).values.double().cpu().numpy()
        self.high_ = X.max(0).values.double().cpu().numpy()
        self.modules_["buffer"].reset_conditions(c, classes=self._classes)
        # The replay buffer and step size are state, not weights: never average them.
        self._train(X, c, ema_modules=["energy"])

    @property
    def _classes(self) -> bool:
        return self.condition_kind_ == "classes"

    # ------------------------------------------------------------------ model
    def energy(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Per-row energy ``E(x, c)`` in model (standardized) space; lower is more likely."""
        return self._network_energy(x, c) + self._prior_energy(x)

    def _network_energy(self, x, c):
        return self.modules_["energy"](x, c)

    def _prior_energy(self, x):
        if self.prior_std is None:
            return x.new_zeros(len(x))
        return 0.5 * x.pow(2).sum(1) / float(self.prior_std) ** 2

    def _energy_and_grad(self, x, c):
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            e = self.energy(x, c)
            (grad,) = torch.autograd.grad(e.sum(), x)
        return e.detach(), grad

    def _eps(self, step_size=None) -> float:
        if step_size is not None:
            return float(step_size)
        if self.step_size == "auto":
            return float(self.modules_["sampler"].log_step_size.exp())
        return float(self.step_size)

    def _clip(self, x: torch.Tensor) -> torch.Tensor:
        """Reflect into the training data's per-column range (the model's domain when
        ``bounded``); reflecting rather than clamping leaves no point mass on the edges."""
        if not self.bounded:
            return x
        lo = torch.as_tensor(self.low_, dtype=x.dtype, device=x.device)
        hi = torch.as_tensor(self.high_, dtype=x.dtype, device=x.device)
        x = torch.where(x > hi, 2 * hi - x, x)
        x = torch.where(x < lo, 2 * lo - x, x)
        return torch.maximum(torch.minimum(x, hi), lo)

    def langevin_step(self, x, c=None, *, step_size=None, noise_scale=None) -> torch.Tensor:
        """One unadjusted Langevin step ``x - ε ∇E(x) + noise_scale sqrt(2ε) ξ``."""
        eps = self._eps(step_size)
        sigma = float(self.noise_scale if noise_scale is None else noise_scale)
        _, grad = self._energy_and_grad(x, c)
        return self._clip(x - eps * grad + sigma * math.sqrt(2 * eps) * torch.randn_like(x)).detach()

    def langevin_sample(self, x, c=None, n_steps=None, *, step_size=None, noise_scale=None,
                        metropolis=False, return_acceptance=False):
        """Run ``n_steps`` (default ``n_langevin_steps``) Langevin steps from ``x``.

        Args:
            metropolis: accept each move with the Metropolis-Hastings probability of the
                Langevin proposal (MALA), which makes ``exp(-E)`` exactly invariant.
            return_acceptance: also return the mean acceptance probability of the moves,
                a measure of how well the step size resolves the energy.
        """
        n_steps = self.n_langevin_steps if n_steps is None else int(n_steps)
        eps = self._eps(step_size)
        sigma = float(self.noise_scale if noise_scale is None else noise_scale)
        var = 2 * eps * max(sigma, 1e-12) ** 2
        track = metropolis or return_acceptance
        e, g = self._energy_and_grad(x, c)
        accepts = []
        for t in range(n_steps):
            prop = self._clip(x - eps * g + math.sqrt(var) * torch.randn_like(x))
            if t == n_steps - 1 and not track:
                x = prop
                break
            e_p, g_p = self._energy_and_grad(prop, c)
            if track:
                log_fwd = -(prop - x + eps * g).pow(2).sum(1) / (2 * var)
                log_back = -(x - prop + eps * g_p).pow(2).sum(1) / (2 * var)
                accept_prob = (e - e_p + log_back - log_fwd).clamp(max=0).exp()
                accepts.append(accept_prob.mean())
                if metropolis:
                    keep = (torch.rand_like(e_p) < accept_prob)[:, None]
                    prop, e_p = torch.where(keep, prop, x), torch.where(keep[:, 0], e_p, e)
                    g_p = torch.where(keep, g_p, g)
            x, e, g = prop, e_p, g_p
        x = x.detach()
        if return_acceptance:
            return x, float(torch.stack(accepts).mean()) if accepts else 1.0
        return x

    # ------------------------------------------------------------------ training
    def _training_step(self, x, c, step):
        buffer = self.modules_["buffer"]
        idx = buffer.draw(len(x), c, classes=self._classes)
        x0 = buffer.x[idx]
        fresh = torch.rand(len(x), device=x.device) < self.reinit_prob
        x0 = self._clip(torch.where(fresh[:, None], torch.randn_like(x0), x0))
        x_neg, acceptance = self.langevin_sample(x0, c, return_acceptance=True)
        buffer.store(idx, x_neg, c)
        if self.step_size == "auto":
            self.modules_["sampler"].adapt(acceptance, self.target_acceptance)

        f_pos, f_neg = self._network_energy(x, c), self._network_energy(x_neg, c)
        # The prior term has no parameters; it cancels from the gradient of E(x+) - E(x-).
        cd = f_pos.mean() - f_neg.mean()
        reg = self.alpha * (f_pos.pow(2).mean() + f_neg.pow(2).mean())
        step(cd + reg)
        return {"loss": (cd + reg).item(), "cd": cd.item(), "acceptance": acceptance,
                "step_size": self._eps()}

    def _validation_loss(self, x, c):
        # Contrastive-divergence estimate of -log p(x) up to a constant: the energy of held-out
        # rows minus the mean energy of the persistent model samples.
        buffer = self.modules_["buffer"]
        n = min(len(buffer.x), 2048)
        if c is None:
            e_neg = self.energy(buffer.x[:n], None).mean()
        else:
            idx = buffer.draw(len(x), c, classes=self._classes)
            e_neg = self.energy(buffer.x[idx], c).mean()
        return self.energy(x, c) - e_neg

    # ------------------------------------------------------------------ inference
    def _log_prob(self, x, c):
        return -self.energy(x, c)

    def _sample(self, n, c):
        device = self._device()
        if self.sampling_init == "buffer":
            buffer = self.modules_["buffer"]
            x = buffer.x[buffer.draw(n, c, classes=self._classes)].clone()
        else:
            x = self._clip(torch.randn(n, self.n_features_in_, device=device))
        x = self.langevin_sample(x, c, self.n_sampling_steps, metropolis=self.metropolis)
        if self.denoise:
            x = self.langevin_step(x, c, noise_scale=0.0)
        return x


class _EnergyNet(nn.Module):
    """Scalar-output MLP ``f([x, c])``: the condition is concatenated to the input."""

    def __init__(self, in_features: int, hidden_dims, activation: str):
        super().__init__()
        self.net = MLP(in_features, 1, hidden_dims, activation=activation)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x if c is None else torch.cat([x, c], dim=1)).squeeze(1)


class _StepSize(nn.Module):
    """Langevin step size adapted during training (a registered buffer, so it is saved)."""

    def __init__(self, initial: float = 1e-3, rate: float = 0.5):
        super().__init__()
        self.rate = rate
        self.register_buffer("log_step_size", torch.tensor(math.log(initial)))

    @torch.no_grad()
    def adapt(self, acceptance: float, target: float) -> None:
        """Robbins-Monro update of ``log ε`` towards the target acceptance probability."""
        self.log_step_size += self.rate * (acceptance - target)
        self.log_step_size.clamp_(math.log(1e-6), math.log(1.0))
