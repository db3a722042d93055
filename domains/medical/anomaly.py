"""``ImageAnomalyDetector``: unsupervised anomaly localization trained on healthy images only.

Fit a generative model of healthy images (an :class:`ImageSynthesizer` with the method's
backbone), then map each voxel of a test image to an anomaly value (higher = more anomalous)
with one of the methods, each in its own module:

==================  =========================  =================================================
``method``          backbones (default first)  anomaly map
==================  =========================  =================================================
``"anoddpm"``       diffusion                  ``|x - x_hat|`` after partial diffusion to
                                               ``noise_level`` and DDIM denoising, with Gaussian
                                               or simplex ``noise`` (:mod:`.anomaly_diffusion`)
``"reconstruction"``  vae                      ``|x - decode(encode(x))|`` (:mod:`.anomaly_reconstruction`)
``"likelihood"``    autoregressive, vae        per-voxel negative log-likelihood
                                               (:mod:`.anomaly_likelihood`)
==================  =========================  =================================================

The image score (``score_samples``) is minus the mean of the ``top_fraction`` largest map
values (higher = more normal, scikit-learn's convention). Metrics are in
:mod:`synthkit.domains.medical.anomaly_metrics`, reference maps in
:mod:`synthkit.domains.medical.baselines`.

Maps are on the model grid (the preprocessor's orientation, spacing and size; intensities
scaled to [-1, 1]), in pixel space; bring label maps onto it with
:meth:`ImageAnomalyDetector.transform_masks`.

References:
    Wyatt, Leach, Schmon & Willcocks (2022). AnoDDPM: anomaly detection with denoising
    diffusion probabilistic models using simplex noise. CVPR Workshops.
    Baur, Denner, Wiestler, Navab & Albarqouni (2021). Autoencoders for unsupervised anomaly
    segmentation in brain MR images: a comparative study. Medical Image Analysis 69.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from synthkit.domains.medical import (
    anomaly_diffusion,
    anomaly_likelihood,
    anomaly_reconstruction,
)
from synthkit.domains.medical.noise import check_noise
from synthkit.domains.medical.synthesizer import ImageSynthesizer
from synthkit.validation import check_fraction

METHODS = {"anoddpm": anomaly_diffusion, "reconstruction": anomaly_reconstruction, "likelihood": anomaly_likelihood}


class ImageAnomalyDetector(BaseEstimator):
    """Anomaly maps and scores of images from a generative model of healthy images.

    Args:
        backbone: a backbone name the method supports (see the module table) or an unfitted
            :class:`synthkit.Generator`; ``None``: the method's default.
        method: ``"anoddpm"``, ``"reconstruction"`` or ``"likelihood"``.
        noise: ``"anoddpm"`` only: ``"gaussian"`` or ``"simplex"`` (AnoDDPM's; the diffusion
            model is trained and noised with it).
        noise_level: ``"anoddpm"``: ``t0 / T``, how far test images are noised (0.1-0.5).
        n_repeats: ``"anoddpm"``: noise draws averaged per image.
        top_fraction: share of the largest map values averaged into the image score.
        spatial_dims, image_size, backbone_params, random_state, verbose: as
            :class:`ImageSynthesizer` (``backbone_params`` over the method's own defaults).

    Attributes:
        synthesizer_: the fitted :class:`ImageSynthesizer` of the healthy images.

    Example:
        >>> from synthkit.domains.medical import make_mni152_slices
        >>> healthy = make_mni152_slices(8, image_size=16, random_state=0)
        >>> det = ImageAnomalyDetector(method="reconstruction", image_size=(16, 16), random_state=0,
        ...                            backbone_params={"max_epochs": 1, "hidden_dims": (16,)}).fit(healthy)
        >>> det.anomaly_map(healthy).shape, det.score_samples(healthy).shape
        ((8, 16, 16), (8,))
    """

    def __init__(self, backbone=None, *, method="anoddpm", noise="gaussian", noise_level=0.3, n_repeats=2,
                 top_fraction=0.01, spatial_dims=2, image_size=(32, 32), backbone_params=None, random_state=None,
                 verbose=0):
        self.backbone = backbone
        self.method = method
        self.noise = noise
        self.noise_level = noise_level
        self.n_repeats = n_repeats
        self.top_fraction = top_fraction
        self.spatial_dims = spatial_dims
        self.image_size = image_size
        self.backbone_params = backbone_params
        self.random_state = random_state
        self.verbose = verbose

    def _method(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {tuple(METHODS)}, got {self.method!r}.")
        return METHODS[self.method]

    def fit(self, images, y=None):
        """Fit the model of healthy ``images``; returns self."""
        module = self._method()
        check_noise(self.noise)
        if self.noise != "gaussian" and self.method != "anoddpm":
            raise ValueError(f"noise={self.noise!r} is for method='anoddpm'; method {self.method!r} adds no noise.")
        backbone = module.DEFAULT_BACKBONE if self.backbone is None else self.backbone
        if isinstance(backbone, str) and backbone not in module.BACKBONES:
            raise ValueError(f"method {self.method!r} works with backbone one of {module.BACKBONES} "
                             f"(e.g. backbone={module.DEFAULT_BACKBONE!r}), not {backbone!r}.")
        check_fraction("noise_level", self.noise_level)
        check_fraction("top_fraction", self.top_fraction, one_ok=True)
        # Pixel space on purpose (latent=False, also for 3-D where latent diffusion is the
        # synthesizer's default): the maps compare voxels.
        synth = ImageSynthesizer(backbone, spatial_dims=self.spatial_dims, image_size=self.image_size, latent=False,
                                 random_state=self.random_state, verbose=self.verbose)
        read = synth._read(images, "images")
        shape = [int(read.images[0].shape[0]), *(int(s) for s in self.image_size)]
        synth.set_params(backbone_params={**module.backbone_defaults(self, shape), **(self.backbone_params or {})})
        self.synthesizer_ = synth.fit(read)
        module.check(self.synthesizer_.backbone_)
        return self

    def save(self, path):
        """Write the fitted detector to the folder ``path`` (load with ``synthkit.load``)."""
        from synthkit.persistence import save

        check_is_fitted(self, "synthesizer_")
        return save(self, path)

    def transform_masks(self, masks) -> np.ndarray:
        """Boolean label maps ``(n, *image_size)`` on the model grid of the maps (any mask channel set)."""
        check_is_fitted(self, "synthesizer_")
        synth = self.synthesizer_
        return synth.preprocessor_.transform_masks(synth._read(masks, "masks")).array.max(1) > 0

    def anomaly_map(self, images, *, random_state=0) -> np.ndarray:
        """Per-pixel (voxel) anomaly ``(n, *image_size)`` on the model grid, mean over channels;
        higher = more anomalous. ``random_state`` seeds the noise of ``"anoddpm"``."""
        check_is_fitted(self, "synthesizer_")
        synth = self.synthesizer_
        Z = synth.preprocessor_.transform(synth._read(images, "images")).array
        return self._method().pixel_maps(self, synth.backbone_, Z, random_state).mean(1)

    def score_samples(self, images, *, random_state=0) -> np.ndarray:
        """Per image: minus the mean of the ``top_fraction`` largest anomaly-map values
        (higher = more normal)."""
        return top_fraction_score(self.anomaly_map(images, random_state=random_state), self.top_fraction)


def top_fraction_score(maps: np.ndarray, top_fraction: float) -> np.ndarray:
    """Minus the mean of each map's ``top_fraction`` largest values (higher = more normal)."""
    maps = np.asarray(maps).reshape(len(maps), -1)
    k = max(1, int(round(top_fraction * maps.shape[1])))
    return -np.sort(maps, axis=1)[:, -k:].mean(1)
