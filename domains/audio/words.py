"""Spoken-digit-like words by formant synthesis, with speaker-like variation; no downloads.

Each class is a word, a sequence of phones: vowels with the formant frequencies measured by
Peterson & Barney (1952), approximants and nasals as weaker formant patterns, fricatives
and plosive bursts as bands of noise. The first ten words follow the phones of the English
digits ("zero" = z-ɪ-r-o, ..., "nine" = n-a-ɪ-n); more classes get further words drawn from
a fixed seed, so every call shares one vocabulary.

A clip is made as in a source-filter vocoder (Klatt 1980, in the STFT domain): a glottal
sawtooth at a falling pitch and a noise source are analysed by an STFT, multiplied frame by
frame by the formant (resonance) envelope and the noise band of the current phone, and
overlap-added back. Each clip draws its own "speaker": pitch (f0 90-240 Hz), vocal-tract
length (formants scaled by 0.85-1.2), speaking rate (0.8-1.25), onset and loudness.

References:
    Peterson & Barney, "Control methods used in a study of the vowels", JASA 24 (1952).
    Klatt, "Software for a cascade/parallel formant synthesizer", JASA 67 (1980).
"""

from __future__ import annotations

import numpy as np

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.dsp import frame_centres, frame_size, istft, smooth, stft
from synthkit.validation import check_count, check_positive

# name: (F1, F2, F3 Hz, voiced gain, noise centre Hz, noise width Hz, noise gain, duration units)
PHONES: dict[str, tuple[float, ...]] = {
    "i": (270, 2290, 3010, 1.0, 0, 1, 0.0, 1.0),
    "I": (390, 1990, 2550, 1.0, 0, 1, 0.0, 0.8),
    "E": (530, 1840, 2480, 1.0, 0, 1, 0.0, 0.9),
    "ae": (660, 1720, 2410, 1.0, 0, 1, 0.0, 1.0),
    "a": (730, 1090, 2440, 1.0, 0, 1, 0.0, 1.0),
    "o": (570, 840, 2410, 1.0, 0, 1, 0.0, 1.0),
    "U": (440, 1020, 2240, 1.0, 0, 1, 0.0, 0.8),
    "u": (300, 870, 2240, 1.0, 0, 1, 0.0, 1.0),
    "A": (640, 1190, 2390, 1.0, 0, 1, 0.0, 0.8),
    "r": (490, 1350, 1690, 0.8, 0, 1, 0.0, 0.6),
    "w": (290, 610, 2150, 0.6, 0, 1, 0.0, 0.5),
    "n": (250, 1700, 2600, 0.35, 0, 1, 0.0, 0.6),
    "m": (250, 1000, 2200, 0.35, 0, 1, 0.0, 0.6),
    "v": (250, 1100, 2400, 0.3, 3500, 2500, 0.15, 0.6),
    "z": (250, 1700, 2500, 0.3, 5000, 1500, 0.25, 0.7),
    "f": (400, 1200, 2400, 0.0, 4000, 3000, 0.12, 0.7),
    "s": (400, 1700, 2500, 0.0, 5500, 1500, 0.35, 0.8),
    "sh": (400, 1700, 2500, 0.0, 3000, 900, 0.35, 0.8),
    "t": (400, 1700, 2600, 0.0, 4000, 2000, 0.5, 0.3),
    "k": (400, 1700, 2600, 0.0, 2000, 800, 0.5, 0.3),
}
PHONE_NAMES = list(PHONES)
PHONE_TABLE = np.array([PHONES[p] for p in PHONE_NAMES], dtype=np.float64)
VOWELS = ["i", "I", "E", "ae", "a", "o", "U", "u", "A"]
CONSONANTS = ["r", "w", "n", "m", "v", "z", "f", "s", "sh", "t", "k"]

DIGITS = {
    "zero": "z I r o", "one": "w A n", "two": "t u", "three": "f r i", "four": "f o r",
    "five": "f a I v", "six": "s I k s", "seven": "s E v A n", "eight": "E I t", "nine": "n a I n",
}
BANDWIDTHS = np.array([90.0, 110.0, 170.0])  # formant bandwidths (Hz) before speaker scaling
FORMANT_GAINS = np.array([1.0, 0.6, 0.35])
CHUNK = 16  # clips synthesized together


def vocabulary(n_classes: int) -> dict[str, list[str]]:
    """The first ``n_classes`` words and their phones: the ten digits, then seeded C-V-C words."""
    words = {name: phones.split() for name, phones in DIGITS.items()}
    rng = np.random.default_rng(20260)  # fixed: every call shares one vocabulary
    while len(words) < n_classes:
        phones = [rng.choice(CONSONANTS), rng.choice(VOWELS), rng.choice(CONSONANTS)]
        if rng.random() < 0.5:
            phones.insert(2, rng.choice(VOWELS))
        if phones not in words.values():
            words[f"word{len(words)}"] = [str(p) for p in phones]
    return dict(list(words.items())[:n_classes])


def _formant_envelope(freqs, formants, bandwidths):
    """Sum of resonance peaks ``g_k / (1 + ((f - F_k) / (B_k / 2))^2)``: ``(n, M, K)`` -> ``(n, M, bins)``."""
    env = 0.0
    for k in range(formants.shape[-1]):  # three formants
        env = env + FORMANT_GAINS[k] / (1 + ((freqs - formants[..., k:k + 1]) / (bandwidths[..., k:k + 1] / 2)) ** 2)
    return env


def make_words(n_samples: int = 100, *, n_classes: int = 10, duration: float = 1.0, sample_rate: int = 16000,
               noise: float = 0.003, n_speakers: int | None = None, random_state=None) -> AudioClips:
    """Seeded word-like clips of ``n_classes`` classes, balanced, as an :class:`AudioClips`.

    Args:
        n_samples: number of clips.
        n_classes: number of words (the first ten are digit-like; see :func:`vocabulary`).
        duration: clip length in seconds; words fill up to about three quarters of it.
        sample_rate: samples per second (8 kHz and up; noise bands above Nyquist vanish).
        noise: standard deviation of the white background noise (clips peak at 0.3-0.9).
        n_speakers: ``None``: every clip is a new speaker. A number: that many speakers,
            each saying every word about equally often (speaker ``(i // n_classes) %
            n_speakers`` before shuffling), each utterance jittered around its speaker's
            pitch (±5 %), vocal-tract length (±2 %) and rate (±5 %) -- the structure of a
            corpus such as the Free Spoken Digit Dataset, to split by speaker.
        random_state: seed or ``numpy.random.Generator`` of the speakers and noise.

    Returns:
        ``clips`` as an ``(n_samples, samples)`` float32 array, integer ``labels`` in
        ``[0, n_classes)``, and ``info`` with ``word`` (the class names), ``f0``,
        ``formant_scale`` and ``speed`` of each clip (and ``speaker`` with ``n_speakers``).

    Example:
        >>> words = make_words(6, n_classes=3, duration=0.5, sample_rate=8000, random_state=0)
        >>> words.clips.shape, sorted(set(words.labels.tolist())), words.info["word"][:3].tolist()
        ((6, 4000), [0, 1, 2], ['zero', 'two', 'two'])
    """
    check_count("n_samples", n_samples)
    check_count("n_classes", n_classes)
    check_positive("duration", duration, unit="seconds")
    check_count("sample_rate", sample_rate, 4000, unit="Hz")
    check_count("n_speakers", n_speakers, none_ok=True)
    rng = np.random.default_rng(random_state)
    vocab = vocabulary(n_classes)
    names = list(vocab)
    n, length = int(n_samples), int(round(duration * sample_rate))
    order = rng.permutation(n)  # the same shuffle as rng.permutation(np.arange(n) % n_classes)
    labels = (np.arange(n) % n_classes)[order]

    # the words as padded phone tables: (classes, P) phone ids and cumulative duration units
    p_max = max(len(v) for v in vocab.values())
    ids = np.full((n_classes, p_max), -1)
    for c, phones in enumerate(vocab.values()):
        ids[c, :len(phones)] = [PHONE_NAMES.index(p) for p in phones]
    units = np.where(ids >= 0, PHONE_TABLE[np.maximum(ids, 0), 7], 0.0)
    total_units = units.sum(axis=1)

    # the speakers
    f0 = rng.uniform(90, 240, n)
    alpha = rng.uniform(0.85, 1.2, n)
    speed = rng.uniform(0.8, 1.25, n)
    speaker = None
    if n_speakers is not None:  # each clip: its speaker's voice, jittered per utterance
        speaker = (np.arange(n) // n_classes % int(n_speakers))[order]
        voice = rng.uniform([90, 0.85, 0.8], [240, 1.2, 1.25], (int(n_speakers), 3))  # f0, alpha, speed
        jitter = rng.uniform([0.95, 0.98, 0.95], [1.05, 1.02, 1.05], (n, 3))
        f0, alpha, speed = (voice[speaker] * jitter).T
    unit = min(0.11, 0.6 * duration / total_units.max())  # seconds per duration unit at speed 1
    word_len = total_units[labels] * unit / speed
    onset = rng.uniform(0.05, 1.0, n) * (duration - word_len) * 0.9 + 0.02 * duration

    clips = np.concatenate([  # chunks of clips keep the (clips, frames, bins) arrays in cache
        _render(rng, ids[labels[i:i + CHUNK]], units[labels[i:i + CHUNK]], f0[i:i + CHUNK], alpha[i:i + CHUNK],
                speed[i:i + CHUNK], onset[i:i + CHUNK], word_len[i:i + CHUNK], unit, length, sample_rate)
        for i in range(0, n, CHUNK)])

    peak = rng.uniform(0.3, 0.9, n)
    clips = clips * (peak / np.maximum(np.abs(clips).max(axis=1), 1e-9))[:, None]
    clips = clips + noise * rng.standard_normal((n, length))
    info = {"word": np.array(names)[labels], "f0": f0, "formant_scale": alpha, "speed": speed}
    if speaker is not None:
        info["speaker"] = speaker
    return AudioClips(clips=np.clip(clips, -1, 1).astype(np.float32), sample_rate=int(sample_rate),
                      labels=labels, info=info)


def _render(rng, ids, units, f0, alpha, speed, onset, word_len, unit, length, sample_rate):
    """Synthesize one chunk of clips from their phone rows and speaker parameters (see the module text)."""
    # phone of every STFT frame
    n_fft = frame_size(sample_rate)
    hop = n_fft // 4
    t_frames = frame_centres(length, n_fft, sample_rate)
    bounds = onset[:, None] + np.cumsum(units, axis=1) * (unit / speed)[:, None]  # (n, P) phone ends
    idx = (t_frames[None, :, None] >= bounds[:, None, :]).sum(axis=2)  # (n, M)
    n_phones = (ids >= 0).sum(axis=1)
    inside = (t_frames[None] >= onset[:, None]) & (idx < n_phones[:, None])
    phone = np.take_along_axis(ids, np.minimum(idx, n_phones[:, None] - 1), axis=1)
    props = PHONE_TABLE[phone]  # (n, M, 8)
    coart = max(1, int(0.03 * sample_rate / hop))  # 30 ms of coarticulation
    formants = smooth(props[..., :3], coart) * alpha[:, None, None]
    bandwidths = BANDWIDTHS * alpha[:, None, None] ** 0.5 * np.ones_like(formants)
    amp = smooth(inside.astype(np.float64), max(1, int(0.015 * sample_rate / hop)))
    voiced_gain = smooth(props[..., 3], coart) * amp
    noise_gain = props[..., 6] * amp
    nyq = sample_rate / 2
    noise_centre = np.minimum(props[..., 4] * alpha[:, None] ** 0.5, 0.8 * nyq)

    # sources: a sawtooth at a falling pitch (declination) and white noise
    t = np.arange(length) / sample_rate
    progress = np.clip((t[None] - onset[:, None]) / word_len[:, None], 0, 1)
    pitch = f0[:, None] * (1.12 - 0.25 * progress) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t[None]))
    phase = np.cumsum(pitch / sample_rate, axis=1)
    glottal = (2 * (phase % 1.0) - 1).astype(np.float32)

    # the filter: each frame's formant envelope and noise band, applied in the STFT domain;
    # the noise source is drawn there directly (white noise has i.i.d. complex Gaussian bins)
    f32 = np.float32
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate).astype(f32)
    env_v = _formant_envelope(freqs, formants.astype(f32), bandwidths.astype(f32)) * voiced_gain[..., None].astype(f32)
    width = (props[..., 5:6] * alpha[:, None, None] ** 0.5).astype(f32)
    env_n = np.exp(-0.5 * ((freqs - noise_centre[..., None].astype(f32)) / width) ** 2)
    env_n *= noise_gain[..., None].astype(f32)
    hiss = rng.standard_normal((*env_n.shape, 2), dtype=f32).view(np.complex64)[..., 0]
    spec = stft(glottal, n_fft) * env_v + hiss * (env_n * f32(1.5 * np.sqrt(n_fft * 0.375 / 2)))
    return istft(spec, n_fft, length)
