"""The energy-based model learns: its samples and its energy, not only shapes."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from synthkit import load
from synthkit.backbones.ebm import EBM
from synthkit.metrics import c2st_auc

CENTERS = np.array([[-2.0, -1.0], [2.0, 1.0]])
TINY = dict(hidden_dims=(32, 32), buffer_size=2000, verbose=0, random_state=0)


def two_clusters(n, rng):
    y = rng.integers(2, size=n)
    return CENTERS[y] + 0.3 * rng.normal(size=(n, 2)), y


def gap_points(n, rng):
    """Points inside the data's bounding box but far (> 4 std) from both clusters."""
    pts = rng.uniform([-3, -2], [3, 2], size=(8 * n, 2))
    far = np.linalg.norm(pts[:, None] - CENTERS[None], axis=2).min(1) > 1.2
    return pts[far][:n]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X, y = two_clusters(600, rng)
    X_test, _ = two_clusters(400, rng)
    return X, y, X_test, gap_points(400, rng)


@pytest.fixture(scope="module")
def untrained(data):
    return EBM(max_epochs=1, learning_rate=1e-12, **TINY).fit(data[0])


@pytest.fixture(scope="module")
def trained(data):
    return EBM(max_epochs=100, **TINY).fit(data[0])


def test_samples_become_indistinguishable(data, trained, untrained):
    _, _, X_test, _ = data
    auc_trained = c2st_auc(X_test, trained.sample(400), classifier="knn")
    auc_untrained = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    assert auc_untrained > 0.85
    assert auc_trained < 0.7
    assert auc_trained < auc_untrained - 0.2


def test_minus_energy_ranks_inliers_above_gap_points(data, trained, untrained):
    _, _, X_test, outliers = data
    labels = np.r_[np.ones(len(X_test)), np.zeros(len(outliers))]

    def rank(model):
        return roc_auc_score(labels, np.r_[model.score_samples(X_test), model.score_samples(outliers)])

    assert rank(trained) > 0.95
    assert rank(untrained) < 0.7


def test_class_conditional_samples_follow_their_label(data):
    X, y, _, _ = data
    ebm = EBM(max_epochs=100, **TINY).fit(X, y)
    for label in (0, 1):
        S = ebm.sample(200, y=label)
        nearest = np.linalg.norm(S[:, None] - CENTERS[None], axis=2).argmin(1)
        assert (nearest == label).mean() > 0.9


def test_replay_buffer_and_step_size_survive_save_load(trained, tmp_path):
    trained.save(tmp_path / "ebm")
    loaded = load(tmp_path / "ebm")
    for name in ("buffer", "sampler"):
        for key, value in trained.modules_[name].state_dict().items():
            torch.testing.assert_close(loaded.modules_[name].state_dict()[key], value)
    np.testing.assert_allclose(loaded.sample(20, random_state=1), trained.sample(20, random_state=1))


def test_step_size_adapts_to_target_acceptance(trained):
    last = trained.history_[-1]
    assert abs(last["acceptance"] - trained.target_acceptance) < 0.1
    assert last["step_size"] != pytest.approx(1e-3)  # moved away from its initial value


def test_bounded_samples_stay_in_training_range(data, trained):
    X = data[0]
    S = trained.sample(500)
    assert (S >= X.min(0) - 1e-6).all() and (S <= X.max(0) + 1e-6).all()


def test_langevin_dynamics_descend_the_energy(trained):
    x0 = torch.randn(256, 2) * 2
    x = trained.langevin_sample(x0, n_steps=50, noise_scale=0.0)
    with torch.no_grad():
        assert trained.energy(x).mean() < trained.energy(x0).mean()


def test_metropolis_sampling_runs(trained):
    S = trained.set_params(metropolis=True).sample(50)
    trained.set_params(metropolis=False)
    assert S.shape == (50, 2) and np.isfinite(S).all()


def test_invalid_parameters_raise(data):
    X = data[0]
    for bad in (dict(step_size=-1.0), dict(step_size="big"), dict(target_acceptance=1.5),
                dict(sampling_init="chains"), dict(n_langevin_steps=0), dict(reinit_prob=2.0)):
        with pytest.raises(ValueError):
            EBM(max_epochs=1, **{**TINY, **bad}).fit(X)
