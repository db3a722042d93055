"""Fidelity of a synthetic table: column shapes and pair trends (SDMetrics-style scores).

Every score lies in [0, 1]; 1 means the synthetic data match the real data exactly.

* **Column shape** of a numeric or datetime column: the Kolmogorov–Smirnov complement
  ``1 - sup |F_real - F_synth|`` on the values present; of a categorical column: the
  total-variation complement ``1 - 1/2 sum |p_real - p_synth|`` over categories, missing
  counted as a category.
* **Pair trend** of two numeric columns: correlation similarity
  ``1 - |rho_real - rho_synth| / 2`` (Pearson, pairwise-complete rows); of any other pair:
  contingency similarity, the total-variation complement of the two joint frequency tables,
  where numeric columns are cut into 10 bins at the real data's deciles (SDMetrics uses
  equal-width bins; quantile bins are stricter on skewed columns) and missing is a bin.

References:
    DataCebo, SDMetrics: KSComplement, TVComplement, CorrelationSimilarity and
    ContingencySimilarity (https://docs.sdv.dev/sdmetrics).
    Massey, "The Kolmogorov-Smirnov Test for Goodness of Fit", JASA 1951.
    Bergsma, "A bias-correction for Cramér's V and Tschuprow's T", J. Korean Stat. Soc. 2013.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from synthkit.metrics.columns import TableEncoder, as_labels, as_numbers, check_pair, infer_kinds

N_BINS = 10


def ks_complement(real, synthetic) -> float:
    """``1 - `` the two-sample Kolmogorov–Smirnov statistic of two numeric samples (NaN ignored).

    Example:
        >>> ks_complement([1, 2, 3, 4], [1, 2, 3, 4])
        1.0
        >>> ks_complement([1, 2], [3, 4])
        0.0
    """
    r = np.sort(_finite(real))
    s = np.sort(_finite(synthetic))
    if len(r) == 0 or len(s) == 0:
        return float(len(r) == len(s))
    grid = np.concatenate([r, s])
    cdf_r = np.searchsorted(r, grid, side="right") / len(r)
    cdf_s = np.searchsorted(s, grid, side="right") / len(s)
    return float(1.0 - np.abs(cdf_r - cdf_s).max())


def tv_complement(real, synthetic) -> float:
    """``1 -`` the total-variation distance of two categorical samples (missing is a category).

    Example:
        >>> tv_complement(["a", "a", "b", "b"], ["a", "b", "b", "b"])
        0.75
    """
    p = pd.Series(np.asarray(real, dtype=object)).value_counts(normalize=True, dropna=False)
    q = pd.Series(np.asarray(synthetic, dtype=object)).value_counts(normalize=True, dropna=False)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return x[np.isfinite(x)]


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, *, kinds=None, metadata=None) -> list[dict]:
    """One shape score per column (see the module docstring), with missing-value rates.

    Args:
        real, synthetic: tables with the same columns.
        kinds: ``{column: kind}``; inferred from ``real`` (and ``metadata``) when omitted.

    Returns:
        A list of ``{"column", "kind", "metric", "score", "missing_real",
        "missing_synthetic"}``, in column order (``"id"`` columns skipped).

    Example:
        >>> df = pd.DataFrame({"x": [0.1, 0.5, 0.9, 0.3], "c": ["a", "b", "a", "a"]})
        >>> [round(r["score"], 2) for r in column_shapes(df, df)]
        [1.0, 1.0]
    """
    check_pair(real, synthetic)
    kinds = kinds or infer_kinds(real, metadata)
    out = []
    for col, kind in kinds.items():
        if kind == "id":
            continue
        if kind == "categorical":
            score = tv_complement(as_labels(real[col]), as_labels(synthetic[col]))
            metric = "TVComplement"
        else:
            score = ks_complement(as_numbers(real[col]), as_numbers(synthetic[col]))
            metric = "KSComplement"
        out.append(
            {
                "column": str(col),
                "kind": kind,
                "metric": metric,
                "score": score,
                "missing_real": float(real[col].isna().mean()),
                "missing_synthetic": float(synthetic[col].isna().mean()),
            }
        )
    return out


def discretize(real: pd.DataFrame, *others: pd.DataFrame, kinds, n_bins: int = N_BINS) -> list[np.ndarray]:
    """Integer codes ``>= 0`` for every non-id column of each table, on a shared scale.

    Categorical columns use :class:`TableEncoder` codes (missing is its own code); numeric
    and datetime columns are cut at the real data's quantiles into ``n_bins`` bins plus a
    missing bin. Returns one ``(n_rows, n_columns)`` integer matrix per table.
    """
    enc = TableEncoder(kinds).fit(real, *others)
    frames = (real, *others)
    mats = [np.empty((len(df), len(enc.columns)), dtype=np.int64) for df in frames]
    for j, col in enumerate(enc.columns):
        if kinds[col] == "categorical":
            for m, df in zip(mats, frames):
                codes = enc.codes(df[col], col)
                m[:, j] = np.where(codes < 0, len(enc.categories_[col]) + 1, codes)
        else:
            ref = _finite(as_numbers(real[col]))
            edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1])) if len(ref) else np.array([])
            for m, df in zip(mats, frames):
                v = as_numbers(df[col])
                m[:, j] = np.where(np.isfinite(v), np.searchsorted(edges, v, side="right"), len(edges) + 1)
    return mats


def pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, *, kinds=None, metadata=None) -> list[dict]:
    """One trend score per column pair (see the module docstring).

    Returns:
        A list of ``{"columns": [a, b], "metric", "score", "real", "synthetic"}``, where
        ``real``/``synthetic`` are the two correlations for numeric pairs (else ``None``).
        Pairs whose correlation is undefined in the real data (a constant column) are left out.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=300)
        >>> df = pd.DataFrame({"x": x, "y": x + rng.normal(size=300)})
        >>> pair_trends(df, df)[0]["score"]
        1.0
    """
    check_pair(real, synthetic)
    kinds = kinds or infer_kinds(real, metadata)
    cols = [c for c, k in kinds.items() if k != "id"]
    numeric = [c for c in cols if kinds[c] != "categorical"]
    corr_r = _pearson(real, numeric)
    corr_s = _pearson(synthetic, numeric)
    codes_r, codes_s = discretize(real, synthetic, kinds=kinds)
    position = {c: j for j, c in enumerate(cols)}
    n_codes = np.maximum(codes_r.max(0, initial=0), codes_s.max(0, initial=0)) + 1
    out = []
    for a, b in itertools.combinations(cols, 2):
        if a in corr_r.index and b in corr_r.index:
            rr, rs = corr_r.at[a, b], corr_s.at[a, b]
            if not np.isfinite(rr):
                continue
            rs = 0.0 if not np.isfinite(rs) else rs  # a constant synthetic column has no correlation
            out.append(
                {"columns": [str(a), str(b)], "metric": "CorrelationSimilarity",
                 "score": float(1.0 - abs(rr - rs) / 2.0), "real": float(rr), "synthetic": float(rs)}
            )
        else:
            i, j = position[a], position[b]
            k = int(n_codes[j])
            pr = np.bincount(codes_r[:, i] * k + codes_r[:, j], minlength=int(n_codes[i]) * k) / len(codes_r)
            ps = np.bincount(codes_s[:, i] * k + codes_s[:, j], minlength=int(n_codes[i]) * k) / len(codes_s)
            out.append(
                {"columns": [str(a), str(b)], "metric": "ContingencySimilarity",
                 "score": float(1.0 - 0.5 * np.abs(pr - ps).sum()), "real": None, "synthetic": None}
            )
    return out


def _pearson(df: pd.DataFrame, cols: list) -> pd.DataFrame:
    values = pd.DataFrame({c: as_numbers(df[c]) for c in cols}, index=range(len(df)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return values.corr(method="pearson", min_periods=3)


def association_matrix(df: pd.DataFrame, *, kinds, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairwise association of every non-id column, for heat maps.

    Pearson correlation (in [-1, 1]) between numeric columns; bias-corrected Cramér's V
    (in [0, 1]; Bergsma 2013, so that independent columns score about 0 on small samples) for
    pairs with a categorical column, numeric columns binned at ``reference``'s deciles
    (``reference`` defaults to ``df``; pass the real table so both matrices share bins).
    """
    cols = [c for c, k in kinds.items() if k != "id"]
    numeric = [c for c in cols if kinds[c] != "categorical"]
    out = pd.DataFrame(np.eye(len(cols)), index=[str(c) for c in cols], columns=[str(c) for c in cols])
    corr = _pearson(df, numeric)
    ref = df if reference is None else reference
    codes = discretize(ref, df, kinds=kinds)[1]
    for (i, a), (j, b) in itertools.combinations(enumerate(cols), 2):
        if a in corr.index and b in corr.index:
            v = corr.at[a, b]
        else:
            v = _cramers_v(codes[:, i], codes[:, j])
        out.iat[i, j] = out.iat[j, i] = v if np.isfinite(v) else 0.0
    return out


def _cramers_v(x: np.ndarray, y: np.ndarray) -> float:
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    kx, ky = xi.max() + 1, yi.max() + 1
    if kx < 2 or ky < 2:
        return 0.0
    table = np.bincount(xi * ky + yi, minlength=kx * ky).reshape(kx, ky).astype(float)
    n = table.sum()
    if n < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    phi2 = ((table - expected) ** 2 / expected).sum() / n
    phi2 = max(0.0, phi2 - (kx - 1) * (ky - 1) / (n - 1))
    kx_c, ky_c = kx - (kx - 1) ** 2 / (n - 1), ky - (ky - 1) ** 2 / (n - 1)
    denom = min(kx_c - 1, ky_c - 1)
    return float(np.sqrt(phi2 / denom)) if denom > 0 else 0.0


def summarize(scores: list[dict]) -> float | None:
    """Mean of the ``"score"`` entries (``None`` when there are none)."""
    values = [r["score"] for r in scores if r["score"] is not None and np.isfinite(r["score"])]
    return float(np.mean(values)) if values else None
