"""GenerativeOversampler (imbalanced-learn's contract), the rejection filter, and
evaluate_augmentation's leak-free cross-validation."""

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.base import BaseSampler
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import check_param_validation, estimator_checks_generator
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from synthkit import Generator
from synthkit.augment import GenerativeOversampler, evaluate_augmentation, filter_synthetic

TINY = {"max_epochs": 2, "hidden_dims": (16,), "batch_size": 128}
CHECKED = [
    GenerativeOversampler(conditioning="conditional", backbone_params=TINY, random_state=0),
    GenerativeOversampler(conditioning="per_class", backbone_params=TINY, random_state=0),
]


IMBLEARN_CHECKS = [pair for sampler in CHECKED for pair in estimator_checks_generator(sampler)]


def _check_id(obj):
    return getattr(obj, "conditioning", None) or getattr(getattr(obj, "func", None), "__name__", None)


@pytest.mark.parametrize("estimator, check", IMBLEARN_CHECKS, ids=_check_id)
def test_imblearn_sampler_contract(estimator, check):
    """imbalanced-learn's own sampler checks (``imblearn.utils.estimator_checks``)."""
    check(estimator)


@parametrize_with_checks(CHECKED[:1])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def test_parameters_are_validated():
    check_param_validation("GenerativeOversampler", CHECKED[0])


def _imbalanced(rng, n_major, n_minor):
    """Majority around the origin, minority shifted along a correlated direction."""
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    X = np.vstack([rng.multivariate_normal([0, 0], cov, n_major), rng.multivariate_normal([0.7, -0.7], cov, n_minor)])
    return X, np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]


@pytest.mark.parametrize("conditioning", ["conditional", "per_class"])
def test_oversampling_raises_minority_recall_on_held_out_rows(conditioning):
    rng = np.random.default_rng(0)
    X, y = _imbalanced(rng, 600, 18)
    X_test, y_test = _imbalanced(rng, 600, 200)
    plain = LogisticRegression().fit(X, y)
    over = GenerativeOversampler(
        conditioning=conditioning, random_state=0,
        backbone_params={"hidden_dims": (32, 32), "max_epochs": 60, "batch_size": 64, "learning_rate": 3e-3},
    )
    X_res, y_res = over.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [600, 600]
    np.testing.assert_array_equal(X_res[: len(X)], X)  # real rows first, unchanged
    synthetic = X_res[len(X):]
    assert abs(synthetic.mean(0) - X[y == 1].mean(0)).max() < 0.6  # they look like the minority class
    augmented = LogisticRegression().fit(X_res, y_res)
    recall_plain = recall_score(y_test, plain.predict(X_test))
    recall_aug = recall_score(y_test, augmented.predict(X_test))
    assert recall_aug > recall_plain + 0.25, (recall_plain, recall_aug)


def test_auto_conditioning_uses_one_model_per_tiny_class():
    rng = np.random.default_rng(1)
    X, y = _imbalanced(rng, 120, 12)
    over = GenerativeOversampler(backbone_params=TINY, random_state=0, per_class_below=20).fit(X, y)
    X_res, y_res = over.fit_resample(X, y)
    assert over.conditioning_ == "per_class"
    over.set_params(per_class_below=5).fit_resample(X, y)
    assert over.conditioning_ == "conditional"
    assert over.generators_[1].condition_kind_ == "classes"


def test_works_inside_an_imblearn_pipeline_with_dataframes():
    rng = np.random.default_rng(2)
    X, y = _imbalanced(rng, 150, 15)
    df = pd.DataFrame(X, columns=["a", "b"])
    labels = pd.Series(np.where(y == 1, "rare", "common"), name="label")
    pipe = Pipeline([("over", GenerativeOversampler(backbone_params=TINY, random_state=0)), ("lr", LogisticRegression())])
    pipe.fit(df, labels)
    assert set(pipe.predict(df)) <= {"rare", "common"}
    X_res, y_res = GenerativeOversampler(backbone_params=TINY, random_state=0).fit_resample(df, labels)
    assert list(X_res.columns) == ["a", "b"] and y_res.value_counts().tolist() == [150, 150]


# ---------------------------------------------------------------------- rejection filter
def _with_planted(rng, real, n_good=200):
    """Plausible candidates, then two groups of implausible ones a broken generator might
    emit: a far-away clump, and rows that break the strong x0-x1 correlation."""
    good = rng.multivariate_normal(real.mean(0), np.cov(real.T), n_good)
    far = real.mean(0) + 6 * real.std(0) + 0.2 * rng.normal(size=(10, real.shape[1]))
    broken = rng.multivariate_normal(real.mean(0), np.cov(real.T), 10)
    broken[:, 0], broken[:, 1] = 1.5 + 0.2 * rng.normal(size=10), -1.5 + 0.2 * rng.normal(size=10)
    return np.vstack([good, far, broken]), np.r_[np.zeros(n_good, bool), np.ones(20, bool)]


@pytest.mark.parametrize("method", ["density", "classifier"])
def test_filter_drops_planted_implausible_rows(method):
    rng = np.random.default_rng(3)
    real = rng.multivariate_normal([0, 0, 0], [[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]], 150)
    candidates, planted = _with_planted(rng, real)
    keep = filter_synthetic(real, candidates, method=method, random_state=0)
    if method == "density":  # every planted row is far from the real rows
        assert not keep[planted].any()
    else:  # out-of-fold probabilities: a planted row is judged by a model that never saw it
        assert keep[planted].mean() <= 0.1
    assert keep[~planted].mean() > 0.75


class _PlantingGenerator(Generator):
    """Samples like standardized Gaussian data, except that every tenth row is planted far away."""

    likelihood = None

    def __init__(self, *, max_epochs=None, max_time=None, batch_size=256, validation_fraction=0.1,
                 device="cpu", random_state=None, verbose=0):
        self._store_params(locals())

    def _build(self):
        return {}

    def _fit(self, X, c):
        pass

    def _sample(self, n, c):
        x = torch.randn(n, self.n_features_in_)
        x[::10] = 8.0
        return x


@pytest.mark.parametrize("method", ["density", "classifier"])
def test_oversampler_filter_removes_planted_rows(method):
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (200, 2)), rng.normal(0, 1, (40, 2))])
    y = np.r_[np.zeros(200, int), np.ones(40, int)]
    unfiltered = GenerativeOversampler(_PlantingGenerator(), random_state=0).fit_resample(X, y)[0][len(X):]
    assert (np.abs(unfiltered) > 5).any(1).sum() >= 15  # the planted rows are there without a filter
    over = GenerativeOversampler(_PlantingGenerator(), filter=method, random_state=0)
    X_res, y_res = over.fit_resample(X, y)
    synthetic = X_res[len(X):]
    assert len(synthetic) == 160 and (y_res[len(X):] == 1).all()
    assert not (np.abs(synthetic) > 5).any()
    assert over.n_rejected_[1] >= 16


# ---------------------------------------------------------------------- evaluation
SEEN_AT_PREDICT: list[np.ndarray] = []
MARKER = 1e6


class _MarkingSampler(BaseSampler):
    """Adds rows full of MARKER labelled as the minority class (stand-ins for synthetic rows)."""

    _sampling_type = "over-sampling"
    _parameter_constraints: dict = {"sampling_strategy": "no_validation"}

    def _fit_resample(self, X, y):
        minority = np.unique(y)[np.argmin(np.unique(y, return_counts=True)[1])]
        return np.vstack([X, np.full((5, X.shape[1]), MARKER)]), np.r_[y, np.full(5, minority)]


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.model_ = LogisticRegression().fit(np.clip(X, -10, 10), y)
        return self

    def predict(self, X):
        SEEN_AT_PREDICT.append(np.asarray(X).copy())
        return self.model_.predict(X)


def test_evaluation_scores_only_real_held_out_rows():
    rng = np.random.default_rng(5)
    X, y = _imbalanced(rng, 200, 30)
    SEEN_AT_PREDICT.clear()
    table = evaluate_augmentation(_RecordingClassifier(), X, y, {"marking": _MarkingSampler()}, cv=5,
                                  baselines=("real", "random", "smote"))
    seen = np.vstack(SEEN_AT_PREDICT)
    assert not (seen == MARKER).any(), "a synthetic row reached a test fold"
    # every real row is predicted as often as every other (once per method and fold it is held out in)
    rows, counts = np.unique(seen, axis=0, return_counts=True)
    np.testing.assert_array_equal(rows, np.unique(X, axis=0))
    assert len(seen) % len(X) == 0 and (counts == len(seen) // len(X)).all() and len(seen) >= 4 * len(X)
    assert list(table.index) == ["real only", "random oversampling", "marking", "SMOTE"]
    assert {"f1_minority", "f1_minority_std", "f1_minority_gain", "balanced_accuracy", "fit_seconds"} <= set(table.columns)
    assert table.loc["real only", "f1_minority_gain"] == 0


def test_evaluation_shows_the_gain_of_generative_oversampling():
    rng = np.random.default_rng(6)
    X, y = _imbalanced(rng, 400, 16)
    over = GenerativeOversampler(backbone_params={"hidden_dims": (32,), "max_epochs": 40, "batch_size": 64}, random_state=0)
    table = evaluate_augmentation(LogisticRegression(), X, y, over, cv=4)
    assert table.loc["GenerativeOversampler(vae)", "balanced_accuracy_gain"] > 0.05


def test_evaluation_handles_string_labels_and_several_classes():
    rng = np.random.default_rng(7)
    X, y = _imbalanced(rng, 150, 20)
    names = pd.Series(np.where(y == 1, "rare", "common"))
    table = evaluate_augmentation(LogisticRegression(), pd.DataFrame(X), names, cv=3)
    assert table.loc["real only", "f1_minority"] > 0  # F1 of "rare", not of a label 1 that does not exist
    three = np.r_[y, np.full(20, 2)]
    X3 = np.vstack([X, rng.normal(3, 1, (20, 2))])
    assert np.isfinite(evaluate_augmentation(LogisticRegression(), X3, three, cv=3).to_numpy()).all()
