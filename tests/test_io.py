"""Streamed, atomic writers and numeric readers."""

import numpy as np
import pandas as pd
import pytest

from synthkit.io import read_numeric, write_batches


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
