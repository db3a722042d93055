"""Scores of synthetic images against real ones, needing no download.

* ``two_sample_auc``: a classifier two-sample test (Lopez-Paz & Oquab 2017) on pixels:
  logistic regression on the first principal components of the flattened images,
  out-of-fold ROC AUC (0.5: indistinguishable, 1.0: every synthetic image recognized).
* ``copying_share``: share of synthetic images whose nearest training image is closer than
  their nearest held-out image (0.5 for a model that does not copy; near 1 for one that
  reproduces its training images).
* ``intensity_stats``: mean and standard deviation of per-image mean intensities and the
  overlap of the pooled intensity histograms (1 - total variation distance).

All work on images brought to one grid and intensity scale (the caller's job; the adapter
uses an :class:`~synthkit.domains.medical.preprocess.ImagePreprocessor` fitted on the real set).

References:
    Lopez-Paz & Oquab (2017). Revisiting classifier two-sample tests. ICLR.
"""

from __future__ import annotations

import numpy as np

#: images per side in the two-sample test and the copying check (larger sets are subsampled)
MAX_IMAGES = 2000


def _flat(X: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype=np.float64).reshape(len(X), -1)


def _subsample(X: np.ndarray, rng) -> np.ndarray:
    return X if len(X) <= MAX_IMAGES else X[np.sort(rng.choice(len(X), MAX_IMAGES, replace=False))]


def two_sample_auc(real: np.ndarray, synthetic: np.ndarray, *, n_components: int = 20, cv: int = 5,
                   random_state=0) -> float:
    """Out-of-fold ROC AUC of PCA + logistic regression separating ``real`` from ``synthetic``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(size=(40, 1, 8, 8)), rng.normal(size=(40, 1, 8, 8))
        >>> two_sample_auc(a, b) < 0.7 < two_sample_auc(a, b + 1.0)
        True
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from synthkit.metrics.detection import oof_auc

    rng = np.random.default_rng(random_state)
    R, S = _flat(_subsample(real, rng)), _flat(_subsample(synthetic, rng))
    cv = min(cv, len(R), len(S))  # small sets: fewer folds
    if cv < 2:
        raise ValueError(f"a two-sample test needs at least 2 images per side, got {len(R)} and {len(S)}.")
    X = np.concatenate([R, S])
    y = np.r_[np.zeros(len(R)), np.ones(len(S))]
    k = max(1, min(n_components, X.shape[1], int(len(X) * (cv - 1) / cv) - 1))
    clf = make_pipeline(StandardScaler(), PCA(k, random_state=0), LogisticRegression(C=1.0, max_iter=1000))
    return oof_auc(clf, X, y, cv=cv, random_state=random_state)


def copying_share(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, *, random_state=0) -> float:
    """Share of synthetic images nearer (Euclidean, over pixels) to a training image than to
    any held-out one; ties count half.

    The larger of the two real sets is subsampled to the size of the smaller one, so that a
    model that does not copy scores 0.5 (the nearest of more candidates is nearer by chance);
    copies of training images left out of the subsample then go unseen, so give sets of
    equal size where copies matter.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> train, held = rng.normal(size=(40, 1, 6, 6)), rng.normal(size=(40, 1, 6, 6))
        >>> copying_share(train, held, train + 0.01)
        1.0
        >>> 0.35 < copying_share(train, held, rng.normal(size=(200, 1, 6, 6))) < 0.65
        True
    """
    rng = np.random.default_rng(random_state)
    m = min(len(train), len(holdout), MAX_IMAGES)
    T, H = (_flat(x[np.sort(rng.choice(len(x), m, replace=False))]) for x in (train, holdout))
    S = _flat(_subsample(synthetic, rng))

    def nearest(ref, q):
        d = (q**2).sum(1)[:, None] - 2 * q @ ref.T + (ref**2).sum(1)[None, :]
        return np.sqrt(np.maximum(d.min(1), 0.0))

    dt, dh = nearest(T, S), nearest(H, S)
    return float(np.mean((dt < dh) + 0.5 * (dt == dh)))


def intensity_stats(real: np.ndarray, synthetic: np.ndarray, *, bins: int = 50) -> dict:
    """Per-image mean intensities (mean, std) of both sets, and their histograms' overlap."""
    R, S = _flat(real), _flat(synthetic)
    lo, hi = float(min(R.min(), S.min())), float(max(R.max(), S.max()))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    hr, _ = np.histogram(R, edges)
    hs, _ = np.histogram(S, edges)
    overlap = 1.0 - 0.5 * np.abs(hr / hr.sum() - hs / hs.sum()).sum()
    return {"real_mean": float(R.mean(1).mean()), "real_std": float(R.mean(1).std()),
            "synthetic_mean": float(S.mean(1).mean()), "synthetic_std": float(S.mean(1).std()),
            "real_pixel_std": float(R.std()), "synthetic_pixel_std": float(S.std()),
            "histogram_overlap": float(overlap), "edges": edges.tolist(),
            "real_histogram": (hr / hr.sum()).tolist(), "synthetic_histogram": (hs / hs.sum()).tolist()}


def middle_slices(X: np.ndarray) -> np.ndarray:
    """2-D views ``(n, H, W)`` of images ``(n, C, *spatial)``: channel 0, the middle slice of
    the last axis for volumes."""
    X = np.asarray(X)[:, 0]
    return X[..., X.shape[-1] // 2] if X.ndim == 4 else X
