"""The command line: thin subcommands, one-line errors and non-zero exits, never a traceback."""

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_backbones_lists_the_registry(capsys):
    code, out, _ = run(capsys, "backbones")
    assert code == 0
    for name, description in synthkit.list_backbones().items():
        assert f"{name}" in out and description in out


def test_datasets_list_and_export(capsys, tmp_path):
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "digits" in out
    code, _, _ = run(capsys, "datasets", "--export", "iris", "--out", str(tmp_path / "iris.csv"))
    frame = pd.read_csv(tmp_path / "iris.csv")
    assert code == 0 and frame.shape == (150, 5) and set(frame["label"]) == {0, 1, 2}


def test_fit_then_sample_class_conditional(capsys, tmp_path):
    run(capsys, "datasets", "--export", "wine", "--out", str(tmp_path / "wine.csv"))
    code, out, err = run(capsys, "fit", "array", str(tmp_path / "wine.csv"), "--target", "label",
                         "--backbone", "vae", "--max-epochs", "2", "--seed", "0", "--quiet",
                         "--param", "hidden_dims=[16]", "--out", str(tmp_path / "model"))
    assert code == 0, err
    code, out, err = run(capsys, "sample", str(tmp_path / "model"), "-n", "25", "--batch-size", "10",
                         "--seed", "1", "--label", "2", "--out", str(tmp_path / "s.parquet"), "--quiet")
    assert code == 0, err
    synth = pd.read_parquet(tmp_path / "s.parquet")
    real = pd.read_csv(tmp_path / "wine.csv")
    assert list(synth.columns) == list(real.columns) and len(synth) == 25
    assert set(synth["label"]) == {2}


def test_sample_is_reproducible_and_writes_npy(capsys, tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 2))
    np.save(tmp_path / "x.npy", X)
    assert run(capsys, "fit", "array", str(tmp_path / "x.npy"), "--backbone", "vae", "--max-epochs", "1",
               "--quiet", "--param", "hidden_dims=[8]", "--out", str(tmp_path / "m"))[0] == 0
    for name in ("a.npy", "b.npy"):
        assert run(capsys, "sample", str(tmp_path / "m"), "-n", "30", "--batch-size", "7", "--seed", "3",
                   "--out", str(tmp_path / name), "--quiet")[0] == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (30, 2) and np.array_equal(a, b)


@pytest.mark.parametrize("argv, message", [
    (["fit", "array", "missing.csv", "--out", "m"], "no such file"),
    (["fit", "nowhere", "x.csv", "--out", "m"], "invalid choice"),
    (["fit", "array", "moons"], "--out"),
    (["fit", "array", "moons", "--out", "m", "--param", "novalue"], "KEY=VALUE"),
    (["fit", "array", "moons", "--out", "m", "--backbone", "nope"], "unknown backbone"),
    (["fit", "array", "moons", "--out", "m", "--param", "bogus=1"], "backbone_params ['bogus'] are not parameters"),
    (["sample", "not-a-model", "-n", "5", "--out", "x.csv"], "not a synthkit model folder"),
    (["sample", "m", "-n", "0", "--out", "x.csv"], "-n must be a positive integer, got 0."),
    (["sample", "m", "-n", "5", "--batch-size", "0", "--out", "x.csv"], "--batch-size must be a positive integer, got 0."),
    (["datasets", "--export", "nope", "--out", "x.csv"], "unknown dataset"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_are_one_line_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_non_numeric_csv_points_to_the_tabular_domain(capsys, tmp_path):
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}).to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run(capsys, "fit", "array", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"))
    assert code == 1 and "'b' is not numeric" in err and "tabular" in err
