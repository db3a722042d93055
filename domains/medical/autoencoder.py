"""``LatentAutoencoder``: MONAI's ``AutoencoderKL`` as a synthkit estimator, the first stage of
latent diffusion.

Latent diffusion (Rombach et al. 2022) trains a KL-regularized autoencoder once, then a
diffusion model on its latents: a 32³ volume becomes a 3 x 8³ latent, 21 times fewer values,
which is what makes 3-D diffusion fit two CPU cores. The autoencoder here is a
:class:`synthkit.Generator` that does not sample: it is trained by synthkit's one training loop
(:class:`synthkit.training.TrainingLoop`: budget in epochs or seconds, progress bar, early
stopping, checkpoints and resume) and, as a fitted attribute of
:class:`~synthkit.domains.medical.synthesizer.ImageSynthesizer`, is saved with the model by
:mod:`synthkit.persistence` (a nested folder: JSON config, safetensors weights, no pickle) and
restored by ``synthkit.load``.

The objective is the first stage's without its adversarial and perceptual parts (a perceptual
loss needs pretrained weights, which nothing may download): the L1 reconstruction error per
value plus ``kl_weight`` times the KL divergence of the posterior ``q(z | x) = N(mu, sigma²)``
from ``N(0, I)`` per latent value; the small KL weight (Rombach et al. use 1e-6) keeps the
latent close to deterministic while bounding its scale.

References:
    Rombach, Blattmann, Lorenz, Esser & Ommer (2022). High-resolution image synthesis with
    latent diffusion models. CVPR.
    Kingma & Welling (2014). Auto-encoding variational Bayes. ICLR.
    Pinaya et al. (2023). Generative AI for medical imaging: extending the MONAI framework.
    arXiv:2307.15208.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from synthkit.base import Generator
from synthkit.training.runtime import seeded
from synthkit.validation import check_count, check_non_negative


class LatentAutoencoder(Generator):
    """Fit MONAI's ``AutoencoderKL`` to flat image rows; encode rows to latents and back.

    Rows are images ``(C, *spatial)`` flattened, already scaled (the preprocessor maps each
    channel to [-1, 1]), so the base does not standardize them. Every spatial size must be
    divisible by ``2 ** (len(channels) - 1)`` (one downsampling per width after the first).

    Args:
        image_shape: ``[C, *spatial]`` of a row (2-D or 3-D).
        channels: encoder widths per resolution (each divisible by ``norm_num_groups``).
        latent_channels: channels of the latent.
        num_res_blocks: residual blocks per resolution.
        norm_num_groups: group-norm groups.
        kl_weight: weight of the KL term against the L1 reconstruction error (both per value).
        max_epochs, max_time, batch_size, learning_rate, ..., verbose: the training
            parameters of :class:`synthkit.Generator` (``TRAINING_DEFAULTS``; default 1,500 steps; this family's
            own defaults close this docstring).

    Attributes:
        latent_shape_: ``[latent_channels, *spatial / 2 ** (len(channels) - 1)]``.
        history_: the training loop's per-epoch losses.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).uniform(-1, 1, size=(4, 256)).astype(np.float32)
        >>> ae = LatentAutoencoder(image_shape=[1, 16, 16], channels=(8, 8), max_epochs=1, verbose=0,
        ...                        random_state=0).fit(X)
        >>> ae.latent_shape_, ae.encode(X).shape, ae.decode(ae.encode(X)).shape
        ([3, 8, 8], (4, 192), (4, 256))
    """

    standardize = False
    default_steps = 1500
    training_defaults: ClassVar[dict] = {"batch_size": 16}

    def __init__(self, *, image_shape=None, channels=(16, 32, 32), latent_channels=3, num_res_blocks=1,
                 norm_num_groups=8, kl_weight=1e-6, max_epochs=None, max_time=None, batch_size=16,
                 learning_rate=1e-3, early_stopping=False, validation_fraction=0.1, n_iter_no_change=20,
                 ema_decay=None, grad_clip=1.0, checkpoint_dir=None, checkpoint_interval=60.0, device="auto",
                 random_state=None, verbose=1):
        self._store_params(locals())

    # ------------------------------------------------------------------ set-up
    def _check_params(self) -> None:
        super()._check_params()
        shape = self.image_shape
        if not isinstance(shape, Sequence) or len(shape) not in (3, 4) or any(int(s) < 1 for s in shape):
            raise ValueError(f"image_shape must be [C, *spatial] with 2 or 3 spatial sizes, got {shape!r}.")
        channels = tuple(int(c) for c in self.channels)
        if not channels or any(c % int(self.norm_num_groups) for c in channels):
            raise ValueError(f"every width in channels={self.channels} must be divisible by norm_num_groups="
                             f"{self.norm_num_groups}.")
        factor = 2 ** (len(channels) - 1)
        if any(int(s) % factor for s in shape[1:]):
            raise ValueError(f"the spatial sizes {list(shape[1:])} must be divisible by {factor} for "
                             f"{len(channels)} autoencoder widths; give fewer channels or another image_size.")
        check_count("latent_channels", self.latent_channels)
        check_non_negative("kl_weight", self.kl_weight)

    def _check_data(self, X: np.ndarray, *, fitting: bool) -> None:
        if X.shape[1] != int(np.prod(self.image_shape)):
            raise ValueError(f"rows have {X.shape[1]} values but image_shape={list(self.image_shape)} holds "
                             f"{int(np.prod(self.image_shape))}.")
        if fitting:
            factor = 2 ** (len(self.channels) - 1)
            self.latent_shape_ = [int(self.latent_channels), *(int(s) // factor for s in self.image_shape[1:])]

    def _build(self):
        from monai.networks.nets import AutoencoderKL

        channels = tuple(int(c) for c in self.channels)
        net = AutoencoderKL(spatial_dims=len(self.image_shape) - 1, in_channels=int(self.image_shape[0]),
                            out_channels=int(self.image_shape[0]), channels=channels,
                            num_res_blocks=int(self.num_res_blocks), attention_levels=(False,) * len(channels),
                            latent_channels=int(self.latent_channels), norm_num_groups=int(self.norm_num_groups),
                            with_encoder_nonlocal_attn=False, with_decoder_nonlocal_attn=False)
        return {"autoencoder": net}

    @property
    def _net(self):
        return self.modules_["autoencoder"]

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), *(int(s) for s in self.image_shape))

    # ------------------------------------------------------------------ objective
    def losses(self, x: torch.Tensor, *, sample: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-row L1 reconstruction error and KL divergence, both per value (model space)."""
        mu, sigma = self._net.encode(self._images(x))
        z = self._net.sampling(mu, sigma) if sample else mu
        recon = self._net.decode(z).reshape(len(x), -1)
        l1 = (recon - x).abs().mean(1)
        var = sigma.pow(2)
        kl = 0.5 * (mu.pow(2) + var - torch.log(var.clamp(min=1e-12)) - 1).flatten(1).mean(1)
        return l1, kl

    def _training_step(self, x, c, step):
        l1, kl = self.losses(x)
        loss = (l1 + float(self.kl_weight) * kl).mean()
        step(loss)
        return {"loss": loss.item(), "l1": l1.mean().item(), "kl": kl.mean().item()}

    def _validation_loss(self, x, c):
        l1, kl = self.losses(x, sample=False)
        return l1 + float(self.kl_weight) * kl

    def _sample(self, n, c):
        raise NotImplementedError("a LatentAutoencoder encodes and decodes images; draw images from the "
                                  "ImageSynthesizer whose latent diffusion model it serves.")

    # ------------------------------------------------------------------ public
    def _chunks(self, A: np.ndarray, fn, width: int) -> np.ndarray:
        check_is_fitted(self, "modules_")
        A = np.asarray(A, dtype=np.float32)
        out, step = [], self._inference_rows
        with torch.no_grad(), seeded(0, self._device()):
            for lo in range(0, len(A), step):
                out.append(fn(torch.as_tensor(A[lo : lo + step], device=self._device())).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, width), np.float32)

    def encode(self, X) -> np.ndarray:
        """Posterior means ``mu(x)`` of rows ``X``, flat: ``(n, prod(latent_shape_))``."""
        X = self._validate_X(X, reset=False)
        width = int(np.prod(self.latent_shape_))
        return self._chunks(X, lambda x: self._net.encode(self._images(x))[0].reshape(len(x), -1), width)

    def decode(self, Z) -> np.ndarray:
        """Rows (flat images) decoded from flat latents ``Z`` ``(n, prod(latent_shape_))``."""
        check_is_fitted(self, "modules_")
        Z = np.asarray(Z, dtype=np.float32)
        width = int(np.prod(self.latent_shape_))
        if Z.ndim != 2 or Z.shape[1] != width:
            raise ValueError(f"latents must have shape (n, {width}) for latent_shape_={self.latent_shape_}, "
                             f"got {Z.shape}.")
        shape = self.latent_shape_
        return self._chunks(Z, lambda z: self._net.decode(z.reshape(len(z), *shape)).reshape(len(z), -1),
                            self.n_features_in_)

    def reconstruction_error(self, X) -> np.ndarray:
        """Per-row mean absolute error of ``decode(encode(X))`` (model space)."""
        X = self._validate_X(X, reset=False)
        return np.abs(self.decode(self.encode(X)) - X).mean(1)

    def score_samples(self, X, y=None) -> np.ndarray:
        """Minus the per-row reconstruction error (higher = better reconstructed); not a likelihood."""
        return -self.reconstruction_error(X)
