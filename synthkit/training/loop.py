"""The one training loop every gradient-trained backbone uses.

The loop owns what is the same for every family: the budget (epochs and wall-clock
seconds), shuffling and batching, a progress bar, the validation split and early
stopping, gradient clipping, an exponential moving average (EMA) of the weights,
periodic checkpoints and resume, and the loss history. The family owns only its
objective, through ``estimator._training_step(x, c, step)``, where ``step(loss, name)``
back-propagates ``loss`` and applies optimizer ``name``.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from synthkit.training.checkpoint import Checkpointer, resolve_seed
from synthkit.training.progress import progress_bar


class TrainingLoop:
    """Train ``estimator.modules_`` on ``(X, c)`` within the estimator's budget.

    Args:
        estimator: a fitted-in-progress :class:`synthkit.Generator` (its ``modules_`` built).
        ema_modules: names in ``modules_`` to average when ``ema_decay`` is set
            (default: all).
        on_epoch_end: optional callback ``f(epoch) -> dict`` whose numbers join the history.
        max_time: wall-clock seconds of this loop (default: the estimator's ``max_time``); a
            family that spends part of its budget after the loop passes the rest here.
    """

    def __init__(self, estimator, *, ema_modules=None, on_epoch_end=None, max_time=None):
        self.est = estimator
        self.ema_modules = list(ema_modules) if ema_modules is not None else list(estimator.modules_)
        self.on_epoch_end = on_epoch_end
        self.max_time = estimator.max_time if max_time is None else max_time

    # ------------------------------------------------------------------ budget
    def _max_epochs(self, steps_per_epoch: int) -> int | None:
        est = self.est
        if est.max_epochs is not None:
            return int(est.max_epochs)
        if self.max_time is not None:
            return None
        return max(1, math.ceil(est.default_steps / steps_per_epoch))

    def _split(self, n: int, gen: torch.Generator):
        est = self.est
        if not est.early_stopping:
            return torch.arange(n), None
        n_val = int(round(n * est.validation_fraction))
        if n_val < 1 or n - n_val < 2:
            raise ValueError(
                f"early_stopping needs at least one validation row and two training rows; "
                f"{n} rows with validation_fraction={est.validation_fraction} leave none."
            )
        perm = torch.randperm(n, generator=gen)
        return perm[n_val:], perm[:n_val]

    # ------------------------------------------------------------------ run
    def run(self, X: torch.Tensor, c: torch.Tensor | None, *, resume: bool = False) -> None:
        est = self.est
        device = est._device()
        seed = fit_seed(est)
        gen = torch.Generator()
        gen.manual_seed(seed)

        train_idx, val_idx = self._split(len(X), gen)
        X = X.to(device)
        c = None if c is None else c.to(device)
        n_train = len(train_idx)
        batch_size = min(int(est.batch_size), n_train)
        steps_per_epoch = math.ceil(n_train / batch_size)
        max_epochs = self._max_epochs(steps_per_epoch)

        modules = est.modules_
        optimizers = est._configure_optimizers()
        est._optimizers = optimizers
        ema = self._averages(modules)

        history: list[dict] = []
        state = {"epoch": 0, "step": 0, "elapsed": 0.0, "best": math.inf, "bad_epochs": 0}
        best_weights = None
        ckpt = Checkpointer(est.checkpoint_dir, est.checkpoint_interval, fingerprint=_fingerprint(X, c, est),
                            seed=seed)
        if resume:
            restored = ckpt.restore(modules, optimizers, ema, gen)
            if restored is not None:
                state, history = restored["state"], restored["history"]
                best_weights = restored.get("best_weights")

        start = time.perf_counter() - state["elapsed"]
        total_steps = None if max_epochs is None else max_epochs * steps_per_epoch
        step = Step(optimizers, est.grad_clip, lambda: _progress(state["step"], total_steps,
                                                                time.perf_counter() - start, self.max_time))
        out_of_time = False
        bar = progress_bar(total=max_epochs, initial=state["epoch"], verbose=est.verbose, desc=type(est).__name__)
        try:
            while max_epochs is None or state["epoch"] < max_epochs:
                modules.train()
                perm = train_idx[torch.randperm(n_train, generator=gen)]
                sums: dict[str, float] = {}
                n_batches = 0
                for idx in est._epoch_batches(X, perm, batch_size, gen):
                    idx = idx.to(device)
                    if len(idx) < 2:  # a single-row batch breaks batch statistics
                        continue
                    logs = est._training_step(X[idx], None if c is None else c[idx], step)
                    state["step"] += 1
                    n_batches += 1
                    if ema is not None:
                        for name, avg in ema.items():
                            avg.update_parameters(modules[name])
                    for k, v in logs.items():
                        sums[k] = sums.get(k, 0.0) + float(v)
                    if self.max_time is not None and time.perf_counter() - start >= self.max_time:
                        out_of_time = True
                        break
                extra = {}
                if val_idx is not None:
                    val = self._validate(X[val_idx.to(device)], None if c is None else c[val_idx.to(device)], ema)
                    extra["val_loss"] = val
                    if step.progress < est._stopping_warmup:
                        pass  # the objective is still changing (e.g. KL warm-up): not comparable yet
                    elif val < state["best"] - 1e-6:
                        state["best"], state["bad_epochs"] = val, 0
                        best_weights = _copy_state(modules, ema)
                    else:
                        state["bad_epochs"] += 1
                self._close_epoch(state, sums, n_batches, extra, history, bar, start,
                                  remedy="lower learning_rate or enable grad_clip")
                if ckpt.due():
                    ckpt.save(modules, optimizers, ema, gen, state, history, best_weights)
                if out_of_time:
                    break
                if val_idx is not None and state["bad_epochs"] >= est.n_iter_no_change:
                    break
        finally:
            bar.close()

        self._finish(ckpt, optimizers, ema, gen, state, history, best_weights)

    # ------------------------------------------------------------------ shared by the loops
    def _averages(self, modules) -> dict | None:
        """EMA copies of ``ema_modules`` (``None`` without ``ema_decay``)."""
        decay = self.est._ema_decay
        if decay is None:
            return None
        return {name: AveragedModel(modules[name], multi_avg_fn=get_ema_multi_avg_fn(decay)) for name in self.ema_modules}

    def _close_epoch(self, state, sums, n_batches, extra, history, bar, start, *, remedy: str) -> dict:
        """Count the epoch, record its mean logs, ``extra`` and the callback's numbers, show
        them, and raise if any is not finite (``remedy`` says what to try)."""
        state["epoch"] += 1
        record = {"epoch": state["epoch"], "step": state["step"]}
        record.update({k: v / max(n_batches, 1) for k, v in sums.items()})
        record.update(extra)
        if self.on_epoch_end is not None:
            record.update(self.on_epoch_end(state["epoch"]))
        state["elapsed"] = time.perf_counter() - start
        record["seconds"] = state["elapsed"]
        history.append(record)
        bar.update(1)
        bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k not in ("epoch", "step", "seconds")})
        if not all(math.isfinite(v) for v in record.values()):
            raise FloatingPointError(
                f"{type(self.est).__name__}: training diverged at epoch {state['epoch']} ({record}); {remedy}."
            )
        return record

    def _finish(self, ckpt, optimizers, ema, gen, state, history, best_weights) -> None:
        """Save the raw state (so a later resume continues exactly), then keep the averaged
        or best weights and the history on the estimator."""
        est, modules = self.est, self.est.modules_
        if est.checkpoint_dir is not None:
            ckpt.save(modules, optimizers, ema, gen, state, history, best_weights)
        if ema is not None:
            for name, avg in ema.items():
                modules[name].load_state_dict(avg.module.state_dict())
        if best_weights is not None:
            modules.load_state_dict(best_weights)
        est.history_ = history
        est.n_epochs_ = state["epoch"]
        est.n_steps_ = state["step"]

    @torch.no_grad()
    def _validate(self, X, c, ema) -> float:
        est = self.est
        modules = est.modules_
        saved = None
        if ema is not None:  # validate the averaged weights, which are what will be kept
            saved = _copy_state(modules, None)
            for name, avg in ema.items():
                modules[name].load_state_dict(avg.module.state_dict())
        modules.eval()
        losses = []
        step = est._inference_rows
        for lo in range(0, len(X), step):
            cb = None if c is None else c[lo : lo + step]
            losses.append(est._validation_loss(X[lo : lo + step], cb))
        if saved is not None:
            modules.load_state_dict(saved)
        modules.train()
        return float(torch.cat(losses).mean())


class Step:
    """``step(loss, name="model")``: back-propagate, clip and apply optimizer ``name``.

    ``step.progress`` is the fraction of the training budget used so far (by steps or by
    the clock, whichever is further along), for annealing schedules such as KL warm-up.
    """

    def __init__(self, optimizers: dict, grad_clip, progress):
        self.optimizers = optimizers
        self.grad_clip = grad_clip
        self._progress = progress
        self._params = {k: [p for g in o.param_groups for p in g["params"]] for k, o in optimizers.items()}

    @property
    def progress(self) -> float:
        return self._progress()

    def __call__(self, loss: torch.Tensor, name: str = "model") -> None:
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self._params[name], self.grad_clip)
        opt.step()


def fit_seed(est) -> int:
    """The seed of the fit in progress: ``fit_seed_`` (drawn once by ``Generator.fit`` and
    reused on resume), else one resolved from ``random_state``."""
    seed = getattr(est, "fit_seed_", None)
    return int(seed) if seed is not None else resolve_seed(est.random_state)


def _progress(step: int, total_steps: int | None, elapsed: float, max_time: float | None) -> float:
    fractions = [step / total_steps] if total_steps else []
    if max_time:
        fractions.append(elapsed / max_time)
    return min(1.0, max(fractions)) if fractions else 0.0


def _copy_state(modules: torch.nn.Module, ema) -> dict:
    state = copy.deepcopy(modules.state_dict())
    if ema is not None:
        for name, avg in ema.items():
            for k, v in avg.module.state_dict().items():
                state[f"{name}.{k}"] = v.detach().clone()
    return state


def _fingerprint(X: torch.Tensor, c: torch.Tensor | None, est) -> list[float]:
    """A cheap summary of the training data, so a checkpoint is resumed only on the same data.

    ``X`` is already standardized, so the standardization's means and scales join it.
    """
    parts = [float(len(X)), float(X.shape[1]), float(X.double().sum()), float((X.double() ** 2).sum())]
    parts += list(getattr(est, "mean_", [])) + list(getattr(est, "scale_", []))
    if c is not None:
        parts += [float(c.shape[1]), float(c.double().sum())]
    return [round(p, 4) for p in np.asarray(parts).tolist()]
