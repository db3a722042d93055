"""MADE (synthkit.backbones.autoregressive): it learns, its likelihood is exact, conditions work."""

import numpy as np
import pytest
import torch

from synthkit.backbones.autoregressive import MADE, MADENetwork
from synthkit.datasets import load_dataset
from synthkit.metrics import c2st_auc

TINY = dict(hidden_dim=64, n_blocks=1, verbose=0, random_state=0)


def _moons(n, seed):
    return load_dataset("moons", n_samples=n, random_state=seed)[0]


def _diag_gaussian_ll(train, test):
    mu, sd = train.mean(0), train.std(0)
    return float((-0.5 * ((test - mu) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)).sum(1).mean())


def test_learns_two_moons():
    """Two-sample AUC falls far below the untrained (independent-marginals) model's, and
    held-out log-likelihood beats both the untrained model and a diagonal Gaussian."""
    X, X_test = _moons(1500, 0), _moons(600, 1)
    untrained = MADE(max_epochs=1, learning_rate=1e-9, **TINY).fit(X)
    trained = MADE(max_epochs=60, **TINY).fit(X)
    auc_untrained = c2st_auc(X_test, untrained.sample(600, random_state=2), classifier="knn")
    auc_trained = c2st_auc(X_test, trained.sample(600, random_state=2), classifier="knn")
    assert auc_trained < 0.65 and auc_trained < auc_untrained - 0.15, (auc_trained, auc_untrained)
    ll = trained.score_samples(X_test).mean()
    assert ll > untrained.score_samples(X_test).mean() + 0.5
    assert ll > _diag_gaussian_ll(X, X_test) + 0.5


def test_density_integrates_to_one_with_a_discrete_column():
    """sum over the discrete column's values of the integral over the real one is 1."""
    rng = np.random.default_rng(0)
    v = rng.integers(0, 3, 600).astype(float)
    X = np.c_[rng.normal(2.0 * v, 0.5), v]  # column 1: three values, found by discrete_features="auto"
    model = MADE(max_epochs=15, **TINY).fit(X)
    assert list(model.discrete_values_) == ["1"]
    grid = np.linspace(-6, 10, 4001)
    total = sum(
        np.trapezoid(np.exp(model.score_samples(np.c_[grid, np.full_like(grid, k)])), grid) for k in (0.0, 1.0, 2.0)
    )
    assert abs(total - 1) < 0.01
    # the discrete column takes exactly its training values in samples
    assert set(np.unique(model.sample(300)[:, 1])) <= {0.0, 1.0, 2.0}


def test_matches_a_known_gaussian():
    """On Gaussian data the held-out log-likelihood approaches the true log-density."""
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]]) * 4.0
    X, X_test = rng.multivariate_normal([1, -1], cov, 2000), rng.multivariate_normal([1, -1], cov, 2000)
    model = MADE(n_components=2, max_epochs=30, **TINY).fit(X)
    diff = X_test - [1, -1]
    true_ll = -0.5 * np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff) - 0.5 * np.log(np.linalg.det(2 * np.pi * cov))
    assert abs(model.score_samples(X_test).mean() - true_ll.mean()) < 0.06


def test_class_conditional_sampling():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 800)
    X = rng.normal(size=(800, 2)) * 0.3 + np.where(y[:, None] == 1, [3.0, -3.0], [-3.0, 3.0])
    model = MADE(max_epochs=60, **TINY).fit(X, y)
    for label, sign in ((0, -1), (1, 1)):
        S = model.sample(200, y=label, random_state=1)
        assert (np.sign(S[:, 0]) == sign).mean() > 0.95 and (np.sign(S[:, 1]) == -sign).mean() > 0.95
    # scores prefer the right class
    assert (model.score_samples(X[:50], y[:50]) > model.score_samples(X[:50], 1 - y[:50])).all()


def test_continuous_condition():
    rng = np.random.default_rng(0)
    c = rng.uniform(-2, 2, (800, 1))
    X = np.c_[c[:, 0] + 0.1 * rng.normal(size=800), rng.normal(size=800)]
    model = MADE(max_epochs=60, **TINY).fit(X, c)
    c_new = np.linspace(-2, 2, 200)[:, None]
    S = model.sample(200, y=c_new, random_state=0)
    assert np.corrcoef(S[:, 0], c_new[:, 0])[0, 1] > 0.95


def test_categorical_column_follows_its_parent():
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=1000)
    X = np.c_[x0, (x0 > 0).astype(float) + (x0 > 1)]  # codes 0, 1, 2 set by column 0
    model = MADE(categorical_features=[1], max_epochs=60, **TINY).fit(X)
    assert model.n_categories_ == [3]
    S = model.sample(500, random_state=0)
    assert set(np.unique(S[:, 1])) <= {0.0, 1.0, 2.0}
    agree = (S[:, 1] == (S[:, 0] > 0).astype(float) + (S[:, 0] > 1)).mean()
    assert agree > 0.9
    with pytest.raises(ValueError, match="never seen"):
        model.score_samples(np.array([[0.0, 3.0]]))


def test_constant_and_few_valued_columns_stay_finite():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=500), np.zeros(500), rng.integers(0, 2, 500) * 0.5]
    model = MADE(max_epochs=5, **TINY).fit(X)
    assert sorted(model.discrete_values_) == ["1", "2"]
    s = model.score_samples(X[:100])
    assert np.isfinite(s).all() and s.max() < 10
    # an unseen value counts as its nearest training value: finite, not -inf
    assert np.isfinite(model.score_samples(np.array([[0.0, 3.0, 7.0]]))).all()
    S = model.sample(200)
    assert (S[:, 1] == 0).all() and set(np.unique(S[:, 2])) <= {0.0, 0.5}
    # without discretization the density is a (finite) spike on the constant column
    dense = MADE(max_epochs=5, discrete_features=(), **TINY).fit(X)
    assert dense.discrete_values_ == {} and np.isfinite(dense.score_samples(X[:100])).all()


def test_random_order_is_fitted_state_and_masks_are_autoregressive():
    X = np.random.default_rng(0).normal(size=(200, 5))
    model = MADE(order="random", max_epochs=1, **TINY).fit(X)
    assert sorted(model.order_) == list(range(5)) and model.order_ != list(range(5))
    assert MADE(order="random", max_epochs=1, **TINY).fit(X).order_ == model.order_
    # column order_[i]'s conditional must not change when later columns change
    net = model.modules_["made"]
    with torch.no_grad():
        net.out.weight.normal_()  # the fitted output weights start at zero; make every path live
    x = torch.randn(1, 5)
    for i, j in enumerate(model.order_):
        x2 = x.clone()
        x2[0, model.order_[i:]] += 1.0  # change column j and every later one
        same = model.conditional_log_probs(x) - model.conditional_log_probs(x2)
        earlier = model.order_[:i]  # columns before j: their values and conditionals are unchanged
        assert torch.allclose(same[0, earlier], torch.zeros(len(earlier)), atol=1e-5), (i, j)
    with pytest.raises(ValueError, match="permutation"):
        MADE(order=[0, 0, 1, 2, 3], max_epochs=1, verbose=0).fit(X)


def test_made_network_connectivity():
    """Output unit o depends on input unit i exactly when out_degree[o] > in_degree[i]."""
    net = MADENetwork([1, 2, 3], [1, 2, 1, 2, 1, 2], [1, 2, 3], n_blocks=2, activation="tanh")
    with torch.no_grad():
        net.out.weight.normal_()
        for block in net.blocks:
            block.linear2.weight.normal_()
    jac = torch.autograd.functional.jacobian(lambda x: net(x[None])[0], torch.randn(3))
    expected = torch.tensor([[0, 0, 0], [1, 0, 0], [1, 1, 0]], dtype=torch.bool)
    assert torch.equal(jac.abs() > 0, expected)


def test_save_load_keeps_discrete_and_categorical_state(tmp_path):
    from synthkit import load

    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=300), rng.integers(0, 3, 300), rng.integers(0, 4, 300) / 4.0]
    model = MADE(categorical_features=[1], order="random", max_epochs=2, **TINY).fit(X)
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.order_ == model.order_ and loaded.discrete_values_ == model.discrete_values_
    np.testing.assert_array_equal(loaded.sample(20, random_state=3), model.sample(20, random_state=3))
    np.testing.assert_allclose(loaded.score_samples(X[:20]), model.score_samples(X[:20]), rtol=1e-6)


@pytest.mark.parametrize("context_dim", [0, 3])
def test_degree_by_degree_outputs_equal_the_full_network(context_dim):
    """Hidden units computed once per row, as the columns are drawn, give the full pass's outputs."""
    from synthkit.backbones.autoregressive.incremental import DegreeByDegree

    torch.manual_seed(0)
    d, width = 5, 6
    in_deg = np.repeat(np.arange(1, d + 1), [1, 3, 1, 1, 2])
    lo = 0 if context_dim else 1
    net = MADENetwork(in_deg, lo + np.arange(40) % (d - lo), np.repeat(np.arange(1, d + 1), width), context_dim,
                      n_blocks=2).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.3)
    x, c = torch.randn(64, len(in_deg)), torch.randn(64, context_dim) if context_dim else None
    state = DegreeByDegree(net, c, 64)
    with torch.no_grad():
        for degree in range(1, d + 1):
            # as in sampling: only the columns before this degree are known yet
            known = torch.where(torch.as_tensor(in_deg) < degree, x, torch.zeros_like(x))
            rows = slice((degree - 1) * width, degree * width)
            torch.testing.assert_close(state.outputs(known, rows, degree), net(known, c)[:, rows], rtol=1e-5,
                                       atol=1e-5)
