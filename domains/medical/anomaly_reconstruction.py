"""Reconstruction-error anomaly maps of an autoencoding backbone: ``|x - decode(encode(x))|``.

The autoencoder of healthy images reconstructs healthy anatomy and fails on what it never
saw, so the absolute residual of each voxel is its anomaly (Baur et al. 2021 compare this
family of detectors on brain MRI). Works with any backbone that has ``encode`` (posterior
means) and ``decode`` (decoder means): the VAE (:class:`synthkit.backbones.vae.VAE`, default).

References:
    Baur, Denner, Wiestler, Navab & Albarqouni (2021). Autoencoders for unsupervised anomaly
    segmentation in brain MR images: a comparative study. Medical Image Analysis 69.
    Kingma & Welling (2014). Auto-encoding variational Bayes. ICLR.
"""

from __future__ import annotations

import numpy as np

BACKBONES = ("vae",)
DEFAULT_BACKBONE = "vae"


def backbone_defaults(detector, image_shape: list[int]) -> dict:
    """No method-specific backbone parameters (the VAE's flat defaults)."""
    return {}


def check(backbone) -> None:
    """Refuse a fitted backbone without ``encode`` / ``decode``."""
    if not (callable(getattr(backbone, "encode", None)) and callable(getattr(backbone, "decode", None))):
        raise ValueError(f"method 'reconstruction' needs a backbone with encode() and decode() (an autoencoder: "
                         f"backbone='vae'), not {type(backbone).__name__}.")


def pixel_maps(detector, backbone, Z: np.ndarray, random_state=None) -> np.ndarray:
    """``|x - decode(encode(x))|`` per value of the model-grid images ``Z`` (deterministic:
    posterior means in, decoder means out)."""
    rows = Z.reshape(len(Z), -1).astype(np.float64)
    recon = backbone.decode(backbone.encode(rows))
    return np.abs(rows - recon).reshape(Z.shape)
