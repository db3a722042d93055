"""Core hooks for rows that hold images: a network-declared row standardization and DDPM's
global clipping (issue 22). Flat-vector behaviour must stay exactly as it was."""

import numpy as np
import pytest
import torch

from synthkit.backbones.diffusion import DDPM
from synthkit.base import standardization
from synthkit.nn.networks import register_network, row_standardization
from synthkit.nn.unet import UNetDenoiser


class _GlobalUNet(UNetDenoiser):
    row_standardization = "global"


class _RawUNet(UNetDenoiser):
    row_standardization = "none"


register_network("denoiser", "test-global-unet", _GlobalUNet)
register_network("denoiser", "test-raw-unet", _RawUNet)


def _images(n=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(3.0, 2.0, size=(n, 1, 4, 4))
    X[:, :, 0, :] = 5.0  # a constant "background" row of pixels
    return X.reshape(n, -1)


def _ddpm(net=None, **kw):
    spec = None if net is None else {"name": net, "image_shape": [1, 4, 4], "channels": [8], "time_embed_dim": 8}
    return DDPM(denoiser_network=spec, n_timesteps=20, n_sampling_steps=5, max_epochs=1, batch_size=6,
                verbose=0, random_state=0, **kw)


def test_default_standardization_is_per_column_and_unchanged():
    X = _images()
    model = _ddpm().fit(X)
    mean, scale = standardization(X, np.ones(X.shape[1], bool))
    np.testing.assert_array_equal(model.mean_, mean)
    np.testing.assert_array_equal(model.scale_, scale)
    assert row_standardization(model) is None
    assert row_standardization(_ddpm("conv")) is None  # the core conv networks declare nothing


def test_global_and_none_standardization_declared_by_the_network():
    X = _images()
    g = _ddpm("test-global-unet").fit(X)
    assert np.all(g.mean_ == pytest.approx(X.mean())) and np.all(g.scale_ == pytest.approx(X.std()))
    r = _ddpm("test-raw-unet").fit(X)
    np.testing.assert_array_equal(r.mean_, 0.0)
    np.testing.assert_array_equal(r.scale_, 1.0)
    assert r.sample(3).shape == (3, 16)


def test_clip_denoised_global_clips_to_one_range():
    X = _images()
    per_col = _ddpm("test-raw-unet").fit(X)
    glob = _ddpm("test-raw-unet", clip_denoised="global").fit(X)
    lo, hi = per_col._clip_bounds("cpu")
    assert torch.all(lo[:4] == 5.0) and torch.all(hi[:4] == 5.0)  # a constant pixel is pinned
    lo, hi = glob._clip_bounds("cpu")
    assert torch.all(lo == float(X.min())) and torch.all(hi == float(X.max()))
    S = glob.sample(20, random_state=1)
    assert S.min() >= X.min() - 1e-5 and S.max() <= X.max() + 1e-5
    assert np.ptp(S[:, :4]) > 0  # the background pixels are not pinned to their one training value
    with pytest.raises(ValueError, match="clip_denoised"):
        _ddpm(clip_denoised="pixel").fit(X)


def test_disagreeing_networks_are_an_error():
    from synthkit.backbones.gan import GAN

    class _C(torch.nn.Module):
        row_standardization = "none"

    register_network("critic", "test-raw-critic", _C)
    gan = GAN(critic_network="test-raw-critic", generator_network={"name": "test-global-unet"})
    assert row_standardization(gan) == "none"  # a denoiser name does not count for the generator role
    register_network("generator", "test-global-gen", _GlobalUNet)
    with pytest.raises(ValueError, match="different row standardizations"):
        row_standardization(GAN(critic_network="test-raw-critic", generator_network="test-global-gen"))
