"""Multi-layer perceptrons for flat vectors, optionally conditional."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU}


def make_activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}.") from None


class MLP(nn.Sequential):
    """Linear layers with an activation between them.

    Args:
        in_features: input width.
        out_features: output width.
        hidden_dims: widths of the hidden layers.
        activation: name from ``ACTIVATIONS``.
        dropout: dropout after each hidden activation.
        norm: ``"layer"`` adds LayerNorm before each hidden activation.

    Example:
        >>> MLP(3, 2, hidden_dims=(8,))(torch.zeros(5, 3)).shape
        torch.Size([5, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_dims: Sequence[int] = (256, 256),
        activation: str = "silu",
        dropout: float = 0.0,
        norm: str | None = None,
    ):
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden_dims:
            layers.append(nn.Linear(width, h))
            if norm == "layer":
                layers.append(nn.LayerNorm(h))
            layers.append(make_activation(activation))
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)


class ResidualMLP(nn.Module):
    """Pre-norm residual blocks ``x + W2 act(W1 LN(x))`` (the TabDDPM / TabSyn style denoiser body).

    Args:
        in_features, out_features: input and output widths.
        width: width of the residual stream.
        depth: number of residual blocks.
        activation: name from ``ACTIVATIONS``.
        dropout: dropout inside each block.

    Example:
        >>> ResidualMLP(3, 2, width=16, depth=2)(torch.zeros(5, 3)).shape
        torch.Size([5, 2])
    """

    def __init__(self, in_features: int, out_features: int, width: int = 256, depth: int = 3,
                 activation: str = "silu", dropout: float = 0.0):
        super().__init__()
        self.inp = nn.Linear(in_features, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(width),
                nn.Linear(width, 2 * width),
                make_activation(activation),
                nn.Dropout(dropout),
                nn.Linear(2 * width, width),
            )
            for _ in range(depth)
        )
        self.out = nn.Sequential(nn.LayerNorm(width), make_activation(activation), nn.Linear(width, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)
