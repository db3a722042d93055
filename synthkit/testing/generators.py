"""Conformance checks every synthkit generator must pass (like scikit-learn's ``check_estimator``).

Run them all with :func:`check_generator`, or one by one through :func:`generator_checks`
(the test suite parametrizes over those so each failure is named). A backbone whose data
is not flat real vectors (token sequences, binary units) provides a method
``_conformance_data(rng) -> (X, y)`` returning a small training set in its own format.

Example:
    >>> from synthkit.backbones.vae import VAE
    >>> check_generator(VAE(hidden_dims=(16,), verbose=0))
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Callable, Iterator

import numpy as np
from sklearn.base import clone

#: Small budget used by the checks: a few steps are enough to exercise every path.
TINY_BUDGET = dict(max_epochs=2, batch_size=64, verbose=0, random_state=0)


def _data(est, rng: np.random.Generator):
    hook = getattr(est, "_conformance_data", None)
    if hook is not None:
        return hook(rng)
    X = np.vstack([rng.normal([-2, 0, 1], 0.5, size=(60, 3)), rng.normal([2, 1, -1], 0.5, size=(60, 3))])
    return X, np.repeat([0, 1], 60)


def _tiny(est):
    est = clone(est)
    budget = {k: v for k, v in TINY_BUDGET.items() if k in est.get_params()}
    return est.set_params(**budget)


def check_common_parameters(est) -> None:
    """Every generator takes the shared budget and runtime parameters (``TRAINING_DEFAULTS``)."""
    from synthkit.base import TRAINING_DEFAULTS

    missing = sorted(set(TRAINING_DEFAULTS) - set(est.get_params(deep=False)))
    assert not missing, f"{type(est).__name__} lacks the shared parameters {missing}"


def check_training_defaults(est) -> None:
    """The shared training parameters are keyword-only in ``__init__``, with the defaults
    ``TRAINING_DEFAULTS | training_defaults``. A family declares its deviations once, in its
    ``training_defaults`` class attribute; its explicit signature (what ``get_params``, ``clone``,
    IDEs and ``help()`` read) must agree, and a declared deviation must deviate."""
    from synthkit.base import TRAINING_DEFAULTS

    cls = type(est)
    deviations = cls.training_defaults
    unknown = sorted(set(deviations) - set(TRAINING_DEFAULTS))
    assert not unknown, f"{cls.__name__}.training_defaults names {unknown}, not shared training parameters"
    repeated = sorted(k for k, v in deviations.items() if _same_default(v, TRAINING_DEFAULTS[k]))
    assert not repeated, f"{cls.__name__}.training_defaults repeats the shared defaults of {repeated}"
    params = inspect.signature(cls.__init__).parameters
    for name, expected in (TRAINING_DEFAULTS | deviations).items():
        p = params.get(name)
        assert p is not None, f"{cls.__name__}.__init__ lacks the shared parameter {name}"
        assert p.kind is p.KEYWORD_ONLY, f"{cls.__name__}.__init__ takes {name} positionally (make it keyword-only)"
        assert _same_default(p.default, expected), (
            f"{cls.__name__}.__init__ has {name}={p.default!r}, but TRAINING_DEFAULTS | training_defaults says "
            f"{expected!r}: declare the deviation in {cls.__name__}.training_defaults or fix the signature")


def check_clone_roundtrip(est) -> None:
    """``clone`` keeps every parameter (``__init__`` stores them unchanged)."""
    params = est.get_params(deep=False)
    cloned = clone(est).get_params(deep=False)
    for name, value in params.items():
        assert _same(cloned[name], value), f"clone changed parameter {name}: {value!r} -> {cloned[name]!r}"


def check_fit_returns_self_and_keeps_params(est) -> None:
    """``fit`` returns the estimator and does not change its parameters."""
    est = _tiny(est)
    X, _ = _data(est, np.random.default_rng(0))
    before = est.get_params(deep=False)
    assert est.fit(X) is est, "fit must return self"
    after = est.get_params(deep=False)
    for name in before:
        assert _same(before[name], after[name]), f"fit changed parameter {name}"
    assert est.n_features_in_ == X.shape[1]


def check_sample_shape(est) -> None:
    """Samples have the training data's columns, are finite and honour ``n_samples``."""
    est = _tiny(est)
    X, _ = _data(est, np.random.default_rng(0))
    est.fit(X)
    S = est.sample(7)
    assert isinstance(S, np.ndarray) and S.shape == (7, X.shape[1]), f"sample(7) gave shape {getattr(S, 'shape', None)}"
    assert np.isfinite(S).all(), "samples contain NaN or inf"
    assert est.sample(0).shape == (0, X.shape[1])


def check_conditional(est) -> None:
    """Fitting with class labels makes ``sample(y=...)`` and ``score_samples(X, y)`` work."""
    est = _tiny(est)
    X, y = _data(est, np.random.default_rng(0))
    est.fit(X, y)
    S, ys = est.sample(6, return_y=True)
    assert S.shape == (6, X.shape[1]) and len(ys) == 6 and set(ys) <= set(y)
    S1 = est.sample(5, y=y[0])
    assert S1.shape == (5, X.shape[1])
    if est.likelihood is not None:
        assert est.score_samples(X[:5], y[:5]).shape == (5,)
        assert np.isfinite(est.score_samples(X[:5])).all()


def check_continuous_conditions(est) -> None:
    """Fitting with a 2-D real ``y`` makes ``sample(n, y=...)`` take one condition row per
    sample (zero rows included), refuses a ``y`` of the wrong shape with a ``ValueError``,
    and makes ``score_samples(X, y)`` work."""
    est = _tiny(est)
    rng = np.random.default_rng(0)
    X, _ = _data(est, rng)
    Y = rng.normal(size=(len(X), 2))
    est.fit(X, Y)
    S, ys = est.sample(4, y=Y[:4], return_y=True)
    assert len(S) == 4 and np.shape(ys) == (4, 2)
    assert len(est.sample(0, y=Y[:0])) == 0, "sample(0, y=<no rows>) must give no rows"
    for what, bad in {"3 rows for 4 samples": Y[:3], "1 column instead of 2": Y[:4, :1],
                      "NaN": _with(Y[:4], np.nan)}.items():
        _refuses(lambda: est.sample(4, y=bad), f"sample with y of {what}")
    if est.likelihood is not None:
        assert np.isfinite(est.score_samples(X[:5], Y[:5])).all()


def check_seeded_reproducibility(est) -> None:
    """The same ``random_state`` gives the same model and the same samples."""
    X, _ = _data(est, np.random.default_rng(0))
    a = _tiny(est).fit(X)
    b = _tiny(est).fit(X)
    np.testing.assert_allclose(a.sample(20), b.sample(20), rtol=1e-5, atol=1e-6,
                               err_msg="same random_state, different samples")
    np.testing.assert_allclose(a.sample(5, random_state=3), a.sample(5, random_state=3))
    if est.likelihood is not None:
        np.testing.assert_allclose(a.score_samples(X[:10]), b.score_samples(X[:10]), rtol=1e-5, atol=1e-6)


def check_refit_idempotent(est) -> None:
    """Fitting again with the same ``random_state`` gives the samples and scores of the first
    fit: nothing the first fit (or sampling after it) left behind, such as buffers, chains or
    fitted shapes, leaks into the second (scikit-learn's ``check_fit_idempotent``)."""
    est = _tiny(est)
    X, _ = _data(est, np.random.default_rng(0))
    est.fit(X)
    first = est.sample(20)
    scores = est.score_samples(X[:10]) if est.likelihood is not None else None
    est.fit(X)
    np.testing.assert_allclose(est.sample(20), first, rtol=1e-5, atol=1e-6,
                               err_msg="a second fit with the same random_state gave other samples")
    if scores is not None:
        np.testing.assert_allclose(est.score_samples(X[:10]), scores, rtol=1e-5, atol=1e-6,
                                   err_msg="a second fit with the same random_state gave other scores")


def check_X_not_mutated(est) -> None:
    """``fit`` and ``score_samples`` leave the caller's ``X`` and ``y`` unchanged."""
    est = _tiny(est)
    X, y = _data(est, np.random.default_rng(0))
    X0, y0 = np.array(X, copy=True), np.array(y, copy=True)
    est.fit(X, y)
    np.testing.assert_array_equal(X, X0, err_msg="fit(X, y) changed the caller's X")
    np.testing.assert_array_equal(y, y0, err_msg="fit(X, y) changed the caller's y")
    if est.likelihood is not None:
        est.score_samples(X, y)
        est.score_samples(X)
        np.testing.assert_array_equal(X, X0, err_msg="score_samples changed the caller's X")
        np.testing.assert_array_equal(y, y0, err_msg="score_samples(X, y) changed the caller's y")


def check_save_load(est) -> None:
    """``save`` then ``synthkit.load`` gives an equal model: identical samples and scores."""
    from synthkit.persistence import load

    est = _tiny(est)
    X, _ = _data(est, np.random.default_rng(0))
    est.fit(X)
    with tempfile.TemporaryDirectory() as tmp:
        est.save(f"{tmp}/model")
        loaded = load(f"{tmp}/model")
    assert type(loaded) is type(est)
    np.testing.assert_allclose(loaded.sample(10, random_state=1), est.sample(10, random_state=1), rtol=1e-6, atol=1e-6)
    if est.likelihood is not None:
        np.testing.assert_allclose(loaded.score_samples(X[:10]), est.score_samples(X[:10]), rtol=1e-6, atol=1e-6)


def check_bad_input(est) -> None:
    """NaN, inf, wrong dimensionality, empty arrays and wrong dtypes raise a clear ``ValueError``."""
    X, _ = _data(est, np.random.default_rng(0))
    X = np.asarray(X, dtype=float)
    bad = {
        "NaN": _with(X, np.nan),
        "inf": _with(X, np.inf),
        "1-D": X[:, 0],
        "3-D": X[:, :, None],
        "empty": X[:0],
        "strings": np.full(X.shape, "a", dtype=object),
    }
    for what, data in bad.items():
        _refuses(lambda: _tiny(est).fit(data), f"fit on {what} input")
    fitted = _tiny(est).fit(X)
    if fitted.likelihood is not None:
        for what, data in {"wrong number of columns": np.hstack([X, X])[:5], "NaN": _with(X[:5], np.nan)}.items():
            _refuses(lambda: fitted.score_samples(data), f"score_samples on {what} input")
    for n in (-1, 2.5, "3"):
        _refuses(lambda: fitted.sample(n), f"sample(n_samples={n!r})")


def check_score_samples(est) -> None:
    """``score_samples`` exists exactly when ``likelihood`` says so, and is finite per row."""
    est = _tiny(est)
    X, _ = _data(est, np.random.default_rng(0))
    est.fit(X)
    if est.likelihood is None:
        try:
            est.score_samples(X[:3])
        except NotImplementedError:
            return
        raise AssertionError("a generator with likelihood=None must not score samples")
    assert est.likelihood in ("exact", "lower_bound", "unnormalized")
    s = est.score_samples(X[:9])
    assert s.shape == (9,) and np.isfinite(s).all()


GENERATOR_CHECKS: tuple[Callable, ...] = (
    check_common_parameters,
    check_training_defaults,
    check_clone_roundtrip,
    check_fit_returns_self_and_keeps_params,
    check_sample_shape,
    check_conditional,
    check_continuous_conditions,
    check_seeded_reproducibility,
    check_refit_idempotent,
    check_X_not_mutated,
    check_save_load,
    check_bad_input,
    check_score_samples,
)


def generator_checks(est) -> Iterator[Callable]:
    """The conformance checks, each a callable taking the (unfitted) estimator."""
    yield from GENERATOR_CHECKS


def check_generator(est) -> None:
    """Run every conformance check on an unfitted generator; raises on the first failure."""
    for check in generator_checks(est):
        check(est)


def _refuses(call: Callable[[], object], what: str) -> None:
    """``call()`` must raise a ``ValueError`` with a message; ``what`` names the call."""
    try:
        call()
    except ValueError as err:
        assert str(err), f"{what}: the ValueError has no message"
    else:
        raise AssertionError(f"{what} was accepted (no ValueError)")


def _with(X: np.ndarray, value: float) -> np.ndarray:
    X = np.array(X, dtype=float)
    X[0, 0] = value
    return X


def _same_default(a, b) -> bool:
    """Equal and of one type (``1`` is not the default ``True``, nor ``60`` the default ``60.0``)."""
    return type(a) is type(b) and bool(a == b)


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) or (a is b)
    except (ValueError, TypeError):
        return a is b
