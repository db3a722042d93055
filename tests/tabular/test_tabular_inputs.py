"""Bad input is rejected at the boundary with a ValueError that names the column."""

import numpy as np
import pandas as pd
import pytest

from synthkit.domains.tabular import TabularSynthesizer, parse_constraint
from synthkit.domains.tabular.constraints import Inequality, Range


def _fit(df, **kw):
    return TabularSynthesizer("vae", backbone_params={"hidden_dims": [8], "max_epochs": 1}, **kw).fit(df)


@pytest.mark.parametrize("df, match", [
    (pd.DataFrame({"a": pd.Series([], dtype=float)}), "empty"),
    (pd.DataFrame(index=range(3)), "no columns"),
    (pd.DataFrame({"a": [1.0], "b": ["x"]}), "single row"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "gone": [np.nan] * 3}), "'gone' is entirely missing"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "tags": [["x"], ["y"], ["x", "y"]]}), "'tags' holds unhashable"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "mix": ["x", 2, 3.5]}), "'mix' mixes value types"),
    (pd.DataFrame({"a": [1.0, 2.0, np.inf]}), "'a' holds infinite"),
    (pd.DataFrame({0: [1.0, 2.0], 1: [3.0, 4.0]}), "column names must be strings"),
    (pd.DataFrame({"a": [1.0, 2.0, 3.0], "d": pd.to_timedelta([1, 2, 3], unit="s")}), "'d' holds time spans"),
])
def test_bad_frames(df, match):
    with pytest.raises(ValueError, match=match):
        _fit(df)


def test_not_a_frame():
    with pytest.raises(ValueError, match="DataFrame"):
        _fit(np.zeros((5, 2)))


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "c": rng.choice(["a", "b"], 40)})
    return df, _fit(df, random_state=0, condition_column="c")


def test_columns_missing_at_sample_time(small):
    df, synth = small
    with pytest.raises(ValueError, match="column 'z'"):
        synth.sample(5, conditions={"z": 1})
    with pytest.raises(ValueError, match="'c' = 'q' is not one of its categories"):
        synth.sample(5, conditions={"c": "q"})
    with pytest.raises(ValueError, match="'x' = 99 is outside the range"):
        synth.sample(5, conditions={"x": 99})
    with pytest.raises(ValueError, match="'x'.*one value"):
        synth.sample(5, conditions={"x": [1, 2]})
    with pytest.raises(ValueError, match="missing values in column 'x'"):
        synth.sample(5, conditions={"x": None})
    with pytest.raises(ValueError, match="'x' is missing"):
        synth.encoder_.transform(df.drop(columns=["x"]))
    with pytest.raises(ValueError, match="non-negative integer"):
        synth.sample(-1)
    with pytest.raises(ValueError, match="max_tries"):
        synth.sample(5, max_tries=0)
    assert len(synth.sample(0)) == 0 and list(synth.sample(0).columns) == ["x", "c"]


def test_bad_parameters(small):
    df, _ = small
    with pytest.raises(ValueError, match="unknown backbone 'nope'"):
        TabularSynthesizer("nope").fit(df)
    with pytest.raises(ValueError, match=r"backbone_params \['colour'\] are not parameters of VAE"):
        TabularSynthesizer("vae", backbone_params={"colour": 1}).fit(df)
    with pytest.raises(ValueError, match="condition_column 'q'"):
        _fit(df, condition_column="q")
    with pytest.raises(ValueError, match="condition_column 'x' must be categorical"):
        _fit(df, condition_column="x")
    with pytest.raises(ValueError, match="constraint 'x <= y' names column 'y'"):
        _fit(df, constraints=["x <= y"])
    with pytest.raises(ValueError, match="'c' is categorical"):
        _fit(df, constraints=["x <= c"])
    with pytest.raises(ValueError, match="dp epsilon"):
        _fit(df, dp={"epsilon": -1})
    with pytest.raises(ValueError, match="dp is set but column 'x' has no public metadata"):
        _fit(df, dp={"epsilon": 1.0})
    with pytest.raises(ValueError, match="categorical_encoding"):
        _fit(df, categorical_encoding="bits")


def test_constraint_parsing():
    assert parse_constraint("a <= b") == Inequality("a", "b")
    assert parse_constraint("b >= a") == Inequality("a", "b")
    assert parse_constraint("a < b") == Inequality("a", "b", strict=True)
    assert parse_constraint("0 <= Flipper Length (mm) <= 250") == Range("Flipper Length (mm)", 0, 250)
    assert parse_constraint("x >= 1.5") == Range("x", low=1.5)
    assert parse_constraint("`x` < 3") == Range("x", high=3, strict=True)
    assert parse_constraint("visit >= '2020-01-01'") == Range("visit", low="2020-01-01")
    assert parse_constraint({"type": "inequality", "low": "a", "high": "b"}) == Inequality("a", "b")
    for bad in ("a", "a <= b >= c", "1 <= 2", "a <= b <= c <= d", {"type": "sum"}, 3):
        with pytest.raises(ValueError):
            parse_constraint(bad)
