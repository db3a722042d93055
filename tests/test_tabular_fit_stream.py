"""TabularSynthesizer.fit_stream and ``synthkit fit tabular FOLDER``: training on a table read as a stream."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from synthkit.domains.tabular import TabularSynthesizer, streaming

QUICK = {"max_epochs": 8, "hidden_dim": 32}


def _write_parts(folder, n_parts=2, n=1500, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(exist_ok=True)
    frames = []
    for k in range(n_parts):
        a = rng.normal(10.0, 3.0, n)
        df = pd.DataFrame({"a": a, "b": 2 * a + rng.normal(0, 0.3, n), "c": rng.choice(["x", "y"], n)})
        df.loc[rng.random(n) < 0.1, "a"] = np.nan
        frames.append(df)
    frames[-1].loc[n - 1, "c"] = "rare"  # one row of the last part only
    for k, df in enumerate(frames):
        df.to_parquet(folder / f"part-{k}.parquet")
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def small_batches(monkeypatch):
    """Batches and a reservoir far smaller than the table, so both passes really stream."""
    monkeypatch.setattr(streaming, "BATCH_ROWS", 400)
    monkeypatch.setattr(streaming, "RESERVOIR_ROWS", 500)


def test_fit_stream_learns_the_table_with_exact_categories(tmp_path, small_batches):
    full = _write_parts(tmp_path / "t")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    synth = TabularSynthesizer(backbone_params=QUICK, random_state=0)
    synth.fit_stream(tmp_path / "t", scratch_dir=scratch)
    assert synth.n_rows_ == len(full)
    assert synth.metadata_["columns"]["c"]["categories"] == ["rare", "x", "y"]  # seen in 1 row of 3,000
    assert list(scratch.iterdir()) == []  # the encoded rows are gone
    fake = synth.sample(2000, random_state=1)
    assert list(fake.columns) == list(full.columns)
    assert fake["a"].isna().mean() == pytest.approx(0.1, abs=0.04)
    both = fake.dropna()
    # an untrained model has independent columns (correlation ~0); the table's is 0.99
    assert np.corrcoef(both["a"], both["b"])[0, 1] > 0.7
    assert both["a"].mean() == pytest.approx(10.0, abs=0.6)


def test_fit_stream_checks_every_row_against_the_constraints(tmp_path, small_batches):
    full = _write_parts(tmp_path / "t")
    bad = pd.read_parquet(tmp_path / "t" / "part-1.parquet")
    bad.loc[1234, "b"] = 1e6  # breaks the constraint in the second file, past the first batches
    bad.to_parquet(tmp_path / "t" / "part-1.parquet")
    synth = TabularSynthesizer(backbone_params=QUICK, constraints=["b <= 1000"], random_state=0)
    with pytest.raises(ValueError, match=r"break the constraint 'b <= 1000' \(first at index 2734\)"):
        synth.fit_stream(tmp_path / "t")
    assert len(full) == 3000


def test_fit_stream_refuses_what_it_cannot_do_yet(tmp_path):
    _write_parts(tmp_path / "t")
    with pytest.raises(ValueError, match="condition_column"):
        TabularSynthesizer(condition_column="c").fit_stream(tmp_path / "t")
    with pytest.raises(ValueError, match="dp"):
        TabularSynthesizer(dp={"epsilon": 1.0}).fit_stream(tmp_path / "t")
    with pytest.raises(ValueError, match="no such file"):
        TabularSynthesizer().fit_stream(tmp_path / "missing")


def test_an_unseeded_streamed_fit_resumes_on_the_same_encoded_rows(tmp_path, small_batches):
    _write_parts(tmp_path / "t")
    ckpt = tmp_path / "ckpt"
    params = {"max_epochs": 1, "hidden_dim": 16, "checkpoint_dir": str(ckpt), "early_stopping": False}
    first = TabularSynthesizer(backbone_params=params).fit_stream(tmp_path / "t")
    again = TabularSynthesizer(backbone_params={**params, "max_epochs": 3}).fit_stream(tmp_path / "t", resume=True)
    assert again.fit_seed_ == first.fit_seed_
    # the checkpoint matched (same seed -> same reservoir, encoder and rows): training went on
    assert [h["epoch"] for h in again.generator_.history_] == [1, 2, 3]
    assert again.generator_.history_[0] == first.generator_.history_[0]


def test_should_stream_folders_and_long_parquet_files(tmp_path, monkeypatch):
    _write_parts(tmp_path / "t")
    assert streaming.should_stream(tmp_path / "t")
    assert not streaming.should_stream(tmp_path / "t" / "part-0.parquet")
    monkeypatch.setattr(streaming, "STREAM_ROWS", 1000)
    assert streaming.should_stream(tmp_path / "t" / "part-0.parquet")


def test_cli_streams_a_folder_and_the_model_samples(tmp_path):
    _write_parts(tmp_path / "t")
    model = tmp_path / "model"
    run = subprocess.run([sys.executable, "-m", "synthkit.cli", "fit", "tabular", str(tmp_path / "t"), "--out",
                          str(model), "--max-epochs", "1", "--param", "hidden_dim=16", "--seed", "0", "--quiet"],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "fake.csv"
    run = subprocess.run([sys.executable, "-m", "synthkit.cli", "sample", str(model), "-n", "50", "--out", str(out)],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    fake = pd.read_csv(out)
    assert list(fake.columns) == ["a", "b", "c"] and len(fake) == 50
