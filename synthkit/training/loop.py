"""The one training loop every gradient-trained backbone uses.

The loop owns what is the same for every family: the budget (epochs and wall-clock
seconds), shuffling and batching, a progress bar, the validation split and early
stopping, gradient clipping, an exponential moving average (EMA) of the weights,
periodic checkpoints and resume, the loss history, and data-parallel training over
``torch.distributed`` (:mod:`synthkit.training.distributed`). The family owns only its
objective, through ``estimator._training_step(x, c, step)``, where ``step(loss, name)``
back-propagates ``loss`` and applies optimizer ``name``.

:meth:`TrainingLoop.run` is a template method; a variant of training (DP-SGD in
:class:`synthkit.privacy.DPTrainingLoop`) subclasses the loop and overrides its hooks:

``plan(X, gen)``
    the budget: rows trained on, batch size, epochs and steps, anything planned before
    training (DP: the sampling rate and the noise multiplier);
``fingerprint(X, c)``
    what a checkpoint must match to be resumed;
``session(optimizers, state, progress)``
    a context manager around training that yields the ``step`` callable handed to
    ``_training_step`` (DP: wraps the optimizer in Opacus' ``DPOptimizer``);
``batches(X, gen)``
    the row indices of each (global) batch of one epoch;
``train_batch(x, c, step)``
    one batch: its logs, or ``None`` when no step was taken;
``epoch_extras(X, c, state, ema)``
    numbers recorded with each epoch (the validation loss; DP: ε spent so far);
``stop(state)``
    whether training is over before the next epoch;
``finish(state)``
    records on the estimator after training.

A loop is chosen per fit through the public seam ``Generator.fit(X, y, loop=factory)``:
``factory(estimator, **family_kwargs)`` returns the loop (a subclass of this class, or a
``functools.partial`` of one), so a family's own keywords (``ema_modules``,
``on_epoch_end``, ``max_time``) reach whichever loop runs.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from synthkit.memmap import tensor_sums
from synthkit.training.checkpoint import Checkpointer, resolve_seed
from synthkit.training.distributed import ranks
from synthkit.training.progress import progress_bar
from synthkit.training.step import Step

__all__ = ["Step", "TrainingLoop", "fit_seed"]

#: at most this many rows are held out for early stopping: the mean loss of 100,000 rows is
#: already precise to a fraction of a percent, and on a table of millions of rows a 10 % split
#: would cost a long validation pass per epoch and withhold rows from training
MAX_VALIDATION_ROWS = 100_000


class TrainingLoop:
    """Train ``estimator.modules_`` on ``(X, c)`` within the estimator's budget.

    Args:
        estimator: a fitted-in-progress :class:`synthkit.Generator` (its ``modules_`` built).
        ema_modules: names in ``modules_`` to average when ``ema_decay`` is set
            (default: all).
        on_epoch_end: optional callback ``f(epoch) -> dict`` whose numbers join the history.
        max_time: wall-clock seconds of this loop (default: the estimator's ``max_time``); a
            family that spends part of its budget after the loop passes the rest here.
        default_steps: steps when neither ``max_epochs`` nor ``max_time`` is set (default:
            the estimator's); a deep belief net gives each layer its share.
        checkpoint_dir: where this loop checkpoints (default: the estimator's
            ``checkpoint_dir``); a deep belief net gives each layer its own folder.
    """

    #: what the divergence error suggests
    remedy = "lower learning_rate or enable grad_clip"
    #: appended to the progress bar's label
    label = ""

    def __init__(self, estimator, *, ema_modules=None, on_epoch_end=None, max_time=None, default_steps=None,
                 checkpoint_dir=None):
        self.est = estimator
        self.ema_modules = list(ema_modules) if ema_modules is not None else list(estimator.modules_)
        self.on_epoch_end = on_epoch_end
        self.max_time = estimator.max_time if max_time is None else max_time
        self.default_steps = int(estimator.default_steps if default_steps is None else default_steps)
        self.checkpoint_dir = estimator.checkpoint_dir if checkpoint_dir is None else checkpoint_dir
        self.ranks = ranks()

    @staticmethod
    def standardization(estimator, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``(mean, scale)`` ``Generator.fit`` maps rows with before training (a loop
        factory may override it, e.g. with public bounds): the estimator's own by default."""
        return estimator._standardization(X)

    # ------------------------------------------------------------------ hooks
    def plan(self, X: torch.Tensor, gen: torch.Generator) -> dict:
        """The budget: the training and validation rows, batch size, epochs and total steps."""
        est = self.est
        train_idx, val_idx = self._split(len(X), gen)
        batch_size = min(int(est.batch_size), len(train_idx))
        steps_per_epoch = math.ceil(len(train_idx) / batch_size)
        epochs = self._max_epochs(steps_per_epoch)
        return {"train_idx": train_idx, "val_idx": val_idx, "batch_size": batch_size, "epochs": epochs,
                "total_steps": None if epochs is None else epochs * steps_per_epoch}

    def fingerprint(self, X: torch.Tensor, c: torch.Tensor | None) -> list[float]:
        return _fingerprint(X, c, self.est)

    @contextlib.contextmanager
    def session(self, optimizers: dict, state: dict, progress):
        """Yield the ``step`` callable of this fit (clipping, and gradients averaged over ranks)."""
        yield Step(optimizers, self.est.grad_clip, progress, ranks=self.ranks)

    def batches(self, X: torch.Tensor, gen: torch.Generator):
        """One epoch's batches: a fresh permutation of the training rows, cut by the family."""
        train_idx = self._plan["train_idx"]
        perm = train_idx[torch.randperm(len(train_idx), generator=gen, dtype=train_idx.dtype)]
        return self.est._epoch_batches(X, perm, self._plan["batch_size"], gen)

    def train_batch(self, x: torch.Tensor, c: torch.Tensor | None, step) -> dict | None:
        if len(x) < 2 * self.ranks.world_size:  # a single-row batch breaks batch statistics
            return None
        rows = len(x)
        x, c = self.ranks.slice(x), None if c is None else self.ranks.slice(c)
        step.weight = len(x) / rows  # this rank's share of the global batch
        return self.est._training_step(x, c, step)

    def epoch_extras(self, X, c, state: dict, ema) -> dict:
        """The validation loss, and early stopping's bookkeeping (``state["best"]`` etc.)."""
        est, val_idx = self.est, self._plan["val_idx"]
        if val_idx is None:
            return {}
        val = self._validate(X, c, val_idx.to(X.device), ema)
        if self.ranks.first(self._progress() < est._stopping_warmup):  # rank 0's clock decides
            pass  # the objective is still changing (e.g. KL warm-up): not comparable yet
        elif val < state["best"] - 1e-6:
            state["best"], state["bad_epochs"] = val, 0
            self.best_weights = _copy_state(est.modules_, ema)
        else:
            state["bad_epochs"] += 1
        return {"val_loss": val}

    def stop(self, state: dict) -> bool:
        epochs = self._plan["epochs"]
        if epochs is not None and state["epoch"] >= epochs:
            return True
        return self._plan["val_idx"] is not None and state["bad_epochs"] >= self.est.n_iter_no_change

    def finish(self, state: dict) -> None:
        """Records on the estimator after training (nothing beyond the history here)."""

    # ------------------------------------------------------------------ the template
    def run(self, X: torch.Tensor, c: torch.Tensor | None, *, resume: bool = False) -> None:
        est, r = self.est, self.ranks
        device = est._device()
        seed = fit_seed(est)
        gen = torch.Generator()
        gen.manual_seed(seed)
        X = X.to(device)
        c = None if c is None else c.to(device)
        self._plan = plan = self.plan(X, gen)
        modules = est.modules_
        r.broadcast_modules(modules)
        optimizers = est._configure_optimizers()
        est._optimizers = optimizers
        ema = self._averages(modules)
        history: list[dict] = []
        state = {"epoch": 0, "step": 0, "elapsed": 0.0, "best": math.inf, "bad_epochs": 0}
        self.best_weights = None
        fingerprint = self.fingerprint(X, c)
        if r.any(r.broadcast_object(fingerprint) != fingerprint):  # every rank raises, none hangs
            raise ValueError("the processes were given different training rows (their fingerprints differ from "
                             "rank 0's); every process must fit the same data.")
        ckpt = Checkpointer(self.checkpoint_dir, est.checkpoint_interval, fingerprint=fingerprint, seed=seed, ranks=r)
        if resume:
            restored = ckpt.restore(modules, optimizers, ema, gen)
            if restored is not None:
                state, history = restored["state"], restored["history"]
                self.best_weights = restored.get("best_weights")
        self._state = state
        if not (resume and ckpt.restored_rank_rng):
            r.fork_noise(seed)  # each rank draws its own in-step noise (a no-op on one process)
        start = time.perf_counter() - state["elapsed"]
        self._progress = lambda: _progress(state["step"], plan["total_steps"], time.perf_counter() - start,
                                           self.max_time)
        out_of_time = False
        bar = progress_bar(total=plan["epochs"], initial=state["epoch"], verbose=est.verbose if r.is_main else 0,
                           desc=type(est).__name__ + self.label)
        try:
            with self.session(optimizers, state, self._progress) as step:
                # a resumed fit whose budget was already spent takes no further step
                while not self.stop(state) and not self._spent(start):
                    modules.train()
                    sums: dict[str, float] = {}
                    n_batches = 0
                    for idx in self.batches(X, gen):
                        idx = idx.to(device)
                        logs = self.train_batch(X[idx], None if c is None else c[idx], step)
                        if logs is None:
                            continue
                        state["step"] += 1
                        if ema is not None:
                            for name, avg in ema.items():
                                avg.update_parameters(modules[name])
                        if logs:
                            n_batches += 1
                            for k, v in logs.items():
                                sums[k] = sums.get(k, 0.0) + float(v) * step.weight
                        if self._spent(start):
                            out_of_time = True
                            break
                    sums, n_batches = r.mean_logs(sums, n_batches)
                    extra = self.epoch_extras(X, c, state, ema)
                    self._close_epoch(state, sums, n_batches, extra, history, bar, start)
                    if r.first(ckpt.due()):
                        ckpt.save(modules, optimizers, ema, gen, state, history, self.best_weights)
                    if out_of_time:
                        break
        finally:
            bar.close()
        self._finish(ckpt, optimizers, ema, gen, state, history, self.best_weights)
        self.finish(state)

    # ------------------------------------------------------------------ budget
    def _spent(self, start: float) -> bool:
        """Whether ``max_time`` is used up (on any rank, so that all stop at the same step)."""
        return self.max_time is not None and self.ranks.any(time.perf_counter() - start >= self.max_time)

    def _max_epochs(self, steps_per_epoch: int) -> int | None:
        est = self.est
        if est.max_epochs is not None:
            return int(est.max_epochs)
        if self.max_time is not None:
            return None
        return max(1, math.ceil(self.default_steps / steps_per_epoch))

    def _split(self, n: int, gen: torch.Generator):
        est = self.est
        # 32-bit row numbers halve the one cost that grows with the rows of a memory-mapped table
        # (randperm draws the same permutation in either type)
        dtype = torch.int32 if n < 2**31 else torch.int64
        if not est.early_stopping:
            return torch.arange(n, dtype=dtype), None
        n_val = min(int(round(n * est.validation_fraction)), MAX_VALIDATION_ROWS)
        if n_val < 1 or n - n_val < 2:
            raise ValueError(
                f"early_stopping needs at least one validation row and two training rows; "
                f"{n} rows with validation_fraction={est.validation_fraction} leave none."
            )
        perm = torch.randperm(n, generator=gen, dtype=dtype)
        return perm[n_val:], perm[:n_val]

    # ------------------------------------------------------------------ parts of the template
    def _averages(self, modules) -> dict | None:
        """EMA copies of ``ema_modules`` (``None`` without ``ema_decay``)."""
        decay = self.est._ema_decay
        if decay is None:
            return None
        return {name: AveragedModel(modules[name], multi_avg_fn=get_ema_multi_avg_fn(decay)) for name in self.ema_modules}

    def _close_epoch(self, state, sums, n_batches, extra, history, bar, start) -> dict:
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
                f"{type(self.est).__name__}: training diverged at epoch {state['epoch']} ({record}); {self.remedy}."
            )
        return record

    def _finish(self, ckpt, optimizers, ema, gen, state, history, best_weights) -> None:
        """Save the raw state (so a later resume continues exactly), then keep the averaged
        or best weights and the history on the estimator."""
        est, modules = self.est, self.est.modules_
        if self.checkpoint_dir is not None:
            ckpt.save(modules, optimizers, ema, gen, state, history, best_weights)
        if ema is not None:
            for name, avg in ema.items():
                modules[name].load_state_dict(avg.module.state_dict())
        if best_weights is not None:
            modules.load_state_dict(best_weights)
        est.history_ = history
        est.n_epochs_ = state["epoch"]
        est.n_steps_ = state["step"]
        self.ranks.broadcast_modules(modules, buffers_only=True)  # what each rank adapted itself: rank 0's
        self.ranks.join_noise(int(state["step"]))  # what the family does after the loop agrees again

    @torch.no_grad()
    def _validate(self, X, c, idx: torch.Tensor, ema) -> float:
        """Mean validation loss of the kept (averaged) weights on rows ``idx``; each rank
        scores its share of the rows and the sums are all-reduced, so every rank gets the same
        number. Rows are gathered a chunk at a time (a memory-mapped ``X`` is never copied whole)."""
        est = self.est
        modules = est.modules_
        saved = None
        if ema is not None:  # validate the averaged weights, which are what will be kept
            saved = _copy_state(modules, None)
            for name, avg in ema.items():
                modules[name].load_state_dict(avg.module.state_dict())
        modules.eval()
        idx = self.ranks.slice(idx)
        losses = [torch.zeros(0)]
        step = est._inference_rows
        for lo in range(0, len(idx), step):
            rows = idx[lo : lo + step]
            losses.append(est._validation_loss(X[rows], None if c is None else c[rows]).cpu())
        if saved is not None:
            modules.load_state_dict(saved)
        modules.train()
        return self.ranks.mean_of_rows(torch.cat(losses))


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


def _fingerprint(X: torch.Tensor, c: torch.Tensor | None, est, extra=()) -> list[float]:
    """A cheap summary of the training data, so a checkpoint is resumed only on the same data.

    ``X`` is already standardized, so the standardization's means and scales join it;
    ``extra`` numbers (a DP budget) come before the conditions'.
    """
    parts = [float(len(X)), float(X.shape[1]), *tensor_sums(X)]
    parts += list(getattr(est, "mean_", [])) + list(getattr(est, "scale_", []))
    parts += list(extra)
    if c is not None:
        parts += [float(c.shape[1]), float(c.double().sum())]
    return [round(p, 4) for p in np.asarray(parts, dtype=float).tolist()]
