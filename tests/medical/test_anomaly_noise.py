"""Simplex-style noise (AnoDDPM): zero mean, unit variance, spatially correlated unlike white
noise, seeded, 2-D and 3-D; and the DDPM's ``forward_noise`` option that trains with it."""

import numpy as np
import pytest
import torch
from synthkit.domains.medical.noise import SimplexNoise, simplex_noise

from synthkit.backbones.diffusion import DDPM
from synthkit.backbones.diffusion.noise import build_noise, list_noises


def _lag_correlation(x, lag):
    a, b = x[..., lag:], x[..., :-lag]
    return float(((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std()))


@pytest.mark.parametrize("shape", [(16, 1, 32, 32), (4, 2, 12, 16, 16)])
def test_simplex_noise_is_standardized_and_spatially_correlated(shape):
    x = simplex_noise(shape, generator=torch.Generator().manual_seed(0))
    assert x.shape == shape and torch.isfinite(x).all()
    per_map = x.reshape(shape[0] * shape[1], -1)
    assert per_map.mean(1).abs().max() < 1e-5
    assert (per_map.std(1, unbiased=False) - 1).abs().max() < 1e-4
    white = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    assert _lag_correlation(x, 1) > 0.6 and abs(_lag_correlation(white, 1)) < 0.05
    # a smooth field: neighbours agree more than voxels a few apart, which still agree
    assert _lag_correlation(x, 1) > _lag_correlation(x, 4) > 0.1
    # over many draws every voxel has mean ~0 and variance ~1 (a stand-in for N(0, 1))
    many = simplex_noise((400, 1, 16, 16), generator=torch.Generator().manual_seed(1))
    assert many.mean(0).abs().max() < 0.25 and (many.var(0) - 1).abs().max() < 0.35


def test_simplex_noise_is_seeded():
    a = simplex_noise((2, 1, 16, 16), generator=torch.Generator().manual_seed(3))
    b = simplex_noise((2, 1, 16, 16), generator=torch.Generator().manual_seed(3))
    c = simplex_noise((2, 1, 16, 16), generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(5)
    d = simplex_noise((2, 1, 16, 16))
    torch.manual_seed(5)
    assert torch.equal(d, simplex_noise((2, 1, 16, 16)))


def test_bad_noise_arguments_are_refused():
    with pytest.raises(ValueError, match="shape"):
        simplex_noise((4, 32, 32))
    with pytest.raises(ValueError, match="octaves"):
        simplex_noise((1, 1, 8, 8), octaves=0)
    with pytest.raises(ValueError, match="persistence"):
        simplex_noise((1, 1, 8, 8), persistence=1.5)
    with pytest.raises(ValueError, match="not registered"):
        build_noise("pink")
    with pytest.raises(ValueError, match="not registered"):
        DDPM(forward_noise={"name": "pink"}, max_epochs=1, verbose=0).fit(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="values per row"):
        SimplexNoise([1, 8, 8])(torch.zeros(2, 10))


def test_ddpm_trains_and_samples_with_simplex_noise():
    assert "simplex" in list_noises()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 64)).astype("float32")
    spec = {"name": "simplex", "image_shape": [1, 8, 8], "octaves": 2}
    model = DDPM(width=16, depth=1, time_embed_dim=8, n_timesteps=20, n_sampling_steps=4, max_epochs=2,
                 forward_noise=spec, verbose=0, random_state=0).fit(X)
    noise = model.noise_like(torch.zeros(3, 64))
    assert noise.shape == (3, 64) and _lag_correlation(noise.reshape(3, 1, 8, 8), 1) > 0.5
    s1, s2 = model.sample(3, random_state=1), model.sample(3, random_state=1)
    assert s1.shape == (3, 64) and np.isfinite(s1).all() and np.array_equal(s1, s2)
