"""``TableEncoder``: a DataFrame to a float matrix a backbone can learn, and back.

Each column becomes zero or more *model columns* (its block):

=============  ==========================================================================
kind           block
=============  ==========================================================================
numerical      one value column (quantile-normal, or minmax with public bounds); none
               if the column is constant. Plus a missingness indicator if it has gaps.
datetime       as numerical, on nanoseconds since the epoch.
categorical    one-hot (one 0/1 column for two categories) or one integer-code column
               (``categorical="codes"``); a missing value is a category of its own.
               A single-category column needs no model column.
id             none: fresh identifiers are generated on the way back.
=============  ==========================================================================

A missing number is replaced in model space by an independent N(0, 1) draw and flagged in
its indicator, which the backbone learns jointly with everything else, so missingness is
reproduced at its real rate and with its real pattern across columns.

``inverse_transform`` returns only valid values: categories by argmax, numbers clipped to
the training range and rounded to the column's decimals, integers as integers, dates at the
column's resolution, and every column in its original dtype.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from synthkit.domains.tabular import transformers as T
from synthkit.domains.tabular.metadata import datetime_ns, infer_metadata, resolution_ns

CATEGORICAL = ("onehot", "codes")
NUMERICAL = ("quantile", "minmax")


class TableEncoder(TransformerMixin, BaseEstimator):
    """Reversible encoding of a mixed-type table for generative training.

    Args:
        metadata: column metadata (see :mod:`synthkit.domains.tabular.metadata`); inferred
            from the data for columns it does not describe.
        categorical: ``"onehot"`` or ``"codes"`` (integer codes for backbones that model
            categories themselves; ``categorical_features_`` lists those model columns).
        numerical: ``"quantile"`` (Gaussian quantile transform) or ``"minmax"`` (affine map of
            the metadata's ``min``/``max`` to [-1, 1]; reads nothing from the data).
        n_quantiles: knots of the quantile transform (at most one per row).
        exclude: columns left out of the model matrix (e.g. the condition column; they are
            given back to ``inverse_transform`` as ``labels``).
        random_state: seed of the dequantization and missing-value draws in ``transform``.

    Example:
        >>> df = pd.DataFrame({"x": [0.5, 1.5, None, 3.0], "c": ["a", "b", "a", "c"]})
        >>> enc = TableEncoder(random_state=0).fit(df)
        >>> Z = enc.transform(df)
        >>> Z.shape, enc.get_feature_names_out().tolist()
        ((4, 5), ['x', 'x__missing', 'c==a', 'c==b', 'c==c'])
        >>> enc.inverse_transform(Z).equals(df)
        True
    """

    def __init__(self, *, metadata=None, categorical="onehot", numerical="quantile", n_quantiles=1000,
                 exclude=(), random_state=None):
        self.metadata = metadata
        self.categorical = categorical
        self.numerical = numerical
        self.n_quantiles = n_quantiles
        self.exclude = exclude
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame, y=None):
        if self.categorical not in CATEGORICAL:
            raise ValueError(f"categorical must be one of {CATEGORICAL}, got {self.categorical!r}.")
        if self.numerical not in NUMERICAL:
            raise ValueError(f"numerical must be one of {NUMERICAL}, got {self.numerical!r}.")
        md = self.metadata
        complete = isinstance(md, dict) and set(md.get("columns", {})) == set(df.columns) and all(
            isinstance(c, dict) and "dtype" in c for c in md["columns"].values())
        self.metadata_ = copy.deepcopy(md) if complete else infer_metadata(df, md)
        self.columns_ = list(df.columns)
        unknown = [c for c in self.exclude if c not in self.columns_]
        if unknown:
            raise ValueError(f"exclude names column {unknown[0]!r}, which is not in the data.")
        self.quantiles_ = {}
        if self.numerical == "quantile":
            for name in self._continuous():
                x = self._numbers(df[name], name)
                x = x[~np.isnan(x)]
                self.quantiles_[name] = T.fit_quantiles(x, self.n_quantiles)
        self.layout_ = self._layout()
        self.n_features_out_ = sum(b["width"] for b in self.layout_)
        starts = np.cumsum([0] + [b["width"] for b in self.layout_])
        self.categorical_features_ = [int(s) for b, s in zip(self.layout_, starts) if b["codes"]]
        return self

    def _continuous(self):
        return [n for n in self.columns_ if self._col(n)["kind"] in ("numerical", "datetime") and n not in self.exclude]

    def _col(self, name) -> dict:
        return self.metadata_["columns"][name]

    def _layout(self) -> list[dict]:
        """Model-space blocks: column, role (value / missing / category), width, codes?"""
        codes = self.categorical == "codes"
        blocks = []
        for name in self.columns_:
            col = self._col(name)
            if name in self.exclude or col["kind"] == "id":
                continue
            if col["kind"] == "categorical":
                k = self.n_categories(name)
                if k > 1:
                    blocks.append(dict(column=name, role="category", k=k, codes=codes,
                                       width=1 if codes else T.one_hot_width(k)))
                continue
            if not self._constant(name):
                blocks.append(dict(column=name, role="value", k=0, codes=False, width=1))
            if col.get("missing"):
                blocks.append(dict(column=name, role="missing", k=2, codes=codes, width=1))
        return blocks

    def _constant(self, name) -> bool:
        col = self._col(name)
        if self.numerical == "quantile":
            return len(np.unique(self.quantiles_[name])) < 2
        return _bounds(col)[0] == _bounds(col)[1]

    def n_categories(self, name) -> int:
        """Categories of a categorical column, counting 'missing' as one."""
        col = self._col(name)
        return len(col["categories"]) + bool(col.get("missing"))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "layout_")
        names = []
        for b in self.layout_:
            col, name = self._col(b["column"]), b["column"]
            if b["role"] == "value":
                names.append(name)
            elif b["role"] == "missing":
                names.append(f"{name}__missing")
            elif b["codes"]:
                names.append(f"{name}__code")
            elif b["k"] == 2:
                names.append(f"{name}=={_label(col, 1)}")
            else:
                names.extend(f"{name}=={_label(col, j)}" for j in range(b["k"]))
        return np.asarray(names, dtype=object)

    # ------------------------------------------------------------------ transform
    def transform(self, df: pd.DataFrame, *, random_state=None) -> np.ndarray:
        """Rows of ``df`` as a float matrix (n, ``n_features_out_``)."""
        check_is_fitted(self, "layout_")
        self._check_columns(df)
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        n = len(df)
        out = np.empty((n, self.n_features_out_))
        j = 0
        for b in self.layout_:
            name = b["column"]
            if b["role"] == "category":
                codes = self.codes(df[name], name)
                block = codes[:, None].astype(float) if b["codes"] else T.one_hot(codes, b["k"])
            else:
                x = self._numbers(df[name], name)
                missing = np.isnan(x)
                if b["role"] == "missing":
                    block = missing.astype(float)[:, None]
                else:
                    z = self._forward(name, np.where(missing, 0.0, x), rng)
                    fill = rng.standard_normal(n) if self.numerical == "quantile" else rng.uniform(-1.0, 1.0, n)
                    block = np.where(missing, fill, z)[:, None]
            out[:, j : j + b["width"]] = block
            j += b["width"]
        return out

    def _forward(self, name, x, rng):
        if self.numerical == "quantile":
            return T.quantile_forward(x, self.quantiles_[name], rng)
        lo, hi = _bounds(self._col(name))
        return T.minmax_forward(x, lo, hi)

    def _inverse(self, name, z):
        if self.numerical == "quantile":
            return T.quantile_inverse(z, self.quantiles_[name])
        lo, hi = _bounds(self._col(name))
        return T.minmax_inverse(z, lo, hi)

    def _check_columns(self, df):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"expected a pandas DataFrame, got {type(df).__name__}.")
        missing = [c for c in self.columns_ if c not in df.columns and c not in self.exclude]
        if missing:
            raise ValueError(f"column {missing[0]!r} is missing from the data; the model was fitted "
                             f"with columns {self.columns_}.")

    def _numbers(self, s: pd.Series, name: str) -> np.ndarray:
        """Float values of a numerical or datetime column (NaN where missing)."""
        col = self._col(name)
        if col["kind"] == "datetime":
            present = s.notna().to_numpy()
            x = np.full(len(s), np.nan)
            x[present] = datetime_ns(s[present], col, name).astype(np.float64)
            return x
        try:
            x = pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (ValueError, TypeError):
            raise ValueError(f"column {name!r} must hold numbers; found e.g. "
                             f"{s[pd.to_numeric(s, errors='coerce').isna() & s.notna()].iloc[0]!r}.") from None
        if np.isinf(x).any():
            raise ValueError(f"column {name!r} holds infinite values.")
        return x

    def codes(self, s: pd.Series, name: str) -> np.ndarray:
        """Category codes of a categorical column (missing -> the last code)."""
        col = self._col(name)
        cats = col["categories"]
        missing = s.isna().to_numpy()
        codes = pd.Index(cats, dtype=object).get_indexer(s.to_numpy(dtype=object)).astype(np.int64)
        codes[missing] = -1
        unknown = (codes < 0) & ~missing
        if unknown.any():
            raise ValueError(f"column {name!r} holds {s[unknown].iloc[0]!r}, which is not one of its "
                             f"categories {cats[:20]}{' ...' if len(cats) > 20 else ''}.")
        if missing.any():
            if not col.get("missing"):
                raise ValueError(f"column {name!r} has missing values but its metadata says 'missing': false.")
            codes[missing] = len(cats)
        return codes

    # ------------------------------------------------------------------ inverse
    def inverse_transform(self, Z: np.ndarray, *, labels: dict | None = None, id_start: int = 0) -> pd.DataFrame:
        """Model-space rows back to a DataFrame with the original columns and dtypes.

        Args:
            Z: array (n, ``n_features_out_``).
            labels: ``{column: codes}`` for excluded categorical columns (e.g. the condition).
            id_start: offset of the generated identifiers (distinct batches use distinct offsets).
        """
        check_is_fitted(self, "layout_")
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.n_features_out_:
            raise ValueError(f"Z must have shape (n, {self.n_features_out_}), got {Z.shape}.")
        Z = np.nan_to_num(Z, nan=0.0)  # a diverged backbone must still give valid values
        n = len(Z)
        values, missing, codes = {}, {}, dict(labels or {})
        j = 0
        for b in self.layout_:
            block, name = Z[:, j : j + b["width"]], b["column"]
            j += b["width"]
            if b["role"] == "value":
                values[name] = self._inverse(name, block[:, 0])
            elif b["role"] == "missing":
                missing[name] = (T.from_codes(block[:, 0], 2) if b["codes"] else T.from_one_hot(block, 2)).astype(bool)
            else:
                codes[name] = T.from_codes(block[:, 0], b["k"]) if b["codes"] else T.from_one_hot(block, b["k"])
        out = {}
        for name in self.columns_:
            col = self._col(name)
            kind = col["kind"]
            if kind == "categorical":
                c = codes.get(name)
                if c is None:
                    if name in self.exclude:
                        raise ValueError(f"inverse_transform needs labels for excluded column {name!r}.")
                    c = np.zeros(n, dtype=np.int64)  # a single category
                out[name] = _categorical_series(np.asarray(c), col)
            elif kind == "id":
                out[name] = self.make_ids(name, n, id_start)
            else:
                x = values.get(name)
                if x is None:  # constant column
                    x = np.full(n, _bounds(col)[0])
                gaps = missing.get(name, np.zeros(n, dtype=bool))
                out[name] = (_numeric_series if kind == "numerical" else _datetime_series)(x, gaps, col)
        return pd.DataFrame(out, columns=self.columns_)


    def model_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Public (lower, upper) of every model column, known without looking at the data:
        [-1, 1] for minmax values (about +-5.2 for quantile-normal ones), [0, 1] for one-hot and
        indicator columns, [0, K-1] for integer codes."""
        check_is_fitted(self, "layout_")
        lower, upper = [], []
        for b in self.layout_:
            if b["role"] == "value":
                z = 1.0 if self.numerical == "minmax" else T.Z_MAX
                lo, hi = -z, z
            elif b["codes"]:
                lo, hi = 0.0, float(b["k"] - 1)
            else:
                lo, hi = 0.0, 1.0
            lower += [lo] * b["width"]
            upper += [hi] * b["width"]
        return np.asarray(lower), np.asarray(upper)

    def make_ids(self, name: str, n: int, start: int = 0) -> pd.Series:
        """``n`` fresh identifiers for column ``name``: integers above the largest real one
        (offset by ``start``), or 16-hex-digit strings numbered from ``start``."""
        return _ids(self._col(name), n, start)


# ---------------------------------------------------------------------- helpers
def _bounds(col) -> tuple[float, float]:
    if col["kind"] == "datetime":
        lo, hi = (pd.Timestamp(col[k]) for k in ("min", "max"))
        if lo.tz is not None:
            lo, hi = lo.tz_convert("UTC").tz_localize(None), hi.tz_convert("UTC").tz_localize(None)
        return float(lo.value), float(hi.value)
    return float(col["min"]), float(col["max"])


def _label(col, j):
    cats = col["categories"]
    return cats[j] if j < len(cats) else "nan"


def _categorical_series(codes: np.ndarray, col: dict) -> pd.Series:
    cats = col["categories"]
    table = np.empty(len(cats) + 1, dtype=object)
    table[: len(cats)] = cats
    table[len(cats)] = np.nan
    values = table[codes]
    dtype = col["dtype"]
    if dtype == "category":
        return pd.Series(pd.Categorical(values, categories=cats, ordered=col.get("ordered", False)))
    s = pd.Series(values, dtype=object)
    if dtype == "object":
        return s
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


def _numeric_series(x: np.ndarray, gaps: np.ndarray, col: dict) -> pd.Series:
    x = T.round_to(np.clip(x, col["min"], col["max"]), col.get("decimals"))
    x = np.where(gaps, np.nan, x)
    dtype = col["dtype"]
    if dtype.lower().startswith(("int", "uint")):
        x = np.rint(x)
    try:
        return pd.Series(x).astype(dtype)
    except (TypeError, ValueError):  # e.g. int64 asked to hold NaN
        return pd.Series(x)


def _datetime_series(x: np.ndarray, gaps: np.ndarray, col: dict) -> pd.Series:
    lo, hi = _bounds(col)
    step = resolution_ns(col.get("resolution", "ns"))
    ns = np.clip(np.rint(np.clip(x, lo, hi) / step) * step, lo, hi)
    ns = np.where(gaps, 0, ns).astype(np.int64)
    s = pd.Series(pd.to_datetime(ns, unit="ns"))
    s[gaps] = pd.NaT
    if col.get("tz"):
        s = s.dt.tz_localize("UTC").dt.tz_convert(col["tz"])
    dtype = col["dtype"]
    if dtype.startswith("datetime64"):
        return s.astype(dtype)
    fmt = col.get("format") or "%Y-%m-%dT%H:%M:%S.%f"
    text = s.dt.strftime(fmt)
    text[gaps] = np.nan
    return text.astype(dtype) if dtype != "object" else text.astype(object)


def _ids(col: dict, n: int, start: int) -> pd.Series:
    if "start" in col or col["dtype"].lower().startswith(("int", "uint")):  # integers above every real one
        s = pd.Series(np.arange(n, dtype=np.int64) + int(col.get("start", 1)) + int(start))
    else:
        s = pd.Series(np.char.mod("%016x", np.arange(n, dtype=np.int64) + int(start)).astype(object))
    try:
        return s.astype(col["dtype"])
    except (TypeError, ValueError):
        return s
