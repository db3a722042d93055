"""synthkit.validation: one wording for scalar parameter checks (tests elsewhere match these words)."""

import re

import numpy as np
import pytest

from synthkit.validation import (
    check_count,
    check_counts,
    check_fraction,
    check_non_negative,
    check_positive,
)


@pytest.mark.parametrize(("value", "minimum", "words"), [
    (0, 1, "n_layers must be a positive integer, got 0."),
    (True, 1, "n_layers must be a positive integer, got True."),  # a bool is not a count
    (2.0, 1, "n_layers must be a positive integer, got 2.0."),
    (-1, 0, "n_layers must be a non-negative integer, got -1."),
    (1, 2, "n_layers must be an integer >= 2, got 1."),
])
def test_check_count_rejects_with_the_common_words(value, minimum, words):
    with pytest.raises(ValueError, match=f"^{words}$".replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        check_count("n_layers", value, minimum)


def test_check_count_accepts_numpy_integers_and_none_when_allowed():
    assert check_count("k", np.int64(3)) == 3 and type(check_count("k", np.int64(3))) is int
    assert check_count("k", None, none_ok=True) is None
    with pytest.raises(ValueError, match="k must be a positive integer or None"):
        check_count("k", 0, none_ok=True)


def test_float_checks_reject_nan_and_the_boundary():
    for check, bad in ((check_positive, 0.0), (check_non_negative, -1e-9), (check_fraction, 1.0)):
        with pytest.raises(ValueError, match="^x must be "):
            check("x", bad)
        with pytest.raises(ValueError, match="^x must be "):
            check("x", float("nan"))
    assert check_positive("x", 0.5) == 0.5 and check_non_negative("x", 0) == 0 and check_fraction("x", 0.2) == 0.2


def test_numbers_refuse_bools_and_non_numbers_with_a_value_error():
    for check in (check_positive, check_non_negative, check_fraction):
        for bad in (True, "0.5", None):
            with pytest.raises(ValueError, match="^x must be "):
                check("x", bad)
    assert check_positive("x", np.float32(0.5)) == np.float32(0.5)


def test_finite_and_unit_words():
    with pytest.raises(ValueError, match=r"^epsilon must be a finite positive number, got inf\.$"):
        check_positive("epsilon", float("inf"), finite=True)
    assert check_positive("epsilon", float("inf")) == float("inf")  # infinity is positive unless finite=True
    with pytest.raises(ValueError, match=r"^alpha must be a finite non-negative number, got nan\.$"):
        check_non_negative("alpha", float("nan"), finite=True)
    with pytest.raises(ValueError, match=r"^max_time must be positive \(seconds\) or None, got 0\.$"):
        check_positive("max_time", 0, none_ok=True, unit="seconds")
    with pytest.raises(ValueError, match=r"^sample_rate must be an integer >= 4000 \(Hz\), got 8000\.0\.$"):
        check_count("sample_rate", 8000.0, 4000, unit="Hz")


@pytest.mark.parametrize(("kwargs", "interval"), [
    ({}, "(0, 1)"), ({"one_ok": True}, "(0, 1]"), ({"zero_ok": True}, "[0, 1)"),
    ({"zero_ok": True, "one_ok": True}, "[0, 1]"),
])
def test_check_fraction_bounds(kwargs, interval):
    low, high = kwargs.get("zero_ok", False), kwargs.get("one_ok", False)
    for value, ok in ((0, low), (1, high), (0.5, True), (-0.1, False), (1.1, False)):
        if ok:
            assert check_fraction("p", value, **kwargs) == value
        else:
            with pytest.raises(ValueError, match=f"^p must be in {re.escape(interval)}, got "):
                check_fraction("p", value, **kwargs)
    assert check_fraction("p", None, none_ok=True, **kwargs) is None


def test_check_counts():
    assert check_counts("widths", [np.int64(3), 4]) == (3, 4)
    for bad in ((), (3, 0), (3, True), (3, 2.0), "34", 3, None):
        with pytest.raises(ValueError, match=r"^widths must be a non-empty sequence of positive integers, got "):
            check_counts("widths", bad)
    with pytest.raises(ValueError, match=r"^sizes must be a non-empty sequence of integers >= 16, got \[8\]\.$"):
        check_counts("sizes", [8], 16)
