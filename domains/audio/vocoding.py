"""How an :class:`~synthkit.domains.audio.AudioSynthesizer` turns log-mel images into sound.

Two vocoders, by name (the Python API and the CLI's ``--param vocoder=...`` list the same):

- ``"griffin-lim"``: :class:`~synthkit.domains.audio.LogMel`'s own ``decode``
  (``InverseMelScale`` + Griffin-Lim), no training;
- ``"learned"``: a :class:`~synthkit.domains.audio.vocoder.MelVocoder` trained on the real
  training clips during ``fit``, before the backbone. When the backbone has a ``max_time``
  and ``vocoder_params`` sets none, the vocoder trains for :data:`VOCODER_SHARE` of it and
  the backbone gets what is left, so the whole fit keeps to the budget.

:func:`fit_vocoder` also keeps a fitted vocoder on resume: the synthesizer's own one, or the
one it saved (with :func:`synthkit.save`) in the backbone's ``checkpoint_dir`` under
``vocoder/``, as long as it was fitted on the same representation.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import numpy as np

#: vocoder names and their one-line descriptions
VOCODERS = {
    "griffin-lim": "InverseMelScale + Griffin-Lim (32 iterations from zero phase); no training",
    "learned": "a MelGAN-style MelVocoder trained on the real clips (multi-resolution STFT loss) during fit",
}
#: the learned vocoder's share of the backbone's ``max_time`` (unless it has its own)
VOCODER_SHARE = 0.25
#: the folder inside ``checkpoint_dir`` where a trained vocoder waits for a resumed fit
CHECKPOINT_FOLDER = "vocoder"


def list_vocoders() -> dict[str, str]:
    """Vocoder names and their one-line descriptions.

    Example:
        >>> sorted(list_vocoders())
        ['griffin-lim', 'learned']
    """
    return dict(VOCODERS)


def _vocoder_keys() -> set[str]:
    from synthkit.domains.audio.vocoder import MelVocoder

    return set(inspect.signature(MelVocoder.__init__).parameters) - {"self", "representation"}


def check_vocoder(vocoder, params, representation: str) -> None:
    """Refuse, by name, a vocoder this synthesizer cannot use."""
    if vocoder not in VOCODERS:
        raise ValueError(f"vocoder must be one of {sorted(VOCODERS)}, got {vocoder!r}.")
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"vocoder_params must be a dict or None, got {type(params).__name__}.")
    if vocoder == "learned" and representation != "mel":
        raise ValueError(f"vocoder='learned' decodes log-mel images; representation={representation!r} decodes "
                         "by its own inverse (μ-law expansion). Use representation='mel' or vocoder='griffin-lim'.")
    if params and vocoder != "learned":
        raise ValueError(f"vocoder_params {sorted(params)} apply to vocoder='learned' only, not {vocoder!r}.")
    unknown = sorted(set(params or {}) - _vocoder_keys())
    if unknown:
        raise ValueError(f"unknown vocoder_params {unknown}; MelVocoder takes {sorted(_vocoder_keys())}.")


def _checkpoint(synth) -> Path | None:
    params = synth.backbone_params if isinstance(synth.backbone_params, dict) else {}
    directory = params.get("checkpoint_dir")
    return None if directory is None else Path(directory) / CHECKPOINT_FOLDER


def _saved(synth, config: dict):
    """The vocoder saved in ``checkpoint_dir`` for this representation, or ``None``."""
    import synthkit

    folder = _checkpoint(synth)
    if folder is None or not folder.is_dir():
        return None
    try:
        vocoder = synthkit.load(folder)
    except ValueError:
        return None
    return vocoder if getattr(vocoder, "representation", None) == config else None


def fit_vocoder(synth, clips: np.ndarray, previous=None, resume: bool = False):
    """Train (or keep) ``synth``'s learned vocoder on ``clips``; ``(vocoder, backbone_max_time)``.

    Returns ``(None, None)`` for Griffin-Lim. ``backbone_max_time`` is ``None`` when the
    backbone's own ``max_time`` stands (none given, or the vocoder has its own budget).
    """
    if synth.vocoder != "learned":
        return None, None
    from synthkit.domains.audio.vocoder import MelVocoder

    from synthkit.persistence import save

    config = synth.representation_config_
    params = dict(synth.vocoder_params or {})
    total = (synth.backbone_params or {}).get("max_time")
    shared = total is not None and "max_time" not in params
    if shared:
        params["max_time"] = VOCODER_SHARE * float(total)
    vocoder = None
    if resume:
        keep = previous is not None and getattr(previous, "representation", None) == config
        vocoder = previous if keep else _saved(synth, config)
    start = time.perf_counter()
    if vocoder is None:
        seed = int(np.random.SeedSequence([int(synth.fit_seed_), 7]).generate_state(1)[0])
        params = {"random_state": seed, "verbose": synth.verbose, **params}
        vocoder = MelVocoder(config, **params).fit(clips)
        if _checkpoint(synth) is not None:
            save(vocoder, _checkpoint(synth))
    spent = time.perf_counter() - start
    if not shared:
        return vocoder, None
    return vocoder, max(float(total) - spent, (1 - VOCODER_SHARE) * float(total))


__all__ = ["CHECKPOINT_FOLDER", "VOCODERS", "VOCODER_SHARE", "check_vocoder", "fit_vocoder", "list_vocoders"]
