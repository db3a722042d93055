"""Column metadata: what each column of a table is, inferred from data or given by the user.

Metadata is a plain JSON-able dict, saved with every fitted model::

    {"columns": {
        "species":     {"kind": "categorical", "dtype": "str", "categories": ["Adelie", "Gentoo"],
                        "missing": false},
        "bill_mm":     {"kind": "numerical", "dtype": "float64", "min": 32.1, "max": 59.6,
                        "decimals": 1, "missing": true},
        "year":        {"kind": "categorical", "dtype": "int64", "categories": [2007, 2008, 2009],
                        "missing": false},
        "egg_date":    {"kind": "datetime", "dtype": "str", "format": "%Y-%m-%d",
                        "min": "2007-11-09T00:00:00", "max": "2009-12-01T00:00:00",
                        "resolution": "D", "missing": false},
        "customer_id": {"kind": "id", "dtype": "str", "missing": false}}}

Kinds:

``numerical``
    ints and floats. ``min``/``max`` bound generated values; ``decimals`` rounds them
    (``0`` for integer-valued columns, ``None`` for no rounding).
``categorical``
    strings, booleans, pandas categoricals and integer columns with at most
    ``CATEGORICAL_INT_MAX`` distinct values. ``categories`` lists every value kept
    (rare ones included); missing values are an extra category of their own.
``datetime``
    ``datetime64`` columns and string columns in ISO format (``format`` then holds the
    ``strftime`` pattern written back). ``min``/``max`` are ISO strings; ``resolution``
    (``"D"``, ``"h"``, ``"min"``, ``"s"``, ``"ms"``, ``"us"``, ``"ns"``) rounds generated values.
``id``
    identifiers: strings unique per row, integers unique per row whose name looks like an
    identifier ("id", "user_id", "customerID", ...), or strings so named with more distinct
    values than half the rows. Never modelled and never copied: fresh values are generated at sampling
    (integers above the largest real one, or random 16-hex-digit strings).

``missing`` says whether the column may be empty; missing cells are reproduced at their
real rate, jointly with the other columns (the encoder adds a missingness indicator that
the backbone models together with the values).

Users override any part: ``metadata={"columns": {"year": {"kind": "numerical"}}}`` (or the
short form ``{"columns": {"year": "numerical"}}``; SDV's ``"sdtype"`` key and its
``"boolean"`` are understood too) changes that column only; the rest is inferred. With differential privacy every data-dependent field (``min``, ``max``,
``categories``, ``missing``) must be given, since reading them from the private data
would spend privacy budget that is not accounted for (see :func:`check_public_metadata`).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd

KINDS = ("numerical", "categorical", "datetime", "id")
_KIND_ALIASES = {"numeric": "numerical", "boolean": "categorical", "category": "categorical", "date": "datetime"}
#: integer columns with at most this many distinct values are treated as categories
CATEGORICAL_INT_MAX = 10
_ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key)$|^(id|uuid|guid)([_\s.-]|$)|[a-z]ID$|Id$", re.I)
_ISO_FORMATS = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"), "%Y-%m-%d %H:%M"),
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\.\d+$"), None),  # parsed, written back ISO
]
_RESOLUTIONS = [("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
                ("ms", 10**6), ("us", 10**3), ("ns", 1)]
DATA_FIELDS = {"numerical": ("min", "max"), "datetime": ("min", "max"), "categorical": ("categories",), "id": ()}


def check_frame(df, *, what: str = "data") -> pd.DataFrame:
    """Reject what no synthesizer can learn from, naming the problem (ValueError)."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(df).__name__}; "
                         "read files with synthkit.domains.tabular.read_table.")
    if df.shape[1] == 0:
        raise ValueError(f"{what} has no columns.")
    if len(df) == 0:
        raise ValueError(f"{what} is empty (0 rows); at least 2 rows are needed.")
    if len(df) < 2:
        raise ValueError(f"{what} has a single row; at least 2 rows are needed to learn a distribution.")
    bad = [c for c in df.columns if not isinstance(c, str)]
    if bad:
        raise ValueError(f"column names must be strings, got {bad[0]!r}; use df.columns = df.columns.astype(str).")
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise ValueError(f"column {dup[0]!r} appears more than once; column names must be unique.")
    return df


def infer_metadata(df: pd.DataFrame, overrides=None) -> dict:
    """Infer the metadata of every column of ``df``; ``overrides`` (same layout) wins.

    Example:
        >>> df = pd.DataFrame({"a": [1.5, 2.0, None], "b": ["x", "y", "x"]})
        >>> md = infer_metadata(df)
        >>> md["columns"]["a"]["kind"], md["columns"]["a"]["missing"], md["columns"]["b"]["categories"]
        ('numerical', True, ['x', 'y'])
    """
    check_frame(df)
    user = normalize_overrides(overrides, df.columns)
    columns = {}
    for name in df.columns:
        given = user.get(name, {})
        columns[name] = _infer_column(df[name], name, given)
        columns[name].update(given)
        _check_column_metadata(name, columns[name])
    return {"columns": columns}


def normalize_overrides(overrides, names) -> dict:
    """``{"columns": {name: kind-or-dict}}`` (or the bare inner dict) as ``{name: dict}``."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ValueError(f"metadata must be a dict like {{'columns': {{...}}}}, got {type(overrides).__name__}.")
    cols = overrides.get("columns", overrides)
    if not isinstance(cols, dict):
        raise ValueError("metadata['columns'] must map column names to kinds or dicts.")
    out = {}
    for name, spec in cols.items():
        if name not in names:
            raise ValueError(f"metadata describes column {name!r}, which is not in the data.")
        spec = {"kind": spec} if isinstance(spec, str) else copy.deepcopy(spec)
        if not isinstance(spec, dict):
            raise ValueError(f"metadata for column {name!r} must be a kind name or a dict, got {spec!r}.")
        if "kind" not in spec and "sdtype" in spec:  # SDV's name for it
            spec["kind"] = spec.pop("sdtype")
        if "kind" in spec:
            spec["kind"] = _KIND_ALIASES.get(spec["kind"], spec["kind"])
        out[name] = spec
    return out


def check_public_metadata(overrides, df: pd.DataFrame) -> dict:
    """Complete metadata for differentially private training, taken from the user only.

    Every column needs ``kind`` and its data-dependent fields (``min``/``max`` for
    numbers and dates, ``categories`` for categories); ``missing`` defaults to ``False``.
    Only the dtype and, for strings, the datetime format are read from the data.
    """
    user = normalize_overrides(overrides, df.columns)
    columns = {}
    for name in df.columns:
        spec = user.get(name)
        if spec is None or "kind" not in spec:
            raise ValueError(
                f"dp is set but column {name!r} has no public metadata; give its kind and "
                f"{', '.join(DATA_FIELDS.get((spec or {}).get('kind', 'numerical'), ()))} in "
                "metadata={'columns': {...}} (infer_metadata on public data gives a template). "
                "Reading them from the private data would spend privacy budget."
            )
        need = [f for f in DATA_FIELDS.get(spec["kind"], ()) if f not in spec]
        if need:
            raise ValueError(f"dp is set but the metadata of column {name!r} lacks {need}; "
                             "give them as public knowledge (they are not read from private data).")
        col = _schema_only(df[name], name, spec["kind"])
        col.update(spec)
        col.setdefault("missing", False)
        if col["kind"] == "numerical":
            col.setdefault("decimals", 0 if col["dtype"].lower().startswith(("int", "uint")) else None)
        _check_column_metadata(name, col)
        if df[name].isna().any() and not col["missing"]:
            raise ValueError(f"column {name!r} has missing values; declare 'missing': true in its public metadata.")
        columns[name] = col
    return {"columns": columns}


# ---------------------------------------------------------------------- inference
def _values_kind(s: pd.Series, name: str) -> str:
    """What the non-missing values of ``s`` are: 'bool', 'int', 'float', 'datetime', 'str', ...;
    ValueError for unhashable, mixed or unsupported values."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        raise ValueError(f"column {name!r} holds time spans (timedelta), which are not supported; "
                         "convert it to numbers, e.g. df[col].dt.total_seconds().")
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_complex_dtype(dtype):
        raise ValueError(f"column {name!r} holds complex numbers, which are not supported.")
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    kinds = {"string": "str", "boolean": "bool", "integer": "int", "floating": "float",
             "mixed-integer-float": "float", "datetime64": "datetime", "datetime": "datetime", "date": "datetime"}
    if inferred in kinds:
        return kinds[inferred]
    values = s.dropna()
    unhashable = next((v for v in values if _unhashable(v)), None)
    if unhashable is not None:
        raise ValueError(f"column {name!r} holds unhashable values such as {unhashable!r} "
                         f"({type(unhashable).__name__}); flatten or drop it before fitting.")
    if inferred == "empty":
        return "empty"
    types = sorted({type(v).__name__ for v in values[:10_000]})
    raise ValueError(f"column {name!r} mixes value types {types}; give it one type, e.g. "
                     f"df[{name!r}] = df[{name!r}].astype(str) for categories.")


def _unhashable(v) -> bool:
    try:
        hash(v)
    except TypeError:
        return True
    return False


def _infer_column(s: pd.Series, name: str, given: dict) -> dict:
    kind = given.get("kind")
    values = _values_kind(s, name)
    present = s.dropna()
    if len(present) == 0:
        raise ValueError(f"column {name!r} is entirely missing (all NaN); drop it before fitting.")
    col = {"dtype": str(s.dtype), "missing": bool(len(present) < len(s))}
    if isinstance(s.dtype, pd.CategoricalDtype):
        col["ordered"] = bool(s.dtype.ordered)
    fmt = None
    if values == "str" and kind in (None, "datetime"):
        fmt = given["format"] if "format" in given else _iso_format(present)
        if fmt is not False:
            values = "datetime"
    if kind is None:
        unique = present.nunique()
        if values == "datetime":
            kind = "datetime"
        elif values in ("float",):
            kind = "numerical"
        elif values == "int":
            looks_id = unique == len(s) and _ID_NAME.search(name) is not None
            kind = "id" if looks_id else ("categorical" if unique <= CATEGORICAL_INT_MAX else "numerical")
        elif values == "str":
            named_id = _ID_NAME.search(name) is not None and unique > len(s) / 2
            kind = "id" if (unique == len(s) and len(s) > 2) or named_id else "categorical"
        else:  # bool, category
            kind = "categorical"
    col["kind"] = kind
    if kind == "numerical":
        if values not in ("int", "float"):
            raise ValueError(f"column {name!r} is declared numerical but holds {values} values.")
        x = pd.to_numeric(present).to_numpy(dtype=float)
        if not np.isfinite(x).all():
            raise ValueError(f"column {name!r} holds infinite values; replace them with NaN or finite numbers.")
        col.update(min=float(x.min()), max=float(x.max()), decimals=_decimals(x, values == "int"))
    elif kind == "categorical":
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = list(s.cat.categories)
        else:
            cats = sorted(present.unique().tolist(), key=_sort_key)
        col["categories"] = [_plain(v) for v in cats]
    elif kind == "datetime":
        ns = _datetime_ns(present, fmt if values == "datetime" else None, name)
        col.update(min=_iso(ns.min()), max=_iso(ns.max()), resolution=_resolution(ns))
        if fmt is not None:
            col["format"] = fmt
        tz = getattr(s.dtype, "tz", None)
        if tz is not None:
            col["tz"] = str(tz)
    elif kind == "id":
        if values == "int":
            col["start"] = int(present.max()) + 1
    else:
        raise ValueError(f"column {name!r}: unknown kind {kind!r}; choose from {KINDS}.")
    return col


def _schema_only(s: pd.Series, name: str, kind: str) -> dict:
    """Dtype-level facts (no statistics) for differentially private fits."""
    values = _values_kind(s, name) if s.notna().any() else "empty"
    col = {"dtype": str(s.dtype), "kind": kind}
    if kind == "datetime" and values == "str":
        fmt = _iso_format(s.dropna())
        if fmt is False:
            raise ValueError(f"column {name!r} is declared datetime but its strings are not ISO dates.")
        col["format"] = fmt
    if kind == "datetime":
        col["resolution"] = "s"
        tz = getattr(s.dtype, "tz", None)
        if tz is not None:
            col["tz"] = str(tz)
    return col


def _check_column_metadata(name: str, col: dict) -> None:
    kind = col.get("kind")
    if kind not in KINDS:
        raise ValueError(f"column {name!r}: unknown kind {kind!r}; choose from {KINDS}.")
    if kind in ("numerical", "datetime"):
        lo, hi = col.get("min"), col.get("max")
        if kind == "datetime":
            lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
        if lo is None or hi is None or lo > hi:
            raise ValueError(f"column {name!r}: metadata needs min <= max, got {col.get('min')!r} and {col.get('max')!r}.")
    if kind == "categorical":
        cats = col.get("categories")
        if not isinstance(cats, list) or not cats:
            raise ValueError(f"column {name!r}: metadata 'categories' must be a non-empty list.")
        if len(set(map(_sort_key, cats))) != len(cats):
            raise ValueError(f"column {name!r}: metadata 'categories' has duplicates.")
    if not isinstance(col.get("missing", False), bool):
        raise ValueError(f"column {name!r}: metadata 'missing' must be true or false.")


def _sort_key(v):
    return (type(v).__name__, v)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _decimals(x: np.ndarray, is_int: bool, max_decimals: int = 6):
    if is_int:
        return 0
    for d in range(max_decimals + 1):
        if np.allclose(np.round(x, d), x, rtol=0, atol=1e-9 * max(1.0, np.abs(x).max())):
            return d
    return None


def _iso_format(values: pd.Series):
    """The strftime format shared by every string in ``values``; False if not ISO dates."""
    first = str(values.iloc[0])
    for pattern, fmt in _ISO_FORMATS:
        if pattern.match(first):
            if values.astype(str).str.match(pattern.pattern).all():
                return fmt
            return False
    return False


def _datetime_ns(values: pd.Series, fmt, name: str) -> np.ndarray:
    """Nanoseconds since the epoch (UTC for aware values) of non-missing ``values``."""
    try:
        if fmt is not None or values.dtype.kind not in "M":
            values = pd.to_datetime(values, format=fmt if fmt else "ISO8601")
    except (ValueError, TypeError) as err:
        raise ValueError(f"column {name!r}: cannot read dates ({err}).") from None
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def _iso(ns) -> str:
    return pd.Timestamp(int(ns), unit="ns").isoformat()


def _resolution(ns: np.ndarray) -> str:
    for unit, size in _RESOLUTIONS:
        if (ns % size == 0).all():
            return unit
    return "ns"


def resolution_ns(unit: str) -> int:
    return dict(_RESOLUTIONS)[unit]


def datetime_ns(values: pd.Series, col: dict, name: str) -> np.ndarray:
    """Nanoseconds since the epoch of non-missing ``values`` of a datetime column."""
    return _datetime_ns(values, col.get("format"), name)
