"""Localization metrics against values computed by hand, and their errors."""

import numpy as np
import pytest
from synthkit.domains.medical.anomaly_metrics import (
    best_dice,
    dice_at,
    healthy_threshold,
    image_auroc,
    localization_scores,
    pixel_auprc,
    pixel_auroc,
)

# 6 voxels, lesion = voxels 0, 1, 4
MAPS = np.array([[0.9, 0.4, 0.7], [0.1, 0.4, 0.2]])
MASKS = np.array([[1, 1, 0], [0, 1, 0]])


def test_pixel_auroc_and_auprc_by_hand():
    # positives 0.9, 0.4, 0.4; negatives 0.7, 0.1, 0.2. Pairs won: 0.9 beats 3; each 0.4 beats 0.1, 0.2 -> 2+2;
    # 0.7 beats both 0.4s: no. AUROC = (3 + 2 + 2) / 9
    assert pixel_auroc(MAPS, MASKS) == pytest.approx(7 / 9)
    # ranked: 0.9 (+), 0.7 (-), 0.4 (+, +) tied -> precision at recall 1/3: 1, at recall 1: 3/4
    assert pixel_auprc(MAPS, MASKS) == pytest.approx(1 / 3 * 1 + 2 / 3 * 3 / 4)


def test_best_dice_by_hand_and_threshold():
    # cuts: >=0.9: tp 1, |P| 1 -> 2/4; >=0.7: tp 1, |P| 2 -> 2/5; >=0.4: tp 3, |P| 4 -> 6/7; >=0.2: 6/8; all: 6/9
    dice, thr = best_dice(MAPS, MASKS)
    assert dice == pytest.approx(6 / 7) and thr == pytest.approx(0.4)
    # ties are never split: the cut at 0.4 takes both 0.4 voxels
    assert dice_at(MAPS, MASKS, 0.3) == pytest.approx(6 / 7)
    assert dice_at(MAPS, MASKS, 0.8) == pytest.approx(2 / 4)


def test_best_dice_is_the_max_over_all_thresholds():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 8, 8)).round(2)
    masks = rng.random((3, 8, 8)) < 0.2
    brute = max(dice_at(maps, masks, t - 1e-9) for t in np.unique(maps))
    assert best_dice(maps, masks)[0] == pytest.approx(brute)


def test_healthy_threshold_and_image_auroc():
    healthy = np.arange(101, dtype=float)
    assert healthy_threshold(healthy) == pytest.approx(99.0)
    assert healthy_threshold(healthy, 50) == pytest.approx(50.0)
    # score_samples: higher = more normal. Sick -3, -1; healthy -2, 0 -> pairs (sick below healthy): 3 of 4
    assert image_auroc([-2.0, 0.0], [-3.0, -1.0]) == pytest.approx(3 / 4)
    out = localization_scores(MAPS, MASKS, np.array([0.1, 0.2, 0.3]), sick_scores=[-1.0], healthy_scores=[0.0])
    assert out["best_dice"] == pytest.approx(6 / 7) and out["image_auroc"] == 1.0
    assert out["healthy_threshold"] == pytest.approx(0.298)
    assert out["dice_at_healthy_threshold"] == pytest.approx(6 / 7)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        pixel_auroc(MAPS, MASKS[:1])
    with pytest.raises(ValueError, match="both lesion and healthy"):
        best_dice(MAPS, np.zeros_like(MASKS))
    with pytest.raises(ValueError, match="NaN"):
        pixel_auprc(np.full((2, 3), np.nan), MASKS)
    with pytest.raises(ValueError, match="percentile"):
        healthy_threshold(MAPS, 100)


@pytest.mark.parametrize("name", ["synthkit.domains.medical.anomaly", "synthkit.domains.medical.anomaly_metrics",
                                  "synthkit.domains.medical.baselines", "synthkit.domains.medical.noise",
                                  "synthkit.backbones.diffusion.noise"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
