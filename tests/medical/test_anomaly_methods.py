"""The VAE and MADE methods of ImageAnomalyDetector learn from healthy slices; methods refuse
backbones they cannot use; save / load keeps the maps.

A flat backbone standardizes each pixel column, so even an untrained one maps ``|x - mean|``
(VAE) or the per-pixel marginal (MADE, whose output starts at each pixel's marginal): bright
lesions on aligned slices are found without any learning. The VAE tests therefore use
dark lesions on strongly deformed slices, where the mean image does not explain the anatomy.
"""

import numpy as np
import pytest
from synthkit.domains.medical import make_mni152_slices, paint_lesions
from synthkit.domains.medical.anomaly import ImageAnomalyDetector
from synthkit.domains.medical.anomaly_metrics import pixel_auroc

import synthkit

SIZE = (16, 16)
VAE = {"hidden_dims": (64,), "latent_dim": 8, "prior": "standard", "learning_rate": 3e-3}


def _auroc(det, sick, masks):
    return pixel_auroc(det.anomaly_map(sick), det.transform_masks(masks))


@pytest.mark.parametrize("method", ["reconstruction", "likelihood"])
def test_vae_maps_rank_dark_lesions_above_healthy_tissue_once_trained(method):
    healthy = make_mni152_slices(48, image_size=16, deformation=0.3, random_state=0)
    test, brain = make_mni152_slices(8, image_size=16, deformation=0.3, with_masks=True, random_state=1)
    sick, masks = paint_lesions(test, kind="dark", contrast=0.5, where=brain, radius=(1.0, 2.5), random_state=2)
    kw = dict(backbone="vae", method=method, image_size=SIZE, random_state=0)
    before = ImageAnomalyDetector(backbone_params={**VAE, "max_epochs": 1}, **kw).fit(healthy)
    after = ImageAnomalyDetector(backbone_params={**VAE, "max_epochs": 150}, **kw).fit(healthy)
    a, b = _auroc(before, sick, masks), _auroc(after, sick, masks)
    print(f"VAE {method}: pixel AUROC 1 epoch {a:.3f}, 150 epochs {b:.3f}")
    assert b > a + 0.15 and b > 0.65  # measured: reconstruction 0.373 -> 0.684, likelihood 0.502 -> 0.731
    scores = after.score_samples(sick)
    assert scores.shape == (8,) and np.isfinite(scores).all()


def test_made_likelihood_maps_learn_healthy_anatomy_and_flag_lesions():
    """MADE starts at each pixel's marginal, which already flags bright lesions, and overfits 48
    slices fast (held-out NLL rises after ~5 epochs); the learning check is the NLL of the
    healthy slices it was fitted on, beside the lesion ranking of the trained maps."""
    healthy = make_mni152_slices(48, image_size=16, random_state=0)
    sick, masks = paint_lesions(make_mni152_slices(8, image_size=16, random_state=1), kind="bright", contrast=0.8,
                                radius=(1.0, 2.5), random_state=2)
    params = {"hidden_dim": 64, "n_blocks": 1, "n_components": 2, "learning_rate": 3e-3}
    kw = dict(method="likelihood", image_size=SIZE, random_state=0)
    before = ImageAnomalyDetector(backbone_params={**params, "max_epochs": 1}, **kw).fit(healthy)
    after = ImageAnomalyDetector(backbone_params={**params, "max_epochs": 10}, **kw).fit(healthy)
    nll_before, nll_after = before.anomaly_map(healthy).mean(), after.anomaly_map(healthy).mean()
    auroc = _auroc(after, sick, masks)
    print(f"MADE: healthy NLL per pixel {nll_before:.3f} -> {nll_after:.3f}; lesion pixel AUROC {auroc:.3f}")
    assert nll_after < nll_before - 0.15 and auroc > 0.9  # measured: -1.443 -> -1.737; 0.975


def test_methods_refuse_backbones_they_cannot_use():
    healthy = make_mni152_slices(4, image_size=16, random_state=0)
    with pytest.raises(ValueError, match="backbone='diffusion'"):
        ImageAnomalyDetector("gan", method="anoddpm").fit(healthy)
    with pytest.raises(ValueError, match=r"\('vae',\)"):
        ImageAnomalyDetector("diffusion", method="reconstruction").fit(healthy)
    with pytest.raises(ValueError, match=r"\('autoregressive', 'vae'\)"):
        ImageAnomalyDetector("flow", method="likelihood").fit(healthy)
    with pytest.raises(ValueError, match="method must be one of"):
        ImageAnomalyDetector(method="ssim").fit(healthy)
    with pytest.raises(ValueError, match="noise must be one of"):
        ImageAnomalyDetector(noise="pink").fit(healthy)
    with pytest.raises(ValueError, match="for method='anoddpm'"):
        ImageAnomalyDetector(method="reconstruction", noise="simplex").fit(healthy)
    from synthkit.backbones.flow import (
        NormalizingFlow,  # an instance with no per-voxel likelihood
    )
    with pytest.raises(ValueError, match="per-voxel likelihood"):
        ImageAnomalyDetector(NormalizingFlow(max_epochs=1, verbose=0), method="likelihood",
                             image_size=(8, 8)).fit(make_mni152_slices(4, image_size=8, random_state=0))


@pytest.mark.parametrize("method, backbone_params", [
    ("reconstruction", {"max_epochs": 1, "hidden_dims": (8,)}),
    ("likelihood", {"max_epochs": 1, "hidden_dim": 16, "n_blocks": 1}),
])
def test_save_and_load_give_the_same_maps(tmp_path, method, backbone_params):
    healthy = make_mni152_slices(6, image_size=16, random_state=0)
    det = ImageAnomalyDetector(method=method, image_size=SIZE, random_state=0, backbone_params=backbone_params).fit(healthy)
    det.save(tmp_path / "det")
    again = synthkit.load(tmp_path / "det")
    np.testing.assert_allclose(det.anomaly_map(healthy), again.anomaly_map(healthy), rtol=1e-6, atol=1e-9)
