"""``step(loss, name)``: the one place a family's loss becomes a parameter update."""

from __future__ import annotations

import torch

from synthkit.training.distributed import Ranks


class Step:
    """``step(loss, name="model")``: back-propagate, average over ranks, clip, apply optimizer ``name``.

    ``step.progress`` is the fraction of the training budget used so far (by steps or by
    the clock, whichever is further along), for annealing schedules such as KL warm-up.
    ``step.weight`` is this rank's share of the global batch's rows (1 on one process):
    under data-parallel training each rank's gradient is scaled by it and summed over the
    ranks (:meth:`synthkit.training.distributed.Ranks.reduce_gradients`) before clipping,
    so clipping and the update see the gradient of the global batch on every rank.
    """

    def __init__(self, optimizers: dict, grad_clip, progress, ranks: Ranks | None = None):
        self.optimizers = optimizers
        self.grad_clip = grad_clip
        self._progress = progress
        self.ranks = ranks if ranks is not None else Ranks(1, 0)
        self.weight = 1.0
        self._params = {k: [p for g in o.param_groups for p in g["params"]] for k, o in optimizers.items()}

    @property
    def progress(self) -> float:
        return self._progress()

    def __call__(self, loss: torch.Tensor, name: str = "model") -> None:
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        self.ranks.reduce_gradients(self._params[name], self.weight)
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self._params[name], self.grad_clip)
        opt.step()
