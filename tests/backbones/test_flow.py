"""Normalizing flow: it learns (held-out exact log-likelihood rises, two-sample AUC drops) for
each flow family, its density is normalized, and it conditions on classes."""

import warnings

import numpy as np
import pytest
import torch

from synthkit.backbones.flow import NormalizingFlow
from synthkit.datasets import load_dataset
from synthkit.metrics.detection import c2st_auc

TINY = dict(hidden_dims=(32, 32), n_transforms=3, batch_size=128, learning_rate=3e-3, verbose=0, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = load_dataset("moons", n_samples=1400, random_state=0)
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.mark.parametrize("flow", ["nsf", "maf", "realnvp"])
def test_flow_learns_the_data(data, flow):
    X, _, X_test, _ = data
    untrained = NormalizingFlow(flow=flow, max_epochs=1, **TINY).fit(X)
    trained = NormalizingFlow(flow=flow, max_epochs=60, **TINY).fit(X)
    assert trained.score_samples(X_test).mean() > untrained.score_samples(X_test).mean() + 0.3
    before = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    after = c2st_auc(X_test, trained.sample(400), classifier="knn")
    assert after < min(0.7, before - 0.1)


def test_density_integrates_to_one(data):
    model = NormalizingFlow(max_epochs=20, **TINY).fit(data[0])
    lo, hi = data[0].min(0) - 1.5, data[0].max(0) + 1.5
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    density = np.exp(model.score_samples(np.column_stack([g0.ravel(), g1.ravel()])))
    cell = (g0[0, 1] - g0[0, 0]) * (g1[1, 0] - g1[0, 0])
    assert density.sum() * cell == pytest.approx(1.0, abs=0.05)


def test_class_conditional_samples_follow_their_class(data):
    X, y, X_test, y_test = data
    model = NormalizingFlow(max_epochs=40, **TINY).fit(X, y)
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
