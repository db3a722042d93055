"""The audio representations by name: one registry for the Python API and the CLI.

A representation turns clips into the arrays a backbone learns and back (see
:class:`~synthkit.domains.audio.base.Representation`): ``"log_mel"`` images for 2-D conv
backbones, inverted by Griffin-Lim (:mod:`~synthkit.domains.audio.mel`), and ``"mu_law"``
tokens for autoregressive token backbones (:mod:`~synthkit.domains.audio.mulaw`).
:func:`representation_from_config` rebuilds a fitted one from its JSON config, which is
how a saved audio model will restore it without pickle.
"""

from __future__ import annotations

from synthkit.domains.audio.base import Representation
from synthkit.domains.audio.mel import LogMel
from synthkit.domains.audio.mulaw import MuLaw

REPRESENTATIONS: dict[str, tuple[type[Representation], str]] = {
    "log_mel": (LogMel, "standardized log-mel images (n_mels x frames) for conv backbones; Griffin-Lim inverse"),
    "mu_law": (MuLaw, "8-bit mu-law tokens per sample (WaveNet) for autoregressive token backbones"),
}


def list_representations() -> dict[str, str]:
    """Representation names and their one-line descriptions."""
    return {name: help_ for name, (_, help_) in REPRESENTATIONS.items()}


def get_representation(name: str, **params) -> Representation:
    """A new (unfitted) representation by registry name, with its keyword parameters."""
    if name not in REPRESENTATIONS:
        raise ValueError(f"unknown audio representation {name!r}; choose one of {sorted(REPRESENTATIONS)}.")
    return REPRESENTATIONS[name][0](**params)


def representation_from_config(config: dict) -> Representation:
    """Rebuild a representation (fitted, if it was) from :meth:`Representation.get_config`."""
    name = config.get("representation") if isinstance(config, dict) else None
    if name not in REPRESENTATIONS:
        raise ValueError(f"config names no known audio representation ({name!r}); known: {sorted(REPRESENTATIONS)}.")
    return REPRESENTATIONS[name][0].from_config(config)


__all__ = ["REPRESENTATIONS", "LogMel", "MuLaw", "Representation", "get_representation", "list_representations",
           "representation_from_config"]
