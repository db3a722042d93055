"""Augmentation: each waveform perturbation keeps shape, dtype and range and does what it says;
the log-mel CNN learns held-out words (an untrained one is at chance); evaluate_augmentation
scores real held-out clips only; bad inputs are named. 0.25 s clips at 8 kHz."""

import numpy as np
import pytest

from audio_helpers import N, SR, tone
from synthkit.domains.audio import make_words
from synthkit.domains.audio.augment import evaluate_augmentation
from synthkit.domains.audio.classifier import LogMelCNNClassifier
from synthkit.domains.audio.perturb import AddNoise, PitchShift, SpeedPerturb, TimeShift, default_perturbations, perturb


def _peak_hz(x):
    spec = np.abs(np.fft.rfft(x * np.hanning(x.shape[1]), n=1 << 15))
    return np.fft.rfftfreq(1 << 15, 1 / SR)[spec.argmax(1)]


@pytest.fixture(scope="module")
def tones():
    return np.stack([tone(440.0, amp=0.4)] * 4)


@pytest.mark.parametrize("step", [TimeShift(p=1), AddNoise(p=1), PitchShift(p=1), SpeedPerturb(p=1)], ids=repr)
def test_perturbation_keeps_shape_dtype_and_range(step, tones):
    loud = np.clip(tones * 3, -1, 1)  # at full scale: noise and resampling overshoot, the output is clipped
    out = step(loud, SR, random_state=0)
    assert out.shape == loud.shape and out.dtype == np.float32
    assert np.abs(out).max() <= 1.0 and not np.array_equal(out, loud)
    assert np.array_equal(step(loud, SR, random_state=0), out)  # seeded


def test_time_shift_moves_an_impulse_by_at_most_max_shift_with_zeros():
    x = np.zeros((20, N), np.float32)
    x[:, 1000] = 0.5
    out = TimeShift(max_shift=0.01, p=1)(x, SR, random_state=0)
    where = np.abs(out).argmax(1)
    assert np.abs(where - 1000).max() <= 80 and len(set(where.tolist())) > 3
    assert (np.count_nonzero(out, axis=1) == 1).all()


def test_add_noise_hits_the_requested_snr(tones):
    out = AddNoise(snr_db=(20, 20), p=1)(tones, SR, random_state=0)
    snr = 10 * np.log10((tones ** 2).mean(1) / ((out - tones) ** 2).mean(1))
    assert np.allclose(snr, 20, atol=0.5), snr


@pytest.mark.parametrize("semitones", [12, 2, -2])
def test_pitch_shift_moves_the_tone_and_keeps_the_length(tones, semitones):
    out = PitchShift([semitones], p=1)(tones, SR, random_state=0)
    assert np.allclose(_peak_hz(out), 440 * 2 ** (semitones / 12), rtol=0.005)


def test_speed_perturbation_raises_pitch_and_shortens(tones):
    x = tones * np.hanning(N)[None].astype(np.float32)
    out = SpeedPerturb([1.25], p=1)(x, SR, random_state=0)
    assert np.allclose(_peak_hz(out), 550, rtol=0.005)
    assert np.abs(out[:, int(N / 1.25) + 10:]).max() == 0  # the rest is padding


def test_p_zero_changes_nothing(tones):
    assert np.array_equal(perturb(tones, [TimeShift(p=0), AddNoise(p=0)], SR, 0), tones)


@pytest.mark.parametrize("step, match", [
    (AddNoise(snr_db=(30, 10)), "low <= high"), (PitchShift([]), "semitones"), (SpeedPerturb([3.0]), "factors"),
    (TimeShift(max_shift=-1), "max_shift"), (TimeShift(p=2), "probability")])
def test_bad_perturbation_parameters_are_named(step, match, tones):
    with pytest.raises(ValueError, match=match):
        step(tones, SR)


def test_bad_perturbation_inputs_are_named(tones):
    with pytest.raises(ValueError, match="sample_rate"):
        TimeShift()(tones, 0)
    with pytest.raises(ValueError, match="NaN"):
        TimeShift()(np.full((2, N), np.nan, np.float32), SR)
    with pytest.raises(ValueError, match="Perturbation objects"):
        perturb(tones, ["noise"], SR)


@pytest.fixture(scope="module")
def words():
    train = make_words(64, n_classes=4, duration=0.25, sample_rate=SR, random_state=0)
    test = make_words(64, n_classes=4, duration=0.25, sample_rate=SR, random_state=1)
    return train, test


def test_classifier_learns_held_out_words_where_an_untrained_one_is_at_chance(words):
    train, test = words
    untrained = LogMelCNNClassifier(SR, max_epochs=0, random_state=0).fit(train)
    trained = LogMelCNNClassifier(SR, max_epochs=20, random_state=0).fit(train)
    chance = (untrained.predict(test.clips) == test.labels).mean()
    acc = trained.score(test.clips, test.labels)
    assert chance < 0.45 and acc > 0.7, (chance, acc)
    assert trained.transform(test.clips[:3]).shape == (3, 32)


def test_classifier_rejects_bad_inputs(words):
    train, _ = words
    with pytest.raises(ValueError, match="labels"):
        LogMelCNNClassifier(SR).fit(train.clips)
    with pytest.raises(ValueError, match="2 classes"):
        LogMelCNNClassifier(SR).fit(train.clips, np.zeros(len(train)))
    with pytest.raises(ValueError, match="one label per clip"):
        LogMelCNNClassifier(SR).fit(train.clips, train.labels[:3])
    with pytest.raises(ValueError, match="16000 Hz"):
        LogMelCNNClassifier(16000).fit(train)
    with pytest.raises(ValueError, match="freq_mask_param"):
        LogMelCNNClassifier(SR, freq_mask_param=99, max_epochs=1).fit(train)


def test_evaluate_augmentation_table_and_errors(words):
    train, test = words
    clf = LogMelCNNClassifier(SR, max_epochs=1)
    table = evaluate_augmentation(train[:16], test[:16], classifier=clf, methods=("real", "specaugment", "perturbations"),
                                  seeds=(0, 1), perturbations=default_perturbations()[:2])
    assert list(table.index) == ["real only", "SpecAugment", "SpecAugment + perturbations"]
    assert table.loc["SpecAugment", "accuracy_gain"] == 0 and (table["accuracy"].between(0, 1)).all()
    assert len(table.attrs["runs"]["real only"]["accuracy"]) == 2
    with pytest.raises(ValueError, match="need a synthesizer"):
        evaluate_augmentation(train, test, methods=("synthetic",))
    with pytest.raises(ValueError, match="unknown methods"):
        evaluate_augmentation(train, test, methods=("mixup",))
    with pytest.raises(ValueError, match="labelled"):
        evaluate_augmentation(train, type(test)(clips=test.clips, sample_rate=SR))
    with pytest.raises(ValueError, match="classes the training clips lack"):
        evaluate_augmentation(train[train.labels < 2], test, classifier=clf)
