"""DICOM series: check that a folder of slices is one complete, evenly spaced volume.

MONAI's ``PydicomReader`` stacks the slices of a folder in ``InstanceNumber`` order and builds
the affine from the first and last ``ImagePositionPatient``; it only warns when slices differ
in shape and silently skips slices without ``InstanceNumber``. A series with a missing slice
therefore loads as a volume that is quietly wrong: evenly spaced in its affine (the gap is
spread over all slices) but with the anatomy jumping at the gap. :func:`check_series` reads
the headers only (``stop_before_pixels``) and rejects, with the file named, what would make
the stacked volume wrong:

* files from more than one series (``SeriesInstanceUID``), or unreadable files;
* slices that differ in ``Rows`` / ``Columns``, ``PixelSpacing`` or ``ImageOrientationPatient``;
* a missing slice: a gap in the slice positions along the normal of the slice plane
  (``ImagePositionPatient`` projected on ``row x column`` direction cosines), or a gap in
  ``InstanceNumber`` (which also catches it where positions cannot: in a two-slice series);
* two slices at one position, uneven spacing, or ``InstanceNumber`` order that disagrees
  with the positions (MONAI would stack the slices out of place).

Positions are compared along the slice normal, so oblique and sagittal series are checked
the same way as axial ones (https://nipy.org/nibabel/dicom/dicom_orientation.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: relative tolerance on slice steps: a step more than 10% longer than the shortest is "uneven"
STEP_TOLERANCE = 0.1
#: the tags that fix the geometry; nothing else is read from each slice header
GEOMETRY_TAGS = ["SeriesInstanceUID", "InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient",
                 "PixelSpacing", "Rows", "Columns", "NumberOfFrames"]


@dataclass
class Series:
    """A checked series: slice files in stacking order (``InstanceNumber``) and its UID."""

    files: list[Path]
    uid: str | None


def is_dicom_file(path: Path) -> bool:
    """``.dcm`` suffix, or no suffix and the ``DICM`` preamble (as ``pydicom.misc.is_dicom``)."""
    if path.suffix.lower() == ".dcm":
        return True
    if path.suffix == "" and path.is_file():
        from pydicom.misc import is_dicom

        return is_dicom(str(path))
    return False


def dicom_files(folder: Path) -> list[Path]:
    """DICOM files directly inside ``folder``, sorted by name (hidden files skipped)."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.is_file() and is_dicom_file(p))


def check_series(folder) -> Series:
    """Check the DICOM slices in ``folder`` form one complete volume (see the module docstring).

    Raises:
        ValueError: naming the folder and the offending file(s), and what is wrong.
    """
    import pydicom

    folder = Path(folder)
    files = dicom_files(folder)
    if len(files) < 2:
        raise ValueError(f"{folder}: a DICOM series folder needs at least 2 slice files, found {len(files)}.")
    headers = []
    for f in files:
        try:
            headers.append(pydicom.dcmread(f, stop_before_pixels=True, specific_tags=GEOMETRY_TAGS))
        except Exception as err:  # pydicom raises InvalidDicomError, OSError, struct.error, ...
            raise ValueError(f"{f}: not a readable DICOM file ({type(err).__name__}: {err}).") from None
    _check_same(folder, files, headers, "SeriesInstanceUID", "files from more than one series")
    for f, h in zip(files, headers):
        if int(h.get("NumberOfFrames", 1) or 1) > 1:
            raise ValueError(f"{f}: a multi-frame DICOM inside a series folder; load it on its own.")
        for tag in ("Rows", "Columns"):
            if tag not in h:
                raise ValueError(f"{f}: DICOM slice without {tag}; it holds no image.")
        if "InstanceNumber" not in h:
            raise ValueError(f"{f}: DICOM slice without InstanceNumber; the series cannot be ordered "
                             "(MONAI's reader would drop it).")
    for tag in ("Rows", "Columns", "PixelSpacing", "ImageOrientationPatient"):
        _check_same(folder, files, headers, tag, f"slices with different {tag}")

    numbers = np.array([int(h.InstanceNumber) for h in headers])
    order = np.argsort(numbers, kind="stable")
    files = [files[i] for i in order]
    headers = [headers[i] for i in order]
    numbers = numbers[order]
    if len(set(numbers.tolist())) < len(numbers):
        dup = numbers[np.flatnonzero(np.diff(numbers) == 0)[0]]
        raise ValueError(f"{folder}: two slices share InstanceNumber {dup}.")

    if all("ImagePositionPatient" in h and "ImageOrientationPatient" in h for h in headers):
        _check_positions(folder, files, headers)
    # A whole series is numbered 1, 2, 3, ... by the scanner; a gap is the trace of a lost file
    # even where positions cannot show it (a series of two slices has one step, no reference).
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers.tolist()))
    if missing:
        raise ValueError(f"{folder}: missing slice(s): InstanceNumber {missing[:10]} absent between "
                         f"{numbers[0]} and {numbers[-1]}.")
    return Series(files, str(headers[0].get("SeriesInstanceUID", "")) or None)


def _check_same(folder, files, headers, tag, what):
    """ValueError naming the first slice whose ``tag`` differs from the first slice's."""
    first = headers[0].get(tag)
    numeric = tag in ("PixelSpacing", "ImageOrientationPatient")
    for f, h in zip(files, headers):
        value = h.get(tag)
        if numeric and value is not None and first is not None:
            same = np.allclose(np.asarray(value, float), np.asarray(first, float), atol=1e-4)
        else:
            same = value == first
        if not same:
            raise ValueError(f"{folder}: {what}: {f.name} has {tag} {value}, {files[0].name} has {first}.")


def _check_positions(folder, files, headers) -> None:
    """Validate the slice positions along the normal of the slice plane."""
    iop = np.asarray(headers[0].ImageOrientationPatient, dtype=np.float64)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    ipp = np.array([np.asarray(h.ImagePositionPatient, dtype=np.float64) for h in headers])
    pos = ipp @ normal  # in InstanceNumber order
    steps = np.diff(pos)
    if np.any(np.abs(steps) < 1e-4):
        i = int(np.flatnonzero(np.abs(steps) < 1e-4)[0])
        raise ValueError(f"{folder}: {files[i].name} and {files[i + 1].name} lie at the same position "
                         f"({pos[i]:.3f} mm along the slice normal); two series mixed in one folder?")
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(f"{folder}: InstanceNumber order disagrees with ImagePositionPatient "
                         f"(positions along the normal in InstanceNumber order: {np.round(pos, 3).tolist()}); "
                         "the slices would be stacked out of place.")
    step = float(np.min(np.abs(steps)))  # the true step: a missing slice only makes steps longer
    for i, s in enumerate(np.abs(steps)):
        if abs(s - step) > STEP_TOLERANCE * step:
            if s > (1 + 0.5) * step:
                n_missing = int(round(s / step)) - 1
                raise ValueError(
                    f"{folder}: missing slice(s): a gap of {s:.3f} mm between {files[i].name} "
                    f"(InstanceNumber {headers[i].InstanceNumber}) and {files[i + 1].name} (InstanceNumber "
                    f"{headers[i + 1].InstanceNumber}) where the series steps by {step:.3f} mm "
                    f"(about {max(n_missing, 1)} slice(s) missing).")
            raise ValueError(f"{folder}: uneven slice spacing: {s:.3f} mm between {files[i].name} and "
                             f"{files[i + 1].name}, {step:.3f} mm elsewhere.")
