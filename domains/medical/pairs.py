"""Pairing a folder of label maps with a folder of images by file name, for mask-conditioned
fits from files (``synthkit fit medical IMAGES --masks MASKS``).

A mask belongs to the image whose file has the same name once the image suffix
(``.nii.gz``, ``.nii``, ``.png``, ``.npy``, ``.dcm``) is dropped: ``scans/case01.nii.gz`` and
``labels/case01.nii.gz`` (the layout of nnU-Net's ``imagesTr`` / ``labelsTr`` without the
channel suffix). Every image needs exactly one mask and every mask an image, so that a missing
or misnamed file is an error naming it, never a silently shifted pairing.
"""

from __future__ import annotations

from pathlib import Path

from synthkit.domains.medical.imageset import ImageSet

SUFFIXES = (".nii.gz", ".nii", ".png", ".npy", ".dcm")


def stem(path) -> str:
    """The file (or DICOM series folder) name of ``path`` without its image suffix."""
    name = Path(str(path)).name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def pair_masks(images: ImageSet, masks: ImageSet, *, images_from, masks_from) -> ImageSet:
    """``masks`` reordered to match ``images`` one to one by :func:`stem`.

    Raises:
        ValueError: naming the images without a mask, the masks without an image, or two
            files with one name, and the folders looked in.
    """
    def names(s: ImageSet, where) -> list[str]:
        if any(p is None for p in s.paths):
            raise ValueError(f"{where}: masks are matched to images by file name, but these have no file names.")
        out = [stem(p) for p in s.paths]
        twice = sorted({n for n in out if out.count(n) > 1})
        if twice:
            raise ValueError(f"{where}: more than one file is named {twice[0]!r} (once the suffix is dropped); "
                             "masks are matched to images by name.")
        return out

    image_names, mask_names = names(images, images_from), names(masks, masks_from)
    index = {n: i for i, n in enumerate(mask_names)}
    missing = [n for n in image_names if n not in index]
    if missing:
        raise ValueError(f"{masks_from} has no mask for image {missing[0]!r} of {images_from} (expected a file "
                         f"named {missing[0]}.nii.gz or another image suffix; {len(missing)} of {len(image_names)} "
                         "images lack one).")
    extra = sorted(set(mask_names) - set(image_names))
    if extra:
        raise ValueError(f"mask {extra[0]!r} in {masks_from} matches no image in {images_from} "
                         f"({len(extra)} unmatched masks); name each mask as its image.")
    return masks.subset([index[n] for n in image_names])
