"""Every ImageAnomalyDetector method learns: trained on healthy slices, its maps rank painted
lesion pixels above healthy tissue (pixel AUROC) better than the same detector barely trained;
clear errors for a method the backbone cannot serve; save / load keeps the maps."""

import numpy as np
import pytest

import synthkit
from synthkit.domains.medical import make_mni152_slices, paint_lesions
from synthkit.domains.medical.anomaly import ImageAnomalyDetector
from synthkit.domains.medical.anomaly_metrics import pixel_auroc

SIZE = (16, 16)


@pytest.fixture(scope="module")
def data():
    healthy = make_mni152_slices(48, image_size=16, random_state=0)
    sick, masks = paint_lesions(make_mni152_slices(8, image_size=16, random_state=1), kind="bright",
                                contrast=0.8, random_state=2)
    return healthy, sick, masks


def _auroc(det, sick, masks):
    return pixel_auroc(det.anomaly_map(sick), det.transform_masks(masks))


CASES = {  # name: (detector parameters, barely-trained budget, trained budget)
    "reconstruction-vae": (dict(method="reconstruction", backbone_params={"hidden_dims": (64,), "latent_dim": 8,
                                                                           "prior": "standard", "learning_rate": 3e-3}),
                           {"max_epochs": 1}, {"max_epochs": 150}),
    "likelihood-vae": (dict(backbone="vae", method="likelihood", backbone_params={
        "hidden_dims": (64,), "latent_dim": 8, "prior": "standard", "learning_rate": 3e-3}),
        {"max_epochs": 1}, {"max_epochs": 150}),
    "likelihood-made": (dict(method="likelihood", backbone_params={"hidden_dim": 64, "n_blocks": 1, "n_components": 2,
                                                                   "learning_rate": 3e-3}),
                        {"max_epochs": 1}, {"max_epochs": 60}),
    "anoddpm-simplex": (dict(method="anoddpm", noise="simplex", n_repeats=1, backbone_params={
        "n_timesteps": 100, "n_sampling_steps": 10, "learning_rate": 3e-3}), {"max_epochs": 2}, {"max_epochs": 60}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_trained_maps_rank_lesions_above_healthy_tissue(name, data):
    healthy, sick, masks = data
    params, short, long = CASES[name]
    bp = params.pop("backbone_params") if "backbone_params" in params else {}
    before = ImageAnomalyDetector(image_size=SIZE, random_state=0, backbone_params={**bp, **short}, **params).fit(healthy)
    after = ImageAnomalyDetector(image_size=SIZE, random_state=0, backbone_params={**bp, **long}, **params).fit(healthy)
    a, b = _auroc(before, sick, masks), _auroc(after, sick, masks)
    print(f"{name}: pixel AUROC barely trained {a:.3f}, trained {b:.3f}")
    assert b > a + 0.03 and b > 0.75
    scores = after.score_samples(sick)
    assert scores.shape == (8,) and np.isfinite(scores).all()


def test_methods_refuse_backbones_they_cannot_use(data):
    healthy = data[0][:4]
    with pytest.raises(ValueError, match="backbone='diffusion'"):
        ImageAnomalyDetector("gan", method="anoddpm").fit(healthy)
    with pytest.raises(ValueError, match=r"\('vae',\)"):
        ImageAnomalyDetector("diffusion", method="reconstruction").fit(healthy)
    with pytest.raises(ValueError, match="per-voxel likelihood|'autoregressive', 'vae'"):
        ImageAnomalyDetector("flow", method="likelihood").fit(healthy)
    with pytest.raises(ValueError, match="method must be one of"):
        ImageAnomalyDetector(method="ssim").fit(healthy)
    with pytest.raises(ValueError, match="noise must be one of"):
        ImageAnomalyDetector(noise="pink").fit(healthy)
    with pytest.raises(ValueError, match="for method='anoddpm'"):
        ImageAnomalyDetector(method="reconstruction", noise="simplex").fit(healthy)


@pytest.mark.parametrize("method, backbone_params", [
    ("reconstruction", {"max_epochs": 1, "hidden_dims": (8,)}),
    ("likelihood", {"max_epochs": 1, "hidden_dim": 16, "n_blocks": 1}),
    ("anoddpm", {"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 3}),
])
def test_save_and_load_give_the_same_maps(tmp_path, data, method, backbone_params):
    healthy = data[0][:6]
    noise = "simplex" if method == "anoddpm" else "gaussian"
    det = ImageAnomalyDetector(method=method, noise=noise, image_size=SIZE, random_state=0, n_repeats=1,
                               backbone_params=backbone_params).fit(healthy)
    det.save(tmp_path / "det")
    again = synthkit.load(tmp_path / "det")
    np.testing.assert_allclose(det.anomaly_map(healthy), again.anomaly_map(healthy), rtol=1e-6, atol=1e-9)
