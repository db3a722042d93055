"""Procedural audio data sets, generated on the spot: nothing is downloaded, nothing shipped.

No speech or machine-sound corpus of useful size comes with any installed package, so the
audio domain's demos, tests and benchmarks generate their clips (numpy only, seeded, about
a quarter of a second of CPU per hundred 1-second clips at 16 kHz):

- ``"words"`` (:func:`~synthkit.domains.audio.words.make_words`): spoken-digit-like words
  by formant synthesis, ``n_classes`` classes, speakers varying in pitch, vocal-tract
  length and rate -- a stand-in for the Free Spoken Digit Dataset.
- ``"machines"`` (:func:`~synthkit.domains.audio.machines.make_machine_sounds`): machine
  hum over several machine IDs and noise levels, with bearing, unbalance, speed and leak
  faults as anomalous-sound ground truth -- a stand-in for MIMII / DCASE 2020 Task 2.
"""

from __future__ import annotations

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.machines import FAULTS, make_machine_sounds
from synthkit.domains.audio.words import make_words, vocabulary

DATASETS = {
    "words": (make_words, "spoken-digit-like words by formant synthesis, speaker-varied, K classes"),
    "machines": (make_machine_sounds, "machine hum over machine IDs and noise levels, with labelled faults"),
}


def list_datasets() -> dict[str, str]:
    """Data set names and their one-line descriptions."""
    return {name: help_ for name, (_, help_) in DATASETS.items()}


def load_dataset(name: str, n_samples: int = 100, **params) -> AudioClips:
    """Generate the named data set (keyword parameters go to its generator)."""
    if name not in DATASETS:
        raise ValueError(f"unknown audio data set {name!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[name][0](n_samples, **params)


__all__ = ["DATASETS", "FAULTS", "list_datasets", "load_dataset", "make_machine_sounds", "make_words", "vocabulary"]
