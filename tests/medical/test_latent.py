"""Latent diffusion in ImageSynthesizer (issue 22): MONAI's AutoencoderKL as a synthkit estimator
trained by the core loop, saved with the model (safetensors, no pickle), reused on resume."""

import numpy as np
import pytest
import torch

import synthkit
from synthkit.domains.medical import make_synthetic_shapes
from synthkit.domains.medical.autoencoder import LatentAutoencoder
from synthkit.domains.medical.synthesizer import ImageSynthesizer
from synthkit.training.runtime import seeded

TINY = {"max_epochs": 1, "n_timesteps": 20, "n_sampling_steps": 2}
TINY_AE = {"max_epochs": 1, "channels": [8, 8, 8]}


@pytest.fixture(scope="module")
def shapes2d():
    return make_synthetic_shapes(8, image_size=16, random_state=0)


@pytest.fixture(scope="module")
def fitted3d():
    images, _ = make_synthetic_shapes(4, image_size=16, spatial_dims=3, random_state=0)
    synth = ImageSynthesizer(spatial_dims=3, image_size=(16, 16, 16), random_state=0, backbone_params=TINY,
                             autoencoder_params=TINY_AE).fit(images)
    return synth


def test_latent_is_the_default_for_3d_diffusion_and_samples_volumes(fitted3d):
    synth = fitted3d
    assert synth.latent_ and isinstance(synth.autoencoder_, LatentAutoencoder)
    assert synth.model_shape_ == [3, 4, 4, 4] and synth.backbone_.n_features_in_ == 3 * 4**3
    assert synth.backbone_.denoiser_network["name"] == "monai-unet"
    x = synth.sample(2)
    assert x.shape == (2, 1, 16, 16, 16) and np.isfinite(x).all()


def test_latent_2d_on_request_and_pixel_space_by_default(shapes2d):
    images, _ = shapes2d
    synth = ImageSynthesizer(image_size=(16, 16), latent=True, random_state=0, backbone_params=TINY,
                             autoencoder_params=TINY_AE).fit(images)
    assert synth.latent_ and synth.model_shape_ == [3, 4, 4]
    # the diffusion sees latents scaled to unit standard deviation (Rombach et al.'s factor)
    latents = synth.autoencoder_.encode(synth.preprocessor_.transform(images).array.reshape(8, -1))
    assert np.std(latents * synth.latent_scale_) == pytest.approx(1.0, rel=1e-4)
    assert synth.sample(3).shape == (3, 1, 16, 16)
    pixel = ImageSynthesizer(image_size=(16, 16), random_state=0, backbone_params=TINY).fit(images)
    assert not pixel.latent_ and not hasattr(pixel, "autoencoder_")


def test_save_load_round_trip_gives_identical_samples_without_pickle(fitted3d, tmp_path):
    fitted3d.save(tmp_path / "model")
    files = [p for p in (tmp_path / "model").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".json", ".safetensors"}
    assert (tmp_path / "model" / "autoencoder_" / "weights.safetensors").is_file()
    again = synthkit.load(tmp_path / "model")
    assert isinstance(again.autoencoder_, LatentAutoencoder) and again.latent_scale_ == fitted3d.latent_scale_
    np.testing.assert_array_equal(fitted3d.sample(2, random_state=5), again.sample(2, random_state=5))


def test_resume_reuses_the_fitted_autoencoder(shapes2d, tmp_path):
    images, _ = shapes2d
    params = {**TINY, "checkpoint_dir": str(tmp_path / "ckpt")}
    synth = ImageSynthesizer(image_size=(16, 16), latent=True, random_state=0, backbone_params=params,
                             autoencoder_params=TINY_AE).fit(images)
    ae = synth.autoencoder_
    weights = {k: v.clone() for k, v in ae.modules_.state_dict().items()}
    synth.set_params(backbone_params={**params, "max_epochs": 2})
    synth.fit(images, resume=True)
    assert synth.autoencoder_ is ae
    for k, v in synth.autoencoder_.modules_.state_dict().items():
        torch.testing.assert_close(v, weights[k])
    synth.fit(images)  # a plain refit trains a new one
    assert synth.autoencoder_ is not ae


def test_trained_autoencoder_reconstructs_better_than_an_untrained_one(shapes2d):
    images, _ = shapes2d
    X = np.clip(images.array.reshape(8, -1) * 2 - 1, -1, 1).astype(np.float32)
    ae = LatentAutoencoder(image_shape=[1, 16, 16], channels=(8, 8), max_epochs=60, batch_size=8,
                           learning_rate=3e-3, verbose=0, random_state=0).fit(X)
    untrained = LatentAutoencoder(image_shape=[1, 16, 16], channels=(8, 8), max_epochs=1, batch_size=8,
                                  verbose=0, random_state=0).fit(X)
    with seeded(0, torch.device("cpu")):
        untrained.modules_ = torch.nn.ModuleDict(untrained._build()).eval()  # fresh weights
    trained_err, untrained_err = ae.reconstruction_error(X).mean(), untrained.reconstruction_error(X).mean()
    assert trained_err < 0.6 * untrained_err
    with pytest.raises(NotImplementedError, match="does not sample|encodes and decodes"):
        ae.sample(2)


def test_max_time_is_shared_between_autoencoder_and_diffusion(shapes2d):
    images, _ = shapes2d
    synth = ImageSynthesizer(image_size=(16, 16), latent=True, random_state=0,
                             backbone_params={"max_time": 2.0, "n_timesteps": 20, "n_sampling_steps": 2},
                             autoencoder_params={"channels": [8, 8, 8]}).fit(images)
    assert synth.autoencoder_.max_time == pytest.approx(0.6)
    assert synth.backbone_.max_time == pytest.approx(1.4)


def test_bad_latent_settings_say_what_was_wrong(shapes2d):
    images, _ = shapes2d
    with pytest.raises(ValueError, match="latent must be"):
        ImageSynthesizer(image_size=(16, 16), latent="yes").fit(images)
    with pytest.raises(ValueError, match="backbone='diffusion'"):
        ImageSynthesizer("gan", image_size=(16, 16), latent=True).fit(images)
    with pytest.raises(ValueError, match="divisible by 4"):
        ImageSynthesizer(image_size=(18, 18), latent=True, backbone_params=TINY,
                         autoencoder_params={"channels": [8, 8, 8]}).fit(images)
    with pytest.raises(ValueError, match="autoencoder_params"):
        ImageSynthesizer(image_size=(16, 16), latent=True, backbone_params=TINY,
                         autoencoder_params={"widths": [8]}).fit(images)


def test_cli_fit_takes_latent_and_autoencoder_params(shapes2d, tmp_path):
    from synthkit.domains.medical import save_images
    from synthkit.domains.medical.cli import MedicalAdapter

    images, _ = shapes2d
    save_images(images.array, tmp_path / "data", format="nii.gz")
    synth = MedicalAdapter().fit(str(tmp_path / "data"), params={**TINY, "verbose": 0, "latent": True,
                                                                 "autoencoder_params": TINY_AE})
    assert synth.latent_ and synth.autoencoder_.channels == [8, 8, 8]
    assert "verbose" not in synth.backbone_params and "latent" not in synth.backbone_params


def test_the_autoencoder_declares_its_training_defaults():
    from synthkit.testing import check_common_parameters, check_training_defaults

    assert LatentAutoencoder.training_defaults == {"batch_size": 16}
    check_common_parameters(LatentAutoencoder())
    check_training_defaults(LatentAutoencoder())
    assert "``batch_size=16``" in LatentAutoencoder.__doc__
