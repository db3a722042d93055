"""The audio domain through ``synthkit.cli.main``: fit a folder of class folders, sample WAVs
of one class, evaluate with an HTML report that embeds spectrograms and playable clips.
Tiny budget: 0.25 s clips at 8 kHz, one epoch."""

import json

import numpy as np

from audio_helpers import SR
from synthkit.cli import main
from synthkit.domains.audio import make_words
from synthkit.domains.audio.cli import ADAPTER


def test_fit_sample_evaluate_through_the_command_line(tmp_path, capsys):
    words = make_words(16, n_classes=2, duration=0.25, sample_rate=SR, random_state=0)
    train, holdout = ADAPTER.split(words, seed=0, target="label")
    ADAPTER.write(train, tmp_path / "train")
    ADAPTER.write(holdout, tmp_path / "holdout")
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == ["0", "1"]  # a folder per class

    assert main(["fit", "audio", str(tmp_path / "train"), "--target", "label", "--out", str(tmp_path / "model"),
                 "--max-epochs", "1", "--seed", "0", "--quiet", "--param", "n_sampling_steps=2"]) == 0
    assert main(["sample", str(tmp_path / "model"), "-n", "4", "--label", "1", "--seed", "0",
                 "--out", str(tmp_path / "synthetic"), "--quiet"]) == 0
    synthetic = ADAPTER.read(str(tmp_path / "synthetic"))
    assert len(synthetic) == 4 and set(synthetic.labels.astype(str)) == {"1"}
    assert synthetic.sample_rate == SR and synthetic.to_array().shape == (4, 2000)

    report = tmp_path / "report.html"
    assert main(["evaluate", "--domain", "audio", str(tmp_path / "train"), str(tmp_path / "synthetic"),
                 "--holdout", str(tmp_path / "holdout"), "--reference", str(tmp_path / "model"),
                 "--report", str(report)]) == 0
    page = report.read_text()
    assert page.count("<audio controls src=\"data:audio/wav;base64,") >= 4  # real and synthetic clips play
    assert "data:image/png;base64," in page
    scores = json.loads(report.with_suffix(".json").read_text())
    for key in ("intended_class_accuracy", "real_holdout_accuracy", "fid", "fid_real_vs_real", "spectrum_lsd_db",
                "reconstruct_lsd_db"):
        assert np.isfinite(scores[key]), key
    assert scores["real_holdout_accuracy"] >= 0.75  # the classifier the scores rest on knows the words
    assert not list(tmp_path.glob(".*tmp*"))  # nothing half-written left behind


def test_sample_refuses_an_unknown_label_and_a_folder_of_other_files(tmp_path):
    words = make_words(8, n_classes=2, duration=0.25, sample_rate=SR, random_state=0)
    ADAPTER.write(words, tmp_path / "train")
    model = ADAPTER.fit(str(tmp_path / "train"), backbone="vae", target="label",
                        params={"max_epochs": 1, "hidden_dims": [4], "verbose": 0, "random_state": 0})
    import pytest

    with pytest.raises(ValueError, match="unknown label 'cat'"):
        ADAPTER.sample(model, tmp_path / "out", 2, label="cat")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("mine")
    with pytest.raises(ValueError, match="other than WAV"):
        ADAPTER.sample(model, tmp_path / "notes", 2)
    assert (tmp_path / "notes" / "readme.txt").read_text() == "mine"
