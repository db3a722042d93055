"""A small U-Net denoiser for diffusion on images (or signals, or volumes) given as flat rows.

Registered as ``"conv"`` for the ``denoiser`` role, beside the conv critic, energy and
generator of :mod:`synthkit.nn.conv`::

    DDPM(denoiser_network={"name": "conv", "image_shape": [1, 8, 8]})

The denoising network of Ho et al. (2020), shrunk to small images: per resolution a residual
block (GroupNorm, SiLU, 3x3 convolutions; the time step's embedding added between the
convolutions), a stride-2 convolution down, the same back up with nearest-neighbour
up-sampling and the skip connection of each resolution concatenated (Ronneberger et al.
2015). GroupNorm normalizes within a row, so rows stay independent (per-row DP-SGD
gradients stay per row). A condition ``c`` is embedded linearly and added to the time
embedding (as the class embedding of classifier-free guidance, Ho & Salimans 2022).

References:
    Ronneberger, Fischer & Brox (2015). U-Net: convolutional networks for biomedical image
    segmentation. MICCAI.
    Ho, Jain & Abbeel (2020). Denoising diffusion probabilistic models. NeurIPS.
    Ho & Salimans (2022). Classifier-free diffusion guidance. arXiv:2207.12598.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from synthkit.nn.conv import _CONV, _channels, _coarsest, _image_shape
from synthkit.nn.embeddings import SinusoidalEmbedding
from synthkit.nn.networks import register_network


def _norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 8 groups that divide ``channels``."""
    return nn.GroupNorm(math.gcd(8, channels), channels)


class _ResBlock(nn.Module):
    """``h + conv(act(norm(conv(act(norm(h))) + W e)))``, with a 1x1 convolution on the skip
    when the widths differ."""

    def __init__(self, conv, c_in: int, c_out: int, embed_dim: int):
        super().__init__()
        self.first = nn.Sequential(_norm(c_in), nn.SiLU(), conv(c_in, c_out, 3, padding=1))
        self.embed = nn.Linear(embed_dim, c_out)
        self.second = nn.Sequential(_norm(c_out), nn.SiLU(), conv(c_out, c_out, 3, padding=1))
        self.skip = conv(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        shift = self.embed(e)
        out = self.first(h) + shift.reshape(*shift.shape, *(1,) * (h.dim() - 2))
        return self.skip(h) + self.second(out)


class UNetDenoiser(nn.Module):
    """``f(x_t, t, c) -> (n, d)``: a U-Net over rows that hold images.

    Args:
        in_features: row width, ``prod(image_shape)``.
        out_features: must equal ``in_features`` (a prediction per pixel).
        condition_dim: width of ``c`` (0 for none).
        n_timesteps: the diffusion's number of steps; ``t`` is scaled by ``1000 / n_timesteps``
            so any number of steps spans the same sinusoid frequencies.
        image_shape: ``(channels, *spatial)`` of one row; every spatial size divisible by
            ``2 ** (len(channels) - 1)``.
        channels: feature widths per resolution, finest first.
        time_embed_dim: size of the sinusoidal time features (even).

    Example:
        >>> net = UNetDenoiser(64, 64, condition_dim=3, n_timesteps=100, image_shape=(1, 8, 8), channels=(8, 16))
        >>> net(torch.zeros(5, 64), torch.arange(5), torch.zeros(5, 3)).shape
        torch.Size([5, 64])
    """

    def __init__(self, in_features: int, out_features: int, condition_dim: int = 0, n_timesteps: int = 1000, *,
                 image_shape: Sequence[int], channels: Sequence[int] = (32, 64), time_embed_dim: int = 64):
        super().__init__()
        if out_features != in_features:
            raise ValueError(f"a U-Net predicts one value per pixel; out_features={out_features} != "
                             f"in_features={in_features}.")
        self.image_shape = _image_shape(image_shape, in_features)
        channels = _channels(channels)
        _coarsest(self.image_shape, channels)  # the U-Net halves every size len(channels) - 1 times
        conv = _CONV[len(self.image_shape) - 1]
        embed_dim = 4 * channels[0]
        self.time_scale = 1000.0 / n_timesteps
        self.time_embed = nn.Sequential(SinusoidalEmbedding(time_embed_dim), nn.Linear(time_embed_dim, embed_dim),
                                        nn.SiLU(), nn.Linear(embed_dim, embed_dim))
        self.cond_embed = nn.Linear(condition_dim, embed_dim) if condition_dim else None
        self.inp = conv(self.image_shape[0], channels[0], 3, padding=1)
        self.down = nn.ModuleList(_ResBlock(conv, c, c, embed_dim) for c in channels)
        self.downsample = nn.ModuleList(conv(a, b, 3, stride=2, padding=1) for a, b in zip(channels, channels[1:]))
        self.middle = _ResBlock(conv, channels[-1], channels[-1], embed_dim)
        self.up = nn.ModuleList(_ResBlock(conv, 2 * c, c, embed_dim) for c in channels)
        self.upsample = nn.ModuleList(
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv(b, a, 3, padding=1))
            for a, b in zip(channels, channels[1:]))
        self.out = nn.Sequential(_norm(channels[0]), nn.SiLU(), conv(channels[0], self.image_shape[0], 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        e = self.time_embed(t.float() * self.time_scale).expand(len(x), -1)
        if self.cond_embed is not None:
            e = e + self.cond_embed(c)
        h = self.inp(x.reshape(len(x), *self.image_shape))
        skips = []
        for level, block in enumerate(self.down):
            h = block(h, e)
            skips.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
        h = self.middle(h, e)
        for level in reversed(range(len(self.up))):
            if level < len(self.upsample):
                h = self.upsample[level](h)
            h = self.up[level](torch.cat([h, skips[level]], dim=1), e)
        return self.out(h).flatten(1)


register_network("denoiser", "conv", UNetDenoiser)
