"""Loading and writing real files: NIfTI, DICOM series, PNG, NumPy; bad files are named."""

import gzip

import nibabel as nib
import numpy as np
import pytest

from synthkit.domains.medical import ImageSet, load_images, save_images


def oblique_affine():
    """A rotated (about z by 30 deg), anisotropic affine with an origin: what a scanner writes."""
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    a = np.eye(4)
    a[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag([0.8, 1.2, 3.0])
    a[:3, 3] = [-90.0, 12.5, 40.0]
    return a


@pytest.mark.parametrize("fmt", ["nii.gz", "nii"])
def test_nifti_round_trip_keeps_affine_spacing_and_values(tmp_path, fmt):
    rng = np.random.default_rng(0)
    X = rng.normal(100, 30, size=(3, 1, 7, 6, 5)).astype(np.float32)
    like = ImageSet.from_array(X, affines=oblique_affine())
    paths = save_images(X, tmp_path, like=like, format=fmt)
    assert [p.name for p in paths] == [f"image_00{i}.{fmt}" for i in range(3)]
    back = load_images(tmp_path, spatial_dims=3, stack=True)
    np.testing.assert_array_equal(back.array, X)
    for a in back.affines:
        np.testing.assert_allclose(a, oblique_affine(), atol=1e-5)
    np.testing.assert_allclose(back.spacings[0], (0.8, 1.2, 3.0), atol=1e-6)
    # the header a third-party reader sees: sform and qform both set, code 1 (scanner)
    hdr = nib.load(paths[0]).header
    assert int(hdr["sform_code"]) == 1 and int(hdr["qform_code"]) == 1
    np.testing.assert_allclose(hdr.get_qform(), oblique_affine(), atol=1e-5)


def test_nifti_label_maps_keep_integer_dtype(tmp_path):
    labels = np.random.default_rng(1).integers(0, 4, size=(2, 1, 5, 5, 5)).astype(np.uint8)
    save_images(labels, tmp_path, like=(1.0, 1.0, 2.0))
    back = load_images(tmp_path, dtype=None)
    assert back.images[0].dtype == np.uint8
    np.testing.assert_array_equal(back.array, labels)


def test_multichannel_nifti_is_4d_and_needs_multichannel(tmp_path):
    X = np.random.default_rng(2).normal(size=(1, 2, 4, 5, 6)).astype(np.float32)
    (path,) = save_images(X, tmp_path)
    assert nib.load(path).shape == (4, 5, 6, 2)  # channels last on disk (MSD layout)
    np.testing.assert_array_equal(load_images(path, multichannel=True).array, X)
    last = load_images(path, multichannel=True, channels="last")
    assert last.images[0].shape == (4, 5, 6, 2) and last.spatial_shape(0) == (4, 5, 6)


def test_png_round_trip_8_and_16_bit_and_rgb(tmp_path):
    rng = np.random.default_rng(3)
    grey8 = rng.integers(0, 256, size=(2, 1, 9, 7)).astype(np.uint8)
    grey16 = rng.integers(0, 65536, size=(1, 1, 9, 7)).astype(np.uint16)
    rgb = rng.integers(0, 256, size=(1, 3, 9, 7)).astype(np.uint8)
    save_images(grey8, tmp_path / "g8")
    save_images(grey16, tmp_path / "g16")
    save_images(rgb, tmp_path / "rgb")
    np.testing.assert_array_equal(load_images(tmp_path / "g8", dtype=None).array, grey8)
    np.testing.assert_array_equal(load_images(tmp_path / "g16", dtype=None).array, grey16)
    np.testing.assert_array_equal(load_images(tmp_path / "rgb", dtype=None, multichannel=True).array, rgb)
    # MONAI's PNG layout is (column, row): the picture a viewer shows is the transpose
    from PIL import Image

    shown = np.asarray(Image.open(tmp_path / "g8" / "image_000.png"))
    np.testing.assert_array_equal(shown, grey8[0, 0].T)


def test_png_refuses_floats_unless_given_a_range(tmp_path):
    X = np.random.default_rng(4).normal(size=(1, 1, 8, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="png_range"):
        save_images(X, tmp_path)
    assert not any(tmp_path.iterdir())
    (path,) = save_images(X, tmp_path, png_range=(-3, 3))
    back = load_images(path, dtype=None).array
    np.testing.assert_array_equal(back, np.round(np.clip((X + 3) / 6, 0, 1) * 255).astype(np.uint8))


def test_npy_round_trip(tmp_path):
    X = np.random.default_rng(5).normal(size=(2, 1, 6, 7)).astype(np.float32)
    save_images(X, tmp_path, format="npy")
    np.testing.assert_array_equal(load_images(tmp_path).array, X)
    multi = np.random.default_rng(6).normal(size=(1, 3, 6, 7)).astype(np.float32)
    (path,) = save_images(multi, tmp_path / "m", format="npy")
    np.testing.assert_array_equal(load_images(path, spatial_dims=2, multichannel=True).array, multi)


def test_dicom_series_round_trip_values_and_geometry(tmp_path, ct_series):
    volume, affine = ct_series(tmp_path / "ct", n_slices=5)
    s = load_images(tmp_path / "ct")
    assert len(s) == 1 and s.meta[0]["format"] == "dicom_series"
    np.testing.assert_array_equal(s.images[0][0], volume)  # HU after RescaleIntercept
    np.testing.assert_allclose(s.affines[0], affine, atol=1e-6)
    np.testing.assert_allclose(s.spacings[0], (0.75, 0.5, 2.5), atol=1e-6)
    # and out to NIfTI and back with the same geometry
    (path,) = save_images(s, tmp_path / "nii")
    back = load_images(path)
    np.testing.assert_array_equal(back.images[0], s.images[0])
    np.testing.assert_allclose(back.affines[0], affine, atol=1e-5)


def test_dicom_sagittal_series_geometry(tmp_path, ct_series):
    """Slices stepping along x (no z change): the series check and the affine work along the normal."""
    volume, affine = ct_series(tmp_path / "sag", orientation=(0, 1, 0, 0, 0, -1), step=1.5)
    s = load_images(tmp_path / "sag")
    np.testing.assert_array_equal(s.images[0][0], volume)
    np.testing.assert_allclose(s.affines[0], affine, atol=1e-6)
    np.testing.assert_allclose(s.spacings[0], (0.75, 0.5, 1.5), atol=1e-6)


def test_dicom_series_numbered_feet_first_is_fine(tmp_path, ct_series):
    volume, affine = ct_series(tmp_path / "rev", n_slices=4, numbers=[4, 3, 2, 1])
    s = load_images(tmp_path / "rev")
    np.testing.assert_array_equal(s.images[0][0], volume[..., ::-1])
    flipped = affine.copy()
    flipped[:3, 2] *= -1
    flipped[:3, 3] = affine[:3, :3] @ [0, 0, 3] + affine[:3, 3]
    np.testing.assert_allclose(s.affines[0], flipped, atol=1e-6)


def test_folder_of_series_and_pydicom_example(tmp_path, ct_series):
    from pydicom import examples

    ct_series(tmp_path / "a", n_slices=3, seed=1)
    ct_series(tmp_path / "b", n_slices=3, seed=2)
    s = load_images(tmp_path, stack=True)
    assert [p.rsplit("/", 1)[-1] for p in s.paths] == ["a", "b"] and s.array.shape == (2, 1, 5, 6, 3)
    single = load_images(examples.get_path("ct"))  # a real CT slice shipped with pydicom
    assert single.images[0].shape == (1, 128, 128)
    np.testing.assert_allclose(single.spacings[0], (0.661468, 0.661468), atol=1e-6)


# ---------------------------------------------------------------------- bad files
def test_missing_dicom_slice_is_named(tmp_path, ct_series):
    ct_series(tmp_path / "gap", n_slices=6, drop=3)
    with pytest.raises(ValueError, match=r"gap: missing slice.*IM0004\.dcm.*IM0002\.dcm.*2\.500 mm"):
        load_images(tmp_path / "gap")


def test_dicom_numbers_out_of_geometric_order(tmp_path, ct_series):
    ct_series(tmp_path / "mixed", n_slices=4, numbers=[1, 3, 2, 4])
    with pytest.raises(ValueError, match="mixed: InstanceNumber order disagrees"):
        load_images(tmp_path / "mixed")


def test_two_series_in_one_folder(tmp_path, ct_series):
    ct_series(tmp_path / "x", n_slices=3, seed=1)
    ct_series(tmp_path / "y", n_slices=3, seed=2, origin=(0.0, 0.0, 100.0))
    for f in (tmp_path / "y").iterdir():
        f.rename(tmp_path / "x" / f"B{f.name}")
    with pytest.raises(ValueError, match="x: files from more than one series"):
        load_images(tmp_path / "x")


def test_truncated_and_non_image_files_are_named(tmp_path):
    good = tmp_path / "good.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((8, 8, 8), np.float32), np.eye(4)), good)
    raw = gzip.decompress(good.read_bytes())
    (tmp_path / "cut.nii.gz").write_bytes(good.read_bytes()[:60])
    (tmp_path / "short.nii").write_bytes(raw[:1000])  # header fine, voxels missing
    (tmp_path / "header.nii").write_bytes(raw[:100])  # truncated header
    (tmp_path / "text.nii").write_text("not an image")
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "bad.dcm").write_bytes(b"\0" * 50)
    for name in ("cut.nii.gz", "short.nii", "header.nii", "text.nii", "text.png", "bad.dcm"):
        with pytest.raises(ValueError, match=rf"{name}: cannot read it as a \w+ image"):
            load_images(tmp_path / name)
    with pytest.raises(ValueError, match=r"notes\.txt: unsupported image file type"):
        (tmp_path / "notes.txt").write_text("x")
        load_images(tmp_path / "notes.txt")


def test_nan_voxels_are_named(tmp_path):
    X = np.zeros((6, 6, 6), np.float32)
    X[1, 2, 3] = np.nan
    nib.save(nib.Nifti1Image(X, np.eye(4)), tmp_path / "nan.nii.gz")
    with pytest.raises(ValueError, match=r"nan\.nii\.gz: 1 NaN and 0 infinite voxel"):
        load_images(tmp_path / "nan.nii.gz")


def test_4d_file_where_3d_expected(tmp_path):
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4, 3), np.float32), np.eye(4)), tmp_path / "fmri.nii.gz")
    with pytest.raises(ValueError, match=r"fmri\.nii\.gz: 4-D data .* single-channel images were expected"):
        load_images(tmp_path / "fmri.nii.gz", spatial_dims=3)
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), tmp_path / "vol.nii.gz")
    with pytest.raises(ValueError, match=r"vol\.nii\.gz: a 3-D image .* where 2-D images were expected"):
        load_images(tmp_path / "vol.nii.gz", spatial_dims=2)


def test_mixed_shapes_when_stacking_name_the_file(tmp_path):
    save_images(np.zeros((1, 1, 4, 4, 4), np.float32), tmp_path, names=["a"])
    save_images(np.zeros((1, 1, 4, 4, 5), np.float32), tmp_path, names=["b"])
    assert len(load_images(tmp_path)) == 2  # a list of images of different sizes is fine
    with pytest.raises(ValueError, match=r"b\.nii\.gz: shape \(1, 4, 4, 5\) differs from .*a\.nii\.gz"):
        load_images(tmp_path, stack=True)
    with pytest.raises(ValueError, match=r"b\.nii\.gz: shape"):
        load_images(tmp_path, with_meta=False)


def test_no_images_and_missing_paths(tmp_path):
    with pytest.raises(ValueError, match="no images found"):
        load_images(tmp_path)
    with pytest.raises(FileNotFoundError, match="nothere"):
        load_images(tmp_path / "nothere.nii")


def test_missing_slice_in_a_short_series(tmp_path, ct_series):
    ct_series(tmp_path / "short", n_slices=3, drop=1)
    with pytest.raises(ValueError, match=r"short: missing slice.*InstanceNumber \[2\] absent"):
        load_images(tmp_path / "short")


def test_imageset_feeds_monai_dictionary_transforms(tmp_path):
    from monai.transforms import Orientationd

    X = np.arange(3 * 4 * 5, dtype=np.float32).reshape(1, 1, 3, 4, 5)
    lps = np.diag([-1.0, -1.0, 2.0, 1.0])
    save_images(X, tmp_path, like=lps)
    (item,) = load_images(tmp_path).to_dicts()
    assert item["image"].meta["filename_or_obj"].endswith("image_000.nii.gz")
    out = Orientationd(keys="image", axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S")))(item)["image"]
    np.testing.assert_array_equal(out.numpy(), X[0][:, ::-1, ::-1, :])  # flipped in x and y, as LPS -> RAS needs
    np.testing.assert_allclose(np.diag(out.affine.numpy()), [1.0, 1.0, 2.0, 1.0])
