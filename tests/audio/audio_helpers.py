"""Shared sizes and signals of the audio tests: 0.25 s clips at 8 kHz."""

import numpy as np

SR = 8000
N = 2000  # 0.25 s at 8 kHz


def tone(freq, n=N, sr=SR, amp=0.5):
    """A sine of ``freq`` Hz, ``n`` samples at ``sr`` (float32)."""
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)
