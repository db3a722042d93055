"""Rules every generated row must obey: value ranges and inequalities between columns.

Constraints are given as plain data (so a saved model keeps them), as strings or dicts::

    "0 <= age <= 120"            Range("age", 0, 120)
    "income >= 0"                Range("income", low=0)
    "start_date <= end_date"     Inequality("start_date", "end_date")
    "a < b"                      Inequality("a", "b", strict=True)
    {"type": "range", "column": "age", "low": 0, "high": 120}
    {"type": "inequality", "low": "start_date", "high": "end_date", "strict": False}

Column names may contain spaces (``"Flipper Length (mm) <= 250"``) or be wrapped in
backticks; a date literal is written in quotes (``"visit >= '2020-01-01'"``). Both sides
must be numerical or datetime columns. A cell that is missing satisfies every constraint.

Enforcement (:class:`TabularSynthesizer`): the training data must satisfy every
constraint (checked in ``fit``). At sampling, rows that break one are *rejected* and
redrawn, for a bounded number of rounds; if rows are still missing after that (the model
rarely obeys the rule) the remaining rejected rows are *repaired* -- a Range clips the
value into the range, ``a <= b`` sets ``b`` to ``a`` -- and a warning says how many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthkit.domains.tabular.metadata import datetime_ns

_OPS = re.compile(r"(<=|>=|<|>)")


@dataclass(frozen=True)
class Range:
    """``low <= column <= high`` (either bound may be None)."""

    column: str
    low: float | str | None = None
    high: float | str | None = None
    strict: bool = False

    @property
    def columns(self):
        return (self.column,)

    def to_dict(self):
        return {"type": "range", "column": self.column, "low": self.low, "high": self.high, "strict": self.strict}

    def __str__(self):
        op = "<" if self.strict else "<="
        lo = "" if self.low is None else f"{self.low!r} {op} "
        hi = "" if self.high is None else f" {op} {self.high!r}"
        return f"{lo}{self.column}{hi}"

    def is_valid(self, df, metadata) -> np.ndarray:
        x = comparable(df, self.column, metadata)
        ok = np.ones(len(x), dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                lo = _literal(self.low, self.column, metadata)
                ok &= (x > lo) if self.strict else (x >= lo)
            if self.high is not None:
                hi = _literal(self.high, self.column, metadata)
                ok &= (x < hi) if self.strict else (x <= hi)
        return ok | np.isnan(x)

    def repair(self, df: pd.DataFrame, metadata) -> pd.DataFrame:
        col = metadata["columns"][self.column]
        if col["kind"] != "numerical":
            return df.loc[self.is_valid(df, metadata)]
        df = df.copy()
        df[self.column] = df[self.column].clip(lower=self.low, upper=self.high)
        return df.loc[self.is_valid(df, metadata)]  # strict bounds cannot be met by clipping


@dataclass(frozen=True)
class Inequality:
    """``low_column <= high_column`` (``<`` if strict)."""

    low: str
    high: str
    strict: bool = False

    @property
    def columns(self):
        return (self.low, self.high)

    def to_dict(self):
        return {"type": "inequality", "low": self.low, "high": self.high, "strict": self.strict}

    def __str__(self):
        return f"{self.low} {'<' if self.strict else '<='} {self.high}"

    def is_valid(self, df, metadata) -> np.ndarray:
        a, b = comparable(df, self.low, metadata), comparable(df, self.high, metadata)
        with np.errstate(invalid="ignore"):
            ok = (a < b) if self.strict else (a <= b)
        return ok | np.isnan(a) | np.isnan(b)

    def repair(self, df: pd.DataFrame, metadata) -> pd.DataFrame:
        md = metadata["columns"]
        same = md[self.low]["kind"] == md[self.high]["kind"] and md[self.low].get("format") == md[self.high].get("format")
        bad = ~self.is_valid(df, metadata)
        if self.strict or not same:
            return df.loc[~bad]
        df = df.copy()
        df.loc[bad, self.high] = df.loc[bad, self.low].to_numpy()
        return df


Constraint = Range | Inequality


def parse_constraint(spec) -> Constraint:
    """A :class:`Range` or :class:`Inequality` from a string or a dict (see module docstring)."""
    if isinstance(spec, (Range, Inequality)):
        return spec
    if isinstance(spec, dict):
        kind = spec.get("type")
        try:
            if kind == "range":
                return Range(spec["column"], spec.get("low"), spec.get("high"), bool(spec.get("strict", False)))
            if kind == "inequality":
                return Inequality(spec["low"], spec["high"], bool(spec.get("strict", False)))
        except KeyError as err:
            raise ValueError(f"constraint {spec!r} lacks the key {err.args[0]!r}.") from None
        raise ValueError(f"constraint {spec!r}: 'type' must be 'range' or 'inequality'.")
    if not isinstance(spec, str):
        raise ValueError(f"a constraint is a string like 'a <= b' or a dict, got {spec!r}.")
    parts = [p.strip() for p in _OPS.split(spec)]
    terms, ops = parts[::2], parts[1::2]
    if len(ops) not in (1, 2) or any(not t for t in terms):
        raise ValueError(f"cannot read constraint {spec!r}; write e.g. 'a <= b', '0 <= x <= 10' or 'x >= 0'.")
    if ">" in "".join(ops):  # rewrite a >= b >= c as c <= b <= a
        if any(o in ("<", "<=") for o in ops):
            raise ValueError(f"constraint {spec!r} mixes < and >.")
        terms, ops = terms[::-1], [o.replace(">", "<") for o in ops[::-1]]
    strict = any(o == "<" for o in ops)
    values = [_term(t) for t in terms]
    is_col = [isinstance(v, _Col) for v in values]
    if len(values) == 3:
        if is_col != [False, True, False]:
            raise ValueError(f"constraint {spec!r}: a chained range must be 'low <= column <= high'.")
        return Range(values[1].name, values[0], values[2], strict)
    if all(is_col):
        return Inequality(values[0].name, values[1].name, strict)
    if is_col == [True, False]:
        return Range(values[0].name, high=values[1], strict=strict)
    if is_col == [False, True]:
        return Range(values[1].name, low=values[0], strict=strict)
    raise ValueError(f"constraint {spec!r} names no column.")


@dataclass(frozen=True)
class _Col:
    name: str


def _term(token: str):
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    if len(token) >= 2 and token[0] == token[-1] == "`":
        return _Col(token[1:-1])
    try:
        value = float(token)
    except ValueError:
        return _Col(token)
    return int(value) if value.is_integer() and "." not in token and "e" not in token.lower() else value


def check_constraints(constraints, metadata) -> list[Constraint]:
    """Parse ``constraints`` and check that they name numerical or datetime columns."""
    parsed = [parse_constraint(c) for c in (constraints or [])]
    cols = metadata["columns"]
    for c in parsed:
        for name in c.columns:
            if name not in cols:
                raise ValueError(f"constraint '{c}' names column {name!r}, which is not in the data.")
            if cols[name]["kind"] not in ("numerical", "datetime"):
                raise ValueError(f"constraint '{c}' needs numerical or datetime columns; {name!r} is {cols[name]['kind']}.")
        if isinstance(c, Inequality) and cols[c.low]["kind"] != cols[c.high]["kind"]:
            raise ValueError(f"constraint '{c}' compares a {cols[c.low]['kind']} column with a {cols[c.high]['kind']} one.")
        if isinstance(c, Range):
            for bound in (c.low, c.high):
                if bound is not None:
                    _literal(bound, c.column, metadata)
    return parsed


def valid_rows(df: pd.DataFrame, constraints, metadata) -> np.ndarray:
    ok = np.ones(len(df), dtype=bool)
    for c in constraints:
        ok &= c.is_valid(df, metadata)
    return ok


def comparable(df: pd.DataFrame, name: str, metadata) -> np.ndarray:
    """Float values of a column for comparisons (nanoseconds for dates; NaN if missing)."""
    col = metadata["columns"][name]
    s = df[name]
    if col["kind"] == "datetime":
        out = np.full(len(s), np.nan)
        present = s.notna().to_numpy()
        out[present] = datetime_ns(s[present], col, name).astype(np.float64)
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _literal(value, name, metadata) -> float:
    if metadata["columns"][name]["kind"] == "datetime":
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ValueError(f"constraint bound {value!r} for date column {name!r} is not a date.") from None
        if ts.tz is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return float(ts.value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"constraint bound {value!r} for column {name!r} is not a number.") from None
