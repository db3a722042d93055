"""Files both ways (CSV, Parquet), batched atomic writing, the CLI adapter, and DP training."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.domains.tabular import TabularSynthesizer, cli, read_table, write_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_round_trip_through_files(penguins, tmp_path, suffix):
    path = write_table(penguins, tmp_path / f"p{suffix}")
    back = read_table(path)
    pd.testing.assert_frame_equal(back, penguins, check_dtype=suffix == ".parquet")
    assert sorted(os.listdir(tmp_path)) == [f"p{suffix}"]  # no temporary file left behind


def test_unsupported_and_missing_files(tmp_path, penguins):
    with pytest.raises(ValueError, match="unsupported output type '.xlsx'"):
        write_table(penguins, tmp_path / "p.xlsx")
    with pytest.raises(ValueError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="cannot read"):
        read_table(tmp_path / "empty.csv")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sample_to_file_in_batches(mixed, tmp_path, suffix):
    synth = TabularSynthesizer("vae", backbone_params={"hidden_dims": [16], "max_epochs": 2}, random_state=0).fit(mixed)
    written = synth.sample_to_file(tmp_path / f"s{suffix}", 2500, batch_size=1000)
    out = read_table(tmp_path / f"s{suffix}")
    assert written == len(out) == 2500 and list(out.columns) == list(mixed.columns)
    assert out["user_id"].is_unique and out["token"].is_unique  # identifiers stay unique across batches
    if suffix == ".parquet":
        assert (out.dtypes == mixed.dtypes).all()


def test_cli_fit_and_evaluate(penguins, tmp_path):
    train, holdout = penguins.iloc[::2], penguins.iloc[1::2]
    write_table(train, tmp_path / "train.csv")
    write_table(holdout, tmp_path / "holdout.csv")
    model = cli.fit(str(tmp_path / "train.csv"), backbone="vae", target="species",
                    params={"max_epochs": 30, "hidden_dims": [32], "random_state": 0, "verbose": 0,
                            "constraints": ["bill_depth_mm <= bill_length_mm"]})
    assert isinstance(model, TabularSynthesizer) and model.condition_column == "species"
    assert model.generator_.max_epochs == 30 and model.constraints_
    model.save(tmp_path / "model")
    synthkit.load(tmp_path / "model").sample_to_file(tmp_path / "synth.parquet", 200)
    results = cli.evaluate(str(tmp_path / "train.csv"), str(tmp_path / "synth.parquet"),
                           holdout=str(tmp_path / "holdout.csv"), target="species",
                           reference=str(tmp_path / "model"), report=str(tmp_path / "report.html"))
    summary = results["summary"]
    for key in ("column_shapes", "pair_trends", "detection_auc", "dcr_share", "tstr_roc_auc", "trtr_roc_auc"):
        assert summary[key] is not None, key
    assert (tmp_path / "report.html").exists()
    assert json.loads((tmp_path / "report.json").read_text())["summary"] == summary
    with pytest.raises(ValueError, match="no column 'nope'"):
        cli.fit(str(tmp_path / "train.csv"), backbone="vae", params={}, target="nope")


def test_dp_training_records_the_spent_budget(penguins, tmp_path):
    pytest.importorskip("opacus")
    df = penguins[["species", "bill_length_mm", "body_mass_g"]]
    public = {"columns": {
        "species": {"kind": "categorical", "categories": ["Adelie", "Chinstrap", "Gentoo"]},
        "bill_length_mm": {"kind": "numerical", "min": 30, "max": 60, "decimals": 1, "missing": True},
        "body_mass_g": {"kind": "numerical", "min": 2500, "max": 6500, "decimals": 0, "missing": True},
    }}
    synth = TabularSynthesizer("vae", metadata=public, dp={"epsilon": 3.0, "delta": 1e-4}, random_state=0,
                               backbone_params={"hidden_dims": [16], "max_epochs": 3, "batch_size": 64}).fit(df)
    assert 0 < synth.privacy_["epsilon"] <= 3.0 + 1e-6 and synth.privacy_["delta"] == 1e-4
    assert synth.metadata_["columns"]["body_mass_g"]["min"] == 2500  # public, not the private 2700
    synth.save(tmp_path / "dp")
    loaded = synthkit.load(tmp_path / "dp")
    assert loaded.privacy_ == synth.privacy_
    pd.testing.assert_frame_equal(loaded.sample(20), synth.sample(20))
    fake = synth.sample(200)
    assert fake["body_mass_g"].dropna().between(2500, 6500).all()
    # no early stopping under dp, however many rows: the stop would look at private rows
    big = pd.concat([df] * 3, ignore_index=True)
    private = TabularSynthesizer("vae", metadata=public, dp={"epsilon": 3.0, "delta": 1e-4}, random_state=0,
                                 backbone_params={"hidden_dims": [16], "max_epochs": 1, "batch_size": 64}).fit(big)
    assert len(big) >= 1000 and private.generator_.early_stopping is False
    with pytest.raises(ValueError, match="condition_column cannot be combined with dp"):
        TabularSynthesizer("vae", metadata=public, dp={"epsilon": 3.0}, condition_column="species").fit(df)
    with pytest.raises(ValueError, match="unknown keys"):
        TabularSynthesizer("vae", metadata=public, dp={"epsilon": 3.0, "eps": 1}).fit(df)
