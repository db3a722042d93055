"""Waveform perturbations for training an audio classifier: time shift, noise, pitch, speed.

Each perturbation takes a batch of clips ``(n, samples)`` in [-1, 1] and returns a new
float32 batch of the same shape, still in [-1, 1] (clipped), with each clip perturbed with
probability ``p`` and a random amount drawn per clip. They are applied to a training batch
before its log-mel features are taken (and before SpecAugment masks them):

- :class:`TimeShift`: delay or advance by up to ``max_shift`` seconds, zeros filling the gap
  (a word that starts earlier or later);
- :class:`AddNoise`: white Gaussian noise at a signal-to-noise ratio drawn in ``snr_db``;
- :class:`PitchShift`: ``semitones`` up or down at the same duration: a phase-vocoder time
  stretch by ``2^(s/12)`` (torchaudio ``TimeStretch``) and a resampling back to the length
  (torchaudio ``Resample``), as ``torchaudio.transforms.PitchShift`` does. The rate is
  rounded to a fraction with a denominator of at most 64 (within 2 cents of the semitone
  for shifts of up to an octave): torchaudio's exact rates are coprime with the sample
  rate, which makes its resampling kernel thousands of taps long (seconds per call on a
  batch of short clips); one stretch and one resampler are built and cached per shift;
- :class:`SpeedPerturb`: play ``factor`` times faster (tempo and pitch together) by
  resampling, then cut or zero-pad to the length (Ko et al. 2015's 0.9 / 1.1).

References:
    Ko, Peddinti, Povey & Khudanpur, "Audio augmentation for speech recognition",
    Interspeech 2015 (speed perturbation).
    Salamon & Bello, "Deep convolutional neural networks and data augmentation for
    environmental sound classification", IEEE SPL 24 (2017) (time shift, pitch shift, noise).
    Laroche & Dolson, "Improved phase vocoder time-scale modification of audio", IEEE Trans.
    Speech Audio Process. 7 (1999) (the phase vocoder under ``TimeStretch``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import torch

from synthkit.domains.audio.clips import as_batch
from synthkit.domains.audio.deps import require_torchaudio
from synthkit.domains.audio.dsp import frame_size
from synthkit.domains.audio.resample import resampler
from synthkit.validation import check_count, check_fraction, check_non_negative, check_positive

#: largest denominator of the rational rates of PitchShift and SpeedPerturb
MAX_DENOMINATOR = 64


class Perturbation:
    """Base: validates the batch, picks the clips to perturb, clips the result to [-1, 1]."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, clips, sample_rate: int, random_state=None) -> np.ndarray:
        """A perturbed copy of ``clips`` (``(n, samples)``, float32, in [-1, 1])."""
        check_fraction(f"{type(self).__name__}: p (a probability)", self.p, zero_ok=True, one_ok=True)
        check_count(f"{type(self).__name__}: sample_rate", sample_rate, unit="Hz")
        self._check()
        x = as_batch(clips).copy()
        rng = np.random.default_rng(random_state)
        chosen = np.flatnonzero(rng.random(len(x)) < self.p)
        if len(chosen):
            x[chosen] = self._apply(x[chosen], int(sample_rate), rng)
        return np.clip(x, -1.0, 1.0).astype(np.float32, copy=False)

    def _check(self):
        """Validate the parameters (raise ValueError)."""

    def _apply(self, x: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class TimeShift(Perturbation):
    """Shift each clip by a whole number of samples, uniform in ``±max_shift`` seconds; zeros fill in."""

    def __init__(self, max_shift: float = 0.1, p: float = 0.5):
        super().__init__(p)
        self.max_shift = max_shift

    def _check(self):
        check_non_negative("TimeShift: max_shift", self.max_shift, unit="seconds")

    def _apply(self, x, sample_rate, rng):
        limit = round(self.max_shift * sample_rate)
        shift = rng.integers(-limit, limit + 1, len(x))
        source = np.arange(x.shape[1])[None, :] - shift[:, None]  # out[t] = x[t - shift]
        inside = (source >= 0) & (source < x.shape[1])
        return np.where(inside, np.take_along_axis(x, np.clip(source, 0, x.shape[1] - 1), axis=1), 0.0)


class AddNoise(Perturbation):
    """Add white Gaussian noise at an SNR (dB, against the clip's own power) uniform in ``snr_db``."""

    def __init__(self, snr_db=(10.0, 30.0), p: float = 0.5):
        super().__init__(p)
        self.snr_db = snr_db

    def _check(self):
        lo, hi = _range(self.snr_db, "AddNoise: snr_db")
        if not np.isfinite([lo, hi]).all():
            raise ValueError(f"AddNoise: snr_db must be finite, got {self.snr_db!r}.")

    def _apply(self, x, sample_rate, rng):
        lo, hi = _range(self.snr_db, "AddNoise: snr_db")
        snr = rng.uniform(lo, hi, len(x))
        rms = np.sqrt((x.astype(np.float64) ** 2).mean(axis=1))
        noise = rng.standard_normal(x.shape) * (rms / 10 ** (snr / 20))[:, None]
        return x + noise


class PitchShift(Perturbation):
    """Shift the pitch by a number of ``semitones`` drawn from the given set, at the same duration."""

    def __init__(self, semitones=(-2, -1, 1, 2), p: float = 0.5):
        super().__init__(p)
        self.semitones = semitones

    def _check(self):
        steps = np.atleast_1d(np.asarray(self.semitones, dtype=np.float64))
        if steps.size == 0 or not np.isfinite(steps).all() or np.abs(steps).max() > 24:
            raise ValueError(f"PitchShift: semitones must be a non-empty set of shifts within ±24, got {self.semitones!r}.")

    def _apply(self, x, sample_rate, rng):
        steps = np.atleast_1d(np.asarray(self.semitones, dtype=np.float64))
        pick = rng.integers(len(steps), size=len(x))
        out = x.copy()
        for k in np.unique(pick):  # one batched call per distinct shift
            rows = pick == k
            out[rows] = pitch_shift(x[rows], sample_rate, float(steps[k]))
        return out


class SpeedPerturb(Perturbation):
    """Play each clip ``factor`` times faster (one of ``factors``), cut or zero-padded to its length."""

    def __init__(self, factors=(0.9, 1.1), p: float = 0.5):
        super().__init__(p)
        self.factors = factors

    def _check(self):
        f = np.atleast_1d(np.asarray(self.factors, dtype=np.float64))
        if f.size == 0 or not np.isfinite(f).all() or (f < 0.5).any() or (f > 2).any():
            raise ValueError(f"SpeedPerturb: factors must be a non-empty set in [0.5, 2], got {self.factors!r}.")

    def _apply(self, x, sample_rate, rng):
        factors = np.atleast_1d(np.asarray(self.factors, dtype=np.float64))
        pick = rng.integers(len(factors), size=len(x))
        out = x.copy()
        for k in np.unique(pick):
            rows = pick == k
            out[rows] = speed(x[rows], float(factors[k]))
        return out


def _range(value, what) -> tuple[float, float]:
    lo, hi = (value, value) if np.isscalar(value) else tuple(value)
    if not float(lo) <= float(hi):
        raise ValueError(f"{what} must be a number or a (low, high) pair with low <= high, got {value!r}.")
    return float(lo), float(hi)


def _rational(rate: float) -> Fraction:
    return Fraction(rate).limit_denominator(MAX_DENOMINATOR)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """``(n, samples)`` played ``factor`` times faster (resampled by ``1 / factor``), same length."""
    r = _rational(factor)
    if r == 1:
        return x.copy()
    with torch.inference_mode():  # length n * q / p for a rate p / q
        y = resampler(r.numerator, r.denominator)(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    out = np.zeros_like(x)
    m = min(x.shape[1], y.shape[1])
    out[:, :m] = y[:, :m]
    return out


@lru_cache(maxsize=32)
def _stretch(n_fft: int, rate: float):
    T = require_torchaudio().transforms
    return T.TimeStretch(hop_length=n_fft // 4, n_freq=n_fft // 2 + 1, fixed_rate=rate)


def pitch_shift(x: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """``(n, samples)`` shifted by ``semitones`` at the same length: phase-vocoder stretch by
    ``r = 2^(semitones/12)`` (rounded to a fraction), then resampling by ``1 / r``."""
    r = _rational(2.0 ** (semitones / 12))
    if r == 1:
        return x.copy()
    n_fft = frame_size(sample_rate)
    n = x.shape[1]
    window = torch.hann_window(n_fft)
    with torch.inference_mode():
        t = torch.from_numpy(np.ascontiguousarray(x))
        pad = "reflect" if n > n_fft // 2 else "constant"
        spec = torch.stft(t, n_fft, n_fft // 4, window=window, center=True, pad_mode=pad, return_complex=True)
        longer = torch.istft(_stretch(n_fft, float(1 / r))(spec), n_fft, n_fft // 4, window=window,
                             length=round(n * float(r)))
        y = resampler(r.numerator, r.denominator)(longer).numpy()
    out = np.zeros_like(x)
    m = min(n, y.shape[1])
    out[:, :m] = y[:, :m]
    return out


def default_perturbations(clip_seconds: float = 1.0) -> list[Perturbation]:
    """Each of the four at ``p = 0.5``: a shift of up to a tenth of the clip (±0.1 s of a
    1-second clip), 10-30 dB SNR, ±1-2 semitones, speed 0.9 / 1.1."""
    check_positive("clip_seconds", clip_seconds)
    return [TimeShift(max_shift=0.1 * float(clip_seconds)), AddNoise(), PitchShift(), SpeedPerturb()]


def perturb(clips, perturbations, sample_rate: int, random_state=None) -> np.ndarray:
    """Apply ``perturbations`` in turn, each with its own draws from one seeded generator."""
    rng = np.random.default_rng(random_state)
    x = as_batch(clips)
    for step in perturbations:
        if not isinstance(step, Perturbation):
            raise ValueError(f"perturbations must be Perturbation objects (TimeShift, AddNoise, PitchShift, "
                             f"SpeedPerturb), got {step!r}.")
        x = step(x, sample_rate, rng)
    return x


__all__ = ["AddNoise", "Perturbation", "PitchShift", "SpeedPerturb", "TimeShift", "default_perturbations",
           "perturb", "pitch_shift", "speed"]
