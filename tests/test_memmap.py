"""Generators fitted on memory-mapped rows: chunked statistics, no full copy, same model."""

import os
from pathlib import Path

import numpy as np
import pytest

import synthkit.memmap as mm
from synthkit.registry import make_generator


def _rows(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(3.0, 2.0, n)
    return np.c_[a, 0.5 * a + rng.normal(0, 0.1, n), rng.integers(0, 3, n)].astype(np.float32)


def _mapped(X, path):
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=X.shape)
    out[:] = X
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def test_chunked_moments_and_distinct_values_match_numpy(tmp_path, monkeypatch):
    monkeypatch.setattr(mm, "CHUNK_ROWS", 256)
    X = _mapped(_rows(), tmp_path / "x.npy")
    mean, std = mm.moments(X)
    np.testing.assert_allclose(mean, np.asarray(X, dtype=np.float64).mean(0), rtol=1e-10)
    np.testing.assert_allclose(std, np.asarray(X, dtype=np.float64).std(0), rtol=1e-10)
    pooled = np.array([True, True, False])
    m, s = mm.moments(X, pooled=pooled)
    np.testing.assert_allclose([m[0], s[0]], [X[:, :2].astype(float).mean(), X[:, :2].astype(float).std()],
                               rtol=1e-10)
    np.testing.assert_array_equal(mm.distinct_values(X[:, 2]), np.unique(X[:, 2]))
    assert mm.distinct_values(X[:, 0], limit=32) is None
    assert mm.mapped_file(X[10:20, :2]) == str(tmp_path / "x.npy") and mm.mapped_file(np.ones(3)) is None


def test_fit_on_a_memory_map_trains_on_a_scratch_map_and_matches_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(mm, "CHUNK_ROWS", 512)
    X = _rows()
    seen = {}

    def params(epochs=20):
        return {"categorical_features": [2], "max_epochs": epochs, "hidden_dim": 32, "random_state": 0, "verbose": 0}

    mapped_gen = make_generator("autoregressive", **params())
    original_fit = type(mapped_gen)._fit

    def spy(self, Xt, c):  # what the family trains on: standardized rows in an unlinked scratch map
        maps = Path("/proc/self/maps").read_text() if os.path.exists("/proc/self/maps") else None
        seen["scratch"] = None if maps is None else [
            line for line in maps.splitlines() if str(tmp_path) in line and "(deleted)" in line]
        seen["dtype"] = Xt.dtype
        return original_fit(self, Xt, c)

    monkeypatch.setattr(type(mapped_gen), "_fit", spy)
    mapped_gen.fit(_mapped(X, tmp_path / "x.npy"))
    monkeypatch.undo()
    if seen["scratch"] is None:
        pytest.skip("no /proc/self/maps to see the scratch map in")
    assert seen["scratch"], "the standardized rows are not an unlinked memory map beside the input"
    assert seen["dtype"].is_floating_point
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]  # nothing left behind

    # it learned the data, not just ran: the dependent column follows the first (untrained: ~0)
    a = mapped_gen.sample(500, random_state=1)
    assert np.corrcoef(a[:, 0], a[:, 1])[0, 1] > 0.9
    # the same model as from the array in memory (the moments differ in the last float32 digit:
    # NumPy sums float32 in float32, the chunks in float64; long training amplifies that)
    short = make_generator("autoregressive", **params(2)).fit(_mapped(X, tmp_path / "y.npy"))
    memory_gen = make_generator("autoregressive", **params(2)).fit(X)
    np.testing.assert_allclose(short.mean_, memory_gen.mean_, rtol=1e-5)
    np.testing.assert_allclose(short.scale_, memory_gen.scale_, rtol=1e-5)
    assert short.discrete_values_ == memory_gen.discrete_values_
    np.testing.assert_allclose(short.sample(500, random_state=1), memory_gen.sample(500, random_state=1), atol=1e-3)


def test_a_read_only_folder_puts_the_scratch_map_in_tmpdir(tmp_path, monkeypatch):
    X = _mapped(_rows(300), tmp_path / "x.npy")
    real = mm.tempfile.TemporaryFile

    def refuse_input_folder(*args, dir=None, **kwargs):
        if dir is not None:
            raise PermissionError(13, "Permission denied", dir)
        return real(*args, **kwargs)

    monkeypatch.setattr(mm.tempfile, "TemporaryFile", refuse_input_folder)
    out = mm.standardize(X, np.zeros(3), np.ones(3))
    assert isinstance(out, np.memmap)
    np.testing.assert_array_equal(out, X)
