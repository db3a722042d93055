"""Parameters checked through synthkit.validation in the core: each bad value is a ValueError
naming the parameter and the value (the wording is tested in test_validation.py)."""

import re

import numpy as np
import pandas as pd
import pytest

from synthkit.backbones.diffusion import DDPM
from synthkit.backbones.ebm import EBM
from synthkit.backbones.rbm import RBM
from synthkit.backbones.sequence.decoding import check_options
from synthkit.backbones.vae import VAE
from synthkit.nn.conv import ConvCritic

X = np.random.default_rng(0).normal(size=(40, 2))


def raises(words):
    return pytest.raises(ValueError, match=re.escape(words))


@pytest.mark.parametrize(("make", "words"), [
    (lambda: VAE(max_time=0), "max_time must be positive (seconds) or None, got 0."),
    (lambda: VAE(max_time=True), "max_time must be positive (seconds) or None, got True."),
    (lambda: EBM(hidden_dims=(8, 0)), "hidden_dims must be a non-empty sequence of positive integers, got (8, 0)."),
    (lambda: EBM(hidden_dims=()), "hidden_dims must be a non-empty sequence of positive integers, got ()."),
    (lambda: EBM(alpha=float("inf")), "alpha must be a finite non-negative number, got inf."),
    (lambda: EBM(reinit_prob=1.5), "reinit_prob must be in [0, 1], got 1.5."),
    (lambda: RBM(n_hidden=0), "n_hidden must be a positive integer, got 0."),
    (lambda: RBM(n_hidden=True), "n_hidden must be a positive integer, got True."),
    (lambda: RBM(hidden_layers=(4, 2.0)), "hidden_layers must be a non-empty sequence of positive integers, got (4, 2.0)."),
    (lambda: RBM(n_bins=1), "n_bins must be an integer >= 2 or None, got 1."),
    (lambda: RBM(min_std=0), "min_std must be in (0, 1], got 0."),
    (lambda: RBM(init_std=2.0), "init_std must be in (0, 1] or None, got 2.0."),
    (lambda: DDPM(n_timesteps=1), "n_timesteps must be an integer >= 2, got 1."),
])
def test_backbone_parameters_are_refused_by_name(make, words):
    with raises(words):
        make().set_params(max_epochs=1, verbose=0).fit(X)


@pytest.mark.parametrize(("options", "words"), [
    ({"temperature": 0}, "temperature must be positive, got 0."),
    ({"temperature": "hot"}, "temperature must be positive, got 'hot'."),
    ({"top_p": 0}, "top_p must be in (0, 1] or None, got 0."),
    ({"max_length": 0}, "max_length must be a positive integer or None, got 0."),
])
def test_decoding_options_are_refused_by_name(options, words):
    kwargs = {"temperature": 1.0, "top_k": None, "top_p": None, "max_length": None, **options}
    with raises(words):
        check_options(**kwargs)
    assert check_options(1.0, None, 1.0, None)["top_p"] == 1.0


def test_conv_channels_are_counts():
    with raises("channels must be a non-empty sequence of positive integers, got (8, 0)."):
        ConvCritic(64, image_shape=(1, 8, 8), channels=(8, 0))
    with raises("channels must be a non-empty sequence of positive integers, got '8'."):
        ConvCritic(64, image_shape=(1, 8, 8), channels="8")


@pytest.mark.parametrize(("privacy", "words"), [
    ({"epsilon": float("inf")}, "epsilon must be a finite positive number, got inf."),
    ({"epsilon": 1.0, "delta": 1.0}, "delta must be in (0, 1), got 1.0."),
])
def test_fit_private_budget_is_refused_by_name(privacy, words):
    from synthkit.privacy import fit_private

    with raises(words):
        fit_private(VAE(max_epochs=1, verbose=0), X, bounds=(-4, 4), **privacy)


@pytest.mark.parametrize(("dp", "words"), [
    ({"epsilon": 0}, "dp epsilon must be a finite positive number, got 0."),
    ({"epsilon": True}, "dp epsilon must be a finite positive number, got True."),
    ({"epsilon": 1.0, "delta": 0}, "dp delta must be in (0, 1), got 0."),
])
def test_tabular_dp_budget_is_refused_by_name(dp, words):
    from synthkit.domains.tabular import TabularSynthesizer

    df = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) % 3})
    with raises(words):
        TabularSynthesizer(dp=dp).fit(df)
