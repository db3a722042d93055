"""Mask conditioning for :class:`~synthkit.domains.medical.synthesizer.ImageSynthesizer`: learn
``p(image | mask)`` and generate one image for each given label map.

``mask_mode="joint"`` models the masks as extra image channels (the model draws image + mask
pairs); ``mask_mode="condition"`` makes the masks the diffusion model's condition: each
binary mask channel becomes a map of -1 / 1 on the model grid (the image grid, or the latent
grid in latent diffusion, by area averaging as Rombach et al. 2022 downsample spatial
conditions), flattened into the core condition ``y`` ahead of any one-hot class labels. MONAI's
U-Net denoiser (``"monai-unet"`` with ``condition_channels``) concatenates the maps to the
noisy image as input channels, and declares that its condition is passed through unchanged
(``condition_standardization = "none"``), so the maps keep their values. Classifier-free
guidance keeps working: in training the whole condition (maps and class) is dropped with
probability ``cond_drop_prob``, flagged by the DDPM's extra column, which the U-Net reads as
one more constant input plane.

Paired image + mask samples drawn this way augment a segmenter's training set with masks the
user chooses (Pinaya et al. 2023; Dorjsembe et al. 2024, Med-DDPM).

References:
    Saharia et al. (2022). Palette: image-to-image diffusion models. SIGGRAPH.
    Rombach et al. (2022). High-resolution image synthesis with latent diffusion models. CVPR.
    Ho & Salimans (2021). Classifier-free diffusion guidance. arXiv:2207.12598.
    Dorjsembe et al. (2024). Conditional diffusion models for semantic 3D brain MRI synthesis.
    IEEE JBHI.
"""

from __future__ import annotations

import numpy as np

MASK_MODES = ("joint", "condition")


def check_mask_mode(mask_mode, backbone_name: str | None) -> str:
    """``mask_mode`` validated; ``"condition"`` needs the diffusion backbone (the maps enter its
    U-Net denoiser as image channels)."""
    if mask_mode not in MASK_MODES:
        raise ValueError(f"mask_mode must be one of {MASK_MODES}, got {mask_mode!r}.")
    if mask_mode == "condition" and backbone_name != "diffusion":
        raise ValueError(f"mask_mode='condition' feeds the masks to a diffusion denoiser as image channels; use "
                         f"backbone='diffusion', not {backbone_name!r} (or mask_mode='joint').")
    return mask_mode


def mask_planes(masks: np.ndarray) -> np.ndarray:
    """Binary masks ``(n, M, *spatial)`` as float32 maps, inside 1 and outside -1."""
    return np.where(np.asarray(masks) > 0, 1.0, -1.0).astype(np.float32)


def to_grid(planes: np.ndarray, spatial: list[int]) -> np.ndarray:
    """Maps ``(n, M, *grid)`` area-averaged onto ``spatial`` (the latent grid; unchanged if equal)."""
    import torch
    from torch.nn import functional as F

    if list(planes.shape[2:]) == list(spatial):
        return planes
    return F.interpolate(torch.as_tensor(planes), size=tuple(spatial), mode="area").numpy().astype(np.float32)


def one_hot(labels, classes: np.ndarray) -> np.ndarray:
    """One-hot rows of ``labels`` over ``classes`` (unknown labels raise)."""
    labels = np.asarray(labels).reshape(-1)
    idx = np.searchsorted(classes, labels).clip(0, len(classes) - 1)
    bad = classes[idx] != labels
    if bad.any():
        raise ValueError(f"unknown class label {labels[bad][0]!r}; the model knows {list(classes)}.")
    return np.eye(len(classes), dtype=np.float32)[idx]


def condition_rows(planes: np.ndarray, onehot: np.ndarray | None) -> np.ndarray:
    """The core condition: flat maps, then one-hot classes if any, ``(n, M * prod(grid) [+ K])``."""
    rows = planes.reshape(len(planes), -1)
    return rows if onehot is None else np.concatenate([rows, onehot], axis=1)


def sampling_labels(y, n: int, classes: np.ndarray, prior: np.ndarray, seed) -> np.ndarray:
    """Labels to draw for: ``y`` (one, or one per image), or ``n`` drawn from the training
    class frequencies (seeded by ``seed``)."""
    if y is None:
        return np.random.default_rng(seed).choice(classes, size=n, p=prior)
    y = np.asarray(y)
    if y.ndim == 0:
        return np.full(n, y.item(), dtype=classes.dtype)
    if len(y) != n:
        raise ValueError(f"y has {len(y)} labels for {n} images; give one label or one per image.")
    return y
