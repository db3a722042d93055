"""Shared sizes and signals of the audio tests: 0.25 s clips at 8 kHz."""

import numpy as np

SR = 8000
N = 2000  # 0.25 s at 8 kHz


def tone(freq, n=N, sr=SR, amp=0.5):
    """A sine of ``freq`` Hz, ``n`` samples at ``sr`` (float32)."""
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def voiced(n_clips, n=N, sr=SR, seed=0):
    """Speech-like test clips: a gliding harmonic tone (f0 100-250 Hz, 11 harmonics), faded in and out."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    f0 = rng.uniform(100, 250, (n_clips, 1)) * (1 + 0.4 * t)
    phase = 2 * np.pi * np.cumsum(f0, axis=1) / sr
    x = sum(np.sin(h * phase) / h for h in range(1, 12))
    return (0.3 * x * np.hanning(n)).astype(np.float32)
