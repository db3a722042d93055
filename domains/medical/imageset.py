"""``ImageSet``: images with the geometry that places them in the patient (or template) space.

A generative model sees a stack of arrays; a radiologist's viewer needs to know where each
voxel lies. ``ImageSet`` keeps both together so nothing is lost between loading, training
and writing samples back: per image a channel-first array ``(C, *spatial)``, a ``4 x 4``
voxel-to-world affine and the file it came from.

Conventions are MONAI's (and therefore NIfTI's): spatial axes are in the file's voxel index
order ``(i, j[, k])`` -- for a PNG that is ``(column, row)``, as MONAI's ``PILReader`` gives
it -- and the affine maps ``(i, j, k, 1)`` to world millimetres in RAS+ (+x toward the
patient's Right, +y Anterior, +z Superior; https://nipy.org/nibabel/coordinate_systems.html).
DICOM positions are LPS+ and are flipped into RAS+ on loading, as MONAI's
``PydicomReader(affine_lps_to_ras=True)`` does. 2-D images carry a ``4 x 4`` affine too
(MONAI's ``MetaTensor`` default), of which the top-left ``2 x 2`` block and the translation
matter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

CHANNELS = ("first", "last")


@dataclass(eq=False)
class ImageSet:
    """A list of images, each with its affine and source path (see the module docstring).

    Attributes:
        images: arrays ``(C, *spatial)`` (``channels="first"``) or ``(*spatial, C)``.
        affines: ``(4, 4)`` float64 voxel-to-world (RAS+ mm) matrices, one per image.
        paths: the file (or DICOM series folder) each image came from; ``None`` if made in memory.
        meta: per-image extras (``"format"``, and for DICOM ``"series_uid"``), plain data.
        channels: ``"first"`` or ``"last"``: where the channel axis of ``images`` is.

    Example:
        >>> import numpy as np
        >>> s = ImageSet.from_array(np.zeros((2, 1, 4, 5, 6)), spacing=(2.0, 2.0, 3.0))
        >>> len(s), s.spatial_dims, s.spacings[0], s.array.shape
        (2, 3, (2.0, 2.0, 3.0), (2, 1, 4, 5, 6))
    """

    images: list[np.ndarray]
    affines: list[np.ndarray]
    paths: list[str | None] = field(default_factory=list)
    meta: list[dict] = field(default_factory=list)
    channels: str = "first"

    def __post_init__(self):
        self.images = list(self.images)
        self.affines = [np.asarray(a, dtype=np.float64) for a in self.affines]
        self.paths = list(self.paths) if self.paths else [None] * len(self.images)
        self.meta = list(self.meta) if self.meta else [{} for _ in self.images]
        if self.channels not in CHANNELS:
            raise ValueError(f"channels must be one of {CHANNELS}, got {self.channels!r}.")
        if not (len(self.images) == len(self.affines) == len(self.paths) == len(self.meta)):
            raise ValueError(
                f"ImageSet needs one affine, path and meta per image: got {len(self.images)} images, "
                f"{len(self.affines)} affines, {len(self.paths)} paths, {len(self.meta)} meta."
            )
        for a in self.affines:
            if a.shape != (4, 4):
                raise ValueError(f"affines must be 4 x 4 matrices, got shape {a.shape}.")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_array(cls, X, *, affines=None, spacing=None, paths=None, channels: str = "first") -> ImageSet:
        """Wrap a stack ``(n, C, *spatial)`` (or a list of images) with affines.

        ``affines`` is one ``4 x 4`` matrix for all images or one per image; without it the
        affine is ``diag(spacing, 1)`` (``spacing`` defaults to 1 mm per axis).
        """
        images = [np.asarray(x) for x in X]
        n = len(images)
        if affines is None:
            d = images[0].ndim - 1 if n else 0
            sp = np.ones(d) if spacing is None else np.asarray(spacing, dtype=np.float64)
            if sp.shape != (d,):
                raise ValueError(f"spacing must have one value per spatial axis ({d}), got {spacing!r}.")
            affines = [spacing_affine(sp)] * n
        else:
            affines = np.asarray(affines, dtype=np.float64)
            affines = [affines] * n if affines.shape == (4, 4) else list(affines)
        return cls(images, affines, list(paths) if paths is not None else [], [], channels)

    # ------------------------------------------------------------------ shape facts
    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.images)

    def __getitem__(self, index):
        """One image (an int), or a sub-set (a slice or a sequence of indices)."""
        if isinstance(index, (int, np.integer)):
            return self.images[index]
        idx = range(len(self))[index] if isinstance(index, slice) else index
        return self.subset(idx)

    def __eq__(self, other) -> bool:
        """Equal when the images (values, shapes, dtypes' kinds) and affines are equal; source
        paths and meta are not compared (a set read back from new files equals the one written)."""
        if not isinstance(other, ImageSet) or len(self) != len(other):
            return NotImplemented if not isinstance(other, ImageSet) else False
        a, b = self.channel_first(), other.channel_first()
        return all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a.images, b.images)) and all(
            np.array_equal(p, q) for p, q in zip(a.affines, b.affines))

    def subset(self, indices: Sequence[int]) -> ImageSet:
        """The images at ``indices``, with their affines, paths and meta."""
        idx = list(indices)
        return ImageSet([self.images[i] for i in idx], [self.affines[i] for i in idx],
                        [self.paths[i] for i in idx], [self.meta[i] for i in idx], self.channels)

    def spatial_shape(self, i: int) -> tuple[int, ...]:
        """Spatial shape of image ``i`` (without the channel axis)."""
        shape = self.images[i].shape
        return tuple(shape[1:] if self.channels == "first" else shape[:-1])

    def n_channels(self, i: int = 0) -> int:
        """Channels of image ``i``."""
        return int(self.images[i].shape[0 if self.channels == "first" else -1])

    @property
    def spatial_dims(self) -> int:
        """2 or 3 (from the first image)."""
        return len(self.spatial_shape(0)) if self.images else 0

    @property
    def spacings(self) -> list[tuple[float, ...]]:
        """Voxel size in mm along each spatial axis: the column norms of each affine."""
        d = self.spatial_dims
        return [tuple(float(v) for v in np.linalg.norm(a[:3, :d], axis=0)) for a in self.affines]

    @property
    def orientations(self) -> list[str]:
        """nibabel axis codes of each affine, e.g. ``"RAS"`` (``"RA"`` for 2-D images)."""
        import nibabel as nib

        d = self.spatial_dims
        return ["".join(nib.aff2axcodes(a))[:d] for a in self.affines]

    @property
    def array(self) -> np.ndarray:
        """All images stacked into one array ``(n, C, *spatial)`` (or channels last).

        Raises ValueError naming the first file whose shape differs from the first image's
        (crop or pad them to one size first, e.g. with :class:`ImagePreprocessor`).
        """
        check_same_shape(self)
        return np.stack(self.images) if self.images else np.zeros((0,))

    def channel_first(self) -> ImageSet:
        """This set with channels first (a copy of the list; arrays are views)."""
        if self.channels == "first":
            return self
        return ImageSet([np.moveaxis(x, -1, 0) for x in self.images], self.affines, self.paths, self.meta, "first")

    # ------------------------------------------------------------------ MONAI interop
    def metatensors(self) -> list:
        """Each image as a MONAI ``MetaTensor`` (channel first) carrying its affine and file name,
        ready for MONAI array transforms."""
        from monai.data import MetaTensor

        out = []
        for x, a, p in zip(self.channel_first().images, self.affines, self.paths):
            meta = {"filename_or_obj": p} if p else {}
            out.append(MetaTensor(np.ascontiguousarray(x), affine=a, meta=meta))
        return out

    def to_dicts(self, key: str = "image") -> list[dict]:
        """``[{key: MetaTensor}, ...]``: the input MONAI dictionary transforms and ``Dataset`` take."""
        return [{key: t} for t in self.metatensors()]


def spacing_affine(spacing) -> np.ndarray:
    """``4 x 4`` affine with ``spacing`` on the diagonal (RAS+ axes, origin at voxel 0)."""
    sp = np.asarray(spacing, dtype=np.float64)
    a = np.eye(4)
    a[np.arange(len(sp)), np.arange(len(sp))] = sp
    return a


def check_same_shape(images: ImageSet) -> None:
    """ValueError naming the first image whose array shape differs from the first one's."""
    if not images.images:
        return
    ref = images.images[0].shape
    for x, p in zip(images.images, images.paths):
        if x.shape != ref:
            raise ValueError(
                f"{p or 'an in-memory image'}: shape {x.shape} differs from {images.paths[0] or 'the first image'}'s "
                f"{ref}; images of one stack must share a shape (resample / crop / pad them first, e.g. "
                "ImagePreprocessor(image_size=...))."
            )
