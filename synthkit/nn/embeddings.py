"""Embeddings of scalars such as a diffusion time step."""

from __future__ import annotations

import math

import torch
from torch import nn


class SinusoidalEmbedding(nn.Module):
    """Transformer-style sinusoidal features of a scalar (Vaswani et al., 2017; Ho et al., 2020).

    Example:
        >>> SinusoidalEmbedding(8)(torch.tensor([0.0, 10.0])).shape
        torch.Size([2, 8])
    """

    def __init__(self, dim: int, max_period: float = 10_000.0):
        super().__init__()
        if dim % 2:
            raise ValueError(f"dim must be even, got {dim}.")
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = t.float().reshape(-1, 1) * self.freqs
        return torch.cat([args.sin(), args.cos()], dim=-1)
