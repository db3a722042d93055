"""The registered convolutional networks (synthkit.nn.conv, synthkit.nn.unet): shapes in one,
two and three spatial dimensions, rows kept independent, the backbones' conformance suite with
them (so a model holding them saves and loads), refusals by argument name, and learning on images."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from synthkit.backbones.diffusion import DDPM
from synthkit.backbones.ebm import EBM
from synthkit.backbones.gan import GAN
from synthkit.metrics.detection import c2st_auc
from synthkit.nn import ConvCritic, ConvGenerator, UNetDenoiser, list_networks
from synthkit.testing import GENERATOR_CHECKS

#: the conformance data has three columns: a one-channel "signal" of length 3
ROW = {"name": "conv", "image_shape": [1, 3]}
WITH_CONV = {
    "gan": lambda: GAN(critic_network={**ROW, "channels": [4, 8]}, generator_network={**ROW, "channels": [4]},
                       n_calibration_steps=50),
    "ebm": lambda: EBM(energy_network={**ROW, "channels": [4, 8]}, buffer_size=500),
    "diffusion": lambda: DDPM(denoiser_network={**ROW, "channels": [4]}, n_timesteps=50, n_sampling_steps=10,
                              n_score_timesteps=10),
}


def test_conv_is_registered_for_the_image_roles():
    for role in ("critic", "energy", "generator", "denoiser"):
        assert "conv" in list_networks(role)


@pytest.mark.parametrize("image_shape, channels", [((2, 16), (4, 8, 8)), ((1, 8, 8), (4, 8)), ((3, 4, 4, 4), (4, 8))])
@pytest.mark.parametrize("condition_dim", [0, 3])
def test_shapes_in_one_two_and_three_spatial_dimensions(image_shape, channels, condition_dim):
    d = int(np.prod(image_shape))
    c = torch.randn(5, condition_dim) if condition_dim else None
    critic = ConvCritic(d, 1, condition_dim, image_shape=image_shape, channels=channels)
    generator = ConvGenerator(7, d, condition_dim, image_shape=image_shape, channels=channels)
    denoiser = UNetDenoiser(d, d, condition_dim, 100, image_shape=image_shape, channels=channels)
    x = generator(torch.randn(5, 7), c)
    assert x.shape == (5, d) and critic(x, c).shape == (5,) and denoiser(x, torch.arange(5), c).shape == (5, d)
    conv = {2: torch.nn.Conv1d, 3: torch.nn.Conv2d, 4: torch.nn.Conv3d}[len(image_shape)]
    for net in (critic, generator, denoiser):
        assert any(isinstance(m, conv) for m in net.modules())


def test_rows_are_independent():
    """No batch statistics: a row's energy and a latent row's image do not depend on the other rows
    (per-row gradient penalties, Langevin and DP-SGD rely on it)."""
    torch.manual_seed(0)
    critic = ConvCritic(64, 1, 2, image_shape=(1, 8, 8), channels=(8, 16))
    generator = ConvGenerator(6, 64, 2, image_shape=(1, 8, 8), channels=(8, 16))
    denoiser = UNetDenoiser(64, 64, 2, 100, image_shape=(1, 8, 8), channels=(8, 16))
    x, z, c, t = torch.randn(6, 64), torch.randn(6, 6), torch.randn(6, 2), torch.arange(6) * 10
    torch.testing.assert_close(critic(x, c)[2:3], critic(x[2:3], c[2:3]))
    torch.testing.assert_close(generator(z, c)[2:3], generator(z[2:3], c[2:3]))
    torch.testing.assert_close(denoiser(x, t, c)[2:3], denoiser(x[2:3], t[2:3], c[2:3]))
    assert not torch.allclose(critic(x, c)[:1], critic(x, c.flip(0))[:1]), "the condition does not reach the critic"
    assert not torch.allclose(denoiser(x, t, c)[:1], denoiser(x, t.flip(0), c)[:1]), "the step does not reach the U-Net"


@pytest.mark.parametrize("check", GENERATOR_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(WITH_CONV))
def test_backbones_with_conv_networks_pass_the_conformance_suite(name, check):
    check(WITH_CONV[name]())


@pytest.mark.parametrize("params, error, match", [
    (dict(image_shape=[1, 8, 9]), ValueError,
     r"energy_network='conv': image_shape \(1, 8, 9\) holds 72 values but the rows have 64 columns"),
    (dict(image_shape="1x8x8"), ValueError, r"energy_network='conv': image_shape must be a sequence of sizes"),
    (dict(image_shape=[1, 8, 8, 1, 1]), ValueError, r"image_shape must be \(channels, length\)"),
    (dict(image_shape=[1, 8, 8], channels=[]), ValueError, r"channels must be a non-empty sequence"),
    (dict(image_shape=[1, 8, 8], channels=[4, 4, 4, 4, 4]), ValueError,
     r"4 stride-2 stages need every spatial size to be at least 16"),
    (dict(), TypeError, r"energy_network='conv': the factory could not be called .* 'image_shape'"),
])
def test_bad_image_networks_are_refused_by_argument(params, error, match):
    X = np.random.default_rng(0).normal(size=(40, 64))
    with pytest.raises(error, match=match):
        EBM(energy_network={"name": "conv", **params}, max_epochs=1, verbose=0).fit(X)


def test_the_generator_and_the_u_net_refuse_sizes_they_cannot_reach():
    X = np.random.default_rng(0).normal(size=(40, 36))
    net = {"name": "conv", "image_shape": [1, 6, 6], "channels": [4, 8, 8]}
    sizes = r"the spatial sizes \(6, 6\) must be divisible by 4"
    with pytest.raises(ValueError, match=r"generator_network='conv': " + sizes):
        GAN(generator_network=net, max_epochs=1, verbose=0).fit(X)
    with pytest.raises(ValueError, match=r"denoiser_network='conv': " + sizes):
        DDPM(denoiser_network=net, max_epochs=1, verbose=0).fit(X)


def test_hinge_loss_spectrally_normalizes_the_conv_critic():
    from torch.nn.utils import parametrize

    X = np.random.default_rng(0).normal(size=(64, 16))
    gan = GAN(loss="hinge", critic_network={"name": "conv", "image_shape": [1, 4, 4], "channels": [4, 8]},
              max_epochs=1, verbose=0, random_state=0).fit(X)
    layers = [m for m in gan.modules_["critic"].modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 4 and all(parametrize.is_parametrized(m, "weight") for m in layers)


def _squares(n: int, rng: np.random.Generator, size: int = 6) -> np.ndarray:
    """``size x size`` images of one bright 2x2 square at a random place, on a dark noisy background."""
    images = rng.normal(0.0, 0.1, size=(n, size, size))
    i, j = rng.integers(0, size - 1, size=(2, n))
    for di in (0, 1):
        for dj in (0, 1):
            images[np.arange(n), i + di, j + dj] += 1.0
    return images.reshape(n, -1)


def test_a_conv_energy_learns_where_the_ink_is():
    """Held-out squares against the same images with their pixels shuffled (same values, no
    square): the trained conv energy ranks the squares as more typical, its untrained self
    cannot; and its samples get far closer to held-out squares than its untrained self's."""
    rng = np.random.default_rng(0)
    X, Xte = _squares(500, rng), _squares(300, rng)
    shuffled = rng.permuted(Xte, axis=1)
    make = lambda epochs: EBM(energy_network={"name": "conv", "image_shape": [1, 6, 6], "channels": [8, 16]},
                              max_epochs=epochs, batch_size=100, verbose=0, random_state=0).fit(X)
    results = {}
    for epochs in (1, 20):
        ebm = make(epochs)
        typical = roc_auc_score(np.r_[np.ones(300), np.zeros(300)], ebm.score_samples(np.vstack([Xte, shuffled])))
        results[epochs] = typical, c2st_auc(Xte, ebm.sample(300), classifier="knn")
    (typical_before, auc_before), (typical_after, auc_after) = results[1], results[20]
    assert typical_after > 0.95 and typical_after > typical_before + 0.2, results
    assert auc_after < 0.8 and auc_after < auc_before - 0.15, results


def test_a_u_net_denoiser_learns_where_the_ink_is():
    """Samples of diffusion with the U-Net get far closer to held-out squares than those of its
    barely trained self."""
    rng = np.random.default_rng(0)
    X, Xte = _squares(500, rng), _squares(300, rng)
    make = lambda epochs: DDPM(denoiser_network={"name": "conv", "image_shape": [1, 6, 6], "channels": [8, 16]},
                               n_timesteps=100, n_sampling_steps=20, max_epochs=epochs, batch_size=100, verbose=0,
                               random_state=0).fit(X)
    before, after = (c2st_auc(Xte, make(epochs).sample(300), classifier="knn") for epochs in (1, 40))
    assert before > 0.9 and after < 0.7, (before, after)
