"""The shared training loop with DP-SGD steps (see :mod:`synthkit.privacy.dp`).

:class:`DPTrainingLoop` is the one :class:`synthkit.training.TrainingLoop` with other
hooks, chosen for one fit through the public seam ``Generator.fit(X, y, loop=...)``:
batches are Poisson samples (each row joins a step with probability ``q``; an empty batch
still takes a noise-only step), the step clips every row's gradient and adds Gaussian
noise (Opacus ``DPOptimizer``) instead of clipping the batch gradient, the number of steps
is fixed in advance (``max_epochs / q`` or ``default_steps``) so that the noise can be
calibrated to the target ε, an accountant records the privacy spent, and early stopping
is refused. Budget by time, EMA, progress bar, history, checkpoints and resume are the
shared loop's.

Under data-parallel training (:mod:`synthkit.training.distributed`) the Poisson sample is
drawn once for all ranks (the same seeded generator), each rank clips the per-row
gradients of its slice, and Opacus' ``DistributedDPOptimizer`` adds the Gaussian noise once
(on rank 0) before the sum over ranks: the sampling rate, noise and steps, and hence the
ε spent, are those of one process.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import torch

from synthkit.privacy.per_sample import PerSampleGradients
from synthkit.training.loop import TrainingLoop, _fingerprint

ACCOUNTANTS = ("rdp", "prv")
#: Rényi orders used while searching for the noise multiplier
SEARCH_ORDERS = [1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96, 128, 256]


class DPTrainingLoop(TrainingLoop):
    """Train ``estimator.modules_`` with DP-SGD to a target ``(epsilon, delta)``.

    Args:
        estimator: the generator being fitted (``modules_`` built); one optimizer.
        epsilon, delta: the target budget.
        max_grad_norm: per-row clipping norm ``C``.
        accountant: ``"rdp"`` (Rényi DP) or ``"prv"`` (privacy random variables).
        **loop_options: ``ema_modules``, ``on_epoch_end``, ``max_time``, ``default_steps``,
            ``checkpoint_dir``, as in :class:`synthkit.training.TrainingLoop`.

    After ``run`` the estimator holds ``dp_epsilon_`` (spent), ``dp_delta_``,
    ``dp_target_epsilon_``, ``dp_noise_multiplier_``, ``dp_max_grad_norm_``,
    ``dp_sample_rate_``, ``dp_steps_`` and ``dp_accountant_``.
    """

    remedy = "private training: lower learning_rate or max_grad_norm"
    label = " (DP)"

    def __init__(self, estimator, *, epsilon, delta, max_grad_norm=1.0, accountant="rdp",
                 **loop_options):
        super().__init__(estimator, **loop_options)
        if accountant not in ACCOUNTANTS:
            raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}.")
        self.epsilon = float(epsilon)
        self.delta = float(delta)
        self.max_grad_norm = float(max_grad_norm)
        self.accountant = accountant

    def noise_plan(self, n: int) -> tuple[float, int, float]:
        """Sampling rate ``q``, planned steps and the noise multiplier that spends the target ε."""
        from opacus.accountants.utils import get_noise_multiplier

        est = self.est
        q = min(1.0, int(est.batch_size) / n)
        steps = math.ceil(int(est.max_epochs) / q) if est.max_epochs is not None else self.default_steps
        # RDP: search over a coarse grid of orders (3-4x faster); fewer orders only overstate
        # epsilon, so the noise found is enough, and the spent epsilon is then computed on
        # Opacus' full grid (typically within 1-2% below the target).
        extra = {"alphas": SEARCH_ORDERS} if self.accountant == "rdp" else {}
        with quiet():
            sigma = get_noise_multiplier(
                target_epsilon=self.epsilon, target_delta=self.delta, sample_rate=q, steps=steps,
                accountant=self.accountant, epsilon_tolerance=0.01, **extra,
            )
        return q, steps, float(sigma)

    # ------------------------------------------------------------------ hooks of the loop
    def plan(self, X: torch.Tensor, gen: torch.Generator) -> dict:
        if self.est.early_stopping:
            raise ValueError(
                "early_stopping chooses weights by their loss on held-out real rows, which DP-SGD does not "
                "account for; set early_stopping=False for private training."
            )
        n = len(X)
        q, total_steps, sigma = self.noise_plan(n)
        steps_per_epoch = max(1, round(1.0 / q))
        return {"n": n, "q": q, "sigma": sigma, "total_steps": total_steps, "steps_per_epoch": steps_per_epoch,
                "epochs": math.ceil(total_steps / steps_per_epoch), "val_idx": None}

    def fingerprint(self, X: torch.Tensor, c: torch.Tensor | None) -> list[float]:
        """Data, standardization, budget and noise plan: a checkpoint resumes only the same
        private run (the accountant's history is only valid for the same ``q`` and ``sigma``)."""
        plan = self._plan
        budget = [self.epsilon, self.delta, self.max_grad_norm, -1.0]  # -1 marks a DP checkpoint
        return _fingerprint(X, c, self.est, budget + [plan["q"], float(plan["total_steps"]), plan["sigma"]])

    @contextlib.contextmanager
    def session(self, optimizers: dict, state: dict, progress):
        """Wrap the one optimizer in Opacus' ``DPOptimizer`` with an accountant (whose
        history travels in the checkpoint) and collect per-row gradients while training."""
        from opacus.accountants import create_accountant
        from opacus.optimizers import DistributedDPOptimizer, DPOptimizer

        est, plan = self.est, self._plan
        if len(optimizers) != 1:
            raise ValueError(
                f"{type(est).__name__} trains with {len(optimizers)} optimizers ({', '.join(optimizers)}); DP-SGD "
                "here supports one-optimizer backbones (VAE, flows, autoregressive, diffusion)."
            )
        (opt_name, base_opt), = optimizers.items()
        q = plan["q"]
        # on N ranks Opacus' distributed optimizer adds the noise on rank 0 only, sums the
        # ranks' clipped gradients and divides by N x the expected share: the 1-process step
        expected = max(1, round(q * plan["n"]))
        optimizer = DistributedDPOptimizer if self.ranks.active else DPOptimizer
        dp_opt = optimizer(
            base_opt, noise_multiplier=plan["sigma"], max_grad_norm=self.max_grad_norm,
            expected_batch_size=expected / self.ranks.world_size if self.ranks.active else expected,
            loss_reduction="mean",
        )
        accountant = create_accountant(mechanism=self.accountant)
        # a resumed fit spends what an uninterrupted one does (steps before the kill count once)
        accountant.history = [tuple(h) for h in state.get("accountant_history", [])]
        dp_opt.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=q))
        self._accountant, self._dp_opt = accountant, dp_opt
        self._epsilon_at = _rdp_epsilon_curve(plan["sigma"], q, self.delta) if self.accountant == "rdp" else None
        est._optimizers = {opt_name: dp_opt}
        try:
            with quiet(), PerSampleGradients(est.modules_, type(est).__name__) as psg:
                self._psg = psg
                yield _PrivateStep(opt_name, dp_opt, psg, progress)
        finally:
            est._optimizers = optimizers
            for p in est.modules_.parameters():
                p.grad = None
            self._psg = None

    def batches(self, X: torch.Tensor, gen: torch.Generator):
        """Poisson samples: every row joins each step with probability ``q``."""
        plan, n = self._plan, len(X)
        for _ in range(min(plan["steps_per_epoch"], plan["total_steps"] - self._state["step"])):
            yield torch.nonzero(torch.rand(n, generator=gen) < plan["q"]).squeeze(1)

    def train_batch(self, x: torch.Tensor, c: torch.Tensor | None, step) -> dict:
        """One Poisson batch (this rank's slice of it): an empty one still takes a noise step."""
        rows = len(x)
        x, c = self.ranks.slice(x), None if c is None else self.ranks.slice(c)
        if self.ranks.active:  # this rank's share of the batch, for the logged means
            step.weight = len(x) / max(rows, 1)
        self._dp_opt.zero_grad(set_to_none=True)
        self._psg.start(len(x))
        if len(x) == 0:  # an empty Poisson batch: noise only, still accounted
            self._psg.fill_missing()
            self._dp_opt.step()
            return {}
        return self.est._training_step(x, c, step)

    def epoch_extras(self, X, c, state: dict, ema) -> dict:
        state["accountant_history"] = [list(h) for h in self._accountant.history]
        return {} if self._epsilon_at is None else {"epsilon": self._epsilon_at(state["step"])}

    def stop(self, state: dict) -> bool:
        return state["step"] >= self._plan["total_steps"]

    def finish(self, state: dict) -> None:
        est, plan = self.est, self._plan
        if self._epsilon_at is not None:  # the same RDP sum as the accountant's, without recomputing it
            spent = self._epsilon_at(state["step"])
        else:
            with quiet():
                spent = float(self._accountant.get_epsilon(delta=self.delta)) if state["step"] else 0.0
        est.dp_epsilon_ = spent
        est.dp_delta_ = self.delta
        est.dp_target_epsilon_ = self.epsilon
        est.dp_noise_multiplier_ = plan["sigma"]
        est.dp_max_grad_norm_ = self.max_grad_norm
        est.dp_sample_rate_ = plan["q"]
        est.dp_steps_ = int(state["step"])
        est.dp_accountant_ = self.accountant


class _PrivateStep:
    """``step(loss)`` for ``_training_step``: backward, per-row gradients, clip, noise, update.

    ``step.progress`` is the fraction of the planned budget used (steps or clock), as in the
    shared loop's step, for schedules such as KL warm-up.
    """

    def __init__(self, name: str, optimizer, per_sample: PerSampleGradients, progress):
        self.weight = 1.0  # the whole batch is this process's (no data-parallel ranks)
        self.name = name
        self.optimizer = optimizer
        self.per_sample = per_sample
        self._progress = progress

    @property
    def progress(self) -> float:
        return self._progress()

    def __call__(self, loss: torch.Tensor, name: str | None = None) -> None:
        if name not in (None, self.name):
            raise ValueError(f"unknown optimizer {name!r}; private training has only {self.name!r}.")
        loss.backward()
        self.per_sample.collect()
        self.optimizer.step()


@contextlib.contextmanager
def quiet():
    """Silence two harmless warnings: Opacus' RDP order range on short runs, and torch's note
    that a full backward hook fires on a first layer whose input needs no gradient."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        yield


def _rdp_epsilon_curve(sigma: float, q: float, delta: float):
    """``steps -> epsilon`` under RDP, cheap enough for every epoch (RDP adds up over steps)."""
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis import rdp as rdp_analysis

    orders = RDPAccountant.DEFAULT_ALPHAS
    per_step = np.asarray(rdp_analysis.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=orders))

    def epsilon_at(steps: int) -> float:
        if steps == 0:
            return 0.0
        return float(rdp_analysis.get_privacy_spent(orders=orders, rdp=per_step * steps, delta=delta)[0])

    return epsilon_at
