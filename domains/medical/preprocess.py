"""Reversible preprocessing of medical images with MONAI transforms, fitted on a training set.

A generative model learns best on images that share one orientation, voxel size, shape and
intensity scale; its samples must then go back to the scale (and, for real images such as
anomaly maps, the grid) of the input. :class:`ImagePreprocessor` does both:

forward (``transform``)
    1. intensity: per channel ``x' = b_low + (x - low_c) (b_high - b_low) / (high_c - low_c)``
       -- MONAI's ``ScaleIntensityRange`` with ``a_min, a_max`` set to the training set's
       ``percentiles`` of channel ``c`` (one pair per channel, pooled over all voxels of all
       training images: not per image as ``ScaleIntensityRangePercentiles`` would, so the
       map is the same for every image and exactly invertible). No clipping: outliers stay
       outside ``output_range`` rather than being lost.
    2. ``Orientation(axcodes=orientation)`` (axis permutation and flips, lossless),
    3. ``Spacing(pixdim=spacing)`` (resampling, lossy unless the grid is unchanged),
    4. ``ResizeWithPadOrCrop(image_size)``, padding with ``b_low`` (the low percentile, i.e.
       background for MRI and CT alike).
    MONAI's ``MetaTensor`` carries the affine through steps 2-4, so each output keeps a
    correct voxel-to-world matrix (https://monai.readthedocs.io/en/stable/transforms.html#spatial).

inverse (``inverse_transform``)
    Exact inverse of step 1; with ``like`` (the original images, or any set giving target
    grids) each image is also resampled from its affine onto ``like``'s grid with MONAI's
    ``SpatialResample`` -- exact for orientation and crop / pad (integer voxel shifts and
    flips), interpolated after ``Spacing``; voxels cropped away come back as 0.

Masks (label maps) take the same spatial steps with nearest-neighbour interpolation, padding
with 0, and no intensity step (``transform_masks``, ``inverse_transform(..., masks=True)``).

The fitted state is plain numbers (``low_``, ``high_``, ``spacing_``, ...): ``get_config`` /
``from_config`` turn it into JSON and back, so it can be saved beside safetensors weights
without pickle.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from synthkit.domains.medical.imageset import ImageSet

_WORLD_AXIS = {"L": (0, -1.0), "R": (0, 1.0), "P": (1, -1.0), "A": (1, 1.0), "I": (2, -1.0), "S": (2, 1.0)}
_LABELS = (("L", "R"), ("P", "A"), ("I", "S"))  # RAS+ world, as the affines are
_STATE = ("spatial_dims_", "n_channels_", "low_", "high_", "spacing_", "image_size_")


class ImagePreprocessor(BaseEstimator):
    """Orientation, spacing, crop/pad and percentile intensity scaling, with the inverse.

    Args:
        orientation: target axis codes (``"RAS"``; 2-D images use the first two letters),
            or ``None`` to keep each image's orientation.
        spacing: target voxel size in mm (one number per spatial axis, or one for all), or
            ``None`` to keep each image's.
        image_size: target spatial shape (a tuple, or one int for all axes), or ``None``.
        percentiles: ``(low, high)`` percentiles of each channel over the training voxels
            that map to ``output_range``.
        output_range: ``(b_low, b_high)``; ``(-1, 1)`` suits diffusion models.
        interpolation: ``Spacing`` / inverse resampling mode for images (``"bilinear"``);
            masks always use ``"nearest"``.
        max_fit_values: voxels per channel used for the percentiles; larger training sets
            are subsampled on an even stride (deterministic).

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).gamma(2.0, 100.0, size=(4, 1, 10, 12)).astype("float32")
        >>> prep = ImagePreprocessor(image_size=(16, 8)).fit(X)
        >>> Z = prep.transform(X)
        >>> Z.array.shape
        (4, 1, 16, 8)
        >>> back = prep.inverse_transform(Z, like=ImageSet.from_array(X))
        >>> bool(np.allclose(back.array[:, :, 3:13, 2:10], X[:, :, 3:13, 2:10], rtol=1e-4, atol=1e-3))
        True
    """

    def __init__(self, *, orientation: str | None = "RAS", spacing=None, image_size=None,
                 percentiles: tuple[float, float] = (0.5, 99.5), output_range: tuple[float, float] = (-1.0, 1.0),
                 interpolation: str = "bilinear", max_fit_values: int = 2**24):
        self.orientation = orientation
        self.spacing = spacing
        self.image_size = image_size
        self.percentiles = percentiles
        self.output_range = output_range
        self.interpolation = interpolation
        self.max_fit_values = max_fit_values

    # ------------------------------------------------------------------ fit
    def fit(self, images, y=None) -> ImagePreprocessor:
        """Learn each channel's intensity percentiles and the target grid from training images."""
        images = _as_set(images)
        if len(images) == 0:
            raise ValueError("fit needs at least one image.")
        d = images.spatial_dims
        c = images.n_channels(0)
        for i in range(len(images)):
            if len(images.spatial_shape(i)) != d or images.n_channels(i) != c:
                raise ValueError(f"{images.paths[i] or f'image {i}'}: shape {images.images[i].shape} does not match "
                                 f"the first image's {d} spatial axes and {c} channel(s).")
        lo_p, hi_p = (float(p) for p in self.percentiles)
        if not 0 <= lo_p < hi_p <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {self.percentiles!r}.")
        b_lo, b_hi = (float(v) for v in self.output_range)
        if not b_lo < b_hi:
            raise ValueError(f"output_range must be (low, high) with low < high, got {self.output_range!r}.")
        if self.orientation is not None and (len(self.orientation) < d or any(
                ch not in _WORLD_AXIS for ch in self.orientation.upper())):
            raise ValueError(f"orientation must be axis codes such as 'RAS', got {self.orientation!r}.")
        self.spatial_dims_, self.n_channels_ = d, c
        total = sum(x[0].size for x in images.channel_first().images)
        stride = max(1, math.ceil(total / self.max_fit_values))
        self.low_, self.high_ = [], []
        for ch in range(c):
            values = np.concatenate([x[ch].ravel()[::stride] for x in images.channel_first().images])
            lo, hi = np.percentile(values.astype(np.float64), [lo_p, hi_p])
            self.low_.append(float(lo))
            self.high_.append(float(hi))
        self.spacing_ = _per_axis(self.spacing, d, "spacing", float) if self.spacing is not None else \
            [float(s) for s in sorted_spacing(images.affines[0], d, self._axcodes(d))]
        self.image_size_ = _per_axis(self.image_size, d, "image_size", int) if self.image_size is not None else None
        return self

    # ------------------------------------------------------------------ forward
    def transform(self, images) -> ImageSet:
        """Images in model space: scaled intensities, target orientation, spacing and size."""
        check_is_fitted(self, "low_")
        images = self._check(_as_set(images))
        out = []
        for t in images.metatensors():
            x = t.clone()
            x.array = self._scale(np.asarray(t.array, dtype=np.float32))
            out.append(x)
        return self._spatial(images, out, mode=self.interpolation, pad=float(self.output_range[0]), dtype=np.float32)

    def transform_masks(self, masks) -> ImageSet:
        """Label maps on the same grid as ``transform`` gives, by nearest neighbour; dtype kept."""
        check_is_fitted(self, "low_")
        masks = _as_set(masks)
        return self._spatial(masks, masks.metatensors(), mode="nearest", pad=0.0, dtype=None)

    def fit_transform(self, images, y=None) -> ImageSet:
        return self.fit(images).transform(images)

    # ------------------------------------------------------------------ inverse
    def inverse_transform(self, images, like=None, *, masks: bool = False) -> ImageSet:
        """Back to the input's intensity scale and, with ``like``, onto ``like``'s grids.

        Args:
            images: model-space images: an :class:`ImageSet` (its affines say where they lie)
                or an array ``(n, C, *image_size)`` such as a generator's samples (given the
                model grid's affine: ``spacing_`` along the ``orientation`` axes).
            like: an :class:`ImageSet` with one image per input (or one for all) whose affines
                and shapes are the grids to resample onto; ``None`` stays on the model grid.
            masks: the inputs are label maps: no intensity step, nearest-neighbour resampling.
        """
        check_is_fitted(self, "low_")
        images = images.channel_first() if isinstance(images, ImageSet) else _as_set(images, affine=self.model_affine())
        imgs = images.channel_first().images
        if not masks:
            imgs = [self._unscale(np.asarray(x, dtype=np.float64)).astype(np.float32) for x in imgs]
        out = ImageSet(imgs, images.affines, images.paths, images.meta)
        if like is None:
            return out
        if len(like) not in (1, len(out)):
            raise ValueError(f"like has {len(like)} images, images has {len(out)}: give one grid or one per image.")
        from monai.data import MetaTensor
        from monai.transforms import SpatialResample

        resample = SpatialResample(mode="nearest" if masks else self.interpolation, padding_mode="zeros")
        result = []
        for i, (x, a) in enumerate(zip(out.images, out.affines)):
            j = i if len(like) > 1 else 0
            src = MetaTensor(np.ascontiguousarray(x).astype(np.float32), affine=a)
            y = resample(src, dst_affine=like.affines[j], spatial_size=like.spatial_shape(j)).array
            y = np.asarray(y)
            result.append(np.rint(y).astype(x.dtype) if masks and x.dtype.kind in "iub" else y.astype(np.float32))
        return ImageSet(result, [like.affines[i if len(like) > 1 else 0] for i in range(len(out))],
                        [like.paths[i if len(like) > 1 else 0] for i in range(len(out))], [{} for _ in result])

    def model_affine(self) -> np.ndarray:
        """The model grid's affine (voxel 0 at the origin): ``spacing_`` along ``orientation``
        (RAS+ axes if ``orientation`` is ``None``)."""
        check_is_fitted(self, "low_")
        a = np.zeros((4, 4))
        a[3, 3] = 1.0
        used = set()
        for i, code in enumerate(self._axcodes(self.spatial_dims_) or "RAS"[: self.spatial_dims_]):
            axis, sign = _WORLD_AXIS[code]
            a[axis, i] = sign * self.spacing_[i]
            used.add(axis)
        for axis in sorted({0, 1, 2} - used):  # 2-D: the unused world axis keeps unit scale
            a[axis, len(used)] = 1.0
            used.add(axis)
        return a

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Parameters and fitted state as plain JSON data (lists, floats, ints, strings)."""
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        state = {k: getattr(self, k) for k in _STATE if hasattr(self, k)}
        return {"class": type(self).__name__, "params": params, "state": state}

    @classmethod
    def from_config(cls, config: dict) -> ImagePreprocessor:
        """Rebuild a preprocessor from :meth:`get_config`'s output (no code is run from it)."""
        if config.get("class") != cls.__name__:
            raise ValueError(f"config describes {config.get('class')!r}, not {cls.__name__}.")
        obj = cls(**config["params"])
        for k, v in config.get("state", {}).items():
            if k not in _STATE:
                raise ValueError(f"unknown state entry {k!r} in the config.")
            setattr(obj, k, v)
        return obj

    # ------------------------------------------------------------------ helpers
    def _axcodes(self, d: int) -> str | None:
        return None if self.orientation is None else self.orientation.upper()[:d]

    def _factors(self):
        b_lo, b_hi = (float(v) for v in self.output_range)
        lo, hi = np.asarray(self.low_), np.asarray(self.high_)
        width = np.where(hi > lo, hi - lo, 1.0)  # a constant channel is shifted, not stretched
        return lo, (b_hi - b_lo) / width, b_lo

    def _scale(self, x: np.ndarray) -> np.ndarray:
        lo, a, b_lo = self._factors()
        shape = (-1,) + (1,) * (x.ndim - 1)
        return ((x - lo.reshape(shape)) * a.reshape(shape) + b_lo).astype(np.float32)

    def _unscale(self, x: np.ndarray) -> np.ndarray:
        lo, a, b_lo = self._factors()
        shape = (-1,) + (1,) * (x.ndim - 1)
        return (x - b_lo) / a.reshape(shape) + lo.reshape(shape)

    def _check(self, images: ImageSet) -> ImageSet:
        for i in range(len(images)):
            if len(images.spatial_shape(i)) != self.spatial_dims_ or images.n_channels(i) != self.n_channels_:
                raise ValueError(f"{images.paths[i] or f'image {i}'}: shape {images.images[i].shape}, but the "
                                 f"preprocessor was fitted on {self.spatial_dims_}-D images with "
                                 f"{self.n_channels_} channel(s).")
        return images

    def _spatial(self, images: ImageSet, tensors, *, mode, pad, dtype) -> ImageSet:
        from monai.transforms import Orientation, ResizeWithPadOrCrop, Spacing

        d = images.spatial_dims
        steps = []
        if self.orientation is not None:
            steps.append(Orientation(axcodes=self._axcodes(d), labels=_LABELS))
        if self.spacing is not None:
            steps.append(Spacing(pixdim=self.spacing_, mode=mode))
        if self.image_size_ is not None:
            steps.append(ResizeWithPadOrCrop(self.image_size_, mode="constant", value=pad))
        out, affines = [], []
        for t, src in zip(tensors, images.channel_first().images):
            for step in steps:
                t = step(t)
            x = np.asarray(t.array)
            if dtype is None and src.dtype.kind in "iub":
                x = np.rint(x).astype(src.dtype)
            out.append(x.astype(dtype) if dtype is not None else x)
            affines.append(np.asarray(t.affine, dtype=np.float64))
        return ImageSet(out, affines, images.paths, [dict(m) for m in images.meta])


def sorted_spacing(affine: np.ndarray, d: int, axcodes: str | None) -> list[float]:
    """Voxel sizes of ``affine`` listed in the order of the axes after reorienting to ``axcodes``."""
    sp = np.linalg.norm(affine[:3, :d], axis=0)
    if axcodes is None:
        return sp.tolist()
    world = np.argmax(np.abs(affine[:3, :d]), axis=0)  # world axis each voxel axis runs along
    return [float(sp[list(world).index(_WORLD_AXIS[c][0])]) if _WORLD_AXIS[c][0] in world else 1.0
            for c in axcodes]


def _per_axis(value, d: int, name: str, kind) -> list:
    vals = [value] * d if np.isscalar(value) else list(value)
    if len(vals) != d or any(kind(v) <= 0 for v in vals):
        raise ValueError(f"{name} must be one positive number or {d} of them, got {value!r}.")
    return [kind(v) for v in vals]


def _as_set(images, affine=None) -> ImageSet:
    if isinstance(images, ImageSet):
        return images.channel_first()
    return ImageSet.from_array(images, affines=affine)
