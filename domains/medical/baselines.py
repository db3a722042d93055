"""Reference anomaly maps to beat: a voxel-wise z-score against healthy images and a plain
convolutional autoencoder's reconstruction error.

Both follow :class:`~synthkit.domains.medical.anomaly.ImageAnomalyDetector`'s API
(``fit(healthy)``, ``anomaly_map``, ``score_samples``, ``transform_masks``, ``save``) and its
model grid (the same :class:`ImagePreprocessor`: crop / pad to ``image_size``, each channel's
0.5-99.5 percentiles to [-1, 1]), so their maps compare voxel for voxel with the detector's.

* :class:`ZScoreMap`: ``|x - mean| / (std + min_std)`` per voxel, with the mean and standard
  deviation over the healthy training images; the non-learned statistical reference for
  registered images (used as the baseline of Baur et al. 2021's comparison).
* :class:`AutoencoderMap`: ``|x - AE(x)|`` of a conv autoencoder with a small spatial
  bottleneck trained on healthy images with the squared error (the "AE" of Baur et al. 2021).

References:
    Baur, Denner, Wiestler, Navab & Albarqouni (2021). Autoencoders for unsupervised anomaly
    segmentation in brain MR images: a comparative study. Medical Image Analysis 69.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from synthkit.domains.medical.preprocess import ImagePreprocessor
from torch import nn

from synthkit.training.runtime import resolve_device, seed_from, seeded
from synthkit.validation import check_count, check_positive


class _GridMap(BaseEstimator):
    """Shared plumbing: images onto the model grid, image scores, masks, saving."""

    def _grid(self, images, *, fit: bool) -> np.ndarray:
        from synthkit.domains.medical.synthesizer import ImageSynthesizer

        read = ImageSynthesizer(spatial_dims=self.spatial_dims)._read(images, "images")
        if read.spatial_dims != self.spatial_dims:
            raise ValueError(f"the images have {read.spatial_dims} spatial axes but spatial_dims={self.spatial_dims}.")
        if fit:
            self.preprocessor_ = ImagePreprocessor(image_size=self.image_size, output_range=(-1.0, 1.0))
            return self.preprocessor_.fit_transform(read).array.astype(np.float32)
        check_is_fitted(self, "preprocessor_")
        return self.preprocessor_.transform(read).array.astype(np.float32)

    def transform_masks(self, masks) -> np.ndarray:
        """Boolean label maps ``(n, *image_size)`` on the model grid."""
        from synthkit.domains.medical.synthesizer import ImageSynthesizer

        check_is_fitted(self, "preprocessor_")
        read = ImageSynthesizer(spatial_dims=self.spatial_dims)._read(masks, "masks")
        return self.preprocessor_.transform_masks(read).array.max(1) > 0

    def score_samples(self, images) -> np.ndarray:
        """Minus the mean of the ``top_fraction`` largest map values (higher = more normal)."""
        from synthkit.domains.medical.anomaly import top_fraction_score

        return top_fraction_score(self.anomaly_map(images), self.top_fraction)

    def save(self, path):
        """Write the fitted baseline to the folder ``path`` (load with ``synthkit.load``)."""
        from synthkit.persistence import save

        check_is_fitted(self, "preprocessor_")
        return save(self, path)


class ZScoreMap(_GridMap):
    """Voxel-wise ``|x - mean| / (std + min_std)`` against healthy training images (mean over channels).

    Args:
        spatial_dims, image_size: the model grid (as :class:`ImageSynthesizer`).
        min_std: added to each voxel's standard deviation (intensities in [-1, 1]), so voxels
            that never vary (background) do not divide by zero.
        top_fraction: share of the largest map values averaged into the image score.

    Example:
        >>> from synthkit.domains.medical import make_mni152_slices
        >>> healthy = make_mni152_slices(8, image_size=16, random_state=0)
        >>> ZScoreMap(image_size=(16, 16)).fit(healthy).anomaly_map(healthy).shape
        (8, 16, 16)
    """

    def __init__(self, *, spatial_dims=2, image_size=(32, 32), min_std=0.05, top_fraction=0.01):
        self.spatial_dims = spatial_dims
        self.image_size = image_size
        self.min_std = min_std
        self.top_fraction = top_fraction

    def fit(self, images, y=None):
        """Record each voxel's mean and standard deviation over healthy ``images``; returns self."""
        check_positive("min_std", self.min_std)
        Z = self._grid(images, fit=True)
        self.mean_ = Z.mean(0)
        self.std_ = Z.std(0)
        return self

    def anomaly_map(self, images) -> np.ndarray:
        """``|x - mean| / (std + min_std)`` per voxel, ``(n, *image_size)``."""
        check_is_fitted(self, "mean_")
        Z = self._grid(images, fit=False)
        return (np.abs(Z - self.mean_) / (self.std_ + self.min_std)).mean(1)


class ConvAutoencoder(nn.Module):
    """``depth`` stride-2 conv blocks down (widths doubling from ``width``), a 1x1 conv to
    ``latent_channels``, and transposed convs back; 2-D or 3-D, output ``tanh`` in [-1, 1]."""

    def __init__(self, channels: int, spatial_dims: int, depth: int, width: int = 16, latent_channels: int = 4):
        super().__init__()
        conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
        up = nn.ConvTranspose2d if spatial_dims == 2 else nn.ConvTranspose3d
        widths = [width * 2**i for i in range(depth)]
        down, c = [], channels
        for w in widths:
            down += [conv(c, w, 4, stride=2, padding=1), nn.SiLU()]
            c = w
        self.encoder = nn.Sequential(*down, conv(c, latent_channels, 1))
        ups, c = [conv(latent_channels, widths[-1], 1), nn.SiLU()], widths[-1]
        for w in widths[:-1][::-1] + [widths[0]]:  # mirror of the encoder, ending at the first width
            ups += [up(c, w, 4, stride=2, padding=1), nn.SiLU()]
            c = w
        self.decoder = nn.Sequential(*ups, conv(c, channels, 3, padding=1), nn.Tanh())

    def forward(self, x):
        return self.decoder(self.encoder(x))


class AutoencoderMap(_GridMap):
    """``|x - AE(x)|`` of a plain conv autoencoder trained on healthy images (mean over channels).

    Args:
        spatial_dims, image_size: the model grid.
        depth: stride-2 down-samplings (fewer when the size is not divisible by ``2**depth``).
        width, latent_channels: first conv width and bottleneck channels.
        max_epochs, batch_size, learning_rate: Adam on the mean squared error.
        top_fraction: share of the largest map values averaged into the image score.
        device, random_state: torch device (``"auto"``: CUDA when present) and seed.

    Example:
        >>> from synthkit.domains.medical import make_mni152_slices
        >>> healthy = make_mni152_slices(8, image_size=16, random_state=0)
        >>> AutoencoderMap(image_size=(16, 16), max_epochs=1, random_state=0).fit(healthy).anomaly_map(healthy).shape
        (8, 16, 16)
    """

    def __init__(self, *, spatial_dims=2, image_size=(32, 32), depth=3, width=16, latent_channels=4, max_epochs=50,
                 batch_size=32, learning_rate=1e-3, top_fraction=0.01, device="auto", random_state=None):
        self.spatial_dims = spatial_dims
        self.image_size = image_size
        self.depth = depth
        self.width = width
        self.latent_channels = latent_channels
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.top_fraction = top_fraction
        self.device = device
        self.random_state = random_state

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _build(self) -> dict[str, nn.Module]:
        depth = int(self.depth)
        while depth > 0 and any(s % 2**depth for s in self.image_shape_[1:]):
            depth -= 1
        if depth < 1:
            raise ValueError(f"AutoencoderMap needs an even image_size, got {self.image_size!r}.")
        return {"autoencoder": ConvAutoencoder(self.image_shape_[0], int(self.spatial_dims), depth, int(self.width),
                                               int(self.latent_channels))}

    def fit(self, images, y=None):
        """Train the autoencoder on healthy ``images`` for ``max_epochs``; returns self."""
        for name in ("max_epochs", "batch_size", "depth", "width", "latent_channels"):
            check_count(name, getattr(self, name))
        Z = torch.as_tensor(self._grid(images, fit=True))
        self.image_shape_ = [int(s) for s in Z.shape[1:]]
        device = self._device()
        seed = seed_from(self.random_state)
        with seeded(0 if seed is None else seed, device):
            self.modules_ = nn.ModuleDict(self._build()).to(device)
            net = self.modules_["autoencoder"]
            opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
            net.train()
            for _ in range(int(self.max_epochs)):
                for idx in torch.randperm(len(Z)).split(int(self.batch_size)):
                    x = Z[idx].to(device)
                    loss = ((net(x) - x) ** 2).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        net.eval()
        return self

    def anomaly_map(self, images) -> np.ndarray:
        """``|x - AE(x)|`` per voxel, ``(n, *image_size)``."""
        check_is_fitted(self, "modules_")
        Z = torch.as_tensor(self._grid(images, fit=False))
        net, device = self.modules_["autoencoder"], self._device()
        with torch.no_grad():
            out = [(net(x.to(device)) - x.to(device)).abs().cpu() for x in Z.split(256)]
        return torch.cat(out).numpy().mean(1)
