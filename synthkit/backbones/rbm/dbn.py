"""Greedy layer-wise training of a deep belief net (Hinton, Osindero & Teh 2006).

Layer ``l`` is an RBM trained on the mean-field hidden probabilities of layer ``l - 1``,
each through the fit's training loop (the shared :class:`~synthkit.training.TrainingLoop`,
or the one given to ``fit(..., loop=...)``) with an equal share of the budget: ``max_time``
is split between the layers, ``max_epochs`` applies to each, the default step count is
split, and checkpoints go to ``checkpoint_dir/layer<l>``. The estimator's ``history_`` lists
every layer's epochs (each record names its ``layer``), and ``n_epochs_`` / ``n_steps_`` are
the sums.

References:
    Hinton, Osindero & Teh, "A Fast Learning Algorithm for Deep Belief Nets",
    Neural Computation 2006.
"""

from __future__ import annotations

from pathlib import Path

import torch


def train_layers(est, X: torch.Tensor, c: torch.Tensor | None) -> None:
    """Train every layer of ``est`` (an :class:`~synthkit.backbones.rbm.RBM` with
    ``hidden_layers``) in turn on the visible vectors ``X``."""
    from synthkit.training.loop import TrainingLoop

    n_layers = est._n_layers
    loop = getattr(est, "_loop", None) or TrainingLoop
    history, epochs, steps = [], 0, 0
    for layer in range(n_layers):
        est._active = layer
        est.modules_[f"chains{layer}"].reset_conditions(c, classes=est._classes)
        with torch.no_grad():
            H = up(est, X.to(est._device()), None if c is None else c.to(est._device()), layer)
        if layer > 0:
            est._layer(layer).init_from_data(H)
        try:
            loop(est, ema_modules=[f"rbm{layer}"], **layer_budget(est, layer, n_layers)).run(
                H, c, resume=getattr(est, "_resume", False))
        finally:
            del est._active
        history += [dict(record, layer=layer) for record in est.history_]
        epochs, steps = epochs + est.n_epochs_, steps + est.n_steps_
    est.history_, est.n_epochs_, est.n_steps_ = history, epochs, steps


def layer_budget(est, layer: int, n_layers: int) -> dict:
    """The training-loop options of one layer: its share of ``max_time`` and of the default
    steps (when no epoch count is given), and its own checkpoint folder."""
    budget = {}
    if est.max_time is not None:
        budget["max_time"] = est.max_time / n_layers
    if est.max_epochs is None and est.max_time is None:
        budget["default_steps"] = max(1, est.default_steps // n_layers)
    if est.checkpoint_dir is not None:
        budget["checkpoint_dir"] = str(Path(est.checkpoint_dir) / f"layer{layer}")
    return budget


def up(est, x: torch.Tensor, c: torch.Tensor | None, n_layers: int) -> torch.Tensor:
    """Mean-field up pass: hidden probabilities after the first ``n_layers`` layers."""
    for layer in range(n_layers):
        x = est._layer(layer).sample_h_given_v(x, c)[0]
    return x
