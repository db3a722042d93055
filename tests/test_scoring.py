"""The score-rule hook (synthkit.scoring): a generator of your own plugs into the detector through
the base class's default rule or its own ``score_rules``, and ``check_score_rules`` rejects
rules that break their promises."""

import math

import numpy as np
import pytest
import torch

from synthkit import Generator
from synthkit.anomaly import GenerativeDetector
from synthkit.scoring import ScoreRule, float64
from synthkit.testing import check_score_rules


class _Gaussian(Generator):
    """A standard normal in model space: exact log-likelihood, nothing to train."""

    likelihood = "exact"

    def __init__(self, *, max_epochs=None, max_time=None, batch_size=256, learning_rate=1e-3, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=20, ema_decay=None, grad_clip=1.0, checkpoint_dir=None,
                 checkpoint_interval=60.0, device="cpu", random_state=None, verbose=0):
        self._store_params(locals())

    def _build(self):
        return {"loc": torch.nn.Linear(1, 1)}

    def _fit(self, X, c):
        pass

    def _sample(self, n, c):
        return torch.randn(n, self.n_features_in_)

    def _log_prob(self, x, c):
        return (-0.5 * x**2 - 0.5 * math.log(2 * math.pi)).sum(1)


class _Noisy(_Gaussian):
    """A 'bound' with fresh noise per row: a row's score depends on its place in the batch."""

    def _log_prob(self, x, c):
        return super()._log_prob(x, c) + 0.1 * torch.randn(len(x), dtype=x.dtype)


class _Upside(_Gaussian):
    """A rule with the wrong sign: higher = less typical."""

    def score_rules(self):
        return {"likelihood": ScoreRule("likelihood", "minus log p", lambda X: -self._log_likelihood_rows(X),
                                        kind="heuristic")}


class _Mapped(_Gaussian):
    """The default rule plus one of its own, with a per-feature map."""

    def score_rules(self):
        def per_feature(X):
            return self._score_rows(X, lambda x: -0.5 * x**2)

        return {**super().score_rules(),
                "squares": ScoreRule("squares", "minus half the squared standardized values",
                                     lambda X: per_feature(X).sum(1), per_feature)}


def test_a_generator_of_your_own_gets_a_likelihood_rule_and_passes_the_check():
    check_score_rules(_Gaussian())
    check_score_rules(_Mapped())
    X = np.random.default_rng(0).normal(size=(200, 2))
    det = GenerativeDetector(_Gaussian()).fit(X)
    assert det.score_rule_ == "likelihood"
    np.testing.assert_allclose(det.score_samples(X[:5]), det.backbone_.score_samples(X[:5]), rtol=1e-6)
    det = GenerativeDetector(_Mapped(), score_rule="squares").fit(X)
    assert det.feature_scores(X[:5]).shape == (5, 2)


@pytest.mark.parametrize("broken, message", [(_Noisy, "alone or in another batch"), (_Upside, "right way round")])
def test_check_score_rules_rejects_broken_rules(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_score_rules(broken())


def test_float64_gives_every_tensor_back_its_own_dtype():
    module = torch.nn.Linear(2, 2)
    module.register_buffer("exact", torch.zeros(3, dtype=torch.float64))
    with float64(module):
        assert module.weight.dtype == torch.float64
    assert module.weight.dtype == torch.float32 and module.exact.dtype == torch.float64


class _OwnScoreSamples(_Gaussian):
    """A generator that overrides ``score_samples`` itself rather than ``_log_prob``."""

    _log_prob = Generator._log_prob

    def score_samples(self, X, y=None):
        return -0.5 * (np.asarray(X, dtype=float) ** 2).sum(1)


def test_the_default_rule_falls_back_on_score_samples():
    X = np.random.default_rng(0).normal(size=(50, 2))
    gen = _OwnScoreSamples().fit(X)
    np.testing.assert_allclose(gen.score_rules()["likelihood"].score(X), gen.score_samples(X))
    check_score_rules(_OwnScoreSamples())
