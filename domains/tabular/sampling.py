"""Drawing rows that meet conditions and constraints, without ever looping forever.

A condition on the synthesizer's ``condition_column`` is exact: the backbone is
conditioned on that class and every row it draws has it. Conditions on other columns, and
constraints, are met by *bounded rejection sampling*: each round draws a batch sized from
the acceptance rate seen so far, keeps the rows that qualify, and stops after ``max_tries``
rounds. What happens when rows are still missing then:

- conditions: no row at all -> ValueError (the condition is impossible or too rare for the
  model; condition on it exactly with ``condition_column``); some rows -> they are
  returned with a warning;
- constraints only: the remaining rows are repaired (see
  :mod:`synthkit.domains.tabular.constraints`), with a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from synthkit.domains.tabular.constraints import parse_constraint, valid_rows
from synthkit.domains.tabular.encoding import _bounds, _datetime_series, _numeric_series
from synthkit.domains.tabular.metadata import resolution_ns
from synthkit.sampling import default_size, draw_until

#: numbers and dates asked for in ``conditions`` match within this share of the column's range
NUMERIC_TOLERANCE = 0.01
#: largest batch drawn in one rejection round (rows)
MAX_BATCH = 200_000


class ConditionSampler:
    """Validated conditions of one ``sample`` call, and the rejection loop that meets them."""

    def __init__(self, synth, conditions, max_tries: int):
        self.synth = synth
        self.encoder = synth.encoder_
        self.metadata = synth.metadata_
        self.constraints = [parse_constraint(c) for c in synth.constraints_]
        self.max_tries = max_tries
        self.label = None  # class code of the condition column, if conditioned on
        self.filters = []  # (name, "code" | "near" | "missing", value, tolerance)
        self._check(conditions)

    # ------------------------------------------------------------------ conditions
    def _check(self, conditions) -> None:
        if conditions is None:
            return
        if not isinstance(conditions, dict):
            raise ValueError(f"conditions must be a dict {{column: value}}, got {type(conditions).__name__}.")
        columns = self.metadata["columns"]
        for name, value in conditions.items():
            if name not in columns:
                raise ValueError(f"conditions name column {name!r}, which the model does not have; "
                                 f"it was fitted with {list(columns)}.")
            if isinstance(value, (list, tuple, set, dict, np.ndarray, pd.Series)):
                raise ValueError(f"condition on {name!r} must be one value, got {type(value).__name__}.")
            col = columns[name]
            missing = value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))
            if missing and not col.get("missing"):
                raise ValueError(f"condition asks for missing values in column {name!r}, which has none.")
            kind = col["kind"]
            if kind == "id":
                raise ValueError(f"cannot condition on identifier column {name!r}; identifiers are generated fresh.")
            if kind == "categorical":
                cats = col["categories"]
                if missing:
                    code = len(cats)
                else:
                    code = next((j for j, c in enumerate(cats) if _same(c, value)), None)
                    if code is None:
                        raise ValueError(f"condition {name!r} = {value!r} is not one of its categories {cats[:20]}.")
                if name == self.synth.condition_column:
                    classes = np.asarray(self.synth.generator_.classes_)
                    if code not in classes:
                        raise ValueError(f"condition {name!r} = {value!r} never occurs in the training data.")
                    self.label = int(code)
                else:
                    self.filters.append((name, "code", code, None))
            elif missing:
                self.filters.append((name, "missing", None, None))
            else:
                lo, hi = _bounds(col)
                x = _as_number(value, name, col)
                if col["kind"] == "datetime":
                    step = resolution_ns(col.get("resolution", "ns"))
                    x = float(np.rint(x / step) * step)
                elif col.get("decimals") is not None:
                    x = float(np.round(x, int(col["decimals"])))
                if not lo <= x <= hi:
                    raise ValueError(f"condition {name!r} = {value!r} is outside the range seen in training "
                                     f"[{col['min']}, {col['max']}].")
                self.filters.append((name, "near", x, NUMERIC_TOLERANCE * (hi - lo)))

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, rng: np.random.Generator, *, id_start: int) -> pd.DataFrame:
        if n == 0 or (not self.filters and not self.constraints):
            return self._finish([self._draw(n, rng)], n, id_start)
        found = draw_until(n, lambda m, r: self._draw(m, rng), self._matches, max_rounds=self.max_tries,
                           size=lambda *counts: min(MAX_BATCH, default_size(*counts)))
        kept, n_kept, drawn, rejected = found.chunks, n - found.missing, found.drawn, found.rejected
        if n_kept < n and not self.filters:
            repaired = rejected
            for c in self.constraints:
                repaired = c.repair(repaired, self.metadata)
            repaired = repaired.iloc[: n - n_kept]
            warnings.warn(f"{len(repaired)} of {n} rows broke a constraint in every one of {self.max_tries} "
                          "rejection rounds and were repaired (clipped) instead.", UserWarning, stacklevel=3)
            kept.append(repaired)
            n_kept += len(repaired)
        if n_kept == 0:
            asked = ", ".join(f"{f[0]}" for f in self.filters)
            raise ValueError(f"no row met the conditions on {asked} (and the constraints) in {drawn} draws over "
                             f"{self.max_tries} rounds; the combination may be impossible or very rare for the "
                             "model. Raise max_tries, or fit with condition_column for exact class sampling.")
        if n_kept < n:
            warnings.warn(f"only {n_kept} of {n} rows met the conditions in {self.max_tries} rounds "
                          f"({drawn} draws); returning those. Raise max_tries for more.", UserWarning, stacklevel=3)
        return self._finish(kept, n_kept, id_start)

    def _draw(self, m: int, rng: np.random.Generator) -> pd.DataFrame:
        gen, cond = self.synth.generator_, self.synth.condition_column
        seed = int(rng.integers(2**31 - 1))
        labels = None
        if cond is None:
            Z = gen.sample(m, random_state=seed)
        elif self.label is not None:
            Z = gen.sample(m, y=self.label, random_state=seed)
            labels = {cond: np.full(m, self.label, dtype=np.int64)}
        else:
            Z, y = gen.sample(m, random_state=seed, return_y=True)
            labels = {cond: np.asarray(y, dtype=np.int64)}
        df = self.encoder.inverse_transform(Z, labels=labels)
        for name, how, value, _ in self.filters:  # snap near-matches of numbers to the value asked for
            if how == "near":
                self._snap(df, name, value)
        return df

    def _snap(self, df: pd.DataFrame, name: str, value: float) -> None:
        col = self.metadata["columns"][name]
        x = _numeric_or_ns(df, name, self.encoder)
        near = np.abs(x - value) <= NUMERIC_TOLERANCE * (_bounds(col)[1] - _bounds(col)[0])
        if near.any():
            exact = (_numeric_series if col["kind"] == "numerical" else _datetime_series)(
                np.array([value]), np.array([False]), col)
            df.loc[near, name] = exact.iloc[0]

    def _matches(self, df: pd.DataFrame) -> np.ndarray:
        ok = valid_rows(df, self.constraints, self.metadata)
        for name, how, value, _ in self.filters:
            if how == "code":
                ok &= self.encoder.codes(df[name], name) == value
            elif how == "missing":
                ok &= df[name].isna().to_numpy()
            else:
                ok &= _numeric_or_ns(df, name, self.encoder) == value
        return ok

    def _finish(self, parts, n: int, id_start: int) -> pd.DataFrame:
        df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
        df = df.iloc[:n]
        for name in self.encoder.columns_:
            if self.metadata["columns"][name]["kind"] == "id":
                df[name] = self.encoder.make_ids(name, len(df), id_start)
        return df


def _numeric_or_ns(df, name, encoder) -> np.ndarray:
    return encoder._numbers(df[name], name)


def _as_number(value, name, col) -> float:
    if col["kind"] == "datetime":
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ValueError(f"condition {name!r} = {value!r} is not a date.") from None
        if ts.tz is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return float(ts.value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"condition {name!r} = {value!r} must be a number.")
    return float(value)


def _same(category, value) -> bool:
    """Equality that keeps True apart from 1 and False from 0."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(category, bool) != isinstance(value, bool):
        return False
    return category == value
