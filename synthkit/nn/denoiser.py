"""A denoising network for flat vectors: residual MLP with a sinusoidal time embedding."""

from __future__ import annotations

import torch
from torch import nn

from synthkit.nn.embeddings import SinusoidalEmbedding
from synthkit.nn.mlp import make_activation


class MLPDenoiser(nn.Module):
    """``f(x_t, t, c)`` for diffusion models on vectors.

    ``x_t`` is projected to a residual stream of ``width``; the time step goes through
    sinusoidal features and a two-layer MLP, the condition ``c`` (if any) through a linear
    embedding, and their sum ``e`` modulates every pre-norm residual block
    ``h + W2 act(W1 (LN(h) (1 + s(e)) + b(e)))`` (FiLM, Perez et al. 2018, as in the
    time-conditioned blocks of diffusion U-Nets).

    Args:
        in_features: width of ``x`` (and of the output).
        condition_dim: width of ``c`` (0 for none).
        width, depth: residual stream width and number of residual blocks.
        time_embed_dim: size of the sinusoidal features (even).
        activation: name from ``synthkit.nn.mlp.ACTIVATIONS``.
        time_scale: multiplies ``t`` before the sinusoidal features (e.g. ``1000 / T`` so
            any number of steps spans the same frequencies).

    Example:
        >>> net = MLPDenoiser(3, condition_dim=2, width=16, depth=1)
        >>> net(torch.zeros(5, 3), torch.arange(5), torch.zeros(5, 2)).shape
        torch.Size([5, 3])
    """

    def __init__(self, in_features: int, *, condition_dim: int = 0, width: int = 256, depth: int = 3,
                 time_embed_dim: int = 128, activation: str = "silu", time_scale: float = 1.0):
        super().__init__()
        self.time_scale = float(time_scale)
        self.inp = nn.Linear(in_features, width)
        self.time_embed = nn.Sequential(
            SinusoidalEmbedding(time_embed_dim),
            nn.Linear(time_embed_dim, width),
            make_activation(activation),
            nn.Linear(width, width),
        )
        self.cond_embed = nn.Linear(condition_dim, width) if condition_dim else None
        self.blocks = nn.ModuleList(_Block(width, activation) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width), make_activation(activation), nn.Linear(width, in_features))

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``t`` holds one step per row, or a single step shared by all rows (cheaper: the
        embedding and modulations are then computed once)."""
        e = self.time_embed(t.float() * self.time_scale)
        if self.cond_embed is not None:
            e = e + self.cond_embed(c)
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h, e)
        return self.out(h)


class _Block(nn.Module):
    """Pre-norm residual branch with FiLM modulation by the embedding ``e``."""

    def __init__(self, width: int, activation: str):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.film = nn.Sequential(make_activation(activation), nn.Linear(width, 2 * width))
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), make_activation(activation), nn.Linear(2 * width, width))

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(e).chunk(2, dim=1)
        return self.mlp(self.norm(h) * (1 + scale) + shift)
