"""ImageSynthesizer: every backbone family fits and samples images; save / load; labels; masks."""

import numpy as np
import pytest

import synthkit
from synthkit.domains.medical import make_synthetic_shapes
from synthkit.domains.medical.synthesizer import ImageSynthesizer

FAMILIES = ["diffusion", "gan", "ebm", "vae", "flow", "autoregressive", "rbm"]
TINY = {"diffusion": {"n_timesteps": 20, "n_sampling_steps": 2}, "ebm": {}, "gan": {}}


@pytest.fixture(scope="module")
def shapes():
    return make_synthetic_shapes(8, image_size=16, random_state=0)


@pytest.mark.parametrize("backbone", FAMILIES)
def test_every_backbone_fits_and_samples_images(shapes, backbone):
    images, _ = shapes
    params = {"max_epochs": 1, **TINY.get(backbone, {})}
    synth = ImageSynthesizer(backbone, image_size=(16, 16), random_state=0, backbone_params=params).fit(images)
    x = synth.sample(3)
    assert x.shape == (3, 1, 16, 16) and np.isfinite(x).all()
    lo, hi = images.array.min(), images.array.max()
    assert x.max() > lo and x.min() < hi  # in the input's intensity scale, not [-1, 1]


def test_default_networks_are_monai_and_rows_are_not_standardized(shapes):
    images, _ = shapes
    synth = ImageSynthesizer(image_size=(16, 16), random_state=0,
                             backbone_params={"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 2}).fit(images)
    b = synth.backbone_
    assert b.denoiser_network["name"] == "monai-unet" and b.clip_denoised == "global"
    assert type(b.modules_["denoiser"].unet).__name__ == "DiffusionModelUNet"
    np.testing.assert_array_equal(b.scale_, 1.0)  # one intensity scale per channel: the preprocessor's


def test_save_load_gives_identical_samples(shapes, tmp_path):
    images, _ = shapes
    synth = ImageSynthesizer(image_size=(16, 16), random_state=0,
                             backbone_params={"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 3}).fit(images)
    synth.save(tmp_path / "model")
    again = synthkit.load(tmp_path / "model")
    assert type(again) is ImageSynthesizer
    np.testing.assert_array_equal(synth.sample(4, random_state=7), again.sample(4, random_state=7))


def test_class_labels_condition_the_monai_unet(shapes):
    images, _ = shapes
    y = np.array([0, 1] * 4)
    synth = ImageSynthesizer(image_size=(16, 16), random_state=0,
                             backbone_params={"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 2,
                                              "guidance_scale": 2.0}).fit(images, y)
    assert synth.backbone_.modules_["denoiser"].unet.num_class_embeds == 3  # two classes + "no condition"
    assert synth.sample(4, y=1).shape == (4, 1, 16, 16)
    with pytest.raises(ValueError, match="unknown class label"):
        synth.sample(2, y=5)


def test_masks_are_modelled_jointly_as_pairs(shapes, tmp_path):
    images, masks = shapes
    synth = ImageSynthesizer(image_size=(16, 16), random_state=0,
                             backbone_params={"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 2}).fit(
        images, masks=masks)
    assert synth.image_shape_ == [2, 16, 16]
    x, m = synth.sample(3, return_masks=True)
    assert x.shape == (3, 1, 16, 16) and m.shape == (3, 1, 16, 16) and set(np.unique(m)) <= {0, 1}
    with pytest.raises(ValueError, match="mask_mode='condition'"):  # a joint model draws pairs, not images for masks
        synth.sample(2, masks=m)
    assert synth.sample_to_file(tmp_path / "out", 3, batch_size=2, random_state=0) == 3
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names[:3] == ["mask_000000.nii.gz", "mask_000001.nii.gz", "mask_000002.nii.gz"] and len(names) == 6


def test_bad_inputs_say_what_was_wrong(shapes):
    images, masks = shapes
    with pytest.raises(ValueError, match="spatial_dims=3"):
        ImageSynthesizer(spatial_dims=3, backbone_params={"max_epochs": 1}).fit(images)
    with pytest.raises(ValueError, match="one per image"):
        ImageSynthesizer(image_size=(16, 16), backbone_params={"max_epochs": 1}).fit(images, masks=masks.subset([0]))


@pytest.mark.parametrize("backbone", ["diffusion", "gan", "vae", "rbm"])
def test_volumes_fit_and_sample_in_3d(backbone):
    """3-D: MONAI's U-Net and the conv / patch networks in three spatial dimensions (flow,
    MADE and EBM also fit 8^3 volumes; left out here for time: 9-18 s each on 2 shared cores)."""
    volumes, _ = make_synthetic_shapes(6, image_size=8, spatial_dims=3, random_state=0)
    params = {"max_epochs": 1, **TINY.get(backbone, {})}
    synth = ImageSynthesizer(backbone, spatial_dims=3, image_size=(8, 8, 8), random_state=0,
                             backbone_params=params).fit(volumes)
    x = synth.sample(2)
    assert x.shape == (2, 1, 8, 8, 8) and np.isfinite(x).all()
