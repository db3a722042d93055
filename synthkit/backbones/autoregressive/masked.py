"""Masked layers for autoregressive networks over the columns of a vector (MADE).

Every unit has a *degree*: an input unit the (1-based) position of its column in the
order, a hidden unit the number of leading columns it may see. Masks keep a hidden unit
from seeing inputs of higher degree and an output unit from seeing hidden units of its
own degree or higher, so output ``j`` depends only on the columns before ``j``.

References:
    Germain, Gregor, Murray & Larochelle, "MADE: Masked Autoencoder for Distribution
    Estimation", ICML 2015.
    Nash & Durkan, "Autoregressive Energy Machines", ICML 2019 (residual MADE blocks).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from synthkit.nn import make_activation


class MaskedLinear(nn.Linear):
    """``nn.Linear`` whose weight is multiplied by a fixed 0/1 mask (out_features, in_features).

    The mask is a non-persistent buffer: it follows from the degrees, which the owner
    rebuilds from its fitted state. Initial weights are rescaled to each unit's true fan-in.
    """

    def __init__(self, mask: torch.Tensor, context_dim: int = 0):
        out_features, in_features = mask.shape
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask.float(), persistent=False)
        with torch.no_grad():
            fan_in = self.mask.sum(1, keepdim=True).clamp(min=1.0)
            self.weight.mul_(torch.sqrt(in_features / fan_in))
        self.context = nn.Linear(context_dim, out_features, bias=False) if context_dim else None

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        out = F.linear(x, self.weight * self.mask, self.bias)
        return out if self.context is None or c is None else out + self.context(c)


class MaskedResidualBlock(nn.Module):
    """``h + W2 act(W1 act(h) + V c)`` with degree-preserving masks (ResMADE)."""

    def __init__(self, mask: torch.Tensor, context_dim: int, activation: str, dropout: float):
        super().__init__()
        self.act = make_activation(activation)
        self.linear1 = MaskedLinear(mask, context_dim)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = MaskedLinear(mask)
        with torch.no_grad():  # start near the identity
            self.linear2.weight.uniform_(-1e-3, 1e-3)
            self.linear2.bias.zero_()

    def forward(self, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return h + self.linear2(self.dropout(self.act(self.linear1(self.act(h), c))))


class MADENetwork(nn.Module):
    """Masked residual network: output unit ``o`` sees input unit ``i`` only if
    ``out_degrees[o] > in_degrees[i]``; the condition ``c`` enters every layer unmasked.

    Args:
        in_degrees: degree (1-based position in the order) of each input unit.
        hidden_degrees: degree of each hidden unit (0 = sees only ``c``).
        out_degrees: degree of each output unit.
        context_dim: width of ``c`` (0 for none).
        n_blocks: residual blocks after the first masked layer.

    Example:
        >>> net = MADENetwork([1, 2], [0, 1, 1], [1, 2])
        >>> net(torch.zeros(4, 2)).shape
        torch.Size([4, 2])
    """

    def __init__(self, in_degrees, hidden_degrees, out_degrees, context_dim: int = 0, n_blocks: int = 2,
                 activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        d_in = torch.as_tensor(np.asarray(in_degrees))
        d_h = torch.as_tensor(np.asarray(hidden_degrees))
        d_out = torch.as_tensor(np.asarray(out_degrees))
        self.inp = MaskedLinear(d_h[:, None] >= d_in[None, :], context_dim)
        self.blocks = nn.ModuleList(
            MaskedResidualBlock(d_h[:, None] >= d_h[None, :], context_dim, activation, dropout)
            for _ in range(n_blocks)
        )
        self.act = make_activation(activation)
        self.out = MaskedLinear(d_out[:, None] > d_h[None, :], context_dim)
        self.register_buffer("hidden_degrees", d_h, persistent=False)

    def hidden(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.inp(x, c)
        for block in self.blocks:
            h = block(h, c)
        return self.act(h)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(self.hidden(x, c), c)
