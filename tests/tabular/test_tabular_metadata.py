"""Metadata inference: kinds, bounds, rounding, missing values, overrides, public metadata for DP."""

import json

import pytest

from synthkit.domains.tabular.metadata import check_public_metadata, infer_metadata


def test_infers_each_kind(mixed):
    cols = infer_metadata(mixed)["columns"]
    kinds = {name: c["kind"] for name, c in cols.items()}
    assert kinds == {
        "count": "numerical", "f32": "numerical", "nullable_int": "numerical", "flag": "categorical",
        "maybe": "categorical", "grade": "categorical", "when": "datetime", "when_tz": "datetime",
        "day": "datetime", "user_id": "id", "token": "id", "zeros": "numerical", "price": "numerical",
        "city": "categorical", "constant": "categorical",
    }
    assert cols["count"]["decimals"] == 0 and cols["price"]["decimals"] == 2
    assert cols["price"]["missing"] and cols["city"]["missing"] and not cols["count"]["missing"]
    assert cols["grade"]["categories"] == ["x", "y", "z", "w"]  # unused categories of a Categorical are kept
    assert cols["day"]["format"] == "%Y-%m-%d" and cols["day"]["resolution"] == "D"
    assert cols["when_tz"]["tz"] == "UTC"
    assert cols["count"]["min"] == mixed["count"].min() and cols["count"]["max"] == mixed["count"].max()
    json.dumps(cols)  # saved with the model: must be plain JSON


def test_low_cardinality_ints_are_categories(penguins):
    cols = infer_metadata(penguins)["columns"]
    assert cols["year"]["kind"] == "categorical" and cols["year"]["categories"] == [2007, 2008, 2009]
    assert cols["sex"]["missing"] and cols["bill_length_mm"]["decimals"] == 1


def test_overrides_win_short_and_long_form(penguins):
    md = infer_metadata(penguins, {"columns": {"year": "numerical", "island": {"kind": "categorical",
                                                                                "categories": ["Biscoe", "Dream", "Torgersen", "Other"]}}})
    assert md["columns"]["year"]["kind"] == "numerical" and md["columns"]["year"]["min"] == 2007
    assert md["columns"]["island"]["categories"][-1] == "Other"
    with pytest.raises(ValueError, match="'nope'"):
        infer_metadata(penguins, {"columns": {"nope": "numerical"}})
    with pytest.raises(ValueError, match="'year'.*unknown kind"):
        infer_metadata(penguins, {"columns": {"year": "colour"}})


def test_public_metadata_needs_every_data_dependent_field(penguins):
    df = penguins[["species", "body_mass_g"]]
    with pytest.raises(ValueError, match="'species'"):
        check_public_metadata({"columns": {"body_mass_g": {"kind": "numerical", "min": 0, "max": 8000}}}, df)
    with pytest.raises(ValueError, match="'body_mass_g'.*lacks"):
        check_public_metadata({"columns": {"species": {"kind": "categorical", "categories": ["Adelie"]},
                                           "body_mass_g": {"kind": "numerical"}}}, df)
    public = {"species": {"kind": "categorical", "categories": ["Adelie", "Chinstrap", "Gentoo"]},
              "body_mass_g": {"kind": "numerical", "min": 2000, "max": 7000}}
    with pytest.raises(ValueError, match="'body_mass_g' has missing values"):
        check_public_metadata({"columns": public}, df)
    public["body_mass_g"]["missing"] = True
    md = check_public_metadata({"columns": public}, df)
    assert md["columns"]["body_mass_g"]["min"] == 2000  # never the private minimum (2700)


def test_metadata_of_a_frame_is_independent_of_row_order(penguins):
    a = infer_metadata(penguins)
    b = infer_metadata(penguins.sample(frac=1, random_state=0))
    assert a == b
