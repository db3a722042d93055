"""save / load: JSON + safetensors, no pickle, clear errors for anything that is not a model."""

import json

import numpy as np
import pytest

import synthkit
from synthkit.backbones.vae import VAE
from synthkit.persistence import CONFIG, STATE, WEIGHTS


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] > 0, "pos", "neg")
    return VAE(hidden_dims=(16,), max_epochs=2, verbose=0, random_state=0).fit(X, y), X


def test_folder_layout_and_versions(fitted, tmp_path):
    est, _ = fitted
    est.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == sorted([CONFIG, STATE, WEIGHTS])
    config = json.loads((tmp_path / "m" / CONFIG).read_text())
    assert config["class"] == "synthkit.backbones.vae:VAE"
    assert set(config["versions"]) == {"synthkit", "torch", "python"}
    assert config["params"]["hidden_dims"] == [16]
    state = json.loads((tmp_path / "m" / STATE).read_text())
    assert state["classes_"]["__list_array__"] == ["neg", "pos"]  # string labels kept as data


def test_roundtrip_keeps_labels_samples_and_scores(fitted, tmp_path):
    est, X = fitted
    est.save(tmp_path / "m")
    loaded = synthkit.load(tmp_path / "m")
    assert list(loaded.classes_) == ["neg", "pos"]
    np.testing.assert_array_equal(loaded.sample(8, y="pos", random_state=2), est.sample(8, y="pos", random_state=2))
    np.testing.assert_allclose(loaded.score_samples(X[:5]), est.score_samples(X[:5]))
    assert loaded.get_params() == est.get_params()


def test_overwrites_a_model_but_not_other_folders(fitted, tmp_path):
    est, _ = fitted
    est.save(tmp_path / "m")
    est.save(tmp_path / "m")  # replacing a model is fine
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("precious")
    with pytest.raises(ValueError, match="not a synthkit model folder"):
        est.save(other)
    assert (other / "keep.txt").read_text() == "precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_unfitted_model_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        VAE().save(tmp_path / "m")


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / CONFIG).unlink(), "config.json is missing"),
    (lambda d: (d / CONFIG).write_text("{oops"), "corrupted"),
    (lambda d: (d / CONFIG).write_text(json.dumps({"format": "other"})), "not a synthkit model config"),
    (lambda d: (d / WEIGHTS).write_bytes(b"\x00" * 64), "corrupted"),
    (lambda d: (d / WEIGHTS).unlink(), "weights.safetensors is missing"),
    (lambda d: (d / STATE).write_text("[1, 2"), "corrupted"),
])
def test_damaged_folders_give_clear_errors(fitted, tmp_path, damage, message):
    est, _ = fitted
    est.save(tmp_path / "m")
    damage(tmp_path / "m")
    with pytest.raises(ValueError, match=message):
        synthkit.load(tmp_path / "m")


def test_foreign_class_is_refused_without_importing_it(fitted, tmp_path):
    est, _ = fitted
    est.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / CONFIG).read_text())
    config["class"] = "os:system"
    (tmp_path / "m" / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ValueError, match="not part of synthkit"):
        synthkit.load(tmp_path / "m")


def test_not_a_folder(tmp_path):
    with pytest.raises(ValueError, match="no such directory"):
        synthkit.load(tmp_path / "missing")


def test_unsaveable_parameter_is_named(fitted, tmp_path):
    est, X = fitted
    odd = VAE(hidden_dims=(16,), max_epochs=1, verbose=0, random_state=0).fit(X)
    odd.checkpoint_dir = object()
    with pytest.raises(ValueError, match="checkpoint_dir"):
        odd.save(tmp_path / "m")
