"""MLPs that take a condition: through a learned embedding, or concatenated to the input."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from synthkit.nn.mlp import MLP


class ConditionalMLP(nn.Module):
    """``f(z, c) = MLP([z, E c])``, e.g. a conditional GAN generator.

    ``E`` is a linear map without bias: on one-hot class labels it is an embedding table
    (one learned vector per class); on continuous conditions a learned projection.

    Args:
        in_features, out_features: widths of ``z`` and of the output.
        hidden_dims, activation, norm: see :class:`~synthkit.nn.MLP`.
        condition_dim: width of ``c`` (0 for none).
        embed_dim: width of ``E c``.

    Example:
        >>> net = ConditionalMLP(4, 2, (8,), condition_dim=3, embed_dim=5)
        >>> net(torch.zeros(6, 4), torch.zeros(6, 3)).shape
        torch.Size([6, 2])
    """

    def __init__(self, in_features: int, out_features: int, hidden_dims: Sequence[int] = (256, 256), *,
                 condition_dim: int = 0, embed_dim: int = 32, activation: str = "relu", norm: str | None = None):
        super().__init__()
        self.embed = nn.Linear(condition_dim, embed_dim, bias=False) if condition_dim else None
        self.mlp = MLP(in_features + (embed_dim if condition_dim else 0), out_features, hidden_dims, activation, norm=norm)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(c)], dim=1)
        return self.mlp(z)


class ConcatMLP(MLP):
    """``f(x, c) = MLP([x, c])``: the condition (if any) concatenated to the input, e.g. the
    encoder and decoder of a conditional VAE (Sohn et al. 2015).

    ``in_features`` counts both parts. Its weights are an :class:`~synthkit.nn.MLP`'s.

    Example:
        >>> net = ConcatMLP(4 + 3, 2, (8,))
        >>> net(torch.zeros(6, 4), torch.zeros(6, 3)).shape
        torch.Size([6, 2])
    """

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x if c is None else torch.cat([x, c], dim=1))
