"""Sample-rate conversion and channel mixing with torchaudio, one cached kernel per rate pair.

``torchaudio.transforms.Resample`` builds its windowed-sinc kernel (Hann window,
``lowpass_filter_width=6``) once, at construction; building it per file would
dominate the cost of loading a folder of short clips, so :func:`resampler` keeps one module
per ``(orig, new)`` pair.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from synthkit.domains.audio.deps import require_torchaudio


@lru_cache(maxsize=32)
def resampler(orig_rate: int, new_rate: int):
    """The (cached) ``torchaudio.transforms.Resample`` module from ``orig_rate`` to ``new_rate``."""
    torchaudio = require_torchaudio()
    return torchaudio.transforms.Resample(int(orig_rate), int(new_rate))


def resample(waveform: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Resample a ``(..., samples)`` float32 array; returned unchanged when the rates agree."""
    if int(orig_rate) == int(new_rate):
        return waveform
    with torch.inference_mode():
        out = resampler(int(orig_rate), int(new_rate))(torch.from_numpy(np.ascontiguousarray(waveform)))
    return out.numpy()


def mix_to_mono(waveform: np.ndarray) -> np.ndarray:
    """Average a ``(channels, samples)`` array over channels to ``(samples,)``."""
    return waveform.mean(axis=0) if waveform.ndim == 2 else waveform
