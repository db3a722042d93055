"""Reversible maps between one column's values and the numbers a backbone trains on.

Numbers and dates use a *quantile (Gaussian) transform*: the empirical CDF, piecewise
linear between ``K`` quantile knots, maps a value to ``u`` in [0, 1] and ``Phi^-1(u)`` to a
standard normal. Heavy tails and several modes become one bell; a spike (a value shared by
many rows, such as 0 in a zero-inflated column) occupies an interval of ``u``, and each row
of the spike gets a uniform draw inside it (dequantization), so the model sees a
continuous density and every ``u`` of the interval maps back to exactly the spike value.
The inverse never leaves [min, max] of the training data. With ``numerical="minmax"`` the
map is affine from public bounds to [-1, 1] (used for differentially private training,
where quantiles of the private data may not be looked at).

Categories become integer codes ``0..K-1``: one-hot vectors for continuous backbones (a
single 0/1 column for two categories, decoded at 0.5; argmax otherwise), or the codes
themselves for backbones with categorical outputs (``categorical_features``).

References:
    Kotelnikov et al., "TabDDPM: Modelling Tabular Data with Diffusion Models", ICML 2023
    (quantile transform of numerical features).
    Theis, van den Oord & Bethge, "A note on the evaluation of generative models", ICLR 2016
    (uniform dequantization).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

#: u is squeezed into [EPS, 1 - EPS] so that Phi^-1(u) stays within about +-5.2
EPS = 1e-7
#: largest |z| the quantile transform produces
Z_MAX = float(ndtri(1.0 - EPS))


def fit_quantiles(x: np.ndarray, n_quantiles: int) -> np.ndarray:
    """``K = min(n_quantiles, len(x))`` knots of the empirical CDF at levels linspace(0, 1, K)."""
    k = int(max(2, min(n_quantiles, len(x))))
    return np.quantile(np.asarray(x, dtype=np.float64), np.linspace(0.0, 1.0, k))


def _cdf_points(knots: np.ndarray):
    """Distinct knot values with the CDF level just below (left) and at (right) each."""
    levels = np.linspace(0.0, 1.0, len(knots))
    values, first = np.unique(knots, return_index=True)
    last = np.r_[first[1:] - 1, len(knots) - 1]
    return values, levels[first], levels[last]


def quantile_forward(x: np.ndarray, knots: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Map values to N(0, 1) through the empirical CDF; ties get a uniform ``u`` inside their
    CDF jump (drawn from ``rng``; the middle of the jump when ``rng`` is None)."""
    values, left, right = _cdf_points(knots)
    x = np.clip(np.asarray(x, dtype=np.float64), values[0], values[-1])
    m = np.clip(np.searchsorted(values, x, side="right") - 1, 0, len(values) - 1)
    on_knot = values[m] == x
    jitter = rng.random(len(x)) if rng is not None else np.full(len(x), 0.5)
    u_knot = left[m] + (right[m] - left[m]) * jitter
    nxt = np.minimum(m + 1, len(values) - 1)
    width = np.where(nxt > m, values[nxt] - values[m], 1.0)
    u_between = right[m] + (x - values[m]) / width * (left[nxt] - right[m])
    u = np.where(on_knot, u_knot, u_between)
    return ndtri(EPS + np.clip(u, 0.0, 1.0) * (1.0 - 2.0 * EPS))


def quantile_inverse(z: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Inverse of :func:`quantile_forward`: N(0, 1) values back to the data's range."""
    values, left, right = _cdf_points(knots)
    u_pts = np.column_stack([left, right]).ravel()
    x_pts = np.repeat(values, 2)
    u = (ndtr(np.asarray(z, dtype=np.float64)) - EPS) / (1.0 - 2.0 * EPS)
    return np.interp(u, u_pts, x_pts)


def minmax_forward(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Affine map of [lo, hi] onto [-1, 1] (values outside are clipped)."""
    span = hi - lo if hi > lo else 1.0
    return 2.0 * (np.clip(x, lo, hi) - lo) / span - 1.0


def minmax_inverse(z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    span = hi - lo if hi > lo else 1.0
    return lo + (np.clip(z, -1.0, 1.0) + 1.0) / 2.0 * span


def one_hot(codes: np.ndarray, k: int) -> np.ndarray:
    """Codes ``0..k-1`` as one-hot rows; a single 0/1 column when ``k == 2``."""
    if k == 2:
        return codes.astype(np.float64)[:, None]
    out = np.zeros((len(codes), k))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def one_hot_width(k: int) -> int:
    return 1 if k == 2 else k


def from_one_hot(block: np.ndarray, k: int) -> np.ndarray:
    """Codes from (noisy) one-hot rows: threshold at 0.5 for one column, argmax otherwise."""
    if k == 2:
        return (block[:, 0] > 0.5).astype(np.int64)
    return block.argmax(1).astype(np.int64)


def from_codes(values: np.ndarray, k: int) -> np.ndarray:
    """Integer codes in ``0..k-1`` from a column the backbone generated as codes."""
    return np.clip(np.rint(values), 0, k - 1).astype(np.int64)


def round_to(x: np.ndarray, decimals) -> np.ndarray:
    return x if decimals is None else np.round(x, int(decimals))
