"""Likelihood anomaly maps: each voxel's negative log-likelihood under the model of healthy images.

Where the backbone factorizes its likelihood over voxels, the per-voxel terms form a map:

* ``"autoregressive"`` (MADE, Germain et al. 2015; default): the exact conditionals
  ``-log p(x_j | x_<j)`` in raster order (the per-feature map of its ``"likelihood"`` score
  rule; a density for real-valued voxels, a probability mass for voxels the model treats as
  discrete, e.g. constant background). Like the transformer maps of Pinaya et al. (2022),
  a voxel is judged given the voxels before it.
* ``"vae"``: the Gaussian decoder's ``-log p(x_j | z = E[z | x])`` (its own per-voxel scale:
  a residual counts more where healthy images vary little).

Other families have no per-voxel likelihood (a flow's density does not decompose over voxels,
the diffusion bound's terms are not per voxel, GAN / EBM / RBM scores are not likelihoods of
voxels) and are refused.

References:
    Germain, Gregor, Murray & Larochelle (2015). MADE: masked autoencoder for distribution
    estimation. ICML.
    Pinaya et al. (2022). Unsupervised brain imaging 3D anomaly detection and segmentation with
    transformers. Medical Image Analysis 79.
"""

from __future__ import annotations

import math

import numpy as np
import torch

BACKBONES = ("autoregressive", "vae")
DEFAULT_BACKBONE = "autoregressive"


def backbone_defaults(detector, image_shape: list[int]) -> dict:
    """No method-specific backbone parameters."""
    return {}


def check(backbone) -> None:
    """Refuse a fitted backbone with no per-voxel likelihood."""
    if _kind(backbone) is None:
        raise ValueError(f"method 'likelihood' needs a per-voxel likelihood: backbone one of {BACKBONES}, "
                         f"not {type(backbone).__name__}.")


def _kind(backbone) -> str | None:
    from synthkit.backbones.autoregressive import MADE
    from synthkit.backbones.vae import VAE

    return "autoregressive" if isinstance(backbone, MADE) else "vae" if isinstance(backbone, VAE) else None


def pixel_maps(detector, backbone, Z: np.ndarray, random_state=None) -> np.ndarray:
    """Per-value negative log-likelihood (nats, in the preprocessor's units) of the model-grid images ``Z``."""
    rows = Z.reshape(len(Z), -1).astype(np.float64)
    if _kind(backbone) == "autoregressive":
        nll = -backbone.score_rules()["likelihood"].feature_scores(rows)
    else:
        nll = backbone._score_rows(rows, lambda x: _vae_decoder_nll(backbone, x)) + np.log(backbone.scale_)[None, :]
    return nll.reshape(Z.shape)


def _vae_decoder_nll(vae, x: torch.Tensor) -> torch.Tensor:
    """``-log N(x_j; mu_j(z), s_j(z)^2)`` per column at ``z = E[z | x]`` (model space)."""
    if vae.decoder_likelihood != "gaussian" or vae.categorical_features:
        raise ValueError("method 'likelihood' with a VAE needs decoder_likelihood='gaussian' and no categorical_features.")
    mean, log_s, _ = vae._split_out(vae.modules_["decoder"](vae.posterior(x)[0], None))
    return 0.5 * ((x - mean) / log_s.exp()) ** 2 + log_s + 0.5 * math.log(2 * math.pi)
