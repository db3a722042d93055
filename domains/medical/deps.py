"""MONAI, nibabel and pydicom at the edge: one guarded import for the medical domain.

The core never imports these; the medical domain imports them here, once, so a user
without the extra gets one error that names what to install (SDV's guarded imports,
MONAI's own ``optional_import``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings

INSTALL_HINT = "pip install 'synthkit[medical]' (MONAI, nibabel, pydicom, nilearn, Pillow)"


def require(name: str):
    """Import module ``name`` (``"monai"``, ``"nibabel"``, ``"pydicom"``, ``"nilearn"``, ``"PIL"``)
    or fail with an ImportError that names the ``synthkit[medical]`` extra."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(f"synthkit.domains.medical needs {name.split('.')[0]}; {INSTALL_HINT}.") from err


def require_all() -> None:
    """Import the three libraries every part of the domain uses (called by ``__init__``).

    MONAI's image readers announce at import that NVIDIA's optional nvImageCodec DICOM
    decoder is absent (a log line and a warning); on a CPU machine that is expected, so
    the notice is silenced here rather than shown on every import.
    """
    logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").setLevel(logging.ERROR)
    with quiet_readers():
        for name in ("nibabel", "pydicom", "monai", "monai.data", "monai.transforms"):
            require(name)


@contextlib.contextmanager
def quiet_readers():
    """Silence MONAI's "nvImageCodec is absent" warning, which ``LoadImage`` repeats each
    time it registers its default readers (only that warning; others still show)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*nvImageCodec.*")
        yield
