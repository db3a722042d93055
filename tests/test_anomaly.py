"""GenerativeDetector: scikit-learn's outlier contract, and detection that needs learning."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import synthkit
from synthkit import Generator
from synthkit.anomaly import GenerativeDetector, available_rules

#: small, seeded budgets per backbone: enough steps to learn the easy set below
TINY = {
    "vae": {"hidden_dims": (32, 32), "max_epochs": 150, "batch_size": 100, "learning_rate": 3e-3},
    "autoregressive": {"hidden_dim": 32, "max_epochs": 60, "batch_size": 100},
    "flow": {"hidden_dims": (32,), "n_transforms": 2, "max_epochs": 40, "batch_size": 100},
    "ebm": {"hidden_dims": (32, 32), "max_epochs": 40, "batch_size": 100, "n_langevin_steps": 10},
    "rbm": {"n_hidden": 64, "max_epochs": 60, "batch_size": 25, "learning_rate": 1e-2, "k": 1, "n_chains": 100},
    "diffusion": {"width": 32, "depth": 2, "time_embed_dim": 16, "max_epochs": 150, "batch_size": 100,
                  "n_timesteps": 100},
    "gan": {"generator_dims": (32, 32), "critic_dims": (32, 32), "max_epochs": 100, "batch_size": 50,
            "n_calibration_steps": 2000},
}
#: (overall AUC, dependency-breaking AUC) a trained detector must beat; the GAN's latent-search
#: residual learns the manifold more slowly than the likelihood-based scores
MIN_AUC = {"gan": (0.7, 0.6)}


def _landed(name: str) -> bool:
    try:
        synthkit.make_generator(name)
    except ImportError:
        return False
    return True


BACKBONES = [name for name in TINY if _landed(name)]


def _normal(rng, n):
    """Three columns: x1 follows x0 closely, x2 is independent."""
    x0 = rng.normal(size=n)
    return np.c_[x0, x0 + 0.2 * rng.normal(size=n), rng.normal(size=n)]


def _easy_set(seed=0):
    rng = np.random.default_rng(seed)
    train = _normal(rng, 400)
    test_normal = _normal(rng, 150)
    broken = _normal(rng, 50)
    broken[:, 1] = -broken[:, 0] + 0.2 * rng.normal(size=50)  # dependency-breaking
    glob = rng.uniform(-5, 5, size=(50, 3))  # global: uniform over a wide box
    X_test = np.vstack([test_normal, broken, glob])
    is_anomaly = np.r_[np.zeros(150), np.ones(100)]
    return train, X_test, is_anomaly, slice(150, 200)


def _detector(name, **extra):
    return GenerativeDetector(name, backbone_params={**TINY[name], **extra}, random_state=0)


@parametrize_with_checks(
    [GenerativeDetector("vae", backbone_params={"max_epochs": 2, "hidden_dims": (16,), "batch_size": 64}, random_state=0)]
)
def test_sklearn_outlier_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", BACKBONES)
def test_detector_learns_dependency_breaking_anomalies(name):
    """A trained detector ranks broken-dependency rows far below normal ones; one trained for a
    single epoch (close to its random initialization) does not."""
    train, X_test, is_anomaly, broken = _easy_set()
    det = _detector(name).fit(train)
    scores = det.score_samples(X_test)
    auc = roc_auc_score(is_anomaly, -scores)
    mask = np.r_[np.ones(150, bool), np.zeros(100, bool)]
    mask[broken] = True
    auc_broken = roc_auc_score(is_anomaly[mask], -scores[mask])
    untrained = _detector(name, max_epochs=1).fit(train)
    auc_untrained = roc_auc_score(is_anomaly[mask], -untrained.score_samples(X_test)[mask])
    min_auc, min_broken = MIN_AUC.get(name, (0.85, 0.7))
    assert auc > min_auc, f"{name}: AUC {auc:.3f}"
    assert auc_broken > min_broken, f"{name}: dependency-breaking AUC {auc_broken:.3f}"
    assert auc_broken > auc_untrained + 0.15, f"{name}: trained {auc_broken:.3f} vs 1 epoch {auc_untrained:.3f}"


@pytest.mark.parametrize("name", BACKBONES)
def test_scores_are_per_row_and_predict_follows_contamination(name):
    train, X_test, _, _ = _easy_set()
    det = _detector(name, max_epochs=2).fit(train)
    full = det.score_samples(X_test)
    alone = np.array([det.score_samples(X_test[i : i + 1])[0] for i in (0, 7, 160, 240)])
    np.testing.assert_allclose(alone, full[[0, 7, 160, 240]], rtol=1e-9, atol=1e-9)
    flagged = (det.predict(train) == -1).mean()
    assert abs(flagged - det.contamination) <= 0.01
    np.testing.assert_allclose(det.decision_function(X_test), full - det.offset_)


def test_vae_feature_scores_point_at_the_corrupted_column():
    train, _, _, _ = _easy_set()
    det = GenerativeDetector("vae", score_rule="reconstruction", backbone_params=TINY["vae"], random_state=0)
    det.fit(train)
    rows = _normal(np.random.default_rng(5), 40)
    rows[:, 2] += 6.0  # corrupt the independent column only
    maps = det.feature_scores(rows)
    assert maps.shape == rows.shape
    assert (maps.argmin(1) == 2).mean() > 0.9
    np.testing.assert_allclose(det.score_samples(rows), maps.sum(1))


@pytest.mark.skipif("autoregressive" not in BACKBONES, reason="autoregressive backbone not available")
def test_autoregressive_feature_scores_sum_to_the_log_likelihood():
    train, X_test, _, _ = _easy_set()
    det = _detector("autoregressive", max_epochs=2).fit(train)
    np.testing.assert_allclose(det.feature_scores(X_test).sum(1), det.score_samples(X_test), rtol=1e-6)


class _NoScore(Generator):
    """A generator with no likelihood, critic or reconstruction: nothing sound to score with."""

    likelihood = None

    def __init__(self, *, max_epochs=None, max_time=None, batch_size=256, validation_fraction=0.1,
                 device="cpu", random_state=None, verbose=0):
        self._store_params(locals())

    def _build(self):
        return {}

    def _fit(self, X, c):
        pass

    def _sample(self, n, c):
        import torch

        return torch.randn(n, self.n_features_in_)


def test_backbone_without_a_sound_score_is_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="no sound anomaly score"):
        GenerativeDetector(_NoScore()).fit(X)
    with pytest.raises(ValueError, match="score_rule='critic' is not available: VAE declares the rules"):
        GenerativeDetector("vae", score_rule="critic", backbone_params={"max_epochs": 1}).fit(X)
    with pytest.raises(ValueError, match="not parameters of VAE"):
        GenerativeDetector("vae", backbone_params={"n_layers": 3}).fit(X)


def test_flow_has_no_feature_map_and_says_so():
    if "flow" not in BACKBONES:
        pytest.skip("flow backbone not available")
    X = np.random.default_rng(0).normal(size=(60, 2))
    det = _detector("flow", max_epochs=1).fit(X)
    with pytest.raises(NotImplementedError, match="does not decompose over features"):
        det.feature_scores(X)


def test_flow_detector_scores_with_the_spline_flow_on_wide_data():
    # flow="auto" would take the CNF on 1,000 rows of 32 columns; its exact scoring is far slower
    X = np.random.default_rng(0).normal(size=(1000, 32))
    params = {"max_epochs": 1, "batch_size": 1000, "hidden_dims": (8,), "n_transforms": 1}
    assert GenerativeDetector("flow", backbone_params=params).fit(X).backbone_.flow_ == "nsf"
    chosen = GenerativeDetector("flow", backbone_params={**params, "flow": "maf"}).fit(X[:50])
    assert chosen.backbone_.flow_ == "maf"


def test_every_landed_backbone_states_its_rules():
    for name in BACKBONES:
        rules = available_rules(synthkit.make_generator(name))
        assert rules, name
        assert all(rule.description for rule in rules.values())


@pytest.mark.skipif("autoregressive" not in BACKBONES, reason="autoregressive backbone not available")
def test_holdout_fraction_calibrates_the_threshold_on_unseen_rows():
    """An exact-likelihood model flatters its own training rows: an offset taken on them flags
    too many new normal rows; one taken on held-out rows flags about ``contamination``."""
    rng = np.random.default_rng(7)
    train, new = _normal(rng, 120), _normal(rng, 2000)
    params = {**TINY["autoregressive"], "max_epochs": 150}
    on_train = GenerativeDetector("autoregressive", contamination=0.05, backbone_params=params, random_state=0)
    held_out = GenerativeDetector("autoregressive", contamination=0.05, holdout_fraction=0.3,
                                  backbone_params=params, random_state=0)
    flagged_train = (on_train.fit(train).predict(new) == -1).mean()
    flagged_held_out = (held_out.fit(train).predict(new) == -1).mean()
    assert abs(flagged_held_out - 0.05) < abs(flagged_train - 0.05), (flagged_train, flagged_held_out)


# ---------------------------------------------------------------------- bugs of the private-call rules
def test_vae_likelihood_is_the_iwae_bound_under_the_models_own_prior():
    """The VAE's default prior is the learned mixture: its score must be the IWAE bound under
    that prior, so moving the prior's components far from every posterior lowers every row's
    score (a bound under N(0, I) ignores the prior and does not move)."""
    train, X_test, _, _ = _easy_set()
    det = GenerativeDetector("vae", backbone_params={**TINY["vae"], "max_epochs": 5}, random_state=0).fit(train)
    assert det.backbone_.prior == "mixture"
    before = det.score_samples(X_test[:20])
    with torch.no_grad():
        det.backbone_.modules_["prior"].means.add_(10.0)
    assert (det.score_samples(X_test[:20]) < before - 5.0).all()


def _with_codes(rng, n):
    """The easy set plus a categorical column of codes 0..2 that follows the sign of x0."""
    X = _normal(rng, n)
    return np.c_[X, (X[:, 0] > 0) + (X[:, 0] > 1)]


@pytest.mark.parametrize("visible, n_rows", [("auto", 1100), ("gaussian", 300)])
def test_rbm_reconstruction_sees_rows_as_its_visible_layer_does(visible, n_rows):
    """With softmax visible units (which ``"auto"`` takes from 1,024 rows) or a categorical
    column, the first layer's visible vector is not the model-space row: the reconstruction
    (and the likelihood's map) must encode the row first, and give one score per column."""
    rng = np.random.default_rng(0)
    train, test = _with_codes(rng, n_rows), _with_codes(rng, 60)
    params = {**TINY["rbm"], "visible": visible, "categorical_features": (3,), "max_epochs": 3, "batch_size": 100}
    det = GenerativeDetector("rbm", score_rule="reconstruction", backbone_params=params, random_state=0).fit(train)
    assert det.backbone_.visible_ == ("softmax" if visible == "auto" else "gaussian")
    maps = det.feature_scores(test)
    assert maps.shape == test.shape and np.isfinite(maps).all()
    np.testing.assert_allclose(det.score_samples(test), maps.sum(1))
    far = test + np.array([0.0, 0.0, 8.0, 0.0])  # column 2 far out
    assert det.score_samples(far).mean() < det.score_samples(test).mean()
    likelihood = GenerativeDetector("rbm", backbone_params=params, random_state=0).fit(train)
    assert likelihood.feature_scores(test).shape == test.shape


def test_diffusion_likelihood_rule_is_the_models_own_bound():
    """``score_rule="likelihood"`` is ``DDPM.elbo`` (with common random numbers), the bound
    ``score_samples`` estimates, not a second bound of its own: on the same rows the two agree
    up to Monte Carlo noise."""
    train, X_test, _, _ = _easy_set()
    params = {**TINY["diffusion"], "max_epochs": 20}
    det = GenerativeDetector("diffusion", score_rule="likelihood", backbone_params=params, random_state=0).fit(train)
    rule, own = det.score_samples(X_test), det.backbone_.score_samples(X_test)
    assert np.corrcoef(rule, own)[0, 1] > 0.95
    assert abs(rule.mean() - own.mean()) < 0.1 * own.std()


def test_vae_reconstruction_of_a_category_costs_one_half_whatever_the_codes():
    """A wrong category costs 1/2 in the reconstruction map, not half the squared difference of
    the integer codes (codes have no order)."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(300, 2)), rng.integers(0, 6, 300)]
    params = {"hidden_dims": (16,), "max_epochs": 2, "categorical_features": (2,)}
    det = GenerativeDetector("vae", score_rule="reconstruction", backbone_params=params, random_state=0).fit(X)
    cost = -det.feature_scores(X)[:, 2]
    assert set(np.round(cost, 12)) <= {0.0, 0.5}


def test_vae_reconstruction_with_one_scale_per_feature_uses_that_scale():
    """``decoder_scale="feature"`` (one learned sigma per column): the map divides by it."""
    train, X_test, _, _ = _easy_set()
    params = {**TINY["vae"], "max_epochs": 3, "decoder_scale": "feature"}
    det = GenerativeDetector("vae", score_rule="reconstruction", backbone_params=params, random_state=0).fit(train)
    vae = det.backbone_
    sigma = vae.modules_["log_scale"]().detach().double().exp().numpy()
    x_hat = vae.decode(vae.encode(X_test))
    expected = -0.5 * (((X_test - x_hat) / vae.scale_) / sigma) ** 2
    np.testing.assert_allclose(det.feature_scores(X_test), expected, rtol=1e-4, atol=1e-6)
