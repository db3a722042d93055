"""Checks of scalar parameters, one wording for the whole project.

Each check raises a ``ValueError`` naming the parameter and the value received, with the
same words everywhere (``"n_layers must be a positive integer, got 0."``), and returns the
value unchanged (as a Python ``int`` for counts, a ``tuple`` of ``int`` for
:func:`check_counts`). Booleans are neither counts nor numbers here (``True`` is an ``int``
in Python but never a meant layer count or learning rate), and a non-number fails with the
same ``ValueError`` instead of a ``TypeError`` from the comparison. ``unit`` adds the unit
in parentheses (``"max_time must be positive (seconds) or None, got 0."``).

Why not scikit-learn's ``_parameter_constraints``: its messages read differently ("The
'n_layers' parameter of X must be an int in the range [1, inf)"), which the CLI and the tests
rely on not to change, it validates only inside ``fit`` of a ``BaseEstimator``, while these
checks also guard plain functions (``draw_until``, ``sample``, DP-SGD), and the module is
private (``sklearn.utils._param_validation``), so it may change without notice.
"""

from __future__ import annotations

import math
import numbers


def _is_count(value, minimum: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


def _count_words(minimum: int) -> str:
    return {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")


def _is_number(value, finite: bool) -> bool:
    return (not isinstance(value, bool) and isinstance(value, numbers.Real)
            and not (finite and not math.isfinite(value)))


def _fail(name: str, words: str, value, unit: str, none_ok: bool):
    unit = f" ({unit})" if unit else ""
    raise ValueError(f"{name} must be {words}{unit}{' or None' if none_ok else ''}, got {value!r}.")


def check_count(name: str, value, minimum: int = 1, *, none_ok: bool = False, unit: str = ""):
    """``value`` as an ``int`` when it is an integer (not a bool) ``>= minimum``; ``None``
    passes when ``none_ok``. The message says "positive" for ``minimum=1``, "non-negative"
    for ``0`` and ">= minimum" otherwise."""
    if value is None and none_ok:
        return None
    if not _is_count(value, minimum):
        _fail(name, _count_words(minimum), value, unit, none_ok)
    return int(value)


def check_counts(name: str, values, minimum: int = 1):
    """``values`` as a tuple of ``int`` when it is a non-empty sequence (not a string) of
    integers ``>= minimum`` (layer widths, channel counts, dilations)."""
    ok = (not isinstance(values, (str, bytes)) and hasattr(values, "__len__") and hasattr(values, "__iter__")
          and len(values) > 0 and all(_is_count(v, minimum) for v in values))
    if not ok:
        words = {1: "positive integers", 0: "non-negative integers"}.get(minimum, f"integers >= {minimum}")
        raise ValueError(f"{name} must be a non-empty sequence of {words}, got {values!r}.")
    return tuple(int(v) for v in values)


def check_positive(name: str, value, *, none_ok: bool = False, finite: bool = False, unit: str = ""):
    """``value`` when it is a real number (not a bool) ``> 0`` (NaN fails; infinity too when
    ``finite``); ``None`` passes when ``none_ok``."""
    if value is None and none_ok:
        return None
    if not (_is_number(value, finite) and value > 0):
        _fail(name, "a finite positive number" if finite else "positive", value, unit, none_ok)
    return value


def check_non_negative(name: str, value, *, none_ok: bool = False, finite: bool = False, unit: str = ""):
    """``value`` when it is a real number (not a bool) ``>= 0`` (NaN fails; infinity too when
    ``finite``); ``None`` passes when ``none_ok``."""
    if value is None and none_ok:
        return None
    if not (_is_number(value, finite) and value >= 0):
        _fail(name, "a finite non-negative number" if finite else "non-negative", value, unit, none_ok)
    return value


def check_fraction(name: str, value, *, zero_ok: bool = False, one_ok: bool = False, none_ok: bool = False):
    """``value`` when it is a real number in (0, 1) (a probability, a held-out share); the
    bounds belong to the interval when ``zero_ok`` / ``one_ok`` (``[0, 1]``, ``(0, 1]``)."""
    if value is None and none_ok:
        return None
    if not (_is_number(value, False) and (0 <= value if zero_ok else 0 < value)
            and (value <= 1 if one_ok else value < 1)):
        interval = f"{'[' if zero_ok else '('}0, 1{']' if one_ok else ')'}"
        _fail(name, f"in {interval}", value, "", none_ok)
    return value
