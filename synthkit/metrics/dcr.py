"""Distance to closest record (DCR) against a real holdout, and the exact-copy rate.

A generator that memorizes puts its rows nearer to the rows it was trained on than to
equally many real rows it never saw. So the training table and the holdout are
subsampled to the same size, every synthetic row is matched to its nearest training row
and its nearest holdout row (Euclidean distance in the standardized one-hot embedding of
:class:`synthkit.metrics.columns.TableEncoder`), and we count the share closer to the
training rows (ties count one half). **0.5 is ideal**; clearly above 0.5 means the
synthetic rows sit on top of training rows more than the data distribution explains.

The exact-copy rate is the share of synthetic rows identical to some training row (all
non-identifier columns equal, missing equal to missing); beside it, the same rate for the
real holdout rows, which says how often identical rows occur in this table by nature
(small discrete tables repeat rows).

References:
    Platzer & Reutterer, "Holdout-Based Empirical Assessment of Mixed-Type Synthetic Data",
    Frontiers in Big Data 2021 (the share-closer-to-train test against a holdout).
    Zhao et al., "CTAB-GAN: Effective Table Data Synthesizing", ACML 2021 (DCR).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synthkit.metrics.columns import TableEncoder, as_labels, as_numbers, check_pair, infer_kinds

#: rows used per table (larger tables are subsampled)
MAX_ROWS = 10_000
QUANTILES = (0.01, 0.05, 0.25, 0.5)


def dcr(
    train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, *, kinds=None, metadata=None,
    max_rows: int = MAX_ROWS, random_state=0,
) -> dict:
    """Share of synthetic rows closer to the training rows than to the holdout (0.5 ideal).

    Args:
        train: the real rows the generator was fitted on.
        synthetic: generated rows.
        holdout: real rows from the same source that the generator never saw.
        max_rows: training and holdout are both subsampled to
            ``min(len(train), len(holdout), max_rows)`` rows; synthetic to ``max_rows``.

    Returns:
        ``share_closer_to_train``; ``n_reference`` (rows per real side) and ``n_synthetic``;
        ``quantiles`` of the distances synthetic→train, synthetic→holdout and, as a
        baseline, holdout→train; and a common-bin ``histogram`` of synthetic→train and
        holdout→train distances for plots.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> draw = lambda n: pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
        >>> train, holdout = draw(400), draw(400)
        >>> round(dcr(train, draw(400), holdout)["share_closer_to_train"], 1)
        0.5
        >>> dcr(train, train.sample(400, replace=True, random_state=0), holdout)["share_closer_to_train"]
        1.0
    """
    check_pair(train, synthetic)
    check_pair(train, holdout, what="holdout")
    kinds = kinds or infer_kinds(train, metadata)
    rng = np.random.default_rng(random_state)
    m = min(len(train), len(holdout), max_rows)
    train, holdout = _subsample(train, m, rng), _subsample(holdout, m, rng)
    synthetic = _subsample(synthetic, max_rows, rng)
    enc = TableEncoder(kinds).fit(train, synthetic, holdout)
    T, S, H = enc.embed(train), enc.embed(synthetic), enc.embed(holdout)
    to_train = _nearest(T, S)
    to_holdout = _nearest(H, S)
    baseline = _nearest(T, H)
    share = np.mean((to_train < to_holdout) + 0.5 * (to_train == to_holdout))
    top = float(np.quantile(np.r_[to_train, baseline], 0.99)) or 1.0
    edges = np.linspace(0.0, top, 41)
    return {
        "share_closer_to_train": float(share),
        "n_reference": int(m),
        "n_synthetic": int(len(S)),
        "quantiles": {
            "q": list(QUANTILES),
            "synthetic_to_train": np.quantile(to_train, QUANTILES).tolist(),
            "synthetic_to_holdout": np.quantile(to_holdout, QUANTILES).tolist(),
            "holdout_to_train": np.quantile(baseline, QUANTILES).tolist(),
        },
        "histogram": {
            "edges": edges.tolist(),
            "synthetic_to_train": (np.histogram(np.minimum(to_train, top), edges)[0] / len(to_train)).tolist(),
            "holdout_to_train": (np.histogram(np.minimum(baseline, top), edges)[0] / len(baseline)).tolist(),
        },
    }


def exact_copy_rate(
    train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None, *,
    kinds=None, metadata=None,
) -> dict:
    """Share of synthetic rows identical to a training row, beside the holdout's share.

    Returns:
        ``{"synthetic": rate, "holdout": rate or None}``.

    Example:
        >>> train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", None]})
        >>> exact_copy_rate(train, train.iloc[[0, 2]])["synthetic"]
        1.0
        >>> exact_copy_rate(train, train.assign(x=train["x"] + 0.5))["synthetic"]
        0.0
    """
    check_pair(train, synthetic)
    kinds = kinds or infer_kinds(train, metadata)
    seen = _row_hashes(train, kinds)
    out = {"synthetic": float(np.isin(_row_hashes(synthetic, kinds), seen).mean())}
    out["holdout"] = None if holdout is None else float(np.isin(_row_hashes(holdout, kinds), seen).mean())
    return out


def _row_hashes(df: pd.DataFrame, kinds) -> np.ndarray:
    """One 64-bit hash per row of the normalized non-id values (numbers as float64, else text)."""
    cols = {}
    for col, kind in kinds.items():
        if kind == "id":
            continue
        cols[str(col)] = as_labels(df[col]) if kind == "categorical" else as_numbers(df[col])
    frame = pd.DataFrame(cols, index=range(len(df)))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _nearest(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    if reference.shape[1] == 0:
        return np.zeros(len(queries))
    return NearestNeighbors(n_neighbors=1).fit(reference).kneighbors(queries)[0][:, 0]


def _subsample(df: pd.DataFrame, limit: int, rng: np.random.Generator) -> pd.DataFrame:
    return df if len(df) <= limit else df.iloc[np.sort(rng.choice(len(df), limit, replace=False))]
