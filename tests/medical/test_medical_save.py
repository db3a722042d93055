"""save_images writes a set all or nothing: a failure midway leaves the folder as it was."""

import numpy as np
import pytest

from synthkit.domains.medical import load_images, save, save_images


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_failure_midway_leaves_earlier_files_untouched_and_no_temp_files(tmp_path, monkeypatch):
    before = np.ones((1, 1, 4, 4, 4), np.float32)
    save_images(before, tmp_path, names=["kept"])
    old = snapshot(tmp_path)
    real = save._WRITERS["nii.gz"]
    calls = []

    def fails_on_third(x, affine, path, png_range):  # a disk that fills up at the third file
        calls.append(path)
        if len(calls) == 3:
            path.write_bytes(b"half a file")
            raise OSError(28, "No space left on device")
        real(x, affine, path, png_range)

    monkeypatch.setitem(save._WRITERS, "nii.gz", fails_on_third)
    X = np.random.default_rng(0).normal(size=(5, 1, 4, 4, 4)).astype(np.float32)
    with pytest.raises(OSError, match=r"image_002\.nii\.gz: writing failed .*No space left"):
        save_images(X, tmp_path)
    assert len(calls) == 3  # two files were fully written before the failure ...
    assert snapshot(tmp_path) == old  # ... yet nothing new remains and the old file is intact
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_failure_while_renaming_removes_the_new_files(tmp_path):
    """A real OS failure in the rename step: the third target is a non-empty folder."""
    blocker = tmp_path / "c.nii.gz"
    blocker.mkdir()
    (blocker / "inside.txt").write_text("keep me")
    save_images(np.zeros((1, 1, 3, 3, 3), np.float32), tmp_path, names=["a"])
    a_before = (tmp_path / "a.nii.gz").read_bytes()
    X = np.random.default_rng(1).normal(size=(3, 1, 3, 3, 3)).astype(np.float32)
    with pytest.raises(OSError, match=r"c\.nii\.gz: could not move"):
        save_images(X, tmp_path, names=["a", "b", "c"], overwrite=True)
    assert not (tmp_path / "b.nii.gz").exists()  # created by this call, then removed
    assert (tmp_path / "a.nii.gz").read_bytes() != a_before  # replaced, as overwrite asked
    assert (blocker / "inside.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_existing_targets_are_refused_before_anything_is_written(tmp_path):
    save_images(np.zeros((1, 1, 3, 3, 3), np.float32), tmp_path, names=["image_001"])
    old = snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"image_001\.nii\.gz: already exists .*Nothing was written"):
        save_images(np.ones((3, 1, 3, 3, 3), np.float32), tmp_path)
    assert snapshot(tmp_path) == old


def test_bad_image_midway_is_caught_before_writing(tmp_path):
    images = [np.zeros((1, 4, 4), np.float32), np.full((1, 4, 4), np.nan, np.float32)]
    with pytest.raises(ValueError, match=r"image_001\.npy: the image has NaN"):
        save_images(images, tmp_path, format="npy")
    assert not any(tmp_path.iterdir())


def test_names_follow_the_source_files(tmp_path):
    X = np.random.default_rng(2).normal(size=(2, 1, 3, 4, 5)).astype(np.float32)
    save_images(X, tmp_path / "src", names=["sub-01_T1w", "sub-02_T1w"])
    s = load_images(tmp_path / "src")
    paths = save_images(s, tmp_path / "copy")
    assert [p.name for p in paths] == ["sub-01_T1w.nii.gz", "sub-02_T1w.nii.gz"]
    with pytest.raises(ValueError, match="folder separator"):
        save_images(X, tmp_path, names=["../escape", "b"])
