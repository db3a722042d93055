"""Column kinds and the two table encodings every metric shares.

The metrics work on any pair of :class:`pandas.DataFrame` objects. Each column gets a
*kind*, given by ``metadata`` or inferred:

``"numeric"``     integers and floats (compared as numbers);
``"datetime"``    datetimes, timedeltas and ISO-date strings (compared as seconds);
``"categorical"`` strings, booleans, pandas categoricals and other objects;
``"id"``          identifier-like columns (every value distinct); skipped by all metrics.

:class:`TableEncoder` turns frames into numbers in two ways:

* :meth:`TableEncoder.ordinal` — numbers and datetimes as floats, categories as integer
  codes, missing values left as ``NaN``: the input of histogram gradient boosting, which
  has native categorical support and routes ``NaN`` itself.
* :meth:`TableEncoder.embed` — numbers standardized by the real data's mean and standard
  deviation (missing values imputed with the mean, plus a 0/1 missingness column), and
  categories one-hot encoded and scaled by ``1/sqrt(2)`` so that two different categories
  are at distance 1, like one standard deviation. Distances (DCR, membership inference,
  precision/recall) are Euclidean in this space.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

KINDS = ("numeric", "datetime", "categorical", "id")

_ALIASES = {
    "numeric": "numeric", "numerical": "numeric", "number": "numeric", "continuous": "numeric",
    "integer": "numeric", "int": "numeric", "float": "numeric",
    "datetime": "datetime", "date": "datetime", "timestamp": "datetime", "timedelta": "datetime",
    "categorical": "categorical", "category": "categorical", "boolean": "categorical",
    "bool": "categorical", "ordinal": "categorical", "discrete": "categorical", "string": "categorical",
    "id": "id", "identifier": "id", "text": "id", "pii": "id",
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")
#: categories kept per column (most frequent first; the rest share one code): one-hot
#: embeddings and contingency tables keep 50, tree inputs up to 250 (histogram gradient
#: boosting takes at most 255 categories per feature)
MAX_CATEGORIES = 50
MAX_TREE_CATEGORIES = 250


def infer_kinds(df: pd.DataFrame, metadata=None) -> dict[str, str]:
    """The kind of every column of ``df``: from ``metadata`` where given, else inferred.

    Args:
        df: the real table.
        metadata: ``None``; a mapping ``column -> kind`` where kind is a string
            (``"numeric"``/``"numerical"``, ``"categorical"``/``"boolean"``, ``"datetime"``,
            ``"id"``) or a mapping with a ``"kind"``, ``"sdtype"`` or ``"type"`` key; an
            SDV-style ``{"columns": {...}}`` dictionary; or any object with ``to_dict()``
            returning one of these. Columns it does not name are inferred.

    Returns:
        ``{column: kind}`` in the column order of ``df``.

    Example:
        >>> infer_kinds(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [True, False]}))
        {'a': 'numeric', 'b': 'categorical', 'c': 'categorical'}
    """
    given = _normalize_metadata(metadata)
    unknown = sorted(set(given) - set(map(str, df.columns)))
    if unknown:
        raise ValueError(f"metadata names columns the real table does not have: {unknown}.")
    return {col: given.get(str(col)) or _infer_kind(df[col]) for col in df.columns}


def _normalize_metadata(metadata) -> dict[str, str]:
    if metadata is None:
        return {}
    if hasattr(metadata, "to_dict") and not isinstance(metadata, Mapping):
        metadata = metadata.to_dict()
    if not isinstance(metadata, Mapping):
        raise ValueError(f"metadata must be a mapping column -> kind, got {type(metadata).__name__}.")
    if "columns" in metadata and isinstance(metadata["columns"], Mapping):
        metadata = metadata["columns"]
    out = {}
    for col, spec in metadata.items():
        if isinstance(spec, Mapping):
            spec = spec.get("kind", spec.get("sdtype", spec.get("type")))
        kind = _ALIASES.get(str(spec).lower()) if spec is not None else None
        if kind is None:
            raise ValueError(
                f"metadata gives column {col!r} the unknown kind {spec!r}; use one of {', '.join(KINDS)}."
            )
        out[str(col)] = kind
    return out


def _infer_kind(s: pd.Series) -> str:
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    present = s.dropna()
    if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present.iloc[:100]):
        return "categorical"
    if len(present) and all(isinstance(v, (int, float, np.number)) for v in present.iloc[:100]):
        return "numeric"
    head = present.iloc[:100].astype(str)
    if len(head) and head.map(lambda v: bool(_ISO_DATE.match(v))).all():
        if pd.to_datetime(head, errors="coerce", format="mixed").notna().all():
            return "datetime"
    if len(present) >= 20 and present.astype(str).nunique() == len(present):
        return "id"
    return "categorical"


def as_numbers(s: pd.Series) -> np.ndarray:
    """A numeric or datetime column as float64 (datetimes in seconds), missing as ``NaN``."""
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        return s.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_datetime64_any_dtype(s.dtype) and not pd.api.types.is_numeric_dtype(s.dtype):
        numeric = pd.to_numeric(s, errors="coerce")
        if numeric.notna().sum() >= s.notna().sum():
            return numeric.to_numpy(dtype=float, na_value=np.nan)
        s = pd.to_datetime(s, errors="coerce", format="mixed")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = s.astype("datetime64[ns]").to_numpy().astype("int64").astype(float)
        ns[s.isna().to_numpy()] = np.nan
        return ns / 1e9
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def as_labels(s: pd.Series) -> np.ndarray:
    """A categorical column as an object array of strings, missing values as ``None``.

    Integral floats print as integers, so a category ``2007`` matches a generated ``2007.0``.

    Example:
        >>> as_labels(pd.Series([2007, 2008.0, None, "a"])).tolist()
        ['2007', '2008', None, 'a']
    """
    out = s.astype(object).to_numpy(copy=True)
    missing = pd.isna(s).to_numpy()
    out[~missing] = [_label(v) for v in out[~missing]]
    out[missing] = None
    return out


def _label(v) -> str:
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)


def check_pair(real: pd.DataFrame, synthetic: pd.DataFrame, *, what: str = "synthetic") -> None:
    """Reject non-frames, empty frames and missing columns with a message naming them."""
    for name, df in (("real", real), (what, synthetic)):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}.")
        if len(df) == 0:
            raise ValueError(f"{name} has no rows.")
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"{what} lacks columns of the real table: {missing}.")


class TableEncoder:
    """Encodes tables with the columns of a reference (real) table.

    Args:
        kinds: ``{column: kind}`` (see :func:`infer_kinds`); ``"id"`` columns are dropped.
        max_categories: categories kept per column (most frequent first); the rest share
            one "other" code / one-hot column.

    Example:
        >>> real = pd.DataFrame({"x": [1.0, 2.0, None], "c": ["a", "b", "a"]})
        >>> enc = TableEncoder(infer_kinds(real)).fit(real)
        >>> enc.ordinal(real)[:, 1].tolist()
        [0.0, 1.0, 0.0]
        >>> enc.embed(real).shape  # x, x missing?, c=a, c=b, c=other, c missing
        (3, 6)
    """

    def __init__(self, kinds: Mapping[str, str], *, max_categories: int = MAX_CATEGORIES):
        self.kinds = dict(kinds)
        self.max_categories = int(max_categories)

    @property
    def columns(self) -> list:
        return [c for c, k in self.kinds.items() if k != "id"]

    @property
    def numeric_columns(self) -> list:
        return [c for c in self.columns if self.kinds[c] in ("numeric", "datetime")]

    @property
    def categorical_columns(self) -> list:
        return [c for c in self.columns if self.kinds[c] == "categorical"]

    def fit(self, real: pd.DataFrame, *others: pd.DataFrame) -> TableEncoder:
        """Learn means and scales from ``real``; category lists from ``real`` and ``others``
        together (most frequent first), so every table's categories get a code."""
        self.mean_, self.scale_, self.has_missing_ = {}, {}, {}
        for col in self.numeric_columns:
            v = as_numbers(real[col])
            ok = np.isfinite(v)
            self.mean_[col] = float(v[ok].mean()) if ok.any() else 0.0
            sd = float(v[ok].std()) if ok.sum() > 1 else 0.0
            self.scale_[col] = sd if sd > 0 else 1.0
            self.has_missing_[col] = bool(
                (~ok).any() or any(np.isnan(as_numbers(o[col])).any() for o in others)
            )
        self.categories_ = {}
        for col in self.categorical_columns:
            counts = pd.concat([pd.Series(as_labels(df[col])) for df in (real, *others)]).value_counts()
            self.categories_[col] = list(counts.index[: self.max_categories])
        return self

    def codes(self, s: pd.Series, col) -> np.ndarray:
        """Integer codes of a categorical column: 0..K-1 known, K "other", -1 missing."""
        cats = self.categories_[col]
        labels = as_labels(s)
        index = pd.Index(cats, dtype=object)
        codes = index.get_indexer(labels)
        missing = pd.isna(labels)
        codes[(codes < 0) & ~missing] = len(cats)
        codes[missing] = -1
        return codes

    def ordinal(self, df: pd.DataFrame) -> np.ndarray:
        """Float matrix: numbers/datetimes as floats, categories as codes, ``NaN`` for missing."""
        out = np.empty((len(df), len(self.columns)))
        for j, col in enumerate(self.columns):
            if self.kinds[col] == "categorical":
                codes = self.codes(df[col], col).astype(float)
                codes[codes < 0] = np.nan
                out[:, j] = codes
            else:
                out[:, j] = as_numbers(df[col])
        out[~np.isfinite(out)] = np.nan
        return out

    @property
    def categorical_mask(self) -> np.ndarray:
        """Which columns of :meth:`ordinal` hold category codes."""
        return np.array([self.kinds[c] == "categorical" for c in self.columns], dtype=bool)

    def embed(self, df: pd.DataFrame) -> np.ndarray:
        """Standardized one-hot matrix without missing values (for distances)."""
        blocks = []
        for col in self.numeric_columns:
            v = (as_numbers(df[col]) - self.mean_[col]) / self.scale_[col]
            miss = ~np.isfinite(v)
            blocks.append(np.where(miss, 0.0, v)[:, None])
            if self.has_missing_[col]:
                blocks.append(miss[:, None].astype(float))
        for col in self.categorical_columns:
            codes = self.codes(df[col], col)
            k = len(self.categories_[col]) + 2  # known categories, "other", missing
            onehot = np.zeros((len(df), k))
            onehot[np.arange(len(df)), np.where(codes < 0, k - 1, codes)] = 1.0 / np.sqrt(2.0)
            blocks.append(onehot)
        if not blocks:
            return np.zeros((len(df), 0))
        return np.hstack(blocks)
