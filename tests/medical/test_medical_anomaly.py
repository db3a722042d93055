"""ImageAnomalyDetector (AnoDDPM): trained on healthy slices, its maps rank painted lesions
above healthy tissue better than the same detector after two gradient steps."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from synthkit.domains.medical import make_mni152_slices, paint_lesions
from synthkit.domains.medical.anomaly import ImageAnomalyDetector


def _pixel_auroc(det, sick, masks):
    maps = det.anomaly_map(sick)
    truth = det.synthesizer_.preprocessor_.transform_masks(masks).array[:, 0] > 0
    return roc_auc_score(truth.ravel(), maps.ravel())


def test_trained_maps_rank_lesions_above_healthy_tissue():
    healthy = make_mni152_slices(40, image_size=16, random_state=0)
    sick, masks = paint_lesions(make_mni152_slices(8, image_size=16, random_state=1), kind="bright",
                                contrast=0.8, random_state=2)
    params = {"n_timesteps": 100, "n_sampling_steps": 10}
    untrained = ImageAnomalyDetector(image_size=(16, 16), random_state=0,
                                     backbone_params={**params, "max_epochs": 2}).fit(healthy)
    trained = ImageAnomalyDetector(image_size=(16, 16), random_state=0,
                                   backbone_params={**params, "max_epochs": 60, "learning_rate": 3e-3}).fit(healthy)
    before, after = _pixel_auroc(untrained, sick, masks), _pixel_auroc(trained, sick, masks)
    print(f"pixel AUROC untrained {before:.3f}, trained {after:.3f}")
    assert after > before + 0.05 and after > 0.7  # measured: 0.768 -> 0.835 (seeded, CPU)
    scores = trained.score_samples(sick)
    assert scores.shape == (8,) and np.all(scores <= 0)


def test_other_backbones_are_refused():
    with pytest.raises(ValueError, match="backbone='diffusion'"):
        ImageAnomalyDetector("vae").fit(make_mni152_slices(4, image_size=16, random_state=0))


def test_save_and_load_give_the_same_maps(tmp_path):
    import synthkit

    healthy = make_mni152_slices(6, image_size=16, random_state=0)
    det = ImageAnomalyDetector(image_size=(16, 16), random_state=0, n_repeats=1,
                               backbone_params={"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 3}).fit(healthy)
    det.save(tmp_path / "det")
    again = synthkit.load(tmp_path / "det")
    np.testing.assert_array_equal(det.anomaly_map(healthy), again.anomaly_map(healthy))
