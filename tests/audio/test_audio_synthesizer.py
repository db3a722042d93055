"""AudioSynthesizer and the audio adapter: every backbone family fits and samples clips, save
and load give the same clips, the mel round trip is the vocoder's ceiling, bad inputs are
refused by name, and the WaveNet cell draws token by token what one pass computes.
Tiny: 0.25 s clips at 8 kHz, one epoch, networks a few channels wide."""

import numpy as np
import pytest
import torch

import synthkit
from audio_helpers import N, SR
from synthkit.domains.audio import log_spectral_distance, make_words
from synthkit.domains.audio.cli import ADAPTER
from synthkit.domains.audio.networks import WaveNet
from synthkit.domains.audio.synthesizer import AudioSynthesizer

TINY_MEL = {"name": "conv", "channels": [8, 16]}  # image_shape added per fit below

#: per family: (representation, tiny backbone parameters)
FAMILIES = {
    "autoregressive": ("mel", {"hidden_dim": 16, "n_components": 2}),
    "vae": ("mel", {"hidden_dims": [16]}),
    "gan": ("mel", {"rejection_sampling": False, "critic_network": "tiny", "generator_network": "tiny"}),
    "flow": ("mel", {"hidden_dims": [16], "n_transforms": 1}),
    "diffusion": ("mel", {"n_sampling_steps": 3, "denoiser_network": "tiny"}),
    "ebm": ("mel", {"n_langevin_steps": 2, "n_sampling_steps": 3, "energy_network": "tiny"}),
    "rbm": ("mel", {"n_hidden": 8, "n_gibbs_steps": 3}),
    "sequence": ("mulaw", {"cell": {"name": "wavenet", "channels": 8, "dilations": [1, 2, 4]}}),
}


@pytest.fixture(scope="module")
def words():
    return make_words(12, n_classes=2, duration=0.25, sample_rate=SR, random_state=0)


@pytest.fixture(scope="module")
def folder(words, tmp_path_factory):
    path = tmp_path_factory.mktemp("audio-words") / "train.wavs"
    ADAPTER.write(words, path)
    return path


def _mel_shape(words) -> list[int]:
    """(n_mels, padded frames) of the synthesizer's rows at 8 kHz (fitted once, cheaply)."""
    s = AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0,
                         backbone_params={"max_epochs": 1, "hidden_dims": [4]}).fit(words)
    return s.image_shape_


def _tiny(params: dict, shape) -> dict:
    return {k: ({**TINY_MEL, "image_shape": list(shape)} if v == "tiny" else v) for k, v in params.items()}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_backbone_family_fits_and_samples_clips_through_the_adapter(family, words, folder):
    representation, params = FAMILIES[family]
    params = _tiny(params, _mel_shape(words))
    model = ADAPTER.fit(str(folder), backbone=family, target="label",
                        params={**params, "representation": representation, "max_epochs": 1, "random_state": 0,
                                "verbose": 0})
    clips = model.sample(3, y=model.classes_[1], random_state=0)
    assert clips.shape == (3, N) and clips.dtype == np.float32
    assert np.isfinite(clips).all() and np.abs(clips).max() <= 1.0


@pytest.mark.parametrize("representation", ["mel", "mulaw"])
def test_saved_model_loads_and_draws_the_same_clips(representation, words, tmp_path):
    params = {"max_epochs": 1, "n_sampling_steps": 3} if representation == "mel" else \
        {"max_epochs": 1, "cell": {"name": "wavenet", "channels": 8, "dilations": [1, 2]}}
    synth = AudioSynthesizer(representation, sample_rate=SR, clip_seconds=0.25, backbone_params=params,
                             random_state=0).fit(words.clips, words.labels)
    synth.save(tmp_path / "model")
    loaded = synthkit.load(tmp_path / "model")
    assert type(loaded) is AudioSynthesizer and loaded.classes_ == synth.classes_
    np.testing.assert_array_equal(loaded.sample(2, y=1, random_state=4), synth.sample(2, y=1, random_state=4))
    assert loaded.representation_config_ == synth.representation_config_


def test_reconstruct_is_the_vocoder_ceiling(words):
    synth = AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0,
                             backbone_params={"max_epochs": 1, "hidden_dims": [4]}).fit(words)
    heard = synth.reconstruct(words)
    assert heard.shape == words.clips.shape
    ceiling = log_spectral_distance(words.clips, heard, n_fft=256)
    noise = log_spectral_distance(words.clips, np.random.default_rng(0).uniform(-0.3, 0.3, heard.shape), n_fft=256)
    assert ceiling < 15 < noise


def test_list_of_clips_of_other_lengths_are_cut_and_padded(words):
    clips = [words.clips[0][:1500], words.clips[1], np.concatenate([words.clips[2], words.clips[2]])]
    synth = AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0,
                             backbone_params={"max_epochs": 1, "hidden_dims": [4]}).fit(clips)
    assert synth.sample(2).shape == (2, N) and synth.classes_ is None


def test_bad_inputs_are_refused_by_name(words):
    with pytest.raises(ValueError, match="sequence"):
        AudioSynthesizer("mulaw", "vae", sample_rate=SR, clip_seconds=0.25).fit(words)
    with pytest.raises(ValueError, match="representation"):
        AudioSynthesizer("wave", sample_rate=SR).fit(words)
    with pytest.raises(ValueError, match="8000 Hz"):
        AudioSynthesizer("mel", sample_rate=16000).fit(words)
    with pytest.raises(ValueError, match="one label per clip"):
        AudioSynthesizer("mel", sample_rate=SR, clip_seconds=0.25).fit(words.clips, words.labels[:3])
    bad = words.clips.copy()
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match="clip 2"):
        AudioSynthesizer("mel", sample_rate=SR, clip_seconds=0.25).fit(bad)
    synth = AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0,
                             backbone_params={"max_epochs": 1, "hidden_dims": [4]}).fit(words)
    with pytest.raises(ValueError, match="unknown class '7'"):
        synth.sample(2, y=7)


def test_wavenet_token_by_token_equals_one_pass():
    torch.manual_seed(0)
    net = WaveNet(vocab_size=9, condition_dim=2, channels=8, dilations=[1, 2, 4, 8])
    tokens = torch.randint(0, 10, (3, 40))
    c = torch.eye(2)[[0, 1, 0]]
    full, _ = net(tokens, c)
    logits, state = net(tokens[:, :1], c)
    steps = [logits]
    for t in range(1, 40):  # the state carried from call to call, as SequenceModel.sample_tokens does
        logits, state = net(tokens[:, t:t + 1], c, state)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-5, rtol=1e-5)
    assert state.shape == (3, net.receptive_field - 1)


def test_fit_on_a_folder_takes_labels_from_its_class_folders(folder):
    synth = AudioSynthesizer("mel", "vae", sample_rate=SR, clip_seconds=0.25, random_state=0,
                             backbone_params={"max_epochs": 1, "hidden_dims": [4]}).fit(str(folder))
    assert [str(c) for c in synth.classes_] == ["0", "1"] and synth.n_clips_ == 12
    assert synth.sample(2, y="1").shape == (2, N)
