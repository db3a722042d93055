"""GAN: it learns (two-sample AUC drops), conditions on classes, and has no likelihood."""

import numpy as np
import pytest

import synthkit
from synthkit.backbones.gan import GAN
from synthkit.metrics.detection import c2st_auc

TINY = dict(latent_dim=8, generator_dims=(48, 48), critic_dims=(48, 48), embed_dim=8,
            n_diagnostic_samples=200, n_calibration_steps=2000, verbose=0, random_state=0)


def _blobs(n, seed=0):
    """Two well separated elongated Gaussian blobs with labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 2)) * [0.6, 0.3] + np.where(y[:, None] == 1, 2.0, -2.0) * np.array([1.0, 0.5])
    return X, y


@pytest.fixture(scope="module")
def data():
    X, y = _blobs(1200)
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.fixture(scope="module")
def untrained(data):
    return GAN(max_epochs=1, **TINY).fit(data[0])


@pytest.fixture(scope="module")
def trained(data):
    return GAN(max_epochs=60, batch_size=128, learning_rate=1e-3, **TINY).fit(data[0])


def test_sampling_learns_the_data(data, untrained, trained):
    X_test = data[2]
    before = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    after = c2st_auc(X_test, trained.sample(400), classifier="knn")
    assert before > 0.9
    assert after < 0.7


def test_mode_collapse_diagnostic_is_logged_every_epoch(trained):
    ratios = [record["nn_ratio"] for record in trained.history_]
    assert len(ratios) == trained.n_epochs_ and np.isfinite(ratios).all()
    assert 0.5 < ratios[-1] < 2.0  # generated rows are about as spread out as real ones


def test_critic_scores_real_rows_above_generated_noise(data, trained):
    X_test = data[2]
    real = trained.critic_score(X_test)
    assert real.shape == (len(X_test),) and np.isfinite(real).all()
    noise = np.random.default_rng(0).uniform(-8, 8, size=(200, 2))
    assert np.median(real) > np.median(trained.critic_score(noise))


def test_has_no_likelihood(trained, data):
    assert trained.likelihood is None
    with pytest.raises(NotImplementedError):
        trained.score_samples(data[2])


def _conditional(data, loss):
    # two critic steps per generator step for WGAN-GP (default 5) keep this test short
    return GAN(loss=loss, n_critic=2 if loss == "wgan-gp" else None, max_epochs=40, batch_size=128,
               learning_rate=1e-3, **TINY).fit(data[0], data[1])


@pytest.fixture(scope="module")
def conditional(data):
    return _conditional(data, "r1")


@pytest.mark.parametrize("loss", ["r1", "wgan-gp", "hinge"])
def test_class_conditional_samples_land_in_their_class_region(data, conditional, loss):
    model = conditional if loss == "r1" else _conditional(data, loss)
    for label, sign in [(0, -1), (1, 1)]:
        S = model.sample(200, y=label)
        assert (np.sign(S[:, 0]) == sign).mean() > 0.9


def test_projection_critic_prefers_the_right_label(data, conditional):
    X, y = data[0][:100], data[1][:100]
    right = conditional.critic_score(X, y)
    wrong = conditional.critic_score(X, 1 - y)
    assert np.mean(right > wrong) > 0.8
    assert conditional.critic_score(X[:5]).shape == (5,)  # y=None averages over classes


def test_continuous_condition_and_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    cond = rng.normal(size=(150, 1))
    X = np.c_[cond[:, 0] + 0.1 * rng.normal(size=150), rng.normal(size=150)]
    model = GAN(max_epochs=2, ema_decay=0.9, **TINY).fit(X, cond)
    S = model.sample(10, y=cond[:10])
    assert S.shape == (10, 2) and np.isfinite(S).all()
    model.save(tmp_path / "gan")
    loaded = synthkit.load(tmp_path / "gan")
    np.testing.assert_allclose(loaded.sample(10, y=cond[:10]), S)
    np.testing.assert_allclose(loaded.critic_score(X[:4], cond[:4]), model.critic_score(X[:4], cond[:4]))


def test_hinge_critic_round_trips_with_spectral_norm(tmp_path, data):
    model = GAN(loss="hinge", max_epochs=2, **TINY).fit(data[0])
    model.save(tmp_path / "gan")
    loaded = synthkit.load(tmp_path / "gan")
    np.testing.assert_allclose(loaded.critic_score(data[2][:5]), model.critic_score(data[2][:5]))


@pytest.mark.parametrize("bad", [dict(loss="minimax"), dict(n_critic=0), dict(latent_dim=0),
                                 dict(gp_weight=-1.0), dict(early_stopping=True)])
def test_bad_parameters_are_rejected_in_fit(bad):
    with pytest.raises(ValueError):
        GAN(**{**TINY, **bad}).fit(np.zeros((10, 2)))


@pytest.fixture(scope="module")
def eight_modes():
    from synthkit.datasets import load_dataset

    X, _ = load_dataset("eight_gaussians", n_samples=1400, random_state=0)
    model = GAN(**{**TINY, "n_calibration_steps": 600}, max_epochs=80, batch_size=128).fit(X[:1000])
    return model, X[1000:]


def test_rejection_sampling_removes_bridges_between_modes(eight_modes):
    model, X_test = eight_modes
    assert 0 < model.acceptance_rate_ < 1
    kept = c2st_auc(X_test, model.sample(400), classifier="knn")
    raw = c2st_auc(X_test, clone_without_rejection(model).sample(400), classifier="knn")
    assert kept < raw - 0.03


def test_rejection_sampling_never_loops_forever(eight_modes):
    model, _ = eight_modes
    strict = clone_without_rejection(model).set_params(rejection_sampling=True)
    strict.rejection_log_m_ = 1e6  # nothing would ever be accepted: 50 rounds, then the last draws
    S = strict.sample(50)
    assert S.shape == (50, 2) and np.isfinite(S).all()


def test_rejection_sampling_needs_the_logistic_critic():
    with pytest.raises(ValueError, match="rejection_sampling"):
        GAN(loss="hinge", rejection_sampling=True, max_epochs=1, verbose=0).fit(np.zeros((20, 2)) + np.arange(20)[:, None])


def test_rejection_sampling_is_on_by_default_for_few_columns_only():
    from synthkit.backbones.rejection import REJECTION_MAX_FEATURES

    rng = np.random.default_rng(0)
    small = dict(TINY, max_epochs=1, n_calibration_steps=5, n_diagnostic_samples=0)
    X_wide = rng.normal(size=(64, REJECTION_MAX_FEATURES + 1))
    narrow = GAN(**small).fit(X_wide[:, :-1])
    wide = GAN(**small).fit(X_wide)
    assert hasattr(narrow, "acceptance_rate_") and "ratio_critic" in narrow.modules_
    assert not hasattr(wide, "acceptance_rate_") and "ratio_critic" not in wide.modules_
    forced = GAN(**small, rejection_sampling=True).fit(X_wide)
    assert hasattr(forced, "acceptance_rate_")


def clone_without_rejection(model):
    import copy

    return copy.deepcopy(model).set_params(rejection_sampling=False)
