"""Representations invert: log-mel + Griffin-Lim within a stated spectral distance, μ-law within its bound."""

import json

import numpy as np
import pytest
from audio_helpers import N, SR, tone, voiced

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.mel import LogMel, context_frames
from synthkit.domains.audio.metrics import log_spectral_distance, multi_resolution_stft_distance
from synthkit.domains.audio.mulaw import MuLaw
from synthkit.domains.audio.representations import get_representation, list_representations, representation_from_config

# InverseMelScale + Griffin-Lim (32 fast iterations), 40 bands at 8 kHz, n_fft 256: measured
# 12.9 dB / 3.8 on the held-out clips; random images 52 dB / 14.9, bands flipped 33 dB / 7.8,
# a flat image 21 dB / 6.2. Most of the 12.9 dB is the mel filterbank's lost detail between
# harmonics (Griffin-Lim alone, on the full STFT at 16 kHz, n_fft 1024, gives about 1 dB).
LSD_MAX_DB, MR_STFT_MAX = 14.0, 5.0


@pytest.fixture(scope="module")
def mel_fitted():
    x = voiced(12)
    return x, LogMel(sample_rate=SR, n_fft=256, n_mels=40).fit(x[:8])


def test_log_mel_round_trip_is_within_the_stated_distance(mel_fitted):
    x, rep = mel_fitted
    held_out = x[8:]  # the normalization was fitted on the other clips
    images = rep.encode(held_out)
    assert images.shape == (4, *rep.shape) == (4, 40, N // 64 + 1) and images.dtype == np.float32
    y = rep.decode(images)
    assert y.shape == held_out.shape and y.dtype == np.float32 and np.abs(y).max() <= 1.0
    lsd, mr = log_spectral_distance(held_out, y, n_fft=256), multi_resolution_stft_distance(held_out, y)
    assert lsd < LSD_MAX_DB and mr < MR_STFT_MAX, (lsd, mr)


def test_broken_inverses_fail_the_same_distance(mel_fitted):
    x, rep = mel_fitted
    images = rep.encode(x[8:])
    rng = np.random.default_rng(0)
    broken = {
        "random images": rng.standard_normal(images.shape).astype(np.float32),
        "bands flipped": images[:, ::-1].copy(),
        "flat image at the training mean": images * 0.0,
    }
    for what, imgs in broken.items():
        y = rep.decode(imgs)
        lsd, mr = log_spectral_distance(x[8:], y, n_fft=256), multi_resolution_stft_distance(x[8:], y)
        assert lsd > LSD_MAX_DB and mr > MR_STFT_MAX, (what, lsd, mr)


@pytest.mark.parametrize("normalize", ["global", "per_band", None])
def test_log_mel_normalization_is_fitted_on_the_training_clips(normalize):
    x = voiced(6)
    rep = LogMel(sample_rate=SR, n_fft=256, n_mels=32, normalize=normalize).fit(x)
    images = rep.encode(x).astype(np.float64)
    if normalize == "global":
        assert abs(images.mean()) < 1e-4 and abs(images.std() - 1) < 1e-3 and len(rep.mean_) == 1
    elif normalize == "per_band":
        np.testing.assert_allclose(images.mean(axis=(0, 2)), 0, atol=1e-4)
        assert len(rep.mean_) == 32
    else:  # raw dB: a 0.5-amplitude tone peaks far above the -100 dB floor
        assert rep.mean_ == [0.0] and images.min() >= -100.0 and images.max() > 0


def test_configs_are_json_and_restore_the_same_maps(mel_fitted):
    x, rep = mel_fitted
    tokens = MuLaw(sample_rate=SR).fit(x)
    for fitted in (rep, tokens):
        config = json.loads(json.dumps(fitted.get_config()))  # plain numbers, lists and strings only
        again = representation_from_config(config)
        assert type(again) is type(fitted) and again.shape == fitted.shape
        a = fitted.encode(x[:2])
        np.testing.assert_array_equal(again.encode(x[:2]), a)
        np.testing.assert_array_equal(again.decode(a), fitted.decode(a))  # Griffin-Lim starts from zero phase
    unfitted = representation_from_config(LogMel(sample_rate=SR).get_config())
    with pytest.raises(ValueError, match="not fitted yet"):
        unfitted.encode(x)
    with pytest.raises(ValueError, match="not 'mu_law'"):
        MuLaw.from_config(rep.get_config())


def test_inputs_are_checked_at_the_boundary(mel_fitted):
    x, rep = mel_fitted
    with pytest.raises(ValueError, match="2000 samples but this LogMel was fitted on 1000"):
        LogMel(sample_rate=SR, n_fft=256, n_mels=40).fit(x[:, :1000]).encode(x)
    with pytest.raises(ValueError, match=r"expected arrays of shape \(n, 40, 32\)"):
        rep.decode(np.zeros((2, 40, 31), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        rep.decode(np.full((1, *rep.shape), np.nan, np.float32))
    with pytest.raises(ValueError, match="clips are at 16000 Hz but this representation is set for 8000 Hz"):
        rep.encode(AudioClips(clips=x, sample_rate=16000))
    with pytest.raises(ValueError, match="different shapes"):
        rep.fit([x[0], x[1, :1500]])
    with pytest.raises(ValueError, match="shorter than half an STFT frame"):
        LogMel(sample_rate=SR, n_fft=1024).fit(x[:, :400])
    with pytest.raises(ValueError, match="normalize must be one of"):
        LogMel(sample_rate=SR, normalize="minmax").fit(x)
    with pytest.raises(ValueError, match="Nyquist"):
        LogMel(sample_rate=SR, f_max=6000.0).fit(x)
    with pytest.raises(ValueError, match=r"tokens must be integers in \[0, 256\)"):
        MuLaw(sample_rate=SR).fit(x).decode(np.full((1, N), 256))


def test_mu_law_round_trip_is_within_its_quantization_bound():
    rng = np.random.default_rng(0)
    x = np.concatenate([voiced(4), rng.uniform(-1, 1, (4, N)).astype(np.float32),
                        (rng.standard_normal((4, N)) * 1e-3).astype(np.float32)])  # quiet clips too
    rep = MuLaw(sample_rate=SR).fit(x)
    tokens = rep.encode(x)
    assert tokens.dtype == np.int64 and tokens.shape == (12, N) and rep.n_tokens == 256
    assert tokens.min() == 0 and tokens.max() == 255  # the uniform clips reach both ends
    err, bound = np.abs(rep.decode(tokens) - x), rep.error_bound(x)
    assert np.all(err <= bound)
    assert (err / bound).max() > 0.9  # the bound is tight, not vacuous
    # 8-bit *linear* quantization breaks it on quiet samples: what μ-law companding buys
    linear = np.round((x + 1) * 127.5) / 127.5 - 1
    assert np.any(np.abs(linear - x) > bound)
    # out-of-range input is clipped to [-1, 1] first, so it decodes to full scale
    assert rep.decode(rep.encode(np.full((1, N), 3.0, np.float32))).min() == 1.0


def test_context_frames_stack_consecutive_frames(mel_fitted):
    x, rep = mel_fitted
    images = rep.encode(x[:2])
    vectors = context_frames(images, 5)  # DCASE 2020 Task 2: 5 frames x n_mels
    assert vectors.shape == (2, images.shape[2] - 4, 5 * 40)
    np.testing.assert_array_equal(vectors[1, 3], images[1, :, 3:8].T.reshape(-1))


def test_distances_are_zero_on_identity_and_grow_with_noise():
    x = np.stack([tone(440), tone(1000)])
    assert log_spectral_distance(x, x) == 0 and multi_resolution_stft_distance(x, x) == 0
    rng = np.random.default_rng(0)
    lsd, mr = [], []
    for level in (1e-3, 1e-2, 1e-1):
        y = x + level * rng.standard_normal(x.shape).astype(np.float32)
        lsd.append(log_spectral_distance(x, y))
        mr.append(multi_resolution_stft_distance(x, y))
    assert lsd == sorted(lsd) and mr == sorted(mr) and lsd[0] > 0
    assert log_spectral_distance(x, x[::-1], reduction="none").shape == (2,)


def test_registry_lists_and_builds_each_representation():
    assert set(list_representations()) == {"log_mel", "mu_law"}
    assert isinstance(get_representation("mu_law", sample_rate=SR), MuLaw)
    with pytest.raises(ValueError, match="unknown audio representation"):
        get_representation("wavelet")
