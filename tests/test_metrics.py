"""Fidelity, detection, utility and sample-level metrics on tiny seeded mixed-type tables.

Each test checks that a metric tells good synthetic data from bad: identical or freshly
drawn tables score near the ideal, shifted or column-shuffled tables clearly worse.
"""

import json

import numpy as np
import pandas as pd
import pytest

from synthkit.metrics import (
    c2st_auc,
    column_shapes,
    evaluate,
    infer_kinds,
    ks_complement,
    pair_trends,
    precision_recall,
    tstr,
    tv_complement,
)
from synthkit.metrics.columns import TableEncoder
from synthkit.metrics.fidelity import summarize


def draw(n, seed):
    """Numbers, a correlated number with gaps, a category tied to x, a boolean and a date."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 2.0 * x + 0.5 * rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    c = np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid")).astype(object)
    c[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "c": pd.Series(c, dtype=object),
            "flag": rng.random(n) < 0.3 + 0.4 * (x > 0),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "count": rng.poisson(3, n),
        }
    )


def shuffled(df, seed=0):
    """Each column resampled independently: right marginals, no relations."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df})


REAL = draw(300, 0)
FRESH = draw(300, 1)


def test_kinds_inferred_and_overridden():
    kinds = infer_kinds(REAL)
    assert kinds == {"x": "numeric", "y": "numeric", "c": "categorical", "flag": "categorical",
                     "when": "datetime", "count": "numeric"}
    ids = REAL.assign(key=[f"id{i}" for i in range(len(REAL))], day=REAL["when"].dt.strftime("%Y-%m-%d"))
    assert infer_kinds(ids)["key"] == "id" and infer_kinds(ids)["day"] == "datetime"
    sdv_style = {"columns": {"count": {"sdtype": "categorical"}}}
    assert infer_kinds(REAL, sdv_style)["count"] == "categorical"
    with pytest.raises(ValueError, match="unknown kind"):
        infer_kinds(REAL, {"x": "fancy"})
    with pytest.raises(ValueError, match="nope"):
        infer_kinds(REAL, {"nope": "numeric"})


def test_encoder_keeps_missing_and_embeds_without_it():
    enc = TableEncoder(infer_kinds(REAL)).fit(REAL)
    ordinal = enc.ordinal(REAL)
    assert np.isnan(ordinal[:, 1]).sum() == REAL["y"].isna().sum()
    assert np.isnan(ordinal[:, 2]).sum() == REAL["c"].isna().sum()
    emb = enc.embed(REAL)
    assert np.isfinite(emb).all() and abs(emb[:, 0].mean()) < 1e-9


def test_scalar_scores():
    assert ks_complement([1, 2, 3], [1, 2, 3]) == 1.0
    assert ks_complement([0, 1], [5, 6]) == 0.0
    assert tv_complement(["a", None], ["a", None]) == 1.0
    assert tv_complement(["a", "a"], ["b", "b"]) == 0.0


def test_identical_tables_score_one():
    shapes = column_shapes(REAL, REAL.copy())
    trends = pair_trends(REAL, REAL.copy())
    assert [r["score"] for r in shapes] == [1.0] * 6
    assert summarize(trends) == pytest.approx(1.0)
    assert {r["metric"] for r in trends} == {"CorrelationSimilarity", "ContingencySimilarity"}


def test_identical_and_copied_rows_are_undetectable():
    """Identical rows share a cross-validation fold, so copies cannot win by their twins."""
    assert 0.4 < c2st_auc(REAL, REAL.sample(frac=1, random_state=0)) < 0.6


def test_fresh_sample_scores_high_and_is_undetectable():
    assert summarize(column_shapes(REAL, FRESH)) > 0.9
    assert summarize(pair_trends(REAL, FRESH)) > 0.9
    assert 0.35 < c2st_auc(REAL, FRESH) < 0.65


def test_shift_and_shuffle_score_clearly_worse():
    shifted = FRESH.assign(x=FRESH["x"] + 1.0, when=FRESH["when"] + pd.Timedelta(days=120))
    shapes = {r["column"]: r["score"] for r in column_shapes(REAL, shifted)}
    assert shapes["x"] < 0.75 and shapes["when"] < 0.75 and shapes["c"] > 0.85
    assert c2st_auc(REAL, shifted) > 0.9
    mixed = shuffled(FRESH)
    assert summarize(column_shapes(REAL, mixed)) > 0.9  # marginals survive shuffling ...
    related = lambda out: [r["score"] for r in out if set(r["columns"]) <= {"x", "y", "c"}]  # noqa: E731
    for bad, good in zip(related(pair_trends(REAL, mixed)), related(pair_trends(REAL, FRESH))):
        assert bad < good - 0.25  # ... relations do not
    assert c2st_auc(REAL, mixed) > 0.75


def test_c2st_arrays_unchanged():
    rng = np.random.default_rng(0)
    assert c2st_auc(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 2) > 0.9
    with pytest.raises(ValueError, match="finite"):
        c2st_auc(np.full((10, 2), np.nan), np.zeros((10, 2)))


def test_tstr_equals_trtr_for_a_fresh_real_sample():
    holdout = draw(300, 2)
    clf = tstr(REAL, FRESH, holdout, "c")
    assert clf["task"] == "classification" and clf["trtr"]["roc_auc"] > 0.9
    assert abs(clf["gap"]["roc_auc"]) < 0.05
    reg = tstr(REAL, FRESH, holdout, "y")
    assert reg["task"] == "regression" and reg["trtr"]["r2"] > 0.7
    assert abs(reg["gap"]["r2"]) < 0.1
    broken = tstr(REAL, shuffled(FRESH), holdout, "c")
    assert broken["tstr"]["roc_auc"] < clf["tstr"]["roc_auc"] - 0.2


def test_tstr_single_class_synthetic_is_reported_not_raised():
    one_class = FRESH.assign(c="mid")
    out = tstr(REAL, one_class, draw(200, 3), "c")
    assert out["tstr"]["roc_auc"] is None and "class" in out["tstr"]["note"]


def test_precision_recall_sees_mode_collapse():
    good = precision_recall(REAL, FRESH)
    collapsed = precision_recall(REAL, FRESH[FRESH["c"] == "high"])
    assert good["precision"] > 0.8 and good["recall"] > 0.8 and good["coverage"] > 0.8
    assert collapsed["recall"] < good["recall"] - 0.3 and collapsed["coverage"] < 0.5
    assert collapsed["precision"] > 0.8  # the rows it makes are realistic
    assert 0.8 < good["alpha_precision"] <= 1.0


def test_evaluate_sections_follow_inputs():
    light = ("fidelity", "utility", "privacy")
    out = evaluate(REAL, FRESH, sections=light)
    assert "utility" not in out and "dcr" not in out["privacy"] and {"utility", "dcr"} <= set(out["skipped"])
    out = evaluate(REAL, FRESH, holdout=draw(200, 4), target="c", sections=light, dp={"epsilon": 1.0, "delta": 1e-5})
    assert {"utility", "fidelity", "privacy"} <= set(out)
    assert {"column_shapes", "pair_trends", "tstr_roc_auc", "dcr_share", "mia_auc", "dp_epsilon"} <= set(out["summary"])
    json.dumps(out, allow_nan=False)  # plain JSON, no NaN


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="lacks columns.*'y'"):
        evaluate(REAL, FRESH.drop(columns="y"))
    with pytest.raises(ValueError, match="no rows"):
        column_shapes(REAL, FRESH.iloc[:0])
    with pytest.raises(ValueError, match="target 'nope'"):
        evaluate(REAL, FRESH, target="nope")
    with pytest.raises(ValueError, match="DataFrame"):
        column_shapes(REAL.to_numpy(), FRESH)
    tiny = evaluate(REAL.iloc[:3], FRESH.iloc[:3], sections=("fidelity", "detection"))
    assert "cv=5" in tiny["skipped"]["detection"] and "column_shapes" in tiny["summary"]
