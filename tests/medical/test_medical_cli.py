"""``synthkit fit medical FOLDER``, ``sample``, ``evaluate --domain medical`` through
``synthkit.cli.main`` on real NIfTI files, with a tiny budget."""

import json

import nibabel as nib
import numpy as np

from synthkit.cli import main
from synthkit.domains.medical import make_synthetic_shapes, save_images


def test_fit_sample_evaluate_through_the_command_line(tmp_path, capsys):
    images, _ = make_synthetic_shapes(24, image_size=16, random_state=0)
    train, held = tmp_path / "train", tmp_path / "held"
    save_images(images.subset(range(16)), train, format="nii.gz")
    save_images(images.subset(range(16, 24)), held, format="nii.gz")
    model, out, report = tmp_path / "model", tmp_path / "synthetic", tmp_path / "report.html"
    params = ["max_epochs=1", "n_timesteps=20", "n_sampling_steps=2"]
    assert main(["fit", "medical", str(train), "--out", str(model), "--quiet", "--seed", "0",
                 *[a for p in params for a in ("--param", p)]]) == 0
    assert main(["sample", str(model), "-n", "4", "--out", str(out), "--batch-size", "3", "--quiet"]) == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"sample_{i:06d}.nii.gz" for i in range(4)]
    first = nib.load(files[0])
    assert first.shape[:2] == (16, 16) and np.isfinite(first.get_fdata()).all()
    capsys.readouterr()
    assert main(["evaluate", "--domain", "medical", str(train), str(out), "--holdout", str(held),
                 "--report", str(report)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert 0.0 <= results["summary"]["two_sample_auc"] <= 1.0 and 0.0 <= results["summary"]["copying_share"] <= 1.0
    page = report.read_text()
    assert page.count("<img") == 3 and "Synthetic" in page  # real grid, synthetic grid, histograms
    assert json.loads(report.with_suffix(".json").read_text())["n_synthetic"] == 4


def test_missing_folder_is_named(tmp_path):
    from synthkit.domains.medical.cli import ADAPTER

    try:
        ADAPTER.fit(str(tmp_path / "nowhere"), params={"max_epochs": 1})
    except FileNotFoundError as err:
        assert "nowhere" in str(err)
    else:
        raise AssertionError("a missing folder was accepted")
