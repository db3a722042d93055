"""Convolutional critic / energy and generator for small images (or signals, or volumes) given as flat rows.

A backbone sees rows; an image of shape ``(C, H, W)`` is a row of ``C * H * W`` columns
(C-order, as ``image.reshape(-1)``). These networks reshape the rows to ``image_shape``
inside, so any backbone that takes a critic, energy or generator network can model small
images with the networks the image papers use instead of an MLP: 3x3 convolutions and
stride-2 down-sampling in the critic / energy (DCGAN, Radford et al. 2016; the ConvNet
energies of Du & Mordatch 2019 and Nijkamp et al. 2019), nearest-neighbour up-sampling and
3x3 convolutions in the generator (Odena et al. 2016, which avoids the checkerboard of
transposed convolutions). One spatial dimension gives ``Conv1d`` (audio frames), two
``Conv2d``, three ``Conv3d`` (volumes).

Registered as ``"conv"`` for the ``critic``, ``energy`` and ``generator`` roles::

    EBM(energy_network={"name": "conv", "image_shape": [1, 8, 8]})
    GAN(critic_network={"name": "conv", "image_shape": [1, 8, 8]},
        generator_network={"name": "conv", "image_shape": [1, 8, 8]})

No batch statistics anywhere (per-row gradient penalties, Langevin gradients and per-row
DP-SGD gradients stay per row). A condition enters the critic / energy through a
projection head (Miyato & Koyama 2018): ``f(x, c) = w . phi(x) + (V c) . phi(x)``, which for
one-hot classes is the inner product with a learned class embedding and for continuous
conditions a bilinear term; the generator takes ``[z, c]``.

References:
    Radford, Metz & Chintala (2016). Unsupervised representation learning with deep
    convolutional generative adversarial networks. ICLR.
    Odena, Dumoulin & Olah (2016). Deconvolution and checkerboard artifacts. Distill.
    Miyato & Koyama (2018). cGANs with projection discriminator. ICLR.
    Du & Mordatch (2019). Implicit generation and modeling with energy based models. NeurIPS.
    Nijkamp, Hill, Zhu & Wu (2019). Learning non-convergent non-persistent short-run MCMC
    toward energy-based model. NeurIPS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from synthkit.nn.mlp import make_activation
from synthkit.nn.networks import register_network
from synthkit.validation import check_counts

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _image_shape(image_shape, in_features: int) -> tuple[int, ...]:
    """``image_shape`` as a tuple (channels, *spatial), checked against the row width."""
    try:
        if isinstance(image_shape, str):
            raise TypeError
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be a sequence of sizes (channels, *spatial), "
                         f"got {image_shape!r}.") from None
    if len(shape) - 1 not in _CONV or min(shape) < 1:
        raise ValueError(f"image_shape must be (channels, length), (channels, height, width) or "
                         f"(channels, depth, height, width) of positive sizes; got {image_shape!r}.")
    if math.prod(shape) != in_features:
        raise ValueError(f"image_shape {shape} holds {math.prod(shape)} values but the rows have "
                         f"{in_features} columns.")
    return shape


def _channels(channels) -> tuple[int, ...]:
    return check_counts("channels", channels)


def _coarsest(image_shape: tuple[int, ...], channels: tuple[int, ...]) -> tuple[int, ...]:
    """Spatial sizes after ``len(channels) - 1`` exact halvings (generator, U-Net); every size
    must be divisible by ``2 ** (len(channels) - 1)``."""
    factor = 2 ** (len(channels) - 1)
    if any(s % factor for s in image_shape[1:]):
        raise ValueError(f"the spatial sizes {image_shape[1:]} must be divisible by {factor} "
                         f"for {len(channels)} channel widths; give fewer channels.")
    return tuple(s // factor for s in image_shape[1:])


class ConvCritic(nn.Module):
    """``f(x, c) -> (n,)``: a convolutional critic (GAN) or energy (EBM) on rows holding images.

    ``conv3x3(C -> channels[0])``, then per further width a stride-2 ``conv4x4`` that halves
    every spatial size and a ``conv3x3``, each followed by the activation; the features
    ``phi(x)`` are flattened into a linear head, plus the projection of ``c`` onto them.

    Args:
        in_features: row width, ``prod(image_shape)``.
        out_features: must be 1 (one logit or energy per row).
        condition_dim: width of ``c`` (0 for none).
        projection: accepted for the role's contract; one-hot and continuous ``c`` both
            enter through the projection head.
        image_shape: ``(channels, *spatial)`` of one row.
        channels: feature widths; ``len(channels) - 1`` down-sampling stages.
        activation: a name from :data:`synthkit.nn.mlp.ACTIVATIONS`; smooth ``"silu"``
            by default (an energy's input gradient drives Langevin sampling).

    Example:
        >>> critic = ConvCritic(64, 1, condition_dim=3, image_shape=(1, 8, 8), channels=(8, 16))
        >>> critic(torch.zeros(5, 64), torch.eye(3)[[0, 1, 2, 0, 1]]).shape
        torch.Size([5])
    """

    def __init__(self, in_features: int, out_features: int = 1, condition_dim: int = 0, projection: bool = True, *,
                 image_shape: Sequence[int], channels: Sequence[int] = (32, 64), activation: str = "silu"):
        super().__init__()
        if out_features != 1:
            raise ValueError(f"a conv critic or energy outputs one value per row; out_features={out_features}.")
        self.image_shape = _image_shape(image_shape, in_features)
        channels = _channels(channels)
        if min(self.image_shape[1:]) < 2 ** (len(channels) - 1):
            raise ValueError(f"{len(channels) - 1} stride-2 stages need every spatial size to be "
                             f"at least {2 ** (len(channels) - 1)}, got {self.image_shape[1:]}; give fewer channels.")
        conv = _CONV[len(self.image_shape) - 1]
        layers: list[nn.Module] = [conv(self.image_shape[0], channels[0], 3, padding=1), make_activation(activation)]
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [conv(c_in, c_out, 4, stride=2, padding=1), make_activation(activation),
                       conv(c_out, c_out, 3, padding=1), make_activation(activation)]
        self.features = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            width = self.features(torch.zeros(1, *self.image_shape)).shape[1]
        self.head = nn.Linear(width, 1)
        self.embed = nn.Linear(condition_dim, width, bias=False) if condition_dim else None

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        phi = self.features(x.reshape(len(x), *self.image_shape))
        out = self.head(phi).squeeze(1)
        if self.embed is not None:
            out = out + (self.embed(c) * phi).sum(1)
        return out


class ConvGenerator(nn.Module):
    """``G(z, c) -> x``: a convolutional generator whose rows are images.

    A linear map of ``[z, c]`` to ``channels[-1]`` feature maps at the image size divided by
    ``2 ** (len(channels) - 1)``, then per stage a 2x nearest-neighbour up-sampling and two
    ``conv3x3`` (each followed by the activation) down the widths, and a last ``conv3x3`` to
    the image's channels (linear output: rows live in standardized model space).

    Args:
        in_features: latent width.
        out_features: row width, ``prod(image_shape)``.
        condition_dim: width of ``c`` (0 for none), concatenated to ``z``.
        image_shape: ``(channels, *spatial)``; every spatial size divisible by
            ``2 ** (len(channels) - 1)``.
        channels: feature widths, finest first (as the critic's).
        activation: a name from :data:`synthkit.nn.mlp.ACTIVATIONS` (ReLU, as DCGAN's generator).

    Example:
        >>> ConvGenerator(16, 64, image_shape=(1, 8, 8), channels=(8, 16))(torch.zeros(5, 16)).shape
        torch.Size([5, 64])
    """

    def __init__(self, in_features: int, out_features: int, condition_dim: int = 0, *,
                 image_shape: Sequence[int], channels: Sequence[int] = (32, 64), activation: str = "relu"):
        super().__init__()
        self.image_shape = _image_shape(image_shape, out_features)
        channels = _channels(channels)
        self.start = (channels[-1], *_coarsest(self.image_shape, channels))
        conv = _CONV[len(self.image_shape) - 1]
        self.project = nn.Sequential(nn.Linear(in_features + condition_dim, math.prod(self.start)),
                                     make_activation(activation))
        layers: list[nn.Module] = []
        for c_in, c_out in zip(channels[::-1], channels[::-1][1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), conv(c_in, c_out, 3, padding=1),
                       make_activation(activation), conv(c_out, c_out, 3, padding=1), make_activation(activation)]
        self.body = nn.Sequential(*layers, conv(channels[0], self.image_shape[0], 3, padding=1), nn.Flatten())
        self.condition_dim = condition_dim

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.condition_dim:
            z = torch.cat([z, c], dim=1)
        return self.body(self.project(z).reshape(len(z), *self.start))


register_network("critic", "conv", ConvCritic)
register_network("energy", "conv", ConvCritic)
register_network("generator", "conv", ConvGenerator)
