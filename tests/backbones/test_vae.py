"""VAE: it learns (two-sample AUC drops, the ELBO rises), the mixture prior is a proper
density that beats the standard prior on multi-modal data, and encode/decode work."""

import math

import numpy as np
import pytest
import torch

from synthkit.backbones.vae import VAE, MixturePrior
from synthkit.datasets import load_dataset
from synthkit.metrics.detection import c2st_auc

TINY = dict(hidden_dims=(64, 64), batch_size=128, learning_rate=3e-3, verbose=0, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, _ = load_dataset("eight_gaussians", n_samples=1600, random_state=0)
    return X[:1200], X[1200:]


@pytest.fixture(scope="module")
def untrained(data):
    return VAE(max_epochs=1, **TINY).fit(data[0])


@pytest.fixture(scope="module")
def trained(data):
    return VAE(max_epochs=150, **TINY).fit(data[0])


def test_sampling_learns_the_data(data, untrained, trained):
    X_test = data[1]
    before = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    after = c2st_auc(X_test, trained.sample(400), classifier="knn")
    assert before > 0.85
    assert after < 0.7


def test_held_out_bound_rises_and_iwae_is_tighter(data, untrained, trained):
    X_test = data[1]
    assert trained.score_samples(X_test).mean() > untrained.score_samples(X_test).mean() + 1.0
    iwae = trained.set_params(n_importance_samples=32).score_samples(X_test).mean()
    elbo = trained.set_params(n_importance_samples=1).score_samples(X_test).mean()
    assert iwae > elbo


def test_mixture_prior_beats_the_standard_prior_on_eight_modes(data, trained):
    standard = VAE(prior="standard", max_epochs=150, **TINY).fit(data[0])
    X_test = data[1]
    auc_mixture = c2st_auc(X_test, trained.sample(400), classifier="knn")
    auc_standard = c2st_auc(X_test, standard.sample(400), classifier="knn")
    assert auc_mixture < auc_standard - 0.03
    assert trained.score_samples(X_test).mean() > standard.score_samples(X_test).mean()


def test_mixture_prior_is_a_normalized_density():
    torch.manual_seed(0)
    prior = MixturePrior(1, 3)
    with torch.no_grad():
        prior.means.copy_(torch.tensor([[-2.0], [0.5], [3.0]]))
        prior.log_scales.copy_(torch.tensor([[-1.0], [0.0], [0.3]]))
        prior.logits.copy_(torch.tensor([0.0, 1.0, -0.5]))
        grid = torch.linspace(-12, 14, 20001).unsqueeze(1)
        mass = torch.trapezoid(prior.log_prob(grid).exp(), grid.squeeze(1))
        z = prior.sample(20000)
    assert math.isclose(float(mass), 1.0, abs_tol=1e-4)
    weights = torch.softmax(prior.logits, 0)
    assert math.isclose(float(z.mean()), float((weights * prior.means.squeeze(1)).sum()), abs_tol=0.05)


def test_encode_decode_and_interpolate(data, trained):
    X = data[1][:5]
    Z = trained.encode(X)
    assert Z.shape == (5, trained.latent_dim_)
    assert np.abs(trained.decode(Z) - X).mean() < np.abs(X - X.mean(0)).mean()
    path = trained.interpolate(X[0], X[1], n_steps=4)
    assert path.shape == (4, 2) and np.isfinite(path).all()


def test_bad_prior_is_a_clear_error(data):
    with pytest.raises(ValueError, match="prior"):
        VAE(prior="vamp", max_epochs=1, verbose=0).fit(data[0])
    with pytest.raises(ValueError, match="n_prior_components"):
        VAE(n_prior_components=0, max_epochs=1, verbose=0).fit(data[0])
