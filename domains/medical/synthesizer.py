"""``ImageSynthesizer``: new medical images (2-D slices or 3-D volumes) from any core backbone.

The synthesizer composes the reversible :class:`~synthkit.domains.medical.preprocess.ImagePreprocessor`
(orientation, spacing, crop / pad, one percentile intensity scale per channel to [-1, 1]) with a
core backbone that sees each image as one flat row. The generative process stays in
``synthkit/backbones``; images only choose the networks (:mod:`synthkit.domains.medical.networks`):
MONAI's ``DiffusionModelUNet`` as the diffusion denoiser (Ho et al. 2020; Pinaya et al. 2023),
MONAI's ``PatchDiscriminator`` as the GAN critic, synthkit's conv networks for the GAN
generator and the EBM energy, and the families' flat defaults for the others.

Masks (label maps for segmentation) are modelled jointly by default (``mask_mode="joint"``):
each binary mask channel becomes one more image channel (0 / 1 mapped to -1 / 1), so the model
draws paired image + mask samples (``sample(..., return_masks=True)``). With
``mask_mode="condition"`` the model learns ``p(image | mask)`` instead and ``sample(n, masks=M)``
draws one image for each given label map (:mod:`synthkit.domains.medical.conditioning`).

Latent diffusion (Rombach et al. 2022; :mod:`synthkit.domains.medical.latent`), the default for
3-D volumes with the diffusion backbone (``latent="auto"``), first fits MONAI's ``AutoencoderKL``
(:class:`~synthkit.domains.medical.autoencoder.LatentAutoencoder`, saved with the model) and
runs the diffusion on its latents, scaled to unit variance.

References:
    Ho, Jain & Abbeel (2020). Denoising diffusion probabilistic models. NeurIPS.
    Pinaya et al. (2023). Generative AI for medical imaging: extending the MONAI framework.
    arXiv:2307.15208.
    Rombach et al. (2022). High-resolution image synthesis with latent diffusion models. CVPR.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from synthkit.domains.medical import conditioning as cond
from synthkit.domains.medical import latent as lat
from synthkit.domains.medical import networks as _networks  # noqa: F401  (registers the networks)
from synthkit.domains.medical.imageset import ImageSet
from synthkit.domains.medical.preprocess import ImagePreprocessor
from synthkit.synthesizer import Synthesizer

DEFAULT_BACKBONE = "diffusion"
#: values (pixels x channels) per row up to which the flat families (flow, MADE, RBM, VAE) are offered
#: without a warning-free path being promised; larger rows fit, slowly
SAMPLE_BATCH_VALUES = 2**24


def network_defaults(image_shape: list[int], condition_channels: int = 0) -> dict[str, dict]:
    """Per-backbone defaults for rows of shape ``image_shape`` ``[C, *spatial]``, sized for 2 CPU
    cores (tiny widths; two resolutions when every size is even).

    Diffusion: MONAI's U-Net (widths 16, 32, one residual block, no attention), one
    clipping range for all pixels and 25 DDIM steps (a forward pass of this U-Net on 36
    images of 32 x 32 took 0.4-1.7 s on 2 shared cores); GAN: conv generator + MONAI patch critic; EBM: conv
    energy. The flat families keep their own networks. ``condition_channels``: label-map
    channels the denoiser takes as input channels (``mask_mode="condition"``).
    """
    even = all(s % 2 == 0 for s in image_shape[1:])
    widths = [16, 32] if even else [16]
    shape = list(image_shape)
    unet = {"name": "monai-unet", "image_shape": shape, "channels": widths}
    if condition_channels:
        unet["condition_channels"] = int(condition_channels)
    return {
        "diffusion": {"denoiser_network": unet, "clip_denoised": "global", "batch_size": 32, "n_sampling_steps": 25},
        "gan": {"generator_network": {"name": "image-conv", "image_shape": shape, "channels": widths},
                "critic_network": {"name": "monai-patch", "image_shape": shape}, "batch_size": 32},
        "ebm": {"energy_network": {"name": "image-conv", "image_shape": shape, "channels": widths},
                "batch_size": 32},
    }


class ImageSynthesizer(Synthesizer):
    """Learn a set of images and draw new ones in the input's intensity scale.

    Args:
        backbone: a registered backbone name (``synthkit.list_backbones()``) or an unfitted
            :class:`synthkit.Generator`; every family fits images (see :func:`network_defaults`).
        spatial_dims: 2 (slices) or 3 (volumes).
        image_size: the model grid's spatial shape (crop / pad to it).
        orientation, spacing, percentiles: see :class:`ImagePreprocessor` (intensities map
            each channel's ``percentiles`` to [-1, 1]).
        backbone_params: backbone hyper-parameters (budget: ``max_epochs`` / ``max_time``),
            over the defaults of :func:`network_defaults` (latent diffusion:
            :func:`~synthkit.domains.medical.latent.latent_network_defaults`).
        latent: ``"auto"`` (latent diffusion for 3-D with the diffusion backbone, pixel space
            otherwise), ``True`` (latent diffusion, 2-D or 3-D) or ``False`` (pixel space).
        autoencoder_params: :class:`~synthkit.domains.medical.autoencoder.LatentAutoencoder`
            parameters (widths, ``kl_weight``, budget); without a budget of its own the
            autoencoder gets 30% of ``backbone_params["max_time"]`` when that is set.
        mask_mode: ``"joint"`` (masks are extra channels drawn with the image) or
            ``"condition"`` (learn ``p(image | mask)``; ``sample(n, masks=M)``; diffusion only).
        random_state: seed of the backbone and of sampling.
        verbose: passed to the backbone (0 is silent).

    Attributes:
        preprocessor_: the fitted :class:`ImagePreprocessor`.
        backbone_: the fitted backbone (rows of ``prod(image_shape_)`` values).
        image_shape_: ``[C, *image_size]`` of a model row, mask channels included.
        n_mask_channels_: mask channels modelled with the image (0 without masks or with
            ``mask_mode="condition"``).
        n_condition_channels_: mask channels the model is conditioned on (``"condition"``).
        latent_: whether the backbone runs on latents.
        autoencoder_: the fitted :class:`LatentAutoencoder` (latent diffusion only).
        latent_scale_: the factor the latents are multiplied by (``1 / std``, Rombach et al.).
        model_shape_: ``[C, *spatial]`` of a backbone row (``image_shape_``, or the latent's).

    Example:
        >>> from synthkit.domains.medical import make_synthetic_shapes
        >>> images, masks = make_synthetic_shapes(8, image_size=16, random_state=0)
        >>> synth = ImageSynthesizer(image_size=(16, 16), random_state=0,
        ...                          backbone_params={"max_epochs": 1, "n_sampling_steps": 2})
        >>> synth.fit(images).sample(2).shape
        (2, 1, 16, 16)
    """

    domain = "medical"

    def __init__(self, backbone=DEFAULT_BACKBONE, *, spatial_dims=2, image_size=(32, 32), orientation="RAS",
                 spacing=None, percentiles=(0.5, 99.5), backbone_params=None, latent="auto",
                 autoencoder_params=None, mask_mode="joint", random_state=None, verbose=0):
        self.backbone = backbone
        self.spatial_dims = spatial_dims
        self.image_size = image_size
        self.orientation = orientation
        self.spacing = spacing
        self.percentiles = percentiles
        self.backbone_params = backbone_params
        self.latent = latent
        self.autoencoder_params = autoencoder_params
        self.mask_mode = mask_mode
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, images, y=None, masks=None, *, resume: bool = False):
        """Fit the preprocessor and the backbone to ``images``; returns self.

        Args:
            images: an :class:`ImageSet`, an array ``(n, C, *spatial)``, a list of
                ``(C, *spatial)`` arrays, or a folder / file path (read with ``load_images``).
            y: class labels (one per image) to condition on, or ``None``.
            masks: binary label maps paired with the images (same kinds of input, same
                grids): extra channels (``mask_mode="joint"``) or the condition (``"condition"``).
            resume: continue the backbone's training from its ``checkpoint_dir``; a latent
                model refitted with ``resume=True`` keeps its fitted autoencoder, and a new
                object continues the autoencoder from ``<checkpoint_dir>/autoencoder``.
        """
        start = time.perf_counter()
        if self.spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {self.spatial_dims!r}.")
        name = self.backbone if isinstance(self.backbone, str) else self.backbone_name_
        mode = cond.check_mask_mode(self.mask_mode, name)
        use_latent = lat.uses_latent(self.latent, self.spatial_dims, name)
        images = self._read(images, "images")
        if images.spatial_dims != self.spatial_dims:
            raise ValueError(f"the images have {images.spatial_dims} spatial axes but spatial_dims="
                             f"{self.spatial_dims}; set spatial_dims={images.spatial_dims}.")
        previous = getattr(self, "autoencoder_", None)
        self._fit_seed(resume)
        self.preprocessor_ = ImagePreprocessor(orientation=self.orientation, spacing=self.spacing,
                                               image_size=self.image_size, percentiles=self.percentiles,
                                               output_range=(-1.0, 1.0))
        Z = self.preprocessor_.fit_transform(images).array.astype(np.float32)
        self.n_mask_channels_ = self.n_condition_channels_ = 0
        planes = None
        if masks is not None:
            masks = self._read(masks, "masks")
            if len(masks) != len(images):
                raise ValueError(f"masks has {len(masks)} label maps for {len(images)} images; give one per image.")
            M = self.preprocessor_.transform_masks(masks).array
            if M.shape[2:] != Z.shape[2:]:
                raise ValueError(f"the masks' grid {M.shape[2:]} does not match the images' {Z.shape[2:]}.")
            planes = cond.mask_planes(M)
            self.mask_grid_ = [int(s) for s in masks.spatial_shape(0)]
            if mode == "joint":
                Z, planes = np.concatenate([Z, planes], axis=1), None
                self.n_mask_channels_ = int(M.shape[1])
            else:
                self.n_condition_channels_ = int(M.shape[1])
        elif mode == "condition":
            raise ValueError("mask_mode='condition' learns images given masks; pass masks=... to fit.")
        self.image_shape_ = [int(s) for s in Z.shape[1:]]
        rows = Z.reshape(len(Z), -1)
        backbone_params, ae_params = lat.split_budget(self.backbone_params, self.autoencoder_params,
                                                      train_autoencoder=use_latent and not lat.reusable(
                                                          previous, self.image_shape_, resume))
        self.latent_ = use_latent
        if use_latent:
            ae_params = lat.checkpoint_options(ae_params, backbone_params, self.backbone)
            self.autoencoder_, trained = lat.fit_autoencoder(previous, rows, self.image_shape_, ae_params,
                                                             seed=self.fit_seed_, verbose=self.verbose, resume=resume)
            latents = lat.training_latents(self.autoencoder_, rows, restored=not trained)
            self.latent_scale_ = lat.latent_scale(latents)
            rows = latents * self.latent_scale_
            self.model_shape_ = list(self.autoencoder_.latent_shape_)
            defaults = {"diffusion": lat.latent_network_defaults(self.model_shape_, self.n_condition_channels_)}
        else:
            for stale in ("autoencoder_", "latent_scale_"):  # from an earlier latent fit
                self.__dict__.pop(stale, None)
            self.model_shape_ = list(self.image_shape_)
            defaults = network_defaults(self.model_shape_, self.n_condition_channels_)
        condition = y
        if planes is not None:
            condition = cond.condition_rows(cond.to_grid(planes, self.model_shape_[1:]), self._fit_classes(y, len(Z)))
        backbone = self._make_backbone(per_backbone=defaults)
        if backbone_params.get("max_time") is not None:  # the diffusion's share of the budget
            backbone.set_params(max_time=backbone_params["max_time"])
        self.backbone_ = backbone.fit(rows, condition, resume=resume)
        self.n_images_ = len(Z)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fit_classes(self, y, n: int):
        """One-hot class labels beside the masks (``mask_mode="condition"``), recording the classes."""
        if y is None:
            self.classes_ = None
            return None
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"with mask_mode='condition', y must be 1-D class labels, got shape {y.shape}.")
        if len(y) != n:
            raise ValueError(f"y has {len(y)} labels for {n} images; give one per image.")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.class_prior_ = counts / counts.sum()
        return cond.one_hot(y, self.classes_)

    def _read(self, data, what: str) -> ImageSet:
        if isinstance(data, (str, os.PathLike)):
            from synthkit.domains.medical.io import load_images

            return load_images(data, spatial_dims=self.spatial_dims)
        if isinstance(data, ImageSet):
            return data.channel_first()
        try:
            images = ImageSet.from_array(data)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{what} must be an ImageSet, an array (n, C, *spatial), a list of arrays or a "
                             f"path; got {type(data).__name__} ({err}).") from None
        if len(images) < 2:
            raise ValueError(f"{what}: fit needs at least 2 images, got {len(images)}.")
        return images

    # ------------------------------------------------------------------ sample
    def sample(self, n: int, y=None, masks=None, *, random_state=None, return_masks: bool = False):
        """Draw ``n`` images, numpy ``(n, C, *image_size)`` in the training intensity scale.

        Args:
            n: number of images.
            y: for a class-conditional model, one label or one per image (``None``: drawn
                from the training class frequencies).
            masks: for ``mask_mode="condition"``, the label maps to draw images for: one per
                image (``n`` of them) or one for all, on the training masks' grid or the model
                grid (``image_size``); for any other model, giving masks is an error.
            random_state: seed of this call (default: ``random_state``).
            return_masks: also return the binary masks ``(n, M, *image_size)`` (uint8): drawn
                with the images (``"joint"``) or the given ones on the model grid (``"condition"``).
        """
        check_is_fitted(self, "backbone_")
        seed = self.random_state if random_state is None else random_state
        n = int(n)
        if self.n_condition_channels_:
            given = self._condition_masks(masks, n)
            onehot = None
            if self.classes_ is not None:
                onehot = cond.one_hot(cond.sampling_labels(y, n, self.classes_, self.class_prior_, seed), self.classes_)
            elif y is not None:
                raise ValueError("this synthesizer was fitted without y; pass y=None.")
            c = cond.condition_rows(cond.to_grid(cond.mask_planes(given), self.model_shape_[1:]), onehot)
            rows = self.backbone_.sample(n, y=c, random_state=seed)
        else:
            if masks is not None:
                raise ValueError("this synthesizer was not fitted with mask_mode='condition' and masks, so it "
                                 "cannot draw images for given masks; refit with mask_mode='condition', masks=... "
                                 "(a joint model draws pairs: sample with return_masks=True).")
            if return_masks and not self.n_mask_channels_:
                raise ValueError("this synthesizer was fitted without masks; fit with masks=... to draw pairs.")
            rows = self.backbone_.sample(n, y=y, random_state=seed)
        if self.latent_ and len(rows):
            rows = self.autoencoder_.decode(rows / self.latent_scale_)
        Z = rows.reshape(len(rows), *self.image_shape_)
        c = self.image_shape_[0] - self.n_mask_channels_
        out = np.zeros((0, c, *self.image_shape_[1:]), np.float32)
        if len(Z):
            out = self.preprocessor_.inverse_transform(Z[:, :c].astype(np.float32)).array
        if not return_masks:
            return out
        if self.n_condition_channels_:
            return out, (given > 0).astype(np.uint8)
        return out, (Z[:, c:] > 0).astype(np.uint8)

    def _condition_masks(self, masks, n: int | None) -> np.ndarray:
        """The given label maps on the model grid, one per image, ``(n, M, *image_size)``
        (``n=None``: as many as given)."""
        if masks is None:
            raise ValueError("this model draws an image for each given label map (mask_mode='condition'); "
                             "pass masks=... (one per image, or one for all).")
        grid = list(self.image_shape_[1:])
        if isinstance(masks, (str, os.PathLike, ImageSet)):
            masks = self._read(masks, "masks")
        else:
            arr = np.asarray(masks)
            arr = arr[None] if arr.ndim == self.spatial_dims + 1 else arr
            if arr.ndim != self.spatial_dims + 2:
                raise ValueError(f"masks must be (n, M, *spatial) with {self.spatial_dims} spatial axes, got shape "
                                 f"{np.asarray(masks).shape}.")
            masks = ImageSet.from_array(arr)
        if masks.spatial_dims != self.spatial_dims:
            raise ValueError(f"masks have {masks.spatial_dims} spatial axes; this model has {self.spatial_dims}.")
        shape = [int(s) for s in masks.spatial_shape(0)]
        if shape not in (grid, self.mask_grid_):
            raise ValueError(f"the masks' grid {shape} is neither the training masks' {self.mask_grid_} nor the "
                             f"model grid {grid}; resample them first.")
        M = masks.array if shape == grid else self.preprocessor_.transform_masks(masks).array
        if M.shape[1] != self.n_condition_channels_:
            raise ValueError(f"masks have {M.shape[1]} channels; the model was fitted on {self.n_condition_channels_}.")
        if n is None:
            return M
        if len(M) == 1:
            M = np.repeat(M, n, axis=0)
        if len(M) != n:
            raise ValueError(f"masks has {len(M)} label maps for n={n} images; give one per image or one for all.")
        return M

    def score_samples(self, images, y=None) -> np.ndarray:
        """Per-image log-likelihood (higher = more typical) of ``images`` in model space (after
        the preprocessor: the model grid, intensities scaled to [-1, 1]), in nats; exact, a
        bound or unnormalized as the backbone's ``likelihood`` says (diffusion: the ELBO).
        Masks are not scored (a model fitted with masks raises), nor latent models (the backbone's
        bound is on latents, not images)."""
        check_is_fitted(self, "backbone_")
        if self.n_mask_channels_ or self.n_condition_channels_:
            raise ValueError("this model was fitted with masks; score_samples takes models of images only.")
        if self.latent_:
            raise ValueError("this is a latent diffusion model: its likelihood bound is on latents, not images; "
                             "fit with latent=False to score images.")
        Z = self.preprocessor_.transform(self._read(images, "images")).array
        return self.backbone_.score_samples(Z.reshape(len(Z), -1), y)

    def _sample_batch(self, n: int, seed: int, start: int, **options):
        if self.n_condition_channels_:  # this batch draws for the given masks start .. start + n
            given = self._condition_masks(options.pop("masks", None), None)
            given = given if len(given) == 1 else given[start : start + n]
            return start, *self.sample(n, random_state=seed, return_masks=True, masks=given, **options)
        if self.n_mask_channels_:
            images, masks = self.sample(n, random_state=seed, return_masks=True, **options)
        else:
            images, masks = self.sample(n, random_state=seed, **options), None
        return start, images, masks

    def sample_batch_size(self, batch_size: int) -> int:
        """``batch_size`` capped so that one batch holds at most 2**24 values (bounded memory)."""
        check_is_fitted(self, "backbone_")
        return max(1, min(int(batch_size), SAMPLE_BATCH_VALUES // math.prod(self.image_shape_)))

    def _write_samples(self, path, batches, *, total: int, progress: bool) -> int:
        """Write each image (and mask) as NIfTI on the model grid into the folder ``path``.

        Files go to a temporary folder beside ``path``, renamed into place when all are
        written (an existing ``path`` must be empty or missing).
        """
        from synthkit.domains.medical.save import save_images
        from synthkit.io import atomic_folder
        from synthkit.training.progress import progress_bar

        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ValueError(f"{path} exists and is not an empty folder; choose a new output folder.")
        affine = self.preprocessor_.model_affine()
        bar = progress_bar(total=total, verbose=progress, desc="sampling", unit="image")
        count = 0
        try:
            with atomic_folder(path) as tmp:
                for start, images, masks in batches:
                    names = [f"sample_{start + i:06d}" for i in range(len(images))]
                    save_images(images, tmp, like=affine, names=names, format="nii.gz")
                    if masks is not None:
                        save_images(masks, tmp, like=affine, names=[f"mask_{k[7:]}" for k in names], format="nii.gz")
                    count += len(images)
                    bar.update(len(images))
        finally:
            bar.close()
        return count
