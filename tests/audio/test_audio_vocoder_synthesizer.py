"""AudioSynthesizer with the learned vocoder: fit trains it on the real clips (a share of the
time budget), sample and reconstruct decode through it, save / load restore it from JSON and
safetensors (identical seeded clips, no pickle), resume keeps it, training beats the untrained
network through the synthesizer, and wrong choices are refused by name.
0.25 s clips at 8 kHz, a narrow vocoder, a few steps."""

import json

import numpy as np
import pytest
import torch
from audio_helpers import SR, N
from synthkit.domains.audio import log_spectral_distance, make_words
from synthkit.domains.audio.cli import ADAPTER
from synthkit.domains.audio.synthesizer import AudioSynthesizer
from synthkit.domains.audio.vocoder import MelVocoder
from synthkit.domains.audio.vocoding import CHECKPOINT_FOLDER, VOCODER_SHARE

import synthkit
from synthkit.cli import main

VAE = {"max_epochs": 1, "hidden_dims": [4]}
SMALL = {"channels": [16, 8], "batch_size": 8, "learning_rate": 5e-3}


@pytest.fixture(scope="module")
def words():
    return make_words(16, n_classes=2, duration=0.25, sample_rate=SR, random_state=0)


def _synth(epochs, **params):
    return AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0, vocoder="learned",
                            vocoder_params={**SMALL, "max_epochs": epochs}, backbone_params=VAE, **params)


def test_learned_vocoder_decodes_samples_and_reconstructions(words):
    synth = _synth(2).fit(words)
    assert isinstance(synth.vocoder_, MelVocoder) and synth.vocoder_.n_steps_ == 4  # 2 epochs of 2 batches
    clips = synth.sample(3, y=1, random_state=0)
    assert clips.shape == (3, N) and clips.dtype == np.float32 and np.abs(clips).max() <= 1
    heard = synth.reconstruct(words)
    np.testing.assert_array_equal(heard, synth.vocoder_.reconstruct(words.clips))
    gl = AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0,
                          backbone_params=VAE).fit(words)
    assert gl.vocoder_ is None and not np.allclose(gl.reconstruct(words), heard)


def test_training_through_the_synthesizer_beats_the_untrained_vocoder(words):
    held = make_words(8, n_classes=2, duration=0.25, sample_rate=SR, random_state=1)
    untrained, trained = (log_spectral_distance(held.clips, _synth(e).set_params(
        vocoder_params={**SMALL, "max_epochs": e, "refine_iter": 0}).fit(words).reconstruct(held), n_fft=256)
        for e in (0, 8))
    assert trained < 0.8 * untrained, (untrained, trained)  # measured: 19.1 dB untrained, 15.2 after 8 epochs


def test_saved_model_restores_the_vocoder_without_pickle(words, tmp_path):
    synth = _synth(1).fit(words)
    synth.save(tmp_path / "model")
    files = sorted(p.relative_to(tmp_path / "model").as_posix() for p in (tmp_path / "model").rglob("*") if p.is_file())
    assert files == sorted(f"{d}{f}" for d in ("", "backbone_/", "vocoder_/")
                           for f in ("config.json", "state.json", "weights.safetensors"))
    assert not [p for p in (tmp_path / "model").rglob("*") if p.suffix in (".pt", ".pkl", ".pickle", ".bin")]
    state = json.loads((tmp_path / "model" / "state.json").read_text())
    assert state["vocoder_"] == {"__model__": "vocoder_"}
    loaded = synthkit.load(tmp_path / "model")
    assert isinstance(loaded.vocoder_, MelVocoder) and loaded.vocoder == "learned"
    np.testing.assert_array_equal(loaded.sample(3, y=0, random_state=5), synth.sample(3, y=0, random_state=5))
    np.testing.assert_array_equal(loaded.reconstruct(words), synth.reconstruct(words))


def test_resume_keeps_a_fitted_vocoder(words, tmp_path):
    ckpt = tmp_path / "ckpt"
    params = {**VAE, "checkpoint_dir": str(ckpt), "checkpoint_interval": 0.0}
    first = _synth(2, ).set_params(backbone_params=params).fit(words)
    assert (ckpt / CHECKPOINT_FOLDER / "weights.safetensors").is_file()
    weights = {k: v.clone() for k, v in first.vocoder_.modules_.state_dict().items()}
    same = first.vocoder_
    assert first.fit(words, resume=True).vocoder_ is same  # the object's own vocoder, not retrained
    fresh = _synth(2).set_params(backbone_params=params).fit(words, resume=True)  # a new object: from checkpoint_dir
    assert fresh.vocoder_.fit_seconds_ == same.fit_seconds_
    for k, v in fresh.vocoder_.modules_.state_dict().items():
        torch.testing.assert_close(v, weights[k])


def test_the_vocoder_takes_a_share_of_the_time_budget(words):
    synth = _synth(1).set_params(backbone_params={**VAE, "max_time": 20.0}).fit(words)
    assert synth.vocoder_.max_time == VOCODER_SHARE * 20.0
    assert (1 - VOCODER_SHARE) * 20.0 <= synth.backbone_.max_time <= 20.0
    own = _synth(1).set_params(backbone_params={**VAE, "max_time": 20.0},
                               vocoder_params={**SMALL, "max_epochs": 1, "max_time": 3.0}).fit(words)
    assert own.vocoder_.max_time == 3.0 and own.backbone_.max_time == 20.0


def test_command_line_fits_a_learned_vocoder(words, tmp_path):
    ADAPTER.write(words, tmp_path / "train")
    assert main(["fit", "audio", str(tmp_path / "train"), "--target", "label", "--out", str(tmp_path / "model"),
                 "--max-epochs", "1", "--seed", "0", "--quiet", "--param", "n_sampling_steps=2",
                 "--param", "vocoder=learned", "--param", 'vocoder_params={"max_epochs": 1, "channels": [8]}']) == 0
    assert isinstance(synthkit.load(tmp_path / "model").vocoder_, MelVocoder)


def test_wrong_vocoder_choices_are_refused_by_name(words):
    base = {"sample_rate": SR, "clip_seconds": 0.25}
    with pytest.raises(ValueError, match="vocoder must be one of"):
        AudioSynthesizer("mel", **base, vocoder="hifigan").fit(words)
    with pytest.raises(ValueError, match="μ-law"):
        AudioSynthesizer("mulaw", **base, vocoder="learned").fit(words)
    with pytest.raises(ValueError, match="apply to vocoder='learned' only"):
        AudioSynthesizer("mel", **base, vocoder_params={"max_epochs": 1}).fit(words)
    with pytest.raises(ValueError, match=r"unknown vocoder_params \['epochs'\]"):
        AudioSynthesizer("mel", **base, vocoder="learned", vocoder_params={"epochs": 1}).fit(words)
    with pytest.raises(ValueError, match="vocoder_params must be a dict"):
        AudioSynthesizer("mel", **base, vocoder="learned", vocoder_params=[1]).fit(words)
