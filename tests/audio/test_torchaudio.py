"""torchaudio imports and runs beside the pinned torch (the install defect of issue 26).

``pip install ".[all]"`` once brought torch 2.11.0 with torchaudio 2.11.1, whose
``libtorchaudio.so`` does not load beside it (``OSError`` at ``import torchaudio``).
pyproject pins the pair exactly; this test fails in CI whenever the pair drifts apart.
"""

import math
import pathlib
import re
import tomllib

import torch

PYPROJECT = pathlib.Path(__file__).resolve().parents[2] / "pyproject.toml"


def pinned(requirements, name):
    pins = [m.group(1) for r in requirements if (m := re.fullmatch(rf"{name}==([\d.]+)", r))]
    assert len(pins) == 1, f"{name} must be pinned exactly (==X.Y.Z) in pyproject.toml"
    return pins[0]


def test_torchaudio_imports_and_computes_a_mel_spectrogram():
    import torchaudio  # the defect: OSError (libtorchaudio.so) when the pair does not match

    project = tomllib.loads(PYPROJECT.read_text())["project"]
    torch_pin = pinned(project["dependencies"], "torch")
    assert pinned(project["optional-dependencies"]["audio"], "torchaudio") == torch_pin
    assert torch.__version__.split("+")[0] == torch_pin
    assert torchaudio.__version__.split("+")[0] == torch_pin
    sample_rate, freq, n_mels = 8000, 1000.0, 40
    t = torch.arange(2000) / sample_rate
    tone = torch.sin(2 * math.pi * freq * t)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=256, n_mels=n_mels)(tone)
    assert mel.shape[0] == n_mels
    # the mel band with the most energy is the one whose filter peaks nearest the tone
    fb = torchaudio.functional.melscale_fbanks(129, 0.0, sample_rate / 2, n_mels, sample_rate)
    bins = torch.linspace(0, sample_rate / 2, 129)
    centres = bins[fb.argmax(dim=0)]
    peak = int(mel.mean(dim=1).argmax())
    assert abs(float(centres[peak]) - freq) < 100.0
