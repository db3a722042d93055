"""Empirical privacy checks: memorized (copied) training rows must be caught, an
independent sample from the same distribution must look like the ideal 0.5."""

import numpy as np
import pandas as pd
import pytest

from synthkit.metrics import dcr, exact_copy_rate, membership_inference


def draw(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    c = np.where(x > 0, "pos", "neg").astype(object)
    c[rng.random(n) < 0.1] = None
    y = x + rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"x": x, "y": y, "c": c, "k": rng.integers(0, 4, n)})


TRAIN, HOLDOUT, FRESH = draw(300, 0), draw(300, 1), draw(300, 2)
COPIES = TRAIN.sample(300, replace=True, random_state=0).reset_index(drop=True)


def test_copies_of_training_rows_are_caught():
    assert dcr(TRAIN, COPIES, HOLDOUT)["share_closer_to_train"] > 0.95
    assert exact_copy_rate(TRAIN, COPIES, HOLDOUT) == {"synthetic": 1.0, "holdout": 0.0}
    mia = membership_inference(TRAIN, COPIES, HOLDOUT)
    assert mia["auc"] > 0.75 and mia["attacks"]["distance"]["auc"] > 0.75
    assert mia["tpr_at_fpr_0.01"] > 0.3  # many members exposed with confidence


def test_independent_sample_looks_ideal():
    out = dcr(TRAIN, FRESH, HOLDOUT)
    assert 0.4 < out["share_closer_to_train"] < 0.6
    assert exact_copy_rate(TRAIN, FRESH, HOLDOUT)["synthetic"] == 0.0
    mia = membership_inference(TRAIN, FRESH, HOLDOUT)
    for attack in mia["attacks"].values():
        assert 0.4 < attack["auc"] < 0.6


def test_noisy_copies_are_caught_by_distance_not_by_exact_match():
    rng = np.random.default_rng(3)
    noisy = COPIES.assign(x=COPIES["x"] + 0.01 * rng.normal(size=len(COPIES)))
    assert exact_copy_rate(TRAIN, noisy)["synthetic"] < 0.05
    assert dcr(TRAIN, noisy, HOLDOUT)["share_closer_to_train"] > 0.9


def test_holdout_baseline_of_exact_copies_in_a_discrete_table():
    rng = np.random.default_rng(0)
    small = lambda n: pd.DataFrame({"a": rng.integers(0, 2, n), "b": rng.choice(["u", "v"], n)})  # noqa: E731
    train = small(100)
    rates = exact_copy_rate(train, small(100), small(100))
    assert rates["synthetic"] == 1.0 and rates["holdout"] == 1.0  # 4 possible rows: copies are natural here


def test_train_and_holdout_are_subsampled_to_equal_size():
    big = draw(900, 5)
    out = dcr(big, FRESH, HOLDOUT)
    assert out["n_reference"] == len(HOLDOUT)
    assert 0.38 < out["share_closer_to_train"] < 0.62
    assert len(out["histogram"]["edges"]) == len(out["histogram"]["synthetic_to_train"]) + 1
    assert dcr(big, FRESH, HOLDOUT, max_rows=50)["n_reference"] == 50


def test_identifier_columns_are_ignored():
    with_id = lambda df, start: df.assign(uid=[f"u{i}" for i in range(start, start + len(df))])  # noqa: E731
    assert exact_copy_rate(with_id(TRAIN, 0), with_id(COPIES, 10_000))["synthetic"] == 1.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="holdout lacks columns"):
        dcr(TRAIN, FRESH, HOLDOUT.drop(columns="x"))
    with pytest.raises(ValueError, match="attacks"):
        membership_inference(TRAIN, FRESH, HOLDOUT, attacks=("magic",))


def test_old_privacy_names_still_work_with_a_warning():
    import synthkit.metrics
    import synthkit.privacy

    for name in ("dcr", "exact_copy_rate", "membership_inference"):
        with pytest.warns(DeprecationWarning, match=f"synthkit.metrics.{name}"):
            assert getattr(synthkit.privacy, name) is getattr(synthkit.metrics, name)
    assert "dcr" not in synthkit.privacy.__all__
