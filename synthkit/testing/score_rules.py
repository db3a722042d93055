"""Conformance check of every backbone's score rules (``Generator.score_rules()``, see
:mod:`synthkit.scoring`), run by the test suite over every registered backbone.

A backbone whose data is not flat real vectors may add a method
``_conformance_outliers(rng, n) -> X`` giving ``n`` rows far from its ``_conformance_data``.
"""

from __future__ import annotations

import numpy as np

from synthkit.testing.generators import _data, _tiny

#: a row must score the same alone and in any batch, to this relative (and absolute) tolerance
SCORE_RULE_RTOL = 1e-9
#: share of (held-out normal, far-away) pairs the default rule must rank the right way round
SCORE_RULE_MIN_RANKING = 0.9


def check_score_rules(est) -> None:
    """Every rule of ``est.score_rules()`` keeps the promises of :mod:`synthkit.scoring`.

    On a generator fitted with the tiny budget, each rule:

    * is declared under its own name, with a description and a known ``kind``, and the
      unfitted and fitted generator declare the same rules (a detector picks one before fit);
    * scores every row the same alone, inside a batch, and inside the batch reversed
      (per-row invariance; its per-feature map too);
    * returns finite scores of shape (n,) and a map of shape (n, d) on held-out rows;
    * named ``"likelihood"`` with an ``exact`` or ``unnormalized`` kind, equals ``score_samples``;

    and the default (first) rule, and every rule of a density kind (not ``heuristic``), ranks
    held-out normal rows above rows far from the data (higher = more typical). A generator
    with a ``likelihood`` must declare at least one rule.
    """
    from synthkit.scoring import SCORE_KINDS

    declared = est.score_rules()
    est = _tiny(est)
    X, _ = _data(est, np.random.default_rng(0))
    held_out, _ = _data(est, np.random.default_rng(1))
    far = _far_rows(est, held_out, np.random.default_rng(2))
    est.fit(X)
    rules = est.score_rules()
    name = type(est).__name__
    assert isinstance(rules, dict), f"{name}.score_rules() must return a dict, got {type(rules).__name__}"
    if est.likelihood is not None:
        assert rules, f"{name} has a likelihood but declares no score rule"
    assert list(rules) == list(declared), f"{name} declares rules {list(declared)} unfitted but {list(rules)} fitted"
    for key, rule in rules.items():
        what = f"{name} rule {key!r}"
        assert rule.name == key and rule.description, f"{what}: name {rule.name!r} or empty description"
        assert rule.kind in SCORE_KINDS and rule.kind == declared[key].kind, f"{what}: kind {rule.kind!r}"
        _check_rule_rows(rule.score, held_out, 1, f"{what} score")
        if rule.feature_scores is not None:
            _check_rule_rows(rule.feature_scores, held_out, 2, f"{what} feature_scores")
        if key == "likelihood" and rule.kind in ("exact", "unnormalized"):
            # score_samples runs in float32 on batches (and a CNF's ODE solver adapts its steps to them)
            np.testing.assert_allclose(rule.score(held_out[:10]), est.score_samples(held_out[:10]), rtol=1e-3,
                                       atol=1e-2, err_msg=f"{what}: differs from score_samples")
    for i, (key, rule) in enumerate(rules.items()):
        if i and rule.kind == "heuristic":  # e.g. a GAN critic, which extrapolates far from the data
            continue
        normal, outlying = rule.score(held_out[:40]), rule.score(far[:40])
        ranking = (normal[:, None] > outlying[None, :]).mean()
        assert ranking >= SCORE_RULE_MIN_RANKING, (
            f"{name} rule {key!r} ranks only {ranking:.0%} of (held-out normal, far-away) pairs the "
            "right way round: higher must mean more typical"
        )


def _check_rule_rows(fn, X, ndim: int, what: str) -> None:
    """``fn(X)``: the right shape, finite, and each row's value independent of its batch."""
    X = np.asarray(X)
    n = min(len(X), 12)
    out = np.asarray(fn(X[:n]))
    shape = (n,) if ndim == 1 else (n, X.shape[1])
    assert out.shape == shape, f"{what}: shape {out.shape}, expected {shape}"
    assert np.isfinite(out).all(), f"{what}: not finite on held-out rows"
    reverse = np.asarray(fn(X[:n][::-1]))[::-1]
    alone = np.stack([np.asarray(fn(X[i : i + 1]))[0] for i in (0, n // 2, n - 1)])
    for got, rows in ((reverse, slice(None)), (alone, [0, n // 2, n - 1])):
        np.testing.assert_allclose(got, out[rows], rtol=SCORE_RULE_RTOL, atol=SCORE_RULE_RTOL,
                                   err_msg=f"{what}: a row scores differently alone or in another batch")


def _far_rows(est, X, rng: np.random.Generator):
    """Rows far from the conformance data: ten standard deviations out in every column."""
    hook = getattr(est, "_conformance_outliers", None)
    if hook is not None:
        return hook(rng, len(X))
    X = np.asarray(X, dtype=float)
    return X + 10.0 * X.std(0) * rng.choice([-1.0, 1.0], size=X.shape)
