"""Writing images: NIfTI with the right affine, PNG, NumPy -- each set written all or nothing.

NIfTI files get the affine in both the sform and (when it is a rotation and zooms, which
is all a qform can hold) the qform, each with code 1 ("scanner anatomical"), so nibabel,
ITK / SimpleITK and FSL read the same geometry back (the NIfTI-1 qform/sform rules:
https://nifti.nimh.nih.gov/nifti-1/documentation/nifti1fields/nifti1fields_pages/qsform.html).
PNG holds no geometry; it is for 2-D integer images (or floats mapped through ``png_range``).

A set is written in three steps so that a failure never leaves a half-written file or
removes one already there: (1) everything is validated, including that no target exists
unless ``overwrite``; (2) every image is written to a hidden temporary file in the target
folder; (3) the temporary files are renamed into place with ``os.replace`` (atomic on POSIX
and Windows within one file system). If (2) fails the temporary files are removed and the
folder is as it was; if a rename in (3) fails, the files it already created are removed too
(with ``overwrite`` a file it already replaced stays replaced: the old one is gone).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import numpy as np

from synthkit.domains.medical.imageset import ImageSet, spacing_affine

WRITE_FORMATS = ("nii.gz", "nii", "png", "npy")
_STRIP = (".nii.gz", ".nii", ".png", ".npy", ".dcm")


def save_images(images, folder, like=None, *, names=None, format: str | None = None, channels: str = "first",
                overwrite: bool = False, png_range: tuple[float, float] | None = None) -> list[Path]:
    """Write images to ``folder``, one file each, all or nothing (see the module docstring).

    Args:
        images: an :class:`ImageSet`, an array ``(n, C, *spatial)`` or a list of ``(C, *spatial)``
            arrays (``channels="last"`` for ``(*spatial, C)``).
        folder: destination folder (created if missing).
        like: where the geometry comes from: an :class:`ImageSet` (one affine per image, or one
            for all), one ``4 x 4`` affine or a list of them, or a spacing tuple in mm.
            ``None`` keeps an ImageSet's own affines, and gives arrays 1 mm voxels.
        names: file names without suffix; default: the source files' names (from ``like`` or
            the ImageSet), else ``image_000``, ``image_001``, ...
        format: ``"nii.gz"`` (default for 3-D), ``"nii"``, ``"png"`` (default for 2-D) or ``"npy"``.
        overwrite: replace existing files (each atomically; the set as a whole is then not).
        png_range: ``(low, high)`` mapped linearly to 0..255 for PNG (clipped); without it PNG
            needs integer values in 0..255 (8-bit) or 0..65535 (16-bit grey).

    Returns:
        The paths written, in image order.

    Raises:
        ValueError: bad images or arguments, or targets that exist (nothing is written).
        OSError: writing failed (nothing of the set is left behind).
    """
    images = _as_imageset(images, like, channels)
    fmt = format or ("nii.gz" if images.spatial_dims == 3 else "png")
    if fmt not in WRITE_FORMATS:
        raise ValueError(f"format must be one of {WRITE_FORMATS}, got {fmt!r}.")
    folder = Path(folder)
    targets = [folder / f"{n}.{fmt}" for n in _names(images, like, names)]
    for i, (x, target) in enumerate(zip(images.images, targets)):
        _validate(x, target, fmt, png_range)
    existing = [str(t) for t in targets if t.exists() or t.is_symlink()]
    if existing and not overwrite:
        raise ValueError(f"{existing[0]}: already exists ({len(existing)} of the {len(targets)} targets do); "
                         "pass overwrite=True or choose another folder. Nothing was written.")
    folder.mkdir(parents=True, exist_ok=True)

    temps: list[Path] = []
    try:
        for x, affine, target in zip(images.images, images.affines, targets):
            tmp = folder / f".{target.name[: -len(fmt) - 1]}.{secrets.token_hex(4)}.tmp.{fmt}"
            temps.append(tmp)
            _WRITERS[fmt](x, affine, tmp, png_range)
    except Exception as err:
        _remove(temps)
        raise OSError(f"{targets[len(temps) - 1]}: writing failed ({type(err).__name__}: {err}); "
                      "no file of this set was written.") from err
    placed: list[Path] = []
    try:
        for tmp, target in zip(temps, targets):
            os.replace(tmp, target)
            placed.append(target)
    except OSError as err:
        _remove(temps[len(placed):])
        _remove([t for t in placed if str(t) not in existing])  # new files go; replaced ones cannot return
        raise OSError(f"{targets[len(placed)]}: could not move the written file into place ({err}); the new "
                      "files renamed before it were removed.") from err
    return targets


def _as_imageset(images, like, channels) -> ImageSet:
    if isinstance(images, ImageSet):
        images = images.channel_first()
        if like is None:
            return images
        images = images.images
    else:
        if isinstance(images, np.ndarray) and images.ndim < 3:
            raise ValueError(f"images must be (n, C, *spatial), got an array of shape {images.shape}.")
        images = [np.asarray(x) for x in images]
        if channels == "last":
            images = [np.moveaxis(x, -1, 0) for x in images]
        elif channels != "first":
            raise ValueError(f"channels must be 'first' or 'last', got {channels!r}.")
    n = len(images)
    if n == 0:
        raise ValueError("no images to save.")
    d = images[0].ndim - 1
    if d not in (2, 3):
        raise ValueError(f"images must have 2 or 3 spatial axes after the channel axis, got shape {images[0].shape}.")
    return ImageSet(images, _affines(like, n, d), [], [], "first")


def _affines(like, n: int, d: int) -> list[np.ndarray]:
    if like is None:
        return [np.eye(4)] * n
    if isinstance(like, ImageSet):
        if len(like) not in (1, n):
            raise ValueError(f"like has {len(like)} images, images has {n}: give one reference or one per image.")
        return like.affines * n if len(like) == 1 else list(like.affines)
    arr = np.asarray(like, dtype=np.float64)
    if arr.shape == (4, 4):
        return [arr] * n
    if arr.ndim == 3 and arr.shape[1:] == (4, 4) and len(arr) == n:
        return list(arr)
    if arr.shape == (d,):
        return [spacing_affine(arr)] * n
    raise ValueError(f"like must be an ImageSet, a 4 x 4 affine, {n} affines or {d} spacings; got shape {arr.shape}.")


def _names(images: ImageSet, like, names) -> list[str]:
    if names is None:
        source = like.paths if isinstance(like, ImageSet) and len(like) == len(images) else images.paths
        stems = [_stem(p) for p in source] if all(source) else []
        names = stems if len(set(stems)) == len(images) else [f"image_{i:03d}" for i in range(len(images))]
    names = [str(n) for n in names]
    if len(names) != len(images) or len(set(names)) != len(names):
        raise ValueError(f"names must be {len(images)} distinct names, got {len(names)} ({len(set(names))} distinct).")
    for n in names:
        if not n or "/" in n or os.sep in n or n.startswith("."):
            raise ValueError(f"{n!r}: a file name must be non-empty, not hidden, and hold no folder separator.")
    return names


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in _STRIP:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _validate(x: np.ndarray, target: Path, fmt: str, png_range) -> None:
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{target}: images must hold real numbers, got dtype {x.dtype}.")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"{target}: the image has NaN or infinite values.")
    c, d = x.shape[0], x.ndim - 1
    if fmt in ("nii", "nii.gz") and d == 2 and c > 1:
        raise ValueError(f"{target}: a 2-D NIfTI holds one channel, got {c}; use format='npy' or 'png'.")
    if fmt == "png":
        if d != 2 or c not in (1, 3, 4):
            raise ValueError(f"{target}: PNG holds 2-D images with 1, 3 or 4 channels, got shape {x.shape}.")
        if png_range is None:
            if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
                raise ValueError(f"{target}: PNG needs integer values; pass png_range=(low, high) to map floats "
                                 "to 0..255, or use format='npy' / 'nii.gz' to keep them exactly.")
            top = 255 if c > 1 else 65535
            if x.size and (x.min() < 0 or x.max() > top):
                raise ValueError(f"{target}: values {x.min()}..{x.max()} do not fit a PNG (0..{top}); "
                                 "pass png_range=(low, high).")


def _write_nifti(x, affine, path, _png_range):
    import nibabel as nib

    data = x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)
    if data.dtype == bool:
        data = data.astype(np.uint8)
    img = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    img.header.set_xyzt_units("mm")
    img.set_sform(affine, code=1)
    rz = affine[:3, :3]
    gram = rz.T @ rz
    orthogonal = np.allclose(gram, np.diag(np.diag(gram)), atol=1e-6 * max(np.abs(gram).max(), 1.0))
    img.set_qform(affine if orthogonal else None, code=1 if orthogonal else 0)
    nib.save(img, str(path))


def _write_png(x, _affine, path, png_range):
    from PIL import Image

    arr = np.moveaxis(x, 0, -1).transpose(1, 0, 2)  # (C, col, row) -> (row, col, C), PIL's layout
    if png_range is not None:
        lo, hi = (float(v) for v in png_range)
        arr = np.round(np.clip((arr.astype(np.float64) - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
    else:
        arr = arr.astype(np.uint8 if arr.shape[-1] > 1 or arr.max(initial=0) <= 255 else np.uint16)
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(path, format="PNG")


def _write_npy(x, _affine, path, _png_range):
    with open(path, "wb") as f:
        np.save(f, x[0] if x.shape[0] == 1 else x)


def _remove(paths) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


_WRITERS = {"nii.gz": _write_nifti, "nii": _write_nifti, "png": _write_png, "npy": _write_npy}
