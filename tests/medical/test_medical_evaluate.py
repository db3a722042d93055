"""``synthkit evaluate --domain medical REAL SYNTH --report r.html`` on real NIfTI folders:
the scores of ``image_quality`` in the JSON and the page, image grids beside each other."""

import html
import json

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from synthkit.cli import main
from synthkit.domains.medical import ImageSet, make_mni152_slices, save_images


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    slices = make_mni152_slices(28, image_size=16, random_state=0)
    x = slices.array
    blurred = ImageSet.from_array(gaussian_filter(x[20:], (0, 0, 1.5, 1.5)), affines=slices.affines[20:])
    save_images(slices.subset(range(12)), root / "real", format="nii.gz")
    save_images(slices.subset(range(12, 20)), root / "held", format="nii.gz")
    save_images(blurred, root / "synthetic", format="nii.gz")
    save_images(slices.subset(range(3)), root / "three", format="nii.gz")
    return root


def test_evaluate_writes_scores_and_image_grids(folders, capsys):
    report = folders / "out" / "r.html"
    assert main(["evaluate", "--domain", "medical", str(folders / "real"), str(folders / "synthetic"),
                 "--holdout", str(folders / "held"), "--report", str(report)]) == 0
    results = json.loads(capsys.readouterr().out)
    summary = results["summary"]
    for key in ("fid", "fid_real_vs_real", "kid", "ms_ssim", "ms_ssim_real", "precision", "recall", "density",
                "coverage", "two_sample_auc", "copying_share"):
        assert np.isfinite(summary[key]), key
    assert summary["fid"] > summary["fid_real_vs_real"]  # blurred images are farther than real ones
    assert "rotation-prediction" in summary["encoder"]
    page = report.read_text()
    assert page.count("<img") == 3  # real grid, synthetic grid, intensity histograms
    assert "class='pair'" in page and "Real" in page and "Synthetic" in page
    assert f"{summary['fid']:.3f}" in page and html.escape(summary["encoder"]) in page
    assert json.loads(report.with_suffix(".json").read_text())["quality"]["fid"] == pytest.approx(summary["fid"])
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_evaluate_needs_four_real_images(folders):
    from synthkit.domains.medical.cli import ADAPTER

    with pytest.raises(ValueError, match="at least 4 real"):
        ADAPTER.evaluate(str(folders / "three"), str(folders / "synthetic"))
