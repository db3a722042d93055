"""The shared training loop with DP-SGD steps (see :mod:`synthkit.privacy.dp`).

Differences from :class:`synthkit.training.TrainingLoop`: batches are Poisson samples
(each row joins a step with probability ``q``; an empty batch still takes a noise-only
step), the step clips every row's gradient and adds Gaussian noise (Opacus
``DPOptimizer``) instead of clipping the batch gradient, the number of steps is fixed in
advance (``max_epochs / q`` or ``default_steps``) so that the noise can be calibrated to
the target ε, an accountant records the privacy spent, and early stopping is refused.
Budget by time, EMA, progress bar, history, checkpoints and resume behave as in the
shared loop.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings

import numpy as np
import torch

from synthkit.privacy.per_sample import PerSampleGradients
from synthkit.training.checkpoint import Checkpointer
from synthkit.training.loop import TrainingLoop, _progress, fit_seed
from synthkit.training.progress import progress_bar

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
        ema_modules, on_epoch_end: as in :class:`synthkit.training.TrainingLoop`.

    After ``run`` the estimator holds ``dp_epsilon_`` (spent), ``dp_delta_``,
    ``dp_target_epsilon_``, ``dp_noise_multiplier_``, ``dp_max_grad_norm_``,
    ``dp_sample_rate_``, ``dp_steps_`` and ``dp_accountant_``.
    """

    def __init__(self, estimator, *, epsilon, delta, max_grad_norm=1.0, accountant="rdp",
                 ema_modules=None, on_epoch_end=None, max_time=None):
        super().__init__(estimator, ema_modules=ema_modules, on_epoch_end=on_epoch_end, max_time=max_time)
        if accountant not in ACCOUNTANTS:
            raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}.")
        self.epsilon = float(epsilon)
        self.delta = float(delta)
        self.max_grad_norm = float(max_grad_norm)
        self.accountant = accountant

    def plan(self, n: int) -> tuple[float, int, float]:
        """Sampling rate ``q``, planned steps and the noise multiplier that spends the target ε."""
        from opacus.accountants.utils import get_noise_multiplier

        est = self.est
        q = min(1.0, int(est.batch_size) / n)
        steps = math.ceil(int(est.max_epochs) / q) if est.max_epochs is not None else int(est.default_steps)
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

    def run(self, X: torch.Tensor, c: torch.Tensor | None, *, resume: bool = False) -> None:
        from opacus.accountants import create_accountant
        from opacus.optimizers import DPOptimizer

        est = self.est
        if est.early_stopping:
            raise ValueError(
                "early_stopping chooses weights by their loss on held-out real rows, which DP-SGD does not "
                "account for; set early_stopping=False for private training."
            )
        name = type(est).__name__
        device = est._device()
        seed = fit_seed(est)
        gen = torch.Generator()
        gen.manual_seed(seed)
        X = X.to(device)
        c = None if c is None else c.to(device)
        n = len(X)
        q, total_steps, sigma = self.plan(n)
        steps_per_epoch = max(1, round(1.0 / q))

        modules = est.modules_
        optimizers = est._configure_optimizers()
        if len(optimizers) != 1:
            raise ValueError(
                f"{name} trains with {len(optimizers)} optimizers ({', '.join(optimizers)}); DP-SGD here "
                "supports one-optimizer backbones (VAE, flows, autoregressive, diffusion)."
            )
        (opt_name, base_opt), = optimizers.items()
        ema = self._averages(modules)
        history: list[dict] = []
        state = {"epoch": 0, "step": 0, "elapsed": 0.0, "best": math.inf, "bad_epochs": 0}
        ckpt = Checkpointer(est.checkpoint_dir, est.checkpoint_interval,
                            fingerprint=self._fingerprint(X, c, q, total_steps, sigma), seed=seed)
        if resume:
            restored = ckpt.restore(modules, optimizers, ema, gen)
            if restored is not None:
                state, history = restored["state"], restored["history"]

        dp_opt = DPOptimizer(
            base_opt, noise_multiplier=sigma, max_grad_norm=self.max_grad_norm,
            expected_batch_size=max(1, round(q * n)), loss_reduction="mean",
        )
        accountant = create_accountant(mechanism=self.accountant)
        # the accountant's state travels in the checkpoint: a resumed fit spends what an
        # uninterrupted one does (the steps taken before the kill are counted once)
        accountant.history = [tuple(h) for h in state.get("accountant_history", [])]
        dp_opt.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=q))
        epsilon_at = _rdp_epsilon_curve(sigma, q, self.delta) if self.accountant == "rdp" else None
        est._optimizers = {opt_name: dp_opt}
        start = time.perf_counter() - state["elapsed"]
        bar = progress_bar(total=math.ceil(total_steps / steps_per_epoch), initial=state["epoch"],
                           verbose=est.verbose, desc=f"{name} (DP)")
        out_of_time = False
        try:
            with quiet(), PerSampleGradients(modules, name) as psg:
                step = _PrivateStep(
                    opt_name, dp_opt, psg,
                    lambda: _progress(state["step"], total_steps, time.perf_counter() - start, self.max_time),
                )
                while state["step"] < total_steps and not out_of_time:
                    modules.train()
                    sums: dict[str, float] = {}
                    n_batches = 0
                    for _ in range(min(steps_per_epoch, total_steps - state["step"])):
                        idx = torch.nonzero(torch.rand(n, generator=gen) < q).squeeze(1).to(device)
                        dp_opt.zero_grad(set_to_none=True)
                        psg.start(len(idx))
                        if len(idx) == 0:  # an empty Poisson batch: noise only, still accounted
                            psg.fill_missing()
                            dp_opt.step()
                        else:
                            logs = est._training_step(X[idx], None if c is None else c[idx], step)
                            n_batches += 1
                            for k, v in logs.items():
                                sums[k] = sums.get(k, 0.0) + float(v)
                        state["step"] += 1
                        if ema is not None:
                            for k, avg in ema.items():
                                avg.update_parameters(modules[k])
                        if self.max_time is not None and time.perf_counter() - start >= self.max_time:
                            out_of_time = True
                            break
                    extra = {} if epsilon_at is None else {"epsilon": epsilon_at(state["step"])}
                    self._close_epoch(state, sums, n_batches, extra, history, bar, start,
                                      remedy="private training: lower learning_rate or max_grad_norm")
                    state["accountant_history"] = [list(h) for h in accountant.history]
                    if ckpt.due():
                        ckpt.save(modules, optimizers, ema, gen, state, history, None)
                if epsilon_at is not None:  # the same RDP sum as the accountant's, without recomputing it
                    spent = epsilon_at(state["step"])
                else:
                    spent = float(accountant.get_epsilon(delta=self.delta)) if state["step"] else 0.0
        finally:
            bar.close()
            est._optimizers = optimizers
            for p in modules.parameters():
                p.grad = None

        state["accountant_history"] = [list(h) for h in accountant.history]
        self._finish(ckpt, optimizers, ema, gen, state, history, None)
        est.dp_epsilon_ = spent
        est.dp_delta_ = self.delta
        est.dp_target_epsilon_ = self.epsilon
        est.dp_noise_multiplier_ = sigma
        est.dp_max_grad_norm_ = self.max_grad_norm
        est.dp_sample_rate_ = q
        est.dp_steps_ = int(state["step"])
        est.dp_accountant_ = self.accountant

    def _fingerprint(self, X: torch.Tensor, c: torch.Tensor | None, q: float, steps: int, sigma: float) -> list[float]:
        """Data, standardization, budget and noise plan: a checkpoint resumes only the same
        private run (the accountant's history is only valid for the same ``q`` and ``sigma``)."""
        est = self.est
        parts = [float(len(X)), float(X.shape[1]), float(X.double().sum()), float((X.double() ** 2).sum())]
        parts += list(getattr(est, "mean_", [])) + list(getattr(est, "scale_", []))
        parts += [self.epsilon, self.delta, self.max_grad_norm, -1.0]  # -1 marks a DP checkpoint
        parts += [q, float(steps), sigma]
        if c is not None:
            parts += [float(c.shape[1]), float(c.double().sum())]
        return [round(p, 4) for p in np.asarray(parts, dtype=float).tolist()]


class _PrivateStep:
    """``step(loss)`` for ``_training_step``: backward, per-row gradients, clip, noise, update.

    ``step.progress`` is the fraction of the planned budget used (steps or clock), as in the
    shared loop's step, for schedules such as KL warm-up.
    """

    def __init__(self, name: str, optimizer, per_sample: PerSampleGradients, progress):
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
