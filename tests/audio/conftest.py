"""Audio tests write real files into ``tmp_path`` with soundfile (helpers in ``audio_helpers``)."""

import pytest

from audio_helpers import SR


@pytest.fixture
def write():
    """Write a real audio file with soundfile: ``write(path, data (samples[, ch]), sr, subtype)``."""
    import soundfile as sf

    def _write(path, data, sr=SR, subtype=None):
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), data, sr, subtype=subtype)
        return path

    return _write
