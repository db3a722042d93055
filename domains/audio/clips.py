"""The audio domain's data container and the one way clips become a batch array.

:class:`AudioClips` is what :func:`~synthkit.domains.audio.load_audio` and the procedural
data sets return: the waveforms, their common sample rate, and optionally labels, source
paths and per-clip metadata. :func:`as_batch` is how every representation accepts clips
(a container, a ``(n, samples)`` array or a list of equal-length 1-D arrays), so that
encoding is one vectorized call over the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class AudioClips:
    """Clips at one sample rate, with what is known about each.

    Attributes:
        clips: a ``(n, samples)`` float32 array when every clip has the same length
            (``duration=`` given to :func:`load_audio`, or a generated set), else a list of
            float32 arrays, each ``(samples,)`` for mono or ``(channels, samples)``.
        sample_rate: samples per second, shared by every clip.
        labels: one label per clip (``None`` when unlabelled).
        paths: the file each clip was read from (``None`` for generated clips).
        info: further per-clip arrays, e.g. ``machine_id`` and ``fault`` of a machine set.
    """

    clips: list | np.ndarray
    sample_rate: int
    labels: np.ndarray | None = None
    paths: list[Path] | None = None
    info: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.clips)

    def __eq__(self, other) -> bool:
        """Same rate, same labels and the same samples clip for clip (paths and info aside:
        a copy written elsewhere and read back is equal)."""
        if not isinstance(other, AudioClips) or len(self) != len(other) or self.sample_rate != other.sample_rate:
            return False
        if (self.labels is None) != (other.labels is None):
            return False
        if self.labels is not None and not np.array_equal(self.labels.astype(str), other.labels.astype(str)):
            return False
        return all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(self.clips, other.clips))

    __hash__ = None

    def __getitem__(self, index) -> AudioClips:
        """The clips at ``index`` (a slice, an integer array or a boolean mask), with their labels and info."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        clips = self.clips[idx] if isinstance(self.clips, np.ndarray) else [self.clips[i] for i in idx]
        return AudioClips(clips=clips, sample_rate=self.sample_rate,
                          labels=None if self.labels is None else self.labels[idx],
                          paths=None if self.paths is None else [self.paths[i] for i in idx],
                          info={k: np.asarray(v)[idx] for k, v in self.info.items()})

    @property
    def classes(self) -> np.ndarray:
        """The sorted distinct labels (empty when unlabelled)."""
        return np.array([]) if self.labels is None else np.unique(self.labels)

    def to_array(self, n_samples: int | None = None) -> np.ndarray:
        """All clips as one ``(n, n_samples)`` (or ``(n, channels, n_samples)``) float32 array.

        Longer clips are cut at the end and shorter ones padded with zeros (silence);
        ``n_samples`` defaults to the longest clip.
        """
        return fit_length(self.clips, n_samples)


def fit_length(clips, n_samples: int | None = None) -> np.ndarray:
    """Cut or zero-pad every clip (on its last axis) to ``n_samples``; one stacked array."""
    if isinstance(clips, np.ndarray) and clips.ndim >= 2 and n_samples in (None, clips.shape[-1]):
        return clips.astype(np.float32, copy=False)
    clips = [np.asarray(c, dtype=np.float32) for c in clips]
    if not clips:
        raise ValueError("no clips to stack.")
    n = max(c.shape[-1] for c in clips) if n_samples is None else int(n_samples)
    out = np.zeros((len(clips), *clips[0].shape[:-1], n), dtype=np.float32)
    for i, c in enumerate(clips):  # one copy per clip; clips differ in length, so no stacking
        if c.shape[:-1] != clips[0].shape[:-1]:
            raise ValueError(f"clip {i} has shape {c.shape}, clip 0 has {clips[0].shape}: channel counts differ.")
        m = min(n, c.shape[-1])
        out[i, ..., :m] = c[..., :m]
    return out


def as_batch(clips, *, sample_rate: int | None = None) -> np.ndarray:
    """Mono clips as a ``(n, samples)`` float32 array, rejecting what a representation cannot take.

    Args:
        clips: an :class:`AudioClips`, a ``(n, samples)`` array, one ``(samples,)`` clip,
            or a list of 1-D arrays of equal length.
        sample_rate: when given and ``clips`` is an :class:`AudioClips`, its rate must match.
    """
    if isinstance(clips, AudioClips):
        if sample_rate is not None and clips.sample_rate != sample_rate:
            raise ValueError(
                f"clips are at {clips.sample_rate} Hz but this representation is set for {sample_rate} Hz; "
                f"load them with load_audio(..., sample_rate={sample_rate}) or set sample_rate={clips.sample_rate}."
            )
        clips = clips.clips
    if not isinstance(clips, np.ndarray):
        clips = [np.asarray(c) for c in clips]
        if not clips:
            raise ValueError("no clips given.")
        lengths = {c.shape for c in clips}
        if len(lengths) > 1:
            raise ValueError(f"clips have different shapes {sorted(lengths)[:3]}...; use "
                             "AudioClips.to_array(n_samples) or load_audio(..., duration=seconds) to give them one length.")
        clips = np.stack(clips)
    x = np.ascontiguousarray(clips, dtype=np.float32)  # torch.from_numpy takes no negative strides
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"expected mono clips as a (n, samples) array, got shape {x.shape}; mix channels down first.")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"empty batch of clips (shape {x.shape}).")
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"clip {bad} contains NaN or infinite samples.")
    return x
