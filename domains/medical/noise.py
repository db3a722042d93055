"""Spatially correlated noise for images: multi-octave gradient ("simplex-style") noise.

AnoDDPM (Wyatt et al. 2022) replaces the white Gaussian noise of a DDPM by simplex noise
(Perlin 2001) summed over octaves: its energy sits at low spatial frequencies, so a partially
noised image loses whole structures the size of a lesion, and the denoiser trained on healthy
images repaints them as healthy tissue. White noise of the same variance leaves those low
frequencies almost intact, so the lesion survives denoising (Wyatt et al., fig. 2).

:func:`simplex_noise` is classic gradient (Perlin) lattice noise, the family simplex noise
belongs to, computed on a square (cubic) lattice, vectorized in torch over the batch and over
2-D or 3-D grids: random unit gradients at lattice points, the quintic fade
``6f^5 - 15f^4 + 10f^3`` between them, a random sub-cell offset per draw, octave ``k`` at
``frequency * 2^k`` cells across the image with amplitude ``persistence^k`` (Wyatt et al.:
6 octaves, persistence 0.8 at 256 px). Each draw is standardized to zero mean and unit
variance over its voxels, so it can stand in for ``N(0, I)`` in ``q(x_t | x_0)``.
Importing this module registers it as the DDPM forward noise ``"simplex"``
(:mod:`synthkit.backbones.diffusion.noise`).

References:
    Wyatt, Leach, Schmon & Willcocks (2022). AnoDDPM: anomaly detection with denoising
    diffusion probabilistic models using simplex noise. CVPR Workshops.
    Perlin (1985). An image synthesizer. SIGGRAPH; Perlin (2002). Improving noise. SIGGRAPH.

Example:
    >>> import torch
    >>> x = simplex_noise((4, 1, 32, 32), generator=torch.Generator().manual_seed(0))
    >>> x.shape, abs(round(float(x.mean()), 4)), round(float(x.std(unbiased=False)), 3)
    (torch.Size([4, 1, 32, 32]), 0.0, 1.0)
"""

from __future__ import annotations

import itertools
import math

import torch

from synthkit.backbones.diffusion.noise import register_noise
from synthkit.validation import check_count, check_fraction, check_positive

NOISES = ("gaussian", "simplex")


def simplex_noise(shape, *, octaves: int = 4, frequency: float = 2.0, persistence: float = 0.8,
                  generator: torch.Generator | None = None, device=None, dtype=torch.float32) -> torch.Tensor:
    """Draw multi-octave gradient noise of ``shape`` ``(n, C, *spatial)`` (2 or 3 spatial axes).

    Args:
        shape: ``(n, C, H, W)`` or ``(n, C, D, H, W)``; each ``(n, C)`` map is an independent draw.
        octaves: number of octaves (>= 1).
        frequency: lattice cells across the largest spatial side at the first octave (> 0).
        persistence: amplitude ratio of successive octaves, in (0, 1].
        generator: torch generator (``None``: torch's global RNG, so ``torch.manual_seed`` seeds it).
        device, dtype: of the result.

    Returns:
        Noise with zero mean and unit variance over the voxels of each map.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (4, 5) or min(shape) < 1:
        raise ValueError(f"shape must be (n, C, H, W) or (n, C, D, H, W) with positive sizes, got {shape!r}.")
    check_count("octaves", octaves)
    check_positive("frequency", frequency)
    check_fraction("persistence", persistence, one_ok=True)
    n, spatial = shape[0] * shape[1], shape[2:]
    device = torch.device("cpu") if device is None else torch.device(device)
    total = torch.zeros((n, *spatial), dtype=torch.float64)
    for k in range(octaves):
        total += persistence**k * _gradient_noise(n, spatial, frequency * 2**k, generator)
    flat = total.reshape(n, -1)
    flat = (flat - flat.mean(1, keepdim=True)) / flat.std(1, unbiased=False, keepdim=True).clamp_min(1e-12)
    return flat.reshape(shape).to(device=device, dtype=dtype)


def _gradient_noise(n: int, spatial: tuple[int, ...], cells: float, generator) -> torch.Tensor:
    """One octave: Perlin noise with ``cells`` lattice cells across the largest side (float64)."""
    D, side = len(spatial), max(spatial)
    step = cells / side  # lattice units per voxel, the same on every axis (isotropic)
    offset = torch.rand(n, D, generator=generator, dtype=torch.float64)  # random sub-cell shift per draw
    coords = [torch.arange(s, dtype=torch.float64) * step for s in spatial]
    size = [int(math.floor((s - 1) * step + 1)) + 2 for s in spatial]  # lattice points per axis
    grads = torch.randn(n, *size, D, generator=generator, dtype=torch.float64)
    grads = grads / grads.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    # p[b, ..., a]: position of every voxel along axis a, shifted per draw
    grid = torch.stack(torch.meshgrid(*coords, indexing="ij"), dim=-1)  # (*spatial, D)
    p = grid.unsqueeze(0) + offset.reshape(n, *([1] * D), D)
    cell = p.floor().long()
    f = p - cell
    fade = f * f * f * (f * (f * 6 - 15) + 10)
    batch = torch.arange(n).reshape(n, *([1] * D))
    out = torch.zeros((n, *spatial), dtype=torch.float64)
    for corner in itertools.product((0, 1), repeat=D):
        c = torch.tensor(corner, dtype=torch.float64)
        idx = [cell[..., a] + corner[a] for a in range(D)]
        g = grads[(batch, *idx)]  # (n, *spatial, D)
        dot = (g * (f - c)).sum(-1)
        weight = torch.prod(torch.where(c.bool(), fade, 1 - fade), dim=-1)
        out += weight * dot
    return out


class SimplexNoise:
    """DDPM forward noise for rows that hold images of ``image_shape`` ``[C, *spatial]``:
    ``f(x)`` draws :func:`simplex_noise` for each row (torch's global RNG) on ``x``'s device.

    Registered as ``"simplex"``: ``DDPM(forward_noise={"name": "simplex", "image_shape": [1, 32, 32]})``.
    """

    def __init__(self, image_shape, octaves: int = 4, frequency: float = 2.0, persistence: float = 0.8):
        self.image_shape = [int(s) for s in image_shape]
        if len(self.image_shape) not in (3, 4):
            raise ValueError(f"simplex noise needs image_shape [C, H, W] or [C, D, H, W], got {image_shape!r}.")
        check_count("octaves", octaves)
        if not (frequency > 0 and 0 < persistence <= 1):
            raise ValueError(f"simplex noise needs frequency > 0 and persistence in (0, 1], got {frequency!r}, "
                             f"{persistence!r}.")
        self.octaves, self.frequency, self.persistence = octaves, float(frequency), float(persistence)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        d = math.prod(self.image_shape)
        if x.shape[-1] != d:
            raise ValueError(f"simplex noise for image_shape {self.image_shape} ({d} values per row) got rows of "
                             f"{x.shape[-1]} values.")
        noise = simplex_noise((x.numel() // d, *self.image_shape), octaves=self.octaves, frequency=self.frequency,
                              persistence=self.persistence, device=x.device, dtype=x.dtype)
        return noise.reshape(x.shape)


register_noise("simplex", SimplexNoise)


def check_noise(name: str) -> str:
    """``name`` if it is one of :data:`NOISES`, else a ``ValueError`` naming the choices."""
    if name not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {name!r}.")
    return name
