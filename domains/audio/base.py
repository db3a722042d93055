"""What every audio representation is: a fitted, invertible map between clips and arrays.

A backbone learns arrays; the audio domain hands it an array per clip and turns what it
samples back into sound. A :class:`Representation` is fitted on the training clips (it
learns their length and, for some, a normalization), then ``encode`` maps a batch of
clips to a batch of arrays of one :attr:`~Representation.shape` and ``decode`` maps
arrays of that shape back to float32 clips in [-1, 1]. Its parameters and fitted state are
plain numbers (:meth:`~Representation.get_config`), so a saved model stores them as JSON
and loading one never unpickles anything.

Subclasses set ``name`` and implement ``_fit`` (optional), ``_encode``, ``_decode``,
``_shape`` and, if they learn anything beyond the clip length, ``_get_state`` /
``_set_state``; this base does the validation (scikit-learn's template method).
"""

from __future__ import annotations

import inspect
from typing import ClassVar

import numpy as np

from synthkit.domains.audio.clips import as_batch

CONFIG_VERSION = 1
CHUNK = 256  # clips per vectorized call: bounds memory, not a loop over samples


class Representation:
    """Base class of invertible clip <-> array maps (fit / encode / decode / shape / config)."""

    name: ClassVar[str] = ""
    sample_rate: int

    def get_params(self) -> dict:
        """The ``__init__`` keyword parameters and their values (scikit-learn style)."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # -- public template -------------------------------------------------------------
    def fit(self, clips) -> Representation:
        """Learn the clip length (and any normalization) from training clips; returns ``self``."""
        x = as_batch(clips, sample_rate=self.sample_rate)
        self._check_params()
        self.n_samples_ = int(x.shape[1])
        self._fit(x)
        return self

    def encode(self, clips) -> np.ndarray:
        """Clips -> arrays of shape ``(n, *self.shape)``, the whole batch at once."""
        x = self._clips(clips)
        return np.concatenate([self._encode(x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)])

    def decode(self, arrays) -> np.ndarray:
        """Arrays of shape ``(n, *self.shape)`` -> ``(n, samples)`` float32 clips in [-1, 1]."""
        a = self._arrays(arrays)
        out = np.concatenate([self._decode(a[i:i + CHUNK]) for i in range(0, len(a), CHUNK)])
        return np.clip(out, -1.0, 1.0).astype(np.float32, copy=False)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one encoded clip."""
        self._check_fitted()
        return tuple(int(s) for s in self._shape())

    def get_config(self) -> dict:
        """Parameters and fitted state as plain JSON-able numbers, lists and strings."""
        state = {}
        if hasattr(self, "n_samples_"):
            state = {"n_samples": self.n_samples_, **self._get_state()}
        return {"representation": self.name, "version": CONFIG_VERSION, "params": self.get_params(), "state": state}

    @classmethod
    def from_config(cls, config: dict) -> Representation:
        """Rebuild a (fitted) representation from :meth:`get_config`'s output."""
        if config.get("representation") != cls.name:
            raise ValueError(f"config is for representation {config.get('representation')!r}, not {cls.name!r}.")
        if config.get("version", CONFIG_VERSION) > CONFIG_VERSION:
            raise ValueError(f"config version {config['version']} is newer than this synthkit reads "
                             f"({CONFIG_VERSION}).")
        rep = cls(**config.get("params", {}))
        state = dict(config.get("state") or {})
        if state:
            rep._check_params()
            rep.n_samples_ = int(state.pop("n_samples"))
            rep._set_state(state)
        return rep

    # -- validation ------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "n_samples_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(training_clips) first.")

    def _clips(self, clips) -> np.ndarray:
        self._check_fitted()
        x = as_batch(clips, sample_rate=self.sample_rate)
        if x.shape[1] != self.n_samples_:
            raise ValueError(f"clips have {x.shape[1]} samples but this {type(self).__name__} was fitted on "
                             f"{self.n_samples_}; cut or pad them with AudioClips.to_array({self.n_samples_}).")
        return x

    def _arrays(self, arrays) -> np.ndarray:
        self._check_fitted()
        a = np.ascontiguousarray(arrays)
        if a.shape[1:] != self.shape:
            if a.shape == self.shape:
                a = a[None]
            else:
                raise ValueError(f"expected arrays of shape (n, {', '.join(map(str, self.shape))}), got {a.shape}.")
        if a.shape[0] == 0:
            raise ValueError("no arrays to decode.")
        if not np.isfinite(a).all():
            raise ValueError("arrays to decode contain NaN or infinite values (a diverged model?).")
        return a

    # -- hooks -----------------------------------------------------------------------
    def _check_params(self):
        """Validate ``__init__`` parameters (called by ``fit`` and ``from_config``)."""

    def _fit(self, x: np.ndarray):
        """Learn from a ``(n, samples)`` float32 batch beyond its length (default: nothing)."""

    def _get_state(self) -> dict:
        return {}

    def _set_state(self, state: dict):
        if state:
            raise ValueError(f"unexpected state keys for {self.name}: {sorted(state)}.")

    def _encode(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _decode(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _shape(self) -> tuple[int, ...]:
        raise NotImplementedError
