"""Audio parameters checked through synthkit.validation: a ValueError naming the parameter and value."""

import re

import numpy as np
import pytest

from audio_helpers import SR, voiced

from synthkit.domains.audio import (
    AudioSynthesizer,
    LogMel,
    LogMelCNNClassifier,
    MelVocoder,
    TimeShift,
    load_audio,
    make_machine_sounds,
    make_words,
    write_wav,
)
from synthkit.domains.audio.networks import WaveNet
from synthkit.domains.audio.perturb import default_perturbations


def raises(words):
    return pytest.raises(ValueError, match=re.escape(words))


CLIPS = voiced(4)


@pytest.mark.parametrize(("call", "words"), [
    (lambda: AudioSynthesizer(sample_rate=True).fit(CLIPS), "sample_rate must be a positive integer (Hz), got True."),
    (lambda: AudioSynthesizer(sample_rate=SR, clip_seconds=0).fit(CLIPS), "clip_seconds must be positive, got 0."),
    (lambda: TimeShift(p=2)(CLIPS, SR), "TimeShift: p (a probability) must be in [0, 1], got 2."),
    (lambda: TimeShift()(CLIPS, 8000.0), "TimeShift: sample_rate must be a positive integer (Hz), got 8000.0."),
    (lambda: TimeShift(max_shift=-1)(CLIPS, SR), "TimeShift: max_shift must be non-negative (seconds), got -1."),
    (lambda: default_perturbations(0), "clip_seconds must be positive, got 0."),
    (lambda: LogMelCNNClassifier(3000).fit(CLIPS, [0, 1, 0, 1]), "sample_rate must be an integer >= 4000 (Hz), got 3000."),
    (lambda: LogMelCNNClassifier(SR, batch_size=0).fit(CLIPS, [0, 1, 0, 1]), "batch_size must be a positive integer, got 0."),
    (lambda: LogMelCNNClassifier(SR, n_masks=-1).fit(CLIPS, [0, 1, 0, 1]), "n_masks must be a non-negative integer, got -1."),
    (lambda: LogMelCNNClassifier(SR, learning_rate=0).fit(CLIPS, [0, 1, 0, 1]), "learning_rate must be positive, got 0."),
    (lambda: LogMel(sample_rate=SR, n_fft=8).fit(CLIPS), "n_fft must be an integer >= 16, got 8."),
    (lambda: LogMel(sample_rate=SR, n_fft=256, hop_length=512).fit(CLIPS), "hop_length must be at most n_fft=256, got 512."),
    (lambda: LogMel(sample_rate=SR, n_fft=256, momentum=1).fit(CLIPS), "momentum must be in [0, 1), got 1."),
    (lambda: make_words(0), "n_samples must be a positive integer, got 0."),
    (lambda: make_words(4, duration=0), "duration must be positive (seconds), got 0."),
    (lambda: make_words(4, sample_rate=2000), "sample_rate must be an integer >= 4000 (Hz), got 2000."),
    (lambda: make_words(4, n_speakers=0), "n_speakers must be a positive integer or None, got 0."),
    (lambda: make_machine_sounds(4, fault_fraction=1.5), "fault_fraction must be in [0, 1], got 1.5."),
    (lambda: make_machine_sounds(4, n_machines=0), "n_machines must be a positive integer, got 0."),
    (lambda: WaveNet(16, dilations=(1, 0)), "wavenet dilations must be a non-empty sequence of positive integers, got (1, 0)."),
    (lambda: WaveNet(16, channels=0), "wavenet channels must be a positive integer, got 0."),
])
def test_audio_parameters_are_refused_by_name(call, words):
    with raises(words):
        call()


def test_vocoder_max_time_and_stft_sizes():
    mel = LogMel(sample_rate=SR, n_fft=256, n_mels=20).fit(CLIPS)
    with raises("max_time must be positive (seconds) or None, got 0."):
        MelVocoder(mel, max_time=0).fit(CLIPS)
    with raises("stft_sizes must be a non-empty sequence of integers >= 16, got (256, 8)."):
        MelVocoder(mel, max_epochs=0, stft_sizes=(256, 8)).fit(CLIPS)


def test_io_sample_rate(tmp_path, write):
    write(tmp_path / "in" / "a.wav", np.zeros(SR // 4, dtype=np.float32))
    with raises("sample_rate must be a positive integer (Hz) or None, got 0."):
        load_audio(tmp_path / "in", sample_rate=0)
    with raises("sample_rate must be a positive integer (Hz), got -1."):
        write_wav(CLIPS, tmp_path / "out", -1)
