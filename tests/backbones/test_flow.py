"""Normalizing flow: it learns (held-out exact log-likelihood rises, two-sample AUC drops) for
each flow family (the continuous one trained by flow matching too), its density is normalized,
and it conditions on classes."""

import warnings

import numpy as np
import pytest
import torch

from synthkit.backbones.flow import NormalizingFlow
from synthkit.datasets import load_dataset
from synthkit.metrics.detection import c2st_auc

TINY = dict(hidden_dims=(32, 32), n_transforms=3, batch_size=128, learning_rate=3e-3, verbose=0, random_state=0)
#: the CNF learns moons more slowly per step than the discrete flows: a higher rate, eight times
#: the epochs, and a shorter average than its default 0.999 (which suits thousands of steps)
TINY_CNF = {**TINY, "hidden_dims": (64, 64), "learning_rate": 1e-2, "ema_decay": 0.95}


def _tiny(flow: str, epochs: int) -> dict:
    return {**TINY_CNF, "max_epochs": 8 * epochs} if flow == "cnf" else {**TINY, "max_epochs": epochs}


@pytest.fixture(scope="module")
def data():
    X, y = load_dataset("moons", n_samples=1400, random_state=0)
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.mark.parametrize("flow", ["nsf", "maf", "realnvp", "cnf"])
def test_flow_learns_the_data(data, flow):
    X, _, X_test, _ = data
    untrained = NormalizingFlow(flow=flow, **{**_tiny(flow, 1), "max_epochs": 1}).fit(X)
    trained = NormalizingFlow(flow=flow, **_tiny(flow, 60)).fit(X)
    assert trained.score_samples(X_test).mean() > untrained.score_samples(X_test).mean() + 0.3
    before = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    after = c2st_auc(X_test, trained.sample(400), classifier="knn")
    assert after < min(0.7, before - 0.1)


@pytest.mark.parametrize("flow", ["nsf", "cnf"])
def test_density_integrates_to_one(data, flow):
    model = NormalizingFlow(flow=flow, **_tiny(flow, 20)).fit(data[0])
    lo, hi = data[0].min(0) - 1.5, data[0].max(0) + 1.5
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    density = np.exp(model.score_samples(np.column_stack([g0.ravel(), g1.ravel()])))
    cell = (g0[0, 1] - g0[0, 0]) * (g1[1, 0] - g1[0, 0])
    assert density.sum() * cell == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("flow", ["nsf", "cnf"])
def test_class_conditional_samples_follow_their_class(data, flow):
    X, y, X_test, y_test = data
    model = NormalizingFlow(flow=flow, **_tiny(flow, 40)).fit(X, y)
    for label in (0, 1):
        S = model.sample(300, y=np.full(300, label))
        assert c2st_auc(X_test[y_test == label], S, classifier="knn") < 0.75
    # each class's exact likelihood prefers its own rows
    own = model.score_samples(X_test, y_test).mean()
    swapped = model.score_samples(X_test, 1 - y_test).mean()
    assert own > swapped + 1.0


@pytest.mark.parametrize("flow", ["nsf", "maf"])
def test_blocked_autoregression_inverts_and_learns(data, flow):
    # passes=2 on four columns: two blocks of two, each conditioned on the one before
    X, _, X_test, _ = data
    lift = lambda A: np.column_stack([A, A[:, :1] * A[:, 1:], np.sin(2 * A[:, :1])])  # noqa: E731
    X4, X4_test = lift(X), lift(X_test)
    untrained = NormalizingFlow(flow=flow, passes=2, max_epochs=1, **TINY).fit(X4)
    trained = NormalizingFlow(flow=flow, passes=2, max_epochs=60, **TINY).fit(X4)
    transform = trained.modules_["flow"]().transform
    x = trained._to_model_space(X4_test[:50])
    assert np.allclose(transform.inv(transform(x)).detach().numpy(), x.numpy(), atol=1e-4)
    before = c2st_auc(X4_test, untrained.sample(400), classifier="knn")
    after = c2st_auc(X4_test, trained.sample(400), classifier="knn")
    assert after < before - 0.1
    assert trained.score_samples(X4_test).mean() > untrained.score_samples(X4_test).mean() + 0.3


def test_passes_must_be_positive(data):
    with pytest.raises(ValueError, match="passes"):
        NormalizingFlow(passes=0, **TINY).fit(data[0])


def test_sample_warns_about_rows_that_are_not_finite(data):
    """A diverged flow (here: weights blown up by hand, as an exploding fit does) sends draws
    out of float range; sample says so instead of handing over NaN rows silently."""
    X = data[0]
    flow = NormalizingFlow(flow="maf", n_transforms=5, hidden_dims=(8,), max_epochs=1, verbose=0, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sound model samples without the warning
        assert np.isfinite(flow.sample(100)).all()
    with torch.no_grad():
        for p in flow.modules_["flow"].parameters():
            p.mul_(1e5)
    with pytest.warns(RuntimeWarning, match=r"of 100 rows are not finite"):
        S = flow.sample(100)
    assert not np.isfinite(S).all()


def test_continuous_flow_defaults():
    X = np.random.default_rng(0).normal(size=(64, 17))
    cnf = NormalizingFlow(flow="cnf", max_epochs=1, verbose=0, random_state=0).fit(X)
    assert cnf.flow_ == "cnf" and cnf._ema_decay == 0.999
    assert cnf.modules_["flow"].transform.ode[0].in_features == 17 + 16  # rows and time features
    assert cnf.modules_["flow"].transform.ode[-1].in_features == 256  # the (256, 256) velocity net
    assert NormalizingFlow(flow="cnf", ema_decay=0.9)._ema_decay == 0.9
    nsf = NormalizingFlow(max_epochs=1, verbose=0, random_state=0).fit(X)
    assert nsf.flow_ == "nsf" and nsf._ema_decay is None


@pytest.mark.parametrize("rows, columns, flow", [(1000, 32, "cnf"), (999, 32, "nsf"), (1000, 31, "nsf")])
def test_auto_takes_the_continuous_flow_on_wide_data(rows, columns, flow):
    X = np.random.default_rng(0).normal(size=(rows, columns))
    model = NormalizingFlow(max_epochs=1, batch_size=1000, hidden_dims=(8,), verbose=0, random_state=0).fit(X)
    assert model.flow_ == flow


def test_a_named_flow_is_kept_where_auto_would_take_the_continuous_flow():
    X = np.random.default_rng(0).normal(size=(1000, 32))
    assert NormalizingFlow(flow="maf", max_epochs=1, hidden_dims=(8,), verbose=0).fit(X).flow_ == "maf"


def test_continuous_flow_saves_loads_and_stops_early(data, tmp_path):
    import synthkit

    X, y, X_test, y_test = data
    model = NormalizingFlow(flow="cnf", **{**TINY_CNF, "max_epochs": 5, "ema_decay": None}).fit(X, y)
    model.save(tmp_path / "cnf")
    loaded = synthkit.load(tmp_path / "cnf")
    assert loaded.flow_ == "cnf"
    np.testing.assert_allclose(loaded.sample(20, y=np.ones(20), random_state=1),
                               model.sample(20, y=np.ones(20), random_state=1), atol=1e-5)
    np.testing.assert_allclose(loaded.score_samples(X_test[:20], y_test[:20]),
                               model.score_samples(X_test[:20], y_test[:20]), atol=1e-4)
    # the validation loss draws the same noise every time: early stopping compares like with like
    x = model._to_model_space(X_test[:50])
    c = model._encode_condition(y_test[:50], 50, fit=False)
    with torch.no_grad():
        assert torch.equal(model._validation_loss(x, c), model._validation_loss(x, c))
    stopped = NormalizingFlow(flow="cnf", early_stopping=True, n_iter_no_change=3,
                              **{**TINY_CNF, "max_epochs": 400}).fit(X)
    assert stopped.n_epochs_ < 400 and "val_loss" in stopped.history_[-1]
