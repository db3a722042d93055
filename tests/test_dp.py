"""DP-SGD training: exact per-row gradients, the budget spent, learning under noise,
and clear refusals for what DP-SGD cannot cover."""

import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("opacus")

import synthkit  # noqa: E402
from synthkit.backbones.vae import VAE  # noqa: E402
from synthkit.metrics import c2st_auc  # noqa: E402
from synthkit.privacy import fit_private, privacy_spent  # noqa: E402


def correlated(n, seed):
    z = np.random.default_rng(seed).normal(size=(n, 2))
    return np.c_[z[:, 0], 0.9 * z[:, 0] + np.sqrt(1 - 0.81) * z[:, 1]]


#: a learned per-feature decoder scale (a parameter used without batch input) where the VAE offers it
FEATURE_SCALE = {"decoder_scale": "feature"} if "decoder_scale" in VAE().get_params() else {}


def tiny_vae(**kw):
    params = dict(hidden_dims=(16,), max_epochs=2, batch_size=64, verbose=0, random_state=0, **FEATURE_SCALE)
    params.update(kw)
    return VAE(**params)


def quiet_fit(gen, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fit_private(gen, X, **kw)


@pytest.mark.filterwarnings("ignore:Full backward hook")
def test_per_row_gradients_match_autograd_row_by_row(assert_exact_per_row_gradients):
    """Opacus hooks for the MLPs plus the batch-free workaround for the VAE's ``_Scale``."""
    X = correlated(64, 0)
    vae = tiny_vae(max_epochs=1).fit(X)
    assert vae.modules_["log_scale"].raw.requires_grad
    modules = vae.modules_.train()
    x = torch.as_tensor((X[:5] - vae.mean_) / vae.scale_, dtype=torch.float32)
    # the same reparameterization noise in the batched and the row-by-row pass
    assert_exact_per_row_gradients(modules, "VAE", lambda: -vae.elbo(x), len(x), atol=1e-5)
    assert not hasattr(next(modules.parameters()), "grad_sample")  # hooks and attributes are gone afterwards


@pytest.mark.filterwarnings("ignore:Full backward hook")
@pytest.mark.parametrize("name, params", [
    ("autoregressive", dict(hidden_dim=16, n_blocks=1, n_components=2)),  # masked layers: the vmap route
    ("diffusion", dict(width=16, depth=1, time_embed_dim=8, n_timesteps=50)),  # Linear/LayerNorm: Opacus hooks
])
def test_per_row_gradients_of_other_backbones(name, params, assert_exact_per_row_gradients):
    X = correlated(64, 0)
    gen = synthkit.make_generator(name, max_epochs=1, batch_size=32, verbose=0, random_state=0, **params).fit(X)
    modules = gen.modules_.train()
    x = torch.as_tensor((X[:4] - gen.mean_) / gen.scale_, dtype=torch.float32)
    loss = (lambda: gen.training_loss(x)) if name == "diffusion" else (lambda: -gen._log_prob(x, None))
    psg = assert_exact_per_row_gradients(modules, name, loss, len(x), atol=1e-4)
    assert ("vmap" in psg.routes.values()) == (name == "autoregressive")


def test_records_the_budget_close_to_the_target_and_survives_save_load(tmp_path):
    X = correlated(400, 0)
    vae = quiet_fit(tiny_vae(), X, epsilon=2.0, delta=1e-4)
    assert 1.9 <= vae.dp_epsilon_ <= 2.0  # the noise is calibrated to the target
    assert vae.dp_delta_ == 1e-4 and vae.dp_noise_multiplier_ > 0.5
    assert vae.dp_steps_ == int(np.ceil(2 / (64 / 400)))
    assert vae.history_[-1]["epsilon"] == pytest.approx(vae.dp_epsilon_, abs=0.02)
    assert privacy_spent(vae.dp_noise_multiplier_, vae.dp_sample_rate_, vae.dp_steps_, 1e-4) == pytest.approx(
        vae.dp_epsilon_, abs=1e-6)
    vae.save(tmp_path / "m")
    loaded = synthkit.load(tmp_path / "m")
    assert loaded.dp_epsilon_ == vae.dp_epsilon_ and loaded.dp_standardization_ == vae.dp_standardization_
    np.testing.assert_allclose(loaded.sample(5, random_state=3), vae.sample(5, random_state=3))
    assert "_train" not in vars(vae) and not hasattr(vae.modules_, "autograd_grad_sample_hooks")
    vae.fit(X)  # an ordinary fit still works afterwards


def test_resume_from_a_private_checkpoint(tmp_path):
    X = correlated(200, 4)
    first = quiet_fit(tiny_vae(checkpoint_dir=tmp_path), X, epsilon=1.0, delta=1e-4)
    again = quiet_fit(tiny_vae(checkpoint_dir=tmp_path), X, epsilon=1.0, delta=1e-4, resume=True)
    assert again.dp_steps_ == first.dp_steps_ and again.dp_epsilon_ == first.dp_epsilon_
    np.testing.assert_allclose(again.sample(4, random_state=0), first.sample(4, random_state=0))
    with pytest.raises(ValueError, match="different training data"):  # another budget: no silent mix
        quiet_fit(tiny_vae(checkpoint_dir=tmp_path), X, epsilon=2.0, delta=1e-4, resume=True)


def test_public_bounds_replace_data_standardization():
    X = correlated(300, 1)
    with pytest.warns(UserWarning, match="mean_"):
        fit_private(tiny_vae(), X, epsilon=3.0, delta=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning with public bounds
        vae = fit_private(tiny_vae(), X, epsilon=3.0, delta=1e-4, bounds=(-5.0, 5.0))
    np.testing.assert_array_equal(vae.mean_, [0.0, 0.0])
    np.testing.assert_array_equal(vae.scale_, [5.0, 5.0])
    assert vae.dp_standardization_ == "public bounds"


@pytest.mark.slow
def test_learns_an_easy_set_under_dp():
    """ε = 3 on 2,000 rows: the samples keep the 0.9 correlation that a column-shuffled
    (independent-marginals) baseline lacks, so a classifier two-sample test drops well
    below that baseline's AUC."""
    X, test = correlated(2000, 0), correlated(2000, 1)
    vae = quiet_fit(
        VAE(hidden_dims=(32,), max_epochs=10, batch_size=200, learning_rate=3e-2, verbose=0, random_state=0),
        X, epsilon=3.0, delta=1e-5,
    )
    rng = np.random.default_rng(0)
    baseline = np.c_[rng.permutation(X[:, 0]), rng.permutation(X[:, 1])]
    samples = vae.sample(2000, random_state=1)
    assert np.corrcoef(samples.T)[0, 1] > 0.7
    assert c2st_auc(test, samples, cv=3) < c2st_auc(test, baseline, cv=3) - 0.1
    assert vae.dp_epsilon_ <= 3.0


def test_time_limit_spends_less_and_empty_batches_still_take_noise_steps():
    X = correlated(50, 2)
    vae = quiet_fit(tiny_vae(batch_size=1, max_epochs=40, max_time=0.3), X, epsilon=1.0, delta=1e-3)
    assert vae.dp_steps_ < 2000 and vae.dp_epsilon_ < 1.0  # q = 1/50: most Poisson batches are empty


def test_refusals_name_the_reason():
    X = correlated(100, 3)
    with pytest.raises(ValueError, match="early_stopping"):
        quiet_fit(tiny_vae(early_stopping=True), X, epsilon=1.0, delta=1e-4)

    class BatchNormVAE(VAE):
        def _build(self):
            modules = super()._build()
            modules["encoder"] = torch.nn.Sequential(torch.nn.BatchNorm1d(self.n_features_in_), modules["encoder"])
            return modules

    with pytest.raises(ValueError, match="BatchNorm"):
        quiet_fit(BatchNormVAE(hidden_dims=(8,), max_epochs=1, verbose=0), X, epsilon=1.0, delta=1e-4)

    class TwoOptimizers(VAE):
        def _configure_optimizers(self):
            return {name: torch.optim.Adam(m.parameters()) for name, m in self.modules_.items()}

    with pytest.raises(ValueError, match=r"\d+ optimizers \(encoder, decoder"):
        quiet_fit(TwoOptimizers(hidden_dims=(8,), max_epochs=1, verbose=0), X, epsilon=1.0, delta=1e-4)
    with pytest.raises(ValueError, match="more than once per training step"):  # Langevin chains
        quiet_fit(synthkit.make_generator("ebm", hidden_dims=(8,), n_langevin_steps=2, buffer_size=64, max_epochs=1,
                                          verbose=0), X, epsilon=1.0, delta=1e-4)
    with pytest.raises(ValueError, match="outside a module call"):  # free energy from rbm.W directly
        quiet_fit(synthkit.make_generator("rbm", n_hidden=8, n_chains=16, max_epochs=1, verbose=0), X,
                  epsilon=1.0, delta=1e-4)
    with pytest.raises(ValueError, match="epsilon"):
        fit_private(tiny_vae(), X, epsilon=0, delta=1e-4)
    with pytest.raises(ValueError, match="bounds"):
        fit_private(tiny_vae(), X, epsilon=1.0, delta=1e-4, bounds=(1.0, 0.0))
