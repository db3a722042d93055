"""Streamed scan of a table larger than memory: reservoir sample, exact facts, memory-mapped encoding."""

import numpy as np
import pandas as pd
import pytest
from synthkit.domains.tabular import TableEncoder
from synthkit.domains.tabular.streaming import (
    encode_to_memmap,
    scan_table,
    stream_metadata,
)


def _write_parts(folder, n_parts=3, n=4100, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_parts):
        df = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n),
                           "k": rng.integers(0, 4, n)})
        frames.append(df)
    frames[-1].loc[n - 3, "c"] = "rare"          # one row in the last part only
    frames[-1].loc[n - 2, "x"] = np.nan          # one gap in the last part only
    frames[-1].loc[n - 1, "x"] = 99.0            # the maximum, in one row
    for k, df in enumerate(frames):
        df.to_parquet(folder / f"part-{k}.parquet")
    return pd.concat(frames, ignore_index=True)


def test_scan_keeps_a_uniform_reservoir_and_exact_counts(tmp_path):
    full = _write_parts(tmp_path)
    scan = scan_table(tmp_path, reservoir_rows=500, batch_rows=1000, random_state=0)
    assert scan.n_rows == len(full) and len(scan.reservoir) == 500
    assert scan.reservoir.index.is_unique and scan.reservoir.index.max() < len(full)
    # the sample is spread over the whole stream, not the first rows (which a head() would give)
    assert (scan.reservoir.index >= 2 * 4100).mean() == pytest.approx(1 / 3, abs=0.08)
    assert scan.counts["c"] == full["c"].value_counts().to_dict()
    assert scan.missing["x"] == 1 and scan.maximum["x"] == 99.0


def test_metadata_has_categories_gaps_and_ranges_the_sample_missed(tmp_path):
    _write_parts(tmp_path)
    scan = scan_table(tmp_path, reservoir_rows=200, batch_rows=1000, random_state=0)
    assert "rare" not in set(scan.reservoir["c"])  # the sample missed it ...
    cols = stream_metadata(scan)["columns"]
    assert cols["c"]["categories"] == ["a", "b", "rare"]  # ... the metadata does not
    assert cols["x"]["missing"] is True and cols["x"]["max"] == 99.0
    assert cols["k"]["categories"] == [0, 1, 2, 3]
    # a user's override still wins
    over = stream_metadata(scan, {"columns": {"c": {"categories": ["a", "b", "rare", "z"]}}})
    assert over["columns"]["c"]["categories"] == ["a", "b", "rare", "z"]


def test_encode_to_memmap_matches_batch_encoding_and_is_on_disk(tmp_path):
    src = tmp_path / "t"
    src.mkdir()
    full = _write_parts(src)
    scan = scan_table(src, reservoir_rows=1000, batch_rows=1000, random_state=0)
    enc = TableEncoder(metadata=stream_metadata(scan), categorical="codes").fit(scan.reservoir)
    X = encode_to_memmap(src, enc, tmp_path / "enc.npy", n_rows=scan.n_rows, batch_rows=1000, random_state=1)
    assert isinstance(X, np.memmap) and X.dtype == np.float32 and X.shape == (len(full), enc.n_features_out_)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enc.npy", "t"]  # no temporary file left
    again = encode_to_memmap(src, enc, tmp_path / "enc2.npy", n_rows=scan.n_rows, batch_rows=1000, random_state=1)
    np.testing.assert_array_equal(X, again)  # depends only on data and seed
    codes = enc.codes(full["c"], "c")
    j = [b["column"] for b in enc.layout_].index("c")
    np.testing.assert_array_equal(X[:, j], codes.astype(np.float32))
    assert np.isfinite(X).all()


def test_a_table_that_changed_between_the_passes_is_refused_and_nothing_is_written(tmp_path):
    _write_parts(tmp_path)
    scan = scan_table(tmp_path, reservoir_rows=500, random_state=0)
    enc = TableEncoder(metadata=stream_metadata(scan), categorical="codes").fit(scan.reservoir)
    out = tmp_path / "out" / "enc.npy"
    with pytest.raises(ValueError, match="changed while it was read"):
        encode_to_memmap(tmp_path, enc, out, n_rows=scan.n_rows + 5)
    with pytest.raises(ValueError, match="grew while it was read"):
        encode_to_memmap(tmp_path, enc, out, n_rows=scan.n_rows - 5)
    assert list((tmp_path / "out").iterdir()) == []


def test_bad_sources_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        scan_table(tmp_path / "nope.parquet")
    (tmp_path / "e").mkdir()
    with pytest.raises(ValueError, match="holds no .parquet or .csv"):
        scan_table(tmp_path / "e")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="bad.parquet"):
        scan_table(bad)
