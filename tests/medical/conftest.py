"""Shared helpers for the medical tests: real files written with nibabel and pydicom into tmp_path."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("monai")
pytest.importorskip("pydicom")


def write_ct_series(folder: Path, *, n_slices=5, rows=6, cols=5, pixel_spacing=(0.5, 0.75), step=2.5,
                    origin=(-10.0, -20.0, 30.0), orientation=(1, 0, 0, 0, 1, 0), seed=0,
                    drop=None, numbers=None):
    """Write a CT-like series of 16-bit slices (RescaleIntercept -1024, ImagePositionPatient
    stepping along the slice normal); return the expected volume in MONAI's axis order
    ``(column, row, slice)`` in HU and the expected RAS+ affine.

    ``drop``: index of a slice not to write (a missing slice). ``numbers``: the InstanceNumber
    of each slice (default 1, 2, ... in position order).
    """
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    hu = rng.integers(-1000, 1500, size=(n_slices, rows, cols)).astype(np.int16)
    iop = np.asarray(orientation, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    series, study, frame = generate_uid(), generate_uid(), generate_uid()
    for k in range(n_slices):
        if k == drop:
            continue
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, sop, "CT"
        ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID = series, study, frame
        ds.PatientName, ds.PatientID = "Synthetic^Phantom", "0"
        ds.InstanceNumber = k + 1 if numbers is None else numbers[k]
        ds.ImagePositionPatient = [float(v) for v in np.asarray(origin) + k * step * normal]
        ds.ImageOrientationPatient = [float(v) for v in iop]
        ds.PixelSpacing = [float(v) for v in pixel_spacing]
        ds.SliceThickness = step
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = (hu[k].astype(np.int32) + 1024).astype(np.uint16).tobytes()
        # names in reverse so the file order is not the slice order
        ds.save_as(folder / f"IM{n_slices - k:04d}.dcm", enforce_file_format=True)
    volume = np.transpose(hu, (2, 1, 0)).astype(np.float32)  # (slice, row, col) -> (col, row, slice)
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * pixel_spacing[1]
    lps[:3, 1] = iop[3:] * pixel_spacing[0]
    lps[:3, 2] = normal * step
    lps[:3, 3] = origin
    return volume, np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


@pytest.fixture
def ct_series():
    return write_ct_series
