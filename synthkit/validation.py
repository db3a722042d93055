"""Checks of scalar parameters, one wording for the whole project.

Each check raises a ``ValueError`` naming the parameter and the value received, with the
same words everywhere (``"n_layers must be a positive integer, got 0."``), and returns the
value unchanged (as a Python ``int`` for counts). Booleans are not counts (``True`` is an
``int`` in Python but never a meant layer count).

Why not scikit-learn's ``_parameter_constraints``: its messages read differently ("The
'n_layers' parameter of X must be an int in the range [1, inf)"), which the CLI and the tests
rely on not to change, it validates only inside ``fit`` of a ``BaseEstimator``, while these
checks also guard plain functions (``draw_until``, ``sample``, DP-SGD), and the module is
private (``sklearn.utils._param_validation``), so it may change without notice.
"""

from __future__ import annotations

import numbers


def check_count(name: str, value, minimum: int = 1, *, none_ok: bool = False):
    """``value`` as an ``int`` when it is an integer (not a bool) ``>= minimum``; ``None``
    passes when ``none_ok``. The message says "positive" for ``minimum=1``, "non-negative"
    for ``0`` and ">= minimum" otherwise."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{name} must be {kind}{' or None' if none_ok else ''}, got {value!r}.")
    return int(value)


def check_positive(name: str, value, *, none_ok: bool = False):
    """``value`` when ``value > 0`` (NaN fails); ``None`` passes when ``none_ok``."""
    if value is None and none_ok:
        return None
    if not value > 0:
        raise ValueError(f"{name} must be positive{' or None' if none_ok else ''}, got {value!r}.")
    return value


def check_non_negative(name: str, value, *, none_ok: bool = False):
    """``value`` when ``value >= 0`` (NaN fails); ``None`` passes when ``none_ok``."""
    if value is None and none_ok:
        return None
    if not value >= 0:
        raise ValueError(f"{name} must be non-negative{' or None' if none_ok else ''}, got {value!r}.")
    return value


def check_fraction(name: str, value):
    """``value`` when strictly between 0 and 1 (a probability, a held-out share)."""
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}.")
    return value
