"""The image example runs end to end on the bundled digits and writes a readable PNG."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_images_writes_a_grid_of_every_class(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from PIL import Image

    out = tmp_path / "grid.png"
    _load("small_images").main(["--max-time", "2", "--out", str(out)])
    assert "two-sample AUC" in capsys.readouterr().out
    with Image.open(out) as image:
        width, height = image.size
    assert height > width  # eleven lines (held-out + ten classes) of ten digits
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary file left behind
