"""Streamed, atomic writers and numeric readers; the atomic-write primitives (all or nothing,
no temporary left, usual mode)."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from synthkit.io import atomic_folder, atomic_path, read_numeric, write_batches


def batches(n_batches=3, size=4, cols=2):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(size, cols)) for _ in range(n_batches)]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npy"])
def test_batches_concatenate(tmp_path, suffix):
    parts = batches()
    assert write_batches(tmp_path / f"out{suffix}", iter(parts), columns=["a", "b"]) == 12
    path = tmp_path / f"out{suffix}"
    got = np.load(path) if suffix == ".npy" else (pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)).to_numpy()
    np.testing.assert_allclose(got, np.vstack(parts))


def test_strings_to_smi(tmp_path):
    write_batches(tmp_path / "m.smi", [["CCO", "c1ccccc1"], ["N"]])
    assert (tmp_path / "m.smi").read_text().split() == ["CCO", "c1ccccc1", "N"]


def test_failure_mid_stream_leaves_nothing_behind(tmp_path):
    (tmp_path / "out.csv").write_text("old,complete\n1,2\n")

    def broken():
        yield np.zeros((2, 2))
        raise RuntimeError("generator died")

    with pytest.raises(RuntimeError):
        write_batches(tmp_path / "out.csv", broken())
    assert (tmp_path / "out.csv").read_text() == "old,complete\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_read_numeric_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_numeric(tmp_path / "x.csv")
    (tmp_path / "bad.txt").write_text("1,2")
    with pytest.raises(ValueError, match="unsupported file type"):
        read_numeric(tmp_path / "bad.txt")
    np.save(tmp_path / "v.npy", np.zeros(3))
    with pytest.raises(ValueError, match="2-D"):
        read_numeric(tmp_path / "v.npy")


@pytest.fixture
def umask_027():
    old = os.umask(0o027)  # a non-default umask, so the test tells "usual" from mkstemp's 0600
    yield 0o027
    os.umask(old)


def test_atomic_path_error_mid_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="mid-write"), atomic_path(target) as tmp:
        tmp.write_text("half of the new cont")
        raise RuntimeError("mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_path_success_replaces_with_usual_mode(tmp_path, umask_027):
    target = tmp_path / "sub" / "out.txt"  # the folder is created
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("new")
        assert not target.exists()  # nothing under the name before the block ends
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask_027
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_atomic_path_explicit_mode_and_suffix(tmp_path):
    with atomic_path(tmp_path / "a.nii.gz", suffix=".tmp.nii.gz", mode=0o640) as tmp:
        assert tmp.name.endswith(".tmp.nii.gz")
        tmp.write_bytes(b"x")
    assert stat.S_IMODE((tmp_path / "a.nii.gz").stat().st_mode) == 0o640


def test_atomic_folder_error_keeps_old_folder_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "part").write_text("old")
    with pytest.raises(RuntimeError, match="mid-write"), atomic_folder(target) as tmp:
        (tmp / "part").write_text("new")
        raise RuntimeError("mid-write")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (target / "part").read_text() == "old"


def test_atomic_folder_replaces_with_usual_mode(tmp_path, umask_027):
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale").write_text("old")
    with atomic_folder(target) as tmp:
        (tmp / "part").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["part"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask_027
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
