"""torchaudio and soundfile at the edge: the one place the audio extra is imported.

Both are optional dependencies of synthkit (``pip install 'synthkit[audio]'``); the core
and the other domains never import them. Every module of :mod:`synthkit.domains.audio`
that needs one calls :func:`require_torchaudio` / :func:`require_soundfile` inside the
function that uses it, so the procedural data sets (plain numpy) work without the extra.
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'synthkit[audio]' (torchaudio==2.11.0 beside torch==2.11.0, soundfile)"


def require_torchaudio():
    """Import torchaudio or fail with an error that names the extra to install."""
    try:
        import torchaudio
    except (ImportError, OSError) as err:  # OSError: libtorchaudio.so built for another torch
        raise ImportError(f"synthkit.domains.audio needs torchaudio ({err}); {INSTALL_HINT}.") from err
    return torchaudio


def require_soundfile():
    """Import soundfile (libsndfile: WAV, FLAC, OGG) or fail naming the extra to install."""
    try:
        import soundfile
    except (ImportError, OSError) as err:  # OSError: soundfile without its libsndfile
        raise ImportError(f"synthkit.domains.audio needs soundfile ({err}); {INSTALL_HINT}.") from err
    return soundfile
