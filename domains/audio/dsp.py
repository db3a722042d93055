"""Small numpy signal blocks shared by the procedural data sets (batches of clips, no loops over samples).

Analysis and synthesis with a Hann-windowed short-time Fourier transform at 75 % overlap
(so overlap-add is exact up to the window-square normalization), and moving-average
smoothing along time. Numpy only, so the generated data sets need neither torch nor
torchaudio.
"""

from __future__ import annotations

import numpy as np


def frame_size(sample_rate: int, seconds: float = 0.032) -> int:
    """A power-of-two STFT size near ``seconds`` (512 at 16 kHz, 256 at 8 kHz)."""
    return int(2 ** round(np.log2(seconds * sample_rate)))


def stft(x: np.ndarray, n_fft: int) -> np.ndarray:
    """``(n, samples)`` -> ``(n, frames, n_fft // 2 + 1)`` complex, hop ``n_fft // 4``, zero-padded ends."""
    hop = n_fft // 4
    pad = np.pad(x, ((0, 0), (n_fft - hop, n_fft)))
    frames = np.lib.stride_tricks.sliding_window_view(pad, n_fft, axis=1)[:, ::hop]
    return np.fft.rfft(frames * np.hanning(n_fft + 1)[:-1].astype(x.dtype), axis=2)


def frame_centres(length: int, n_fft: int, sample_rate: int) -> np.ndarray:
    """Times (seconds) of the centres of the frames :func:`stft` takes of ``length`` samples."""
    hop = n_fft // 4
    n_frames = (length + n_fft - hop) // hop + 1
    return (np.arange(n_frames) * hop - (n_fft - hop) + n_fft // 2) / sample_rate


def istft(spec: np.ndarray, n_fft: int, length: int) -> np.ndarray:
    """Inverse of :func:`stft` (weighted overlap-add), cut to ``length`` samples."""
    hop = n_fft // 4
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32 if spec.dtype == np.complex64 else np.float64)
    frames = np.fft.irfft(spec, n=n_fft, axis=2) * window  # (n, M, n_fft)
    n, m = frames.shape[:2]
    out = np.zeros((n, (m + 3) * hop), dtype=frames.dtype)
    norm = np.zeros((m + 3) * hop)
    for j in range(4):  # the four window quarters overlap; one strided add each
        out[:, j * hop: j * hop + m * hop] += frames[:, :, j * hop:(j + 1) * hop].reshape(n, m * hop)
        norm[j * hop: j * hop + m * hop] += np.tile(window[j * hop:(j + 1) * hop] ** 2, m)
    start = n_fft - hop
    return (out / np.maximum(norm, 1e-8))[:, start:start + length]


def smooth(x: np.ndarray, width: int, axis: int = 1) -> np.ndarray:
    """Centred moving average of ``width`` samples along ``axis`` (edges held), same shape."""
    if width <= 1:
        return x
    x = np.moveaxis(x, axis, -1)
    left, right = width // 2, width - 1 - width // 2
    pad = np.concatenate([np.repeat(x[..., :1], left, -1), x, np.repeat(x[..., -1:], right, -1)], axis=-1)
    c = np.cumsum(pad, axis=-1)
    c = np.concatenate([np.zeros_like(c[..., :1]), c], axis=-1)
    out = (c[..., width:] - c[..., :-width]) / width
    return np.moveaxis(out, -1, axis)


def normalize_rms(x: np.ndarray, rms: float) -> np.ndarray:
    """Scale each clip to the given RMS."""
    return x * (rms / np.maximum(np.sqrt((x ** 2).mean(axis=1, keepdims=True)), 1e-12))
