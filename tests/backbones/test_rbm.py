"""The RBM / DBN learns, and its free energy is exactly the marginal over hidden units."""

import itertools

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from synthkit.backbones.rbm import RBM, RBMLayer
from synthkit.metrics import c2st_auc

CENTERS = np.array([[-2.0, -1.0], [2.0, 1.0]])


def two_clusters(n, rng):
    y = rng.integers(2, size=n)
    return CENTERS[y] + 0.3 * rng.normal(size=(n, 2)), y


def gap_points(n, rng):
    """Points inside the data's bounding box but far (> 4 std) from both clusters."""
    pts = rng.uniform([-3, -2], [3, 2], size=(8 * n, 2))
    far = np.linalg.norm(pts[:, None] - CENTERS[None], axis=2).min(1) > 1.2
    return pts[far][:n]


def bars_and_stripes(n=3):
    patterns = set()
    for bits in itertools.product([0, 1], repeat=n):
        rows = np.tile(np.array(bits)[:, None], (1, n))
        patterns.update({tuple(rows.ravel()), tuple(rows.T.ravel())})
    return np.array(sorted(patterns), dtype=float)


def valid_fraction(S, patterns):
    valid = {tuple(p) for p in patterns}
    return np.mean([tuple(s) in valid for s in S])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X, y = two_clusters(600, rng)
    X_test, _ = two_clusters(400, rng)
    return X, y, X_test, gap_points(400, rng)


@pytest.fixture(scope="module")
def untrained(data):
    return RBM(visible="gaussian", n_hidden=32, max_epochs=1, learning_rate=1e-12, verbose=0,
               random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def trained(data):
    return RBM(visible="gaussian", n_hidden=32, max_epochs=400, verbose=0, random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def bas():
    patterns = bars_and_stripes(3)
    return patterns, patterns[np.random.default_rng(0).integers(len(patterns), size=500)]


def _random_layer(*args, **kwargs):
    torch.manual_seed(0)
    rbm = RBMLayer(*args, **kwargs)
    with torch.no_grad():
        for p in rbm.parameters():
            p.normal_(0, 0.7)
    return rbm


@pytest.mark.parametrize("gaussian", [False, True])
def test_free_energy_is_the_exact_marginal_over_hidden_units(gaussian):
    rbm = _random_layer(3, 4, condition_dim=2, gaussian=gaussian, learn_variance=gaussian)
    v = torch.randn(5, 3) if gaussian else torch.bernoulli(torch.full((5, 3), 0.5))
    c = torch.randn(5, 2)
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))  # all 16 hidden states
    joint = torch.stack([-rbm.energy(v, h.expand(5, 4), c) for h in hs])  # (16, 5)
    torch.testing.assert_close(rbm.free_energy(v, c), -torch.logsumexp(joint, 0))
    # p(h_j = 1 | v) agrees with the same brute-force sum
    posterior = torch.softmax(joint, 0)
    torch.testing.assert_close(rbm.sample_h_given_v(v, c)[0], (posterior[:, :, None] * hs[:, None]).sum(0))


def test_gaussian_rbm_samples_become_indistinguishable(data, trained, untrained):
    _, _, X_test, _ = data
    auc_trained = c2st_auc(X_test, trained.sample(400), classifier="knn")
    auc_untrained = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    assert auc_untrained > 0.85
    assert auc_trained < 0.75
    assert auc_trained < auc_untrained - 0.2


def test_minus_free_energy_ranks_inliers_above_gap_points(data, trained, untrained):
    _, _, X_test, outliers = data
    labels = np.r_[np.ones(len(X_test)), np.zeros(len(outliers))]

    def rank(model):
        return roc_auc_score(labels, np.r_[model.score_samples(X_test), model.score_samples(outliers)])

    assert rank(trained) > 0.9
    assert rank(untrained) < 0.7


@pytest.mark.parametrize("persistent", [True, False])
def test_bernoulli_rbm_samples_bars_and_stripes(bas, persistent):
    patterns, X = bas
    params = dict(visible="bernoulli", n_hidden=32, persistent=persistent, verbose=0, random_state=0)
    untrained = RBM(max_epochs=1, learning_rate=1e-12, **params).fit(X)
    trained = RBM(max_epochs=500, **params).fit(X)
    S = trained.sample(500)
    assert set(np.unique(S)) <= {0.0, 1.0}  # binary data give binary samples
    assert valid_fraction(untrained.sample(500), patterns) < 0.1  # 14 of 512 patterns are valid
    assert valid_fraction(S, patterns) > 0.6


def test_bernoulli_rbm_reconstructs_patterns(bas):
    patterns, X = bas
    rbm = RBM(visible="bernoulli", n_hidden=32, max_epochs=500, verbose=0, random_state=0).fit(X)
    v = torch.as_tensor(patterns, dtype=torch.float32)
    with torch.no_grad():
        h = rbm.sample_h_given_v(v)[0]
        reconstruction = rbm.sample_v_given_h(h)[0].round()
    assert (reconstruction == v).all(1).float().mean() > 0.8


def test_deep_belief_net_trains_layerwise_and_samples(bas):
    patterns, X = bas
    params = dict(visible="bernoulli", hidden_layers=(32, 16), verbose=0, random_state=0)
    untrained = RBM(max_epochs=1, learning_rate=1e-12, **params).fit(X)
    dbn = RBM(max_epochs=500, **params).fit(X)
    assert {r["layer"] for r in dbn.history_} == {0, 1}
    assert dbn.n_steps_ == sum(r["step"] for r in dbn.history_ if r["epoch"] == 500)
    S = dbn.sample(300)
    assert S.shape == (300, 9) and np.isfinite(dbn.score_samples(S)).all()
    assert valid_fraction(S, patterns) > valid_fraction(untrained.sample(300), patterns) + 0.4


@pytest.mark.parametrize("n_hidden, visible", [(32, "softmax"), (12, "softmax"), (12, "gaussian")])  # CD, exact
def test_class_conditional_samples_follow_their_label(data, n_hidden, visible):
    X, y, _, _ = data
    rbm = RBM(visible=visible, n_hidden=n_hidden, max_epochs=400, verbose=0, random_state=0).fit(X, y)
    assert rbm.likelihood == ("exact" if n_hidden == 12 else "unnormalized")
    for label in (0, 1):
        S = rbm.sample(200, y=label)
        nearest = np.linalg.norm(S[:, None] - CENTERS[None], axis=2).argmin(1)
        assert (nearest == label).mean() > 0.8


def test_bernoulli_rejects_data_outside_unit_interval(data):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        RBM(visible="bernoulli", max_epochs=1, verbose=0).fit(data[0])


def test_invalid_parameters_raise(data):
    X = data[0]
    for bad in (dict(visible="poisson"), dict(k=0), dict(hidden_layers=(8, 0)), dict(min_std=0.0),
                dict(sampling_init="buffer"), dict(n_gibbs_steps=-1), dict(exact="yes"),
                dict(exact=True, n_hidden=17), dict(exact=True, hidden_layers=(4, 4)), dict(init_std=0),
                dict(n_bins=1), dict(n_bins=2.5), dict(n_bins="auto"), dict(categorical_features=[2]),
                dict(categorical_features=[0, 0])):
        with pytest.raises(ValueError):
            RBM(max_epochs=1, verbose=0, **bad).fit(X)


def test_a_narrow_start_separates_eight_modes():
    """Started at the data's spread the RBM stays near one Gaussian on eight separated modes;
    started narrower (init_std) with CD-10 from the data it separates them."""
    from synthkit.datasets import load_dataset

    X, _ = load_dataset("eight_gaussians", n_samples=1600, random_state=0)

    def auc(**params):
        rbm = RBM(visible="gaussian", n_hidden=64, max_epochs=150, verbose=0, random_state=0, **params)
        rbm.fit(X[:800])
        return c2st_auc(X[800:], rbm.sample(800), classifier="knn")

    blob, modes = auc(), auc(init_std=0.3, k=10, persistent=False)
    assert blob > 0.9 and modes < 0.7, (blob, modes)


def test_exact_likelihood_is_normalized():
    """With few hidden units score_samples is log p(v): it integrates to one over a grid
    (Gaussian visibles, in the data's units) and sums to one over all 2^9 binary rows."""
    X, _ = two_clusters(300, np.random.default_rng(1))
    rbm = RBM(visible="gaussian", n_hidden=6, max_epochs=30, verbose=0, random_state=0).fit(X)
    assert rbm.likelihood == "exact"
    g = np.linspace(-8, 8, 321)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    mass = np.exp(rbm.score_samples(grid)).sum() * (g[1] - g[0]) ** 2
    assert abs(mass - 1) < 5e-3, mass

    B = bars_and_stripes(3)
    bern = RBM(visible="bernoulli", n_hidden=8, max_epochs=30, verbose=0, random_state=0).fit(B)
    every_row = np.array(list(itertools.product([0.0, 1.0], repeat=9)))
    assert abs(np.exp(bern.score_samples(every_row)).sum() - 1) < 1e-4


def test_exact_rbm_learns_eight_modes_by_likelihood():
    """The exact gradient separates eight modes a blob cannot explain; held-out log p rises."""
    from synthkit.datasets import load_dataset

    X, _ = load_dataset("eight_gaussians", n_samples=1600, random_state=0)
    params = dict(visible="gaussian", n_hidden=12, verbose=0, random_state=0)
    untrained = RBM(max_epochs=1, learning_rate=1e-12, **params).fit(X[:800])
    trained = RBM(max_epochs=300, **params).fit(X[:800])
    auc = [c2st_auc(X[800:], m.sample(800), classifier="knn") for m in (untrained, trained)]
    ll = [m.score_samples(X[800:]).mean() for m in (untrained, trained)]
    assert auc[0] > 0.9 and auc[1] < 0.8, auc
    assert ll[1] > ll[0] + 1.0, ll


@pytest.mark.parametrize("visible", ["gaussian", "softmax"])
def test_exact_sampling_with_continuous_conditions(visible):
    """Column 0 is the condition plus noise. A condition shifts the biases linearly: a
    Gaussian unit's mean follows it closely; a softmax unit's bin logits need large
    condition weights to peak at the right bin, so after 100 epochs it follows less sharply."""
    rng = np.random.default_rng(0)
    cond = rng.normal(size=(400, 1))
    X = np.c_[cond[:, 0] + 0.1 * rng.normal(size=400), rng.normal(size=400)]
    rbm = RBM(visible=visible, n_hidden=8, max_epochs=100, verbose=0, random_state=0).fit(X, cond)
    high, low = (rbm.sample(300, y=np.full((300, 1), v)) for v in (1.5, -1.5))
    assert high.shape == (300, 2)
    if visible == "gaussian":
        assert abs(high[:, 0].mean() - 1.5) < 0.3, high[:, 0].mean()
    assert high[:, 0].mean() - low[:, 0].mean() > 1.5, (high[:, 0].mean(), low[:, 0].mean())
    assert np.isfinite(rbm.score_samples(X[:5], cond[:5])).all()


# ---------------------------------------------------------------- softmax visible units
@pytest.mark.parametrize("gaussian", [False, True])
def test_softmax_units_free_energy_and_partition_function_are_exact(gaussian):
    """Real units beside a 3-way and a 2-way softmax unit: F(v) is minus the log of the
    joint summed over the 2^4 hidden states, and (Bernoulli real units) log Z is the log of
    the joint summed over every visible and hidden state; p(v | h) puts exactly one unit on
    per softmax unit, with the softmax probabilities."""
    rbm = _random_layer(2, 4, condition_dim=1, gaussian=gaussian, learn_variance=gaussian, softmax_sizes=(3, 2))
    c = torch.randn(1, 1)
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))
    v = rbm.noise(6, "cpu")
    joint = torch.stack([-rbm.energy(v, h.expand(6, 4), c.expand(6, 1)) for h in hs])
    torch.testing.assert_close(rbm.free_energy(v, c.expand(6, 1)), -torch.logsumexp(joint, 0))
    assert (v[:, 2:5].sum(1) == 1).all() and (v[:, 5:].sum(1) == 1).all()
    if not gaussian:
        every = torch.tensor([list(r) + [float(i == a) for i in range(3)] + [float(i == b) for i in range(2)]
                              for r in itertools.product([0.0, 1.0], repeat=2) for a in range(3) for b in range(2)])
        brute = torch.logsumexp(-rbm.free_energy(every, c.expand(len(every), 1)), 0)
        torch.testing.assert_close(rbm.log_partition(c)[0], brute)
    h = hs[5:6].expand(4000, 4)
    mean, draw = rbm.sample_v_given_h(h, c.expand(4000, 1))
    assert (draw[:, 2:5].sum(1) == 1).all() and (draw[:, 5:].sum(1) == 1).all()
    torch.testing.assert_close(mean[0, 2:5].sum(), torch.tensor(1.0))
    torch.testing.assert_close(draw[:, 2:5].mean(0), mean[0, 2:5], atol=0.03, rtol=0)


def test_softmax_rbm_density_integrates_to_one_and_has_tails():
    """Quantile bins with exponential tails: exp(score_samples) integrates to one (one column,
    two modes, on a fine grid: the density jumps at every cut), and rows far outside the
    training range score finite and lower the farther out."""
    X, _ = two_clusters(300, np.random.default_rng(1))
    rbm = RBM(visible="softmax", n_hidden=6, n_bins=16, max_epochs=30, verbose=0, random_state=0)
    rbm.fit(X[:, :1] + 1e6)  # far from zero: the bins are cut on standardized values (float32)
    assert rbm.likelihood == "exact"
    g = np.linspace(-15, 15, 300_001) + 1e6
    mass = np.exp(rbm.score_samples(g[:, None])).sum() * (g[1] - g[0])
    assert abs(mass - 1) < 1e-3, mass
    far = rbm.score_samples(np.array([[2.0], [6.0], [20.0], [-30.0]]) + 1e6)
    assert np.isfinite(far).all() and far[0] > far[1] > far[2], far


def test_softmax_rbm_learns_what_its_marginals_cannot_show(data):
    """Untrained, the softmax RBM samples each column's bins independently (its biases start
    at the bin frequencies): the two clusters' product of marginals has four clusters. Trained,
    its samples are hard to tell from held-out rows and its held-out likelihood rises."""
    X, _, X_test, _ = data
    params = dict(visible="softmax", n_hidden=8, verbose=0, random_state=0)
    untrained = RBM(max_epochs=1, learning_rate=1e-12, **params).fit(X)
    trained = RBM(max_epochs=300, **params).fit(X)
    auc = [c2st_auc(X_test, m.sample(400), classifier="knn") for m in (untrained, trained)]
    ll = [m.score_samples(X_test).mean() for m in (untrained, trained)]
    assert auc[0] > 0.7 and auc[1] < 0.65 and auc[1] < auc[0] - 0.15, auc
    assert ll[1] > ll[0] + 0.3, ll


@pytest.mark.parametrize("visible", ["softmax", "gaussian", "bernoulli"])
def test_categorical_features_are_softmax_units(data, visible):
    """A code column that names the cluster: samples keep the code frequencies and the code
    agrees with the sampled point's cluster (an untrained RBM's codes do not)."""
    X, y, _, _ = data
    Xc = np.c_[y * 2.0, X]  # codes 0 and 2 (1 never occurs) in column 0
    if visible == "bernoulli":
        Xc[:, 1:] = (Xc[:, 1:] - Xc[:, 1:].min(0)) / np.ptp(Xc[:, 1:], 0)
    params = dict(visible=visible, categorical_features=[0], n_hidden=8, verbose=0, random_state=0)
    trained = RBM(max_epochs=300, **params).fit(Xc)
    untrained = RBM(max_epochs=1, learning_rate=1e-12, **params).fit(Xc)
    assert trained.n_categories_ == [3]

    def agreement(model):
        S = model.sample(600)
        assert set(np.unique(S[:, 0])) <= {0.0, 1.0, 2.0}
        return np.mean((S[:, 0] == 2) == (S[:, 1] > S[:, 1].mean())), np.mean(S[:, 0] == 2)

    (agree, share), (agree0, _) = agreement(trained), agreement(untrained)
    assert agree > 0.9 and agree0 < 0.7, (agree, agree0)
    assert abs(share - y.mean()) < 0.08
    assert np.isfinite(trained.score_samples(Xc[:5])).all()


def test_categorical_features_refuse_bad_codes(data):
    X, y, _, _ = data
    Xc = np.c_[X, y]
    rbm = RBM(categorical_features=[2], max_epochs=1, verbose=0, random_state=0)
    for bad, message in ((0.5, "column 2 must hold non-negative integer codes, got 0.5"),
                         (-1.0, "column 2 must hold non-negative integer codes, got -1.0")):
        Xb = Xc.copy()
        Xb[3, 2] = bad
        with pytest.raises(ValueError, match=message):
            rbm.fit(Xb)
    rbm.fit(Xc)
    Xb = Xc[:4].copy()
    Xb[1, 2] = 5
    with pytest.raises(ValueError, match="column 2 holds code 5, never seen in fit"):
        rbm.score_samples(Xb)


def test_auto_visible_units_follow_the_data_size():
    """Softmax units from 1,024 rows on while the layer stays within 1,024 softmax units;
    Gaussian units (standardized columns) otherwise."""
    rng = np.random.default_rng(0)

    def chosen(n, d, **params):
        rbm = RBM(max_epochs=1, verbose=0, random_state=0, **params).fit(rng.normal(size=(n, d)))
        return rbm.visible_, getattr(rbm, "n_bins_", None), bool(rbm.scale_[0] != 1.0)

    assert chosen(1024, 2) == ("softmax", 32, True)
    assert chosen(4000, 16) == ("softmax", 64, True)
    assert chosen(1023, 2)[0] == "gaussian" and chosen(1023, 2)[2]
    assert chosen(2000, 64)[0] == "gaussian"  # 64 columns x 62 bins: too many softmax units
    assert chosen(2000, 64, n_bins=16)[0] == "softmax"


@pytest.mark.parametrize("visible", ["softmax", "gaussian"])
def test_softmax_units_survive_save_and_load(data, visible, tmp_path):
    X, y, _, _ = data
    Xc = np.c_[X, y]
    rbm = RBM(visible=visible, categorical_features=[2], n_hidden=6, max_epochs=5, verbose=0, random_state=0).fit(Xc)
    rbm.save(tmp_path / "rbm")
    import synthkit

    same = synthkit.load(tmp_path / "rbm")
    assert same.visible_ == visible
    np.testing.assert_array_equal(same.sample(50, random_state=1), rbm.sample(50, random_state=1))
    np.testing.assert_allclose(same.score_samples(Xc[:20]), rbm.score_samples(Xc[:20]))
