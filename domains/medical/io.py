"""Loading medical images from real files: NIfTI, DICOM series, PNG and NumPy, through MONAI.

Every file goes through MONAI's ``LoadImage`` with the reader for its format
(``NibabelReader`` for ``.nii`` / ``.nii.gz``, ``PydicomReader`` for DICOM, ``PILReader`` for
PNG, ``NumpyReader`` for ``.npy``; https://monai.readthedocs.io/en/stable/transforms.html#loadimage),
so arrays and affines are exactly what a MONAI pipeline would see: the NIfTI affine is the
one nibabel's ``get_best_affine`` picks (sform if its code is set, else qform -- the NIfTI-1
rule, https://nifti.nimh.nih.gov/nifti-1/documentation/nifti1fields/nifti1fields_pages/qsform.html),
and DICOM positions are turned from LPS+ into RAS+.

What comes back is an :class:`ImageSet` (images, affines, paths). Bad input is rejected at
the boundary with a ValueError that names the file: unreadable or truncated files, non-images,
NaN or infinite voxels, more axes than asked for (a 4-D NIfTI where 3-D volumes are expected),
DICOM series with a missing slice (:mod:`.dicom`), and, when a stack is requested, files
whose shapes differ. Writing is in :mod:`.save`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.domains.medical.deps import quiet_readers
from synthkit.domains.medical.dicom import check_series, dicom_files, is_dicom_file
from synthkit.domains.medical.imageset import CHANNELS, ImageSet, check_same_shape

#: file suffix -> format name (``.nii.gz`` is matched on the full name)
FORMATS = {".nii": "nifti", ".nii.gz": "nifti", ".png": "png", ".npy": "npy", ".dcm": "dicom"}
_READERS = {"nifti": "NibabelReader", "png": "PILReader", "npy": "NumpyReader", "dicom": "PydicomReader",
            "dicom_series": "PydicomReader"}


def load_images(path_or_paths, *, spatial_dims: int | None = None, channels: str = "first",
                with_meta: bool = True, multichannel: bool = False, stack: bool = False,
                dtype=np.float32) -> ImageSet | np.ndarray:
    """Read images from a folder, a file, or a list of files and folders.

    A folder holding DICOM slices is one DICOM series (one volume); any other folder is read
    as a set: each ``.nii`` / ``.nii.gz`` / ``.png`` / ``.npy`` / ``.dcm`` file in it is one
    image and each sub-folder of DICOM slices one volume (other files are ignored). Files are
    taken in sorted name order.

    Args:
        path_or_paths: a folder, a file, or a list of them.
        spatial_dims: 2 or 3 to require that every image has that many spatial axes;
            ``None`` takes it from the first image.
        channels: ``"first"`` (``(C, *spatial)``, MONAI's layout) or ``"last"``.
        with_meta: return an :class:`ImageSet`; ``False`` returns only the stacked array
            ``(n, C, *spatial)`` (implies ``stack``).
        multichannel: read an extra axis as channels: the 4th axis of a NIfTI (the Medical
            Segmentation Decathlon layout), the colour of a PNG, the first axis of a ``.npy``.
            Without it an extra axis of length > 1 is an error (e.g. a 4-D fMRI series where
            3-D volumes were expected); length 1 is always fine.
        stack: check now that all images share one shape (so ``ImageSet.array`` works).
        dtype: array dtype (``None`` keeps the file's, e.g. integer label maps).

    Returns:
        :class:`ImageSet`, or the stacked array if ``with_meta`` is false.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: naming the file, for any bad or unexpected file (see the module docstring).

    Example:
        >>> import numpy as np, tempfile
        >>> from synthkit.domains.medical import load_images, save_images
        >>> folder = tempfile.mkdtemp()
        >>> X = np.random.default_rng(0).normal(size=(2, 1, 4, 5, 6)).astype("float32")
        >>> _ = save_images(X, folder, like=(2.0, 2.0, 3.0))
        >>> s = load_images(folder)
        >>> s.array.shape, s.spacings[0], bool(np.allclose(s.array, X))
        ((2, 1, 4, 5, 6), (2.0, 2.0, 3.0), True)
    """
    if channels not in CHANNELS:
        raise ValueError(f"channels must be one of {CHANNELS}, got {channels!r}.")
    if spatial_dims not in (None, 2, 3):
        raise ValueError(f"spatial_dims must be 2, 3 or None, got {spatial_dims!r}.")
    items = find_images(path_or_paths)
    images, affines, paths, metas = [], [], [], []
    for path, kind in items:
        x, affine, meta = _read_one(path, kind, dtype=dtype)
        x = _to_channel_first(path, kind, x, spatial_dims, multichannel)
        if spatial_dims is None:
            spatial_dims = x.ndim - 1
        _check_finite(path, x)
        images.append(x if channels == "first" else np.moveaxis(x, 0, -1))
        affines.append(affine)
        paths.append(str(path))
        metas.append(meta)
    out = ImageSet(images, affines, paths, metas, channels)
    if stack or not with_meta:
        check_same_shape(out)
    return out if with_meta else out.array


def find_images(path_or_paths) -> list[tuple[Path, str]]:
    """The images a path or list stands for, as ``(path, format)`` pairs (see :func:`load_images`)."""
    if isinstance(path_or_paths, (str, Path)):
        path_or_paths = [path_or_paths]
    items: list[tuple[Path, str]] = []
    for p in map(Path, path_or_paths):
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder.")
        if p.is_dir():
            items += _folder_items(p)
        else:
            items.append((p, _file_format(p, strict=True)))
    if not items:
        raise ValueError(f"{', '.join(map(str, path_or_paths)) or 'no paths'}: no images found "
                         f"(looked for {', '.join(sorted(FORMATS))} files and folders of DICOM slices).")
    return items


def _folder_items(folder: Path) -> list[tuple[Path, str]]:
    if dicom_files(folder):
        others = [p.name for p in folder.iterdir() if p.is_file() and _file_format(p) not in (None, "dicom")]
        if others:
            raise ValueError(f"{folder}: holds DICOM slices and other images ({', '.join(sorted(others)[:3])}); "
                             "keep one DICOM series per folder.")
        return [(folder, "dicom_series")]
    items = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir() and dicom_files(p):
            items.append((p, "dicom_series"))
        elif p.is_file() and _file_format(p):
            items.append((p, _file_format(p)))
    return items


def _file_format(path: Path, *, strict: bool = False) -> str | None:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    if is_dicom_file(path):
        return "dicom"
    if strict:
        raise ValueError(f"{path}: unsupported image file type; use one of {', '.join(sorted(FORMATS))} "
                         "or a folder of DICOM slices.")
    return None


def _read_one(path: Path, kind: str, *, dtype) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read one file or series with MONAI; returns (raw array, 4 x 4 RAS+ affine, meta)."""
    from monai import data as mdata
    from monai.transforms import LoadImage

    meta: dict = {"format": kind}
    if kind == "dicom_series":
        meta["series_uid"] = check_series(path).uid  # ValueError naming the file for a bad series
    reader = getattr(mdata, _READERS[kind])()
    try:
        with quiet_readers():
            img = LoadImage(reader=reader, image_only=True, dtype=dtype)(str(path))
    except Exception as err:  # each reader raises its own (EOFError, OSError, RuntimeError, ...)
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(f"{path}: cannot read it as a {kind.replace('_', ' ')} image "
                         f"({type(err).__name__}: {first_line}).") from None
    x = np.asarray(img.array)
    affine = np.asarray(img.affine, dtype=np.float64)
    if kind == "nifti":
        meta["original_ndim"] = int(np.asarray(img.meta["dim"])[0])
    return x, affine, meta


def _to_channel_first(path: Path, kind: str, x: np.ndarray, spatial_dims, multichannel: bool) -> np.ndarray:
    """Put the channel axis first, checking the file has the expected number of axes."""
    if kind in ("nifti", "png"):
        file_spatial = min(x.ndim, 3 if kind == "nifti" else 2)
        if kind == "nifti" and x.ndim == 3 and spatial_dims == 2:
            file_spatial = 3  # a volume is never silently read as 2-D multi-channel
        channel_axis = -1  # NIfTI dim[4] / PNG colour come last
    else:  # npy, DICOM: every axis is spatial unless asked otherwise
        want = spatial_dims if spatial_dims is not None else x.ndim - int(multichannel)
        file_spatial = min(x.ndim, want) if kind == "npy" else x.ndim
        channel_axis = 0
    extra = x.ndim - file_spatial
    if spatial_dims is not None and file_spatial != spatial_dims:
        raise ValueError(f"{path}: a {file_spatial}-D image (shape {x.shape}) where {spatial_dims}-D images "
                         f"were expected (spatial_dims={spatial_dims}).")
    if extra > 1:
        raise ValueError(f"{path}: {x.ndim}-D data (shape {x.shape}); at most one axis beyond the "
                         f"{file_spatial} spatial ones can be read as channels.")
    if extra == 0:
        return x[None]
    x = np.moveaxis(x, channel_axis, 0)
    if x.shape[0] > 1 and not multichannel:
        raise ValueError(
            f"{path}: {x.ndim}-D data (shape {tuple(np.moveaxis(x, 0, channel_axis).shape)}) where "
            f"{file_spatial}-D single-channel images were expected; pass multichannel=True to read the "
            f"extra axis as {x.shape[0]} channels, or select one volume first."
        )
    return x


def _check_finite(path: Path, x: np.ndarray) -> None:
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            raise ValueError(f"{path}: {int(np.isnan(x).sum())} NaN and {int(np.isinf(x).sum())} infinite "
                             f"voxel(s) of {x.size}; fix or mask them before use.")
