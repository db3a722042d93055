"""synthkit.validation: one wording for scalar parameter checks (tests elsewhere match these words)."""

import numpy as np
import pytest

from synthkit.validation import (
    check_count,
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
