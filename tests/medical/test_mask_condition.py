"""mask_mode='condition' (issue 22): learn p(image | mask) and draw one image for each given label
map; the maps reach MONAI's U-Net as input channels, unstandardized (a core network declaration)."""

import numpy as np
import pytest

import synthkit
from synthkit.domains.medical import make_synthetic_shapes
from synthkit.domains.medical.synthesizer import ImageSynthesizer

TINY = {"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 2}


@pytest.fixture(scope="module")
def shapes():
    return make_synthetic_shapes(40, image_size=16, num_objs=3, random_state=0)


def _contrast(x, masks):
    """Mean over images of (mean intensity inside the mask - mean outside)."""
    inside = masks[:, 0] > 0
    return float(np.mean([x[i, 0][inside[i]].mean() - x[i, 0][~inside[i]].mean() for i in range(len(x))]))


def _condition_model(images, masks, epochs, **params):
    return ImageSynthesizer(image_size=(16, 16), mask_mode="condition", random_state=0,
                            backbone_params={"max_epochs": epochs, "n_timesteps": 100, "n_sampling_steps": 10,
                                             "batch_size": 16, "ema_decay": None, **params}).fit(images, masks=masks)


def test_one_image_per_given_mask_and_the_maps_are_not_standardized(shapes):
    images, masks = shapes
    synth = _condition_model(images.array[:8], masks.array[:8], 1)
    assert synth.n_condition_channels_ == 1 and synth.n_mask_channels_ == 0 and synth.image_shape_ == [1, 16, 16]
    b = synth.backbone_
    np.testing.assert_array_equal(b.condition_mean_, 0.0)
    np.testing.assert_array_equal(b.condition_scale_, 1.0)
    assert b.modules_["denoiser"].unet.conv_in.conv.in_channels == 3  # image + mask + dropped flag
    given = masks.array[8:13]
    x, m = synth.sample(5, masks=given, return_masks=True)
    assert x.shape == (5, 1, 16, 16) and np.isfinite(x).all()
    np.testing.assert_array_equal(m, given > 0)
    assert synth.sample(3, masks=given[:1]).shape == (3, 1, 16, 16)  # one mask for all


def test_trained_samples_follow_the_masks_and_untrained_do_not(shapes):
    images, masks = shapes
    train_i, train_m, test_m = images.array[:32], masks.array[:32], masks.array[32:]
    data = _contrast(images.array[32:], test_m)
    trained = _condition_model(train_i, train_m, 12).sample(len(test_m), masks=test_m, random_state=1)
    untrained = _condition_model(train_i, train_m, 1).sample(len(test_m), masks=test_m, random_state=1)
    assert data > 0.5
    assert _contrast(trained, test_m) > 0.4 * data
    assert abs(_contrast(untrained, test_m)) < 0.2 * data


def test_class_labels_and_guidance_work_beside_masks(shapes, tmp_path):
    images, masks = shapes
    y = np.array([0, 1] * 4)
    synth = ImageSynthesizer(image_size=(16, 16), mask_mode="condition", random_state=0,
                             backbone_params={**TINY, "guidance_scale": 2.0}).fit(images.array[:8], y,
                                                                                 masks=masks.array[:8])
    assert synth.backbone_.modules_["denoiser"].unet.num_class_embeds == 3  # two classes + "no condition"
    assert synth.sample(2, y=1, masks=masks.array[:2]).shape == (2, 1, 16, 16)
    assert synth.sample(2, masks=masks.array[:2]).shape == (2, 1, 16, 16)  # labels drawn from the prior
    with pytest.raises(ValueError, match="unknown class label"):
        synth.sample(2, y=5, masks=masks.array[:2])
    synth.save(tmp_path / "model")
    again = synthkit.load(tmp_path / "model")
    np.testing.assert_array_equal(synth.sample(2, masks=masks.array[:2], random_state=3),
                                  again.sample(2, masks=masks.array[:2], random_state=3))
    assert again.sample_to_file(tmp_path / "out", 3, batch_size=2, random_state=0, masks=masks.array[:3]) == 3
    assert len(list((tmp_path / "out").iterdir())) == 6  # images and their given masks


def test_latent_diffusion_conditions_on_masks_on_the_latent_grid(shapes):
    images, masks = shapes
    synth = ImageSynthesizer(image_size=(16, 16), latent=True, mask_mode="condition", random_state=0,
                             backbone_params=TINY, autoencoder_params={"max_epochs": 1, "channels": [8, 8, 8]}).fit(
        images.array[:8], masks=masks.array[:8])
    assert synth.backbone_.modules_["denoiser"].map_columns == 4 * 4  # one mask channel on the 4 x 4 latent grid
    assert synth.sample(2, masks=masks.array[:2]).shape == (2, 1, 16, 16)


def test_bad_mask_inputs_say_what_was_wrong(shapes):
    images, masks = shapes
    im, mk = images.array[:8], masks.array[:8]
    with pytest.raises(ValueError, match="mask_mode must be"):
        ImageSynthesizer(image_size=(16, 16), mask_mode="paired").fit(im, masks=mk)
    with pytest.raises(ValueError, match="backbone='diffusion'"):
        ImageSynthesizer("gan", image_size=(16, 16), mask_mode="condition").fit(im, masks=mk)
    with pytest.raises(ValueError, match="pass masks"):
        ImageSynthesizer(image_size=(16, 16), mask_mode="condition", backbone_params=TINY).fit(im)
    plain = ImageSynthesizer(image_size=(16, 16), random_state=0, backbone_params=TINY).fit(im)
    with pytest.raises(ValueError, match="mask_mode='condition'"):
        plain.sample(2, masks=mk[:2])
    synth = ImageSynthesizer(image_size=(16, 16), mask_mode="condition", random_state=0,
                             backbone_params=TINY).fit(im, masks=mk)
    with pytest.raises(ValueError, match="pass masks"):
        synth.sample(2)
    with pytest.raises(ValueError, match="grid"):
        synth.sample(2, masks=np.zeros((2, 1, 12, 12), np.uint8))
    with pytest.raises(ValueError, match="spatial axes"):
        synth.sample(2, masks=np.zeros((2, 1, 16, 16, 16), np.uint8))
    with pytest.raises(ValueError, match="label maps for n=3"):
        synth.sample(3, masks=mk[:2])
    with pytest.raises(ValueError, match="fitted without y"):
        synth.sample(2, y=1, masks=mk[:2])
    with pytest.raises(ValueError, match="score_samples"):
        synth.score_samples(im[:2])
