"""MONAI networks as registered synthkit networks, for rows that hold images.

A core backbone sees flat rows ``(n, C * prod(spatial))``; these thin wrappers reshape them
to ``(n, C, *spatial)`` for MONAI's networks and back, and translate synthkit's condition
(a float vector) into what MONAI takes. Registering them here (on import of
``synthkit.domains.medical``, which :class:`~synthkit.domains.medical.synthesizer.ImageSynthesizer`
imports) keeps the core free of the domain: a saved model names the network
(``{"name": "monai-unet", "image_shape": [1, 32, 32], ...}``), JSON parameters and safetensors
weights, and loading it imports the synthesizer's module, which registers them again.

=====================  =========  ==========================================================
name                   role       network
=====================  =========  ==========================================================
``"monai-unet"``       denoiser   MONAI ``DiffusionModelUNet`` (Pinaya et al. 2023), on
                                  images or on latents (latent diffusion); label maps
                                  as extra input channels (``condition_channels``)
``"monai-patch"``      critic     MONAI ``PatchDiscriminator`` (PatchGAN, Isola et al. 2017)
``"image-conv"``       generator, synthkit's conv networks (:mod:`synthkit.nn.conv`,
                       critic,    :mod:`synthkit.nn.unet`) for rows already scaled by
                       energy,    :class:`~synthkit.domains.medical.preprocess.ImagePreprocessor`
                       denoiser
=====================  =========  ==========================================================

All of them declare ``row_standardization = "none"``: the preprocessor already gives each
channel one percentile intensity scale (to [-1, 1]), which the base then leaves alone
(:func:`synthkit.nn.networks.row_standardization`), instead of standardizing every pixel on
its own.

References:
    Ho, Jain & Abbeel (2020). Denoising diffusion probabilistic models. NeurIPS.
    Pinaya et al. (2023). Generative AI for medical imaging: extending the MONAI framework.
    arXiv:2307.15208.
    Isola et al. (2017). Image-to-image translation with conditional adversarial networks. CVPR.
    Saharia et al. (2022). Palette: image-to-image diffusion models. SIGGRAPH.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from synthkit.nn.conv import ConvCritic, ConvGenerator, _image_shape
from synthkit.nn.networks import register_network
from synthkit.nn.unet import UNetDenoiser


class MonaiUNetDenoiser(nn.Module):
    """``f(x_t, t, c) -> (n, d)``: MONAI's ``DiffusionModelUNet`` over flat image rows.

    The condition synthkit's DDPM passes is ``[condition * keep, 1 - keep]`` (the last
    column flags a dropped condition, for classifier-free guidance). Two kinds of condition
    reach the U-Net:

    * **label maps** (``condition_channels > 0``): the first ``condition_channels *
      prod(spatial)`` columns of ``c`` are maps on the image grid (masks as -1 / 1),
      concatenated to the noisy image as input channels together with one constant plane of
      the dropped flag (conditioning by concatenation, as MONAI's tutorials condition on
      masks; Saharia et al. 2022). The class declares ``condition_standardization = "none"``,
      so the base passes the maps through unchanged instead of z-scoring every pixel.
    * **class labels**: the remaining columns are one-hot classes; MONAI's class embedding
      takes integer labels, so row ``i`` gets label ``argmax`` of its one-hot part, or the
      extra label ``n_classes`` ("no condition") where it is dropped.

    Other continuous conditions are refused (MONAI has no input for them short of
    cross-attention; use ``"image-conv"``).

    Args:
        in_features, out_features: row width ``prod(image_shape)`` (both).
        condition_dim: width of ``c`` including the dropped flag (0 for none).
        n_timesteps: the diffusion's steps; ``t`` is scaled by ``1000 / n_timesteps``.
        image_shape: ``(channels, *spatial)`` of one row (2-D or 3-D).
        channels: feature widths per resolution (each divisible by ``norm_num_groups``).
        condition_channels: label-map channels at the start of ``c`` (0: none).
        num_res_blocks, attention_levels, norm_num_groups, num_head_channels: as MONAI's.

    Example:
        >>> net = MonaiUNetDenoiser(256, 256, condition_dim=3, image_shape=(1, 16, 16), channels=(8, 16))
        >>> net(torch.zeros(2, 256), torch.tensor([0, 9]), torch.tensor([[1., 0, 0], [0, 0, 1]])).shape
        torch.Size([2, 256])
        >>> net = MonaiUNetDenoiser(256, 256, condition_dim=257, image_shape=(1, 16, 16), channels=(8, 16),
        ...                         condition_channels=1)
        >>> net(torch.zeros(2, 256), torch.tensor([0, 9]), torch.zeros(2, 257)).shape
        torch.Size([2, 256])
    """

    row_standardization = "none"
    condition_standardization = "none"

    def __init__(self, in_features: int, out_features: int, condition_dim: int = 0, n_timesteps: int = 1000, *,
                 image_shape: Sequence[int], channels: Sequence[int] = (16, 32), condition_channels: int = 0,
                 num_res_blocks: int = 1, attention_levels: Sequence[bool] | None = None, norm_num_groups: int = 8,
                 num_head_channels: int = 8):
        super().__init__()
        from monai.networks.nets import DiffusionModelUNet

        if out_features != in_features:
            raise ValueError(f"a U-Net predicts one value per pixel; out_features={out_features} != "
                             f"in_features={in_features}.")
        self.image_shape = _image_shape(image_shape, in_features)
        channels = tuple(int(c) for c in channels)
        if any(c % norm_num_groups for c in channels):
            raise ValueError(f"every width in channels={channels} must be divisible by norm_num_groups="
                             f"{norm_num_groups}.")
        factor = 2 ** (len(channels) - 1)
        if any(s % factor for s in self.image_shape[1:]):
            raise ValueError(f"the spatial sizes {self.image_shape[1:]} must be divisible by {factor} for "
                             f"{len(channels)} channel widths; give fewer channels.")
        levels = tuple(attention_levels) if attention_levels is not None else (False,) * len(channels)
        self.condition_dim = int(condition_dim)
        self.condition_channels = int(condition_channels)
        self.map_columns = self.condition_channels * math.prod(self.image_shape[1:])
        if self.condition_channels and self.condition_dim < self.map_columns + 1:
            raise ValueError(f"condition_channels={self.condition_channels} needs a condition of at least "
                             f"{self.map_columns} map columns plus the dropped flag; got condition_dim="
                             f"{self.condition_dim} (give the label maps as the condition).")
        # one-hot classes and the dropped flag after the maps (the flag alone: no classes)
        label_columns = self.condition_dim - self.map_columns
        self.n_labels = label_columns if label_columns > 1 else 0  # classes + "no condition"
        extra = self.condition_channels + 1 if self.condition_channels else 0
        self.time_scale = 1000.0 / n_timesteps
        self.unet = DiffusionModelUNet(
            spatial_dims=len(self.image_shape) - 1, in_channels=self.image_shape[0] + extra,
            out_channels=self.image_shape[0], channels=channels, attention_levels=levels,
            num_res_blocks=num_res_blocks, norm_num_groups=norm_num_groups, num_head_channels=num_head_channels,
            num_class_embeds=self.n_labels or None)

    def class_labels(self, c: torch.Tensor) -> torch.Tensor:
        """MONAI's integer labels from synthkit's ``[one-hot * keep, dropped]`` condition."""
        onehot = c[:, :-1]
        if not (((onehot == 0) | (onehot == 1)).all() and (onehot.sum(1) <= 1).all()):
            raise ValueError("the MONAI denoiser takes class labels (one-hot conditions) and label maps "
                             "(condition_channels); for other continuous conditions use denoiser_network "
                             "'image-conv'.")
        null = torch.full((len(c),), self.n_labels - 1, dtype=torch.long, device=c.device)
        return torch.where(onehot.sum(1) > 0, onehot.argmax(1), null)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        t = (t.reshape(-1).float() * self.time_scale).expand(len(x))
        h = x.reshape(len(x), *self.image_shape)
        if self.condition_channels:
            maps = c[:, : self.map_columns].reshape(len(x), self.condition_channels, *self.image_shape[1:])
            flag = c[:, -1:].reshape(len(x), 1, *(1,) * (h.dim() - 2)).expand(-1, -1, *h.shape[2:])
            h = torch.cat([h, maps.to(h.dtype), flag.to(h.dtype)], dim=1)
        labels = self.class_labels(c[:, self.map_columns :]) if self.n_labels else None
        out = self.unet(h, t, class_labels=labels)
        return out.reshape(len(x), -1)


class MonaiPatchCritic(nn.Module):
    """``f(x, c) -> (n,)``: MONAI's ``PatchDiscriminator`` over flat image rows, the mean of its
    patch logits. A condition enters as constant extra input channels (one per column of
    ``c``: one-hot classes or continuous values). Instance normalization keeps rows
    independent (per-row gradient penalties stay valid).

    Args:
        in_features: row width ``prod(image_shape)``.
        out_features: must be 1.
        condition_dim: width of ``c`` (0 for none).
        projection: accepted for the critic role's contract (``c`` enters as channels).
        image_shape: ``(channels, *spatial)`` of one row.
        channels: width of the first layer (doubled per layer, as MONAI's).
        num_layers_d: stride-2 layers (default: as many as keep the patch grid at least 2 wide).

    Example:
        >>> MonaiPatchCritic(256, 1, condition_dim=2, image_shape=(1, 16, 16))(torch.zeros(3, 256), torch.eye(2)[[0, 1, 0]]).shape
        torch.Size([3])
    """

    row_standardization = "none"

    def __init__(self, in_features: int, out_features: int = 1, condition_dim: int = 0, projection: bool = True, *,
                 image_shape: Sequence[int], channels: int = 16, num_layers_d: int | None = None):
        super().__init__()
        from monai.networks.nets import PatchDiscriminator

        if out_features != 1:
            raise ValueError(f"a critic outputs one value per row; out_features={out_features}.")
        self.image_shape = _image_shape(image_shape, in_features)
        smallest = min(self.image_shape[1:])
        if num_layers_d is None:
            num_layers_d = max(1, min(3, int(smallest).bit_length() - 3))  # 16 px: 2 layers
        if smallest < 2 ** (num_layers_d + 1):
            raise ValueError(f"num_layers_d={num_layers_d} needs every spatial size to be at least "
                             f"{2 ** (num_layers_d + 1)}, got {self.image_shape[1:]}.")
        self.condition_dim = int(condition_dim)
        self.net = PatchDiscriminator(spatial_dims=len(self.image_shape) - 1, channels=int(channels),
                                      in_channels=self.image_shape[0] + self.condition_dim, out_channels=1,
                                      num_layers_d=int(num_layers_d), norm="INSTANCE", bias=True)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = x.reshape(len(x), *self.image_shape)
        if self.condition_dim:
            planes = c.reshape(*c.shape, *(1,) * (h.dim() - 2)).expand(-1, -1, *h.shape[2:])
            h = torch.cat([h, planes.to(h.dtype)], dim=1)
        return self.net(h)[-1].flatten(1).mean(1)


class ImageUNetDenoiser(UNetDenoiser):
    """synthkit's U-Net denoiser on rows the preprocessor scaled (no per-pixel standardization)."""

    row_standardization = "none"


class ImageConvCritic(ConvCritic):
    """synthkit's conv critic / energy on rows the preprocessor scaled."""

    row_standardization = "none"


class ImageConvGenerator(ConvGenerator):
    """synthkit's conv generator on rows the preprocessor scaled."""

    row_standardization = "none"


register_network("denoiser", "monai-unet", MonaiUNetDenoiser)
register_network("critic", "monai-patch", MonaiPatchCritic)
register_network("denoiser", "image-conv", ImageUNetDenoiser)
register_network("critic", "image-conv", ImageConvCritic)
register_network("energy", "image-conv", ImageConvCritic)
register_network("generator", "image-conv", ImageConvGenerator)
