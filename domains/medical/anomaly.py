"""``ImageAnomalyDetector``: unsupervised anomaly localization trained on healthy images only.

Method ``"anoddpm"`` (Wyatt et al. 2022): noise a test image part of the way, to step
``t0 = noise_level * T`` of the diffusion, and denoise it back with the model of healthy
images (deterministic DDIM from ``t0``); what the model of healthy anatomy cannot explain
(a lesion) is not restored, so the absolute difference ``|x - x_hat|`` (mean over channels and
``n_repeats`` noise draws) is the anomaly map. The image score is minus the mean of the
``top_fraction`` largest map values (higher = more normal, scikit-learn's convention).

Maps are on the model grid (the preprocessor's orientation, spacing and size; intensities
scaled to [-1, 1]); bring label maps onto it with ``detector.synthesizer_.preprocessor_.transform_masks``.

References:
    Wyatt, Leach, Schmon & Willcocks (2022). AnoDDPM: anomaly detection with denoising
    diffusion probabilistic models using simplex noise. CVPR Workshops.
    Ho, Jain & Abbeel (2020). Denoising diffusion probabilistic models. NeurIPS.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from synthkit.domains.medical.synthesizer import ImageSynthesizer
from synthkit.training.runtime import seeded

METHODS = ("anoddpm",)


class ImageAnomalyDetector(BaseEstimator):
    """Anomaly maps and scores of images from a diffusion model of healthy images.

    Args:
        backbone: ``"diffusion"`` (the method needs the reverse process).
        method: ``"anoddpm"`` (partial diffusion and denoising, Gaussian noise).
        noise_level: ``t0 / T``, how far test images are noised (0.1-0.5).
        n_repeats: noise draws averaged per image.
        top_fraction: share of the largest map values averaged into the image score.
        spatial_dims, image_size, backbone_params, random_state, verbose: as
            :class:`ImageSynthesizer`.

    Attributes:
        synthesizer_: the fitted :class:`ImageSynthesizer` of the healthy images.
    """

    def __init__(self, backbone="diffusion", *, method="anoddpm", noise_level=0.3, n_repeats=2, top_fraction=0.01,
                 spatial_dims=2, image_size=(32, 32), backbone_params=None, random_state=None, verbose=0):
        self.backbone = backbone
        self.method = method
        self.noise_level = noise_level
        self.n_repeats = n_repeats
        self.top_fraction = top_fraction
        self.spatial_dims = spatial_dims
        self.image_size = image_size
        self.backbone_params = backbone_params
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, images, y=None):
        """Fit the model of healthy ``images``; returns self."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        if self.backbone != "diffusion":
            raise ValueError(f"method {self.method!r} denoises with a diffusion model; use backbone='diffusion', "
                             f"not {self.backbone!r}.")
        if not 0 < self.noise_level < 1:
            raise ValueError(f"noise_level must be in (0, 1), got {self.noise_level!r}.")
        self.synthesizer_ = ImageSynthesizer(self.backbone, spatial_dims=self.spatial_dims, image_size=self.image_size,
                                             backbone_params=self.backbone_params, random_state=self.random_state,
                                             verbose=self.verbose).fit(images)
        return self

    def save(self, path):
        """Write the fitted detector to the folder ``path`` (load with ``synthkit.load``)."""
        from synthkit.persistence import save

        check_is_fitted(self, "synthesizer_")
        return save(self, path)

    def anomaly_map(self, images, *, random_state=0) -> np.ndarray:
        """Per-pixel (voxel) anomaly ``(n, *image_size)`` on the model grid; higher = more anomalous."""
        check_is_fitted(self, "synthesizer_")
        synth = self.synthesizer_
        Z = synth.preprocessor_.transform(synth._read(images, "images")).array
        b = synth.backbone_
        X = torch.as_tensor((Z.reshape(len(Z), -1) - b.mean_) / b.scale_, dtype=torch.float32)
        T = int(b.n_timesteps)
        t0 = max(1, min(T - 1, int(round(self.noise_level * T))))
        steps = sorted({int(s) for s in b.sampling_timesteps() if s < t0} | {t0})
        device = b._device()
        out = np.zeros(X.shape, dtype=np.float64)
        with seeded(random_state, device), torch.no_grad():
            for _ in range(int(self.n_repeats)):
                for lo in range(0, len(X), b._inference_rows):
                    x0 = X[lo:lo + b._inference_rows].to(device)
                    x = b.q_sample(x0, torch.full((len(x0),), t0, device=device, dtype=torch.long))
                    for t, tp in zip(reversed(steps), reversed([-1] + steps[:-1])):
                        tt = torch.full((1,), t, device=device, dtype=torch.long)
                        x = b.ddim_step(x, tt, torch.full((1,), tp, device=device, dtype=torch.long))
                    out[lo:lo + len(x0)] += (x - x0).abs().cpu().numpy()
        maps = (out / int(self.n_repeats)) * b.scale_  # back to the preprocessor's scale
        return maps.reshape(len(Z), *synth.image_shape_).mean(1)

    def score_samples(self, images, *, random_state=0) -> np.ndarray:
        """Per image: minus the mean of the ``top_fraction`` largest anomaly-map values
        (higher = more normal)."""
        maps = self.anomaly_map(images, random_state=random_state)
        maps = maps.reshape(len(maps), -1)
        k = max(1, int(round(self.top_fraction * maps.shape[1])))
        return -np.sort(maps, axis=1)[:, -k:].mean(1)
