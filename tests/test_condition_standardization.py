"""Core hook for conditions that are images (issue 22): a network may declare that its continuous
condition is passed through unchanged; without a declaration conditions are z-scored per column
exactly as before."""

import numpy as np
import pytest

from synthkit.backbones.diffusion import DDPM
from synthkit.nn.denoiser import MLPDenoiser
from synthkit.nn.networks import condition_standardization, register_network


class _RawConditionDenoiser(MLPDenoiser):
    condition_standardization = "none"


class _BadDeclaration(MLPDenoiser):
    condition_standardization = "pixel"


def _factory(cls):
    def make(in_features, out_features, condition_dim, n_timesteps, **kw):
        return cls(in_features, condition_dim=condition_dim, width=16, depth=1, time_embed_dim=8)
    make.condition_standardization = cls.condition_standardization
    return make


register_network("denoiser", "test-raw-condition", _factory(_RawConditionDenoiser))
register_network("denoiser", "test-bad-condition", _factory(_BadDeclaration))


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(5.0, 3.0, size=(n, 4))


def _ddpm(net=None):
    return DDPM(denoiser_network=net, n_timesteps=20, n_sampling_steps=3, width=16, depth=1, time_embed_dim=8,
                max_epochs=1, batch_size=8, verbose=0, random_state=0)


def test_default_conditions_are_standardized_per_column_as_before():
    X, y = _data()
    model = _ddpm().fit(X, y)
    assert condition_standardization(model) is None
    np.testing.assert_array_equal(model.condition_mean_, y.mean(0))
    np.testing.assert_array_equal(model.condition_scale_, y.std(0))


def test_a_network_can_take_its_condition_unchanged():
    X, y = _data()
    model = _ddpm("test-raw-condition").fit(X, y)
    assert condition_standardization(model) == "none"
    np.testing.assert_array_equal(model.condition_mean_, 0.0)
    np.testing.assert_array_equal(model.condition_scale_, 1.0)
    assert model.sample(4, y=y[:4]).shape == (4, 3)


def test_an_unknown_declaration_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="condition_standardization='pixel'"):
        _ddpm("test-bad-condition").fit(X, y)
