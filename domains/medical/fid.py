"""FID and KID of two feature sets (rows: images, columns: features of one fixed encoder).

* **FID** (Heusel et al. 2017): the squared Fréchet distance between Gaussians fitted to
  the two feature sets, computed by the core :func:`synthkit.metrics.frechet.frechet_distance`.
  It is biased upward at small n and the bias depends on n (Chong & Forsyth 2020), so a
  figure is only read beside the same distance between two real sets of the same size
  (:func:`fid_with_reference`).
* **KID** (Bińkowski et al. 2018): the squared maximum mean discrepancy with the cubic
  polynomial kernel ``k(x, y) = (x·y / d + 1)^3``, unbiased estimator, averaged over random
  subsets of ``subset_size`` rows per side. Unbiased: two samples of one distribution score
  about 0 at any n (slightly negative values happen), so it needs no real-vs-real reference.

The features come from :class:`~synthkit.domains.medical.encoder.RotationEncoder`; MONAI's
``FIDMetric`` would do the Fréchet step too, but the core's is the project's one.

References:
    Heusel et al. (2017). GANs trained by a two time-scale update rule converge to a local
    Nash equilibrium. NeurIPS.
    Bińkowski, Sutherland, Arbel & Gretton (2018). Demystifying MMD GANs. ICLR (KID).
    Chong & Forsyth (2020). Effectively unbiased FID and Inception score and where to find
    them. CVPR.
"""

from __future__ import annotations

import numpy as np

from synthkit.metrics.frechet import frechet_distance


def _features(a, name: str) -> np.ndarray:
    X = np.asarray(a, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2 or not np.isfinite(X).all():
        raise ValueError(f"{name} must be a finite (n, d) feature array with n >= 2, got shape {X.shape}.")
    return X


def fid(real_features, synthetic_features) -> float:
    """Squared Fréchet distance between Gaussians fitted to the two feature sets.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(400, 4))
        >>> fid(x, x)
        0.0
        >>> fid(x, rng.normal(size=(400, 4))) < 0.1 < fid(x, x + 1.0)
        True
    """
    R, S = _features(real_features, "real_features"), _features(synthetic_features, "synthetic_features")
    if R.shape[1] != S.shape[1]:
        raise ValueError(f"feature widths differ: {R.shape[1]} (real) and {S.shape[1]} (synthetic).")
    return frechet_distance(R, S)


def fid_with_reference(real_features, synthetic_features, *, random_state=0) -> dict:
    """FID of the synthetic features beside real-vs-real FID at the same n.

    The real set is split at random into halves A and B of ``m`` rows each (``m`` = half the
    real rows, or fewer when there are fewer synthetic rows). ``fid_real_vs_real`` is
    ``FID(A, B)``; ``fid`` is the mean of ``FID(A, S_1)`` and ``FID(B, S_2)`` for two random
    ``m``-row subsets of the synthetic rows, so both figures compare ``m`` rows with ``m``.

    Returns:
        ``{"fid", "fid_real_vs_real", "fid_n"}``.
    """
    R, S = _features(real_features, "real_features"), _features(synthetic_features, "synthetic_features")
    rng = np.random.default_rng(random_state)
    m = min(len(R) // 2, len(S))
    if m < 2:
        raise ValueError(f"FID at equal n needs at least 4 real and 2 synthetic images, got {len(R)} and {len(S)}.")
    order = rng.permutation(len(R))
    A, B = R[order[:m]], R[order[m:2 * m]]
    s1, s2 = (S[rng.choice(len(S), m, replace=False)] for _ in range(2))
    return {"fid": 0.5 * (fid(A, s1) + fid(B, s2)), "fid_real_vs_real": fid(A, B), "fid_n": int(m)}


def polynomial_kernel(X: np.ndarray, Y: np.ndarray, degree: int = 3) -> np.ndarray:
    """``(x·y / d + 1)^degree`` for every row pair (the kernel of KID)."""
    return (X @ Y.T / X.shape[1] + 1.0) ** degree


def mmd2_unbiased(X: np.ndarray, Y: np.ndarray, degree: int = 3) -> float:
    """Unbiased estimate of MMD² between the row sets ``X`` and ``Y`` (polynomial kernel)."""
    m, n = len(X), len(Y)
    kxx, kyy, kxy = polynomial_kernel(X, X, degree), polynomial_kernel(Y, Y, degree), polynomial_kernel(X, Y, degree)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def kid(real_features, synthetic_features, *, n_subsets: int = 50, subset_size: int = 100,
        random_state=0) -> dict:
    """Kernel Inception Distance: unbiased polynomial-kernel MMD² averaged over subsets.

    Args:
        n_subsets: random subsets drawn per side.
        subset_size: rows per subset (capped at the smaller set's size).

    Returns:
        ``{"kid": mean, "kid_std": standard deviation over subsets, "kid_subset_size": m}``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
        >>> abs(kid(x, y)["kid"]) < 0.1 < kid(x, y + 1.0)["kid"]
        True
    """
    R, S = _features(real_features, "real_features"), _features(synthetic_features, "synthetic_features")
    if R.shape[1] != S.shape[1]:
        raise ValueError(f"feature widths differ: {R.shape[1]} (real) and {S.shape[1]} (synthetic).")
    m = int(min(subset_size, len(R), len(S)))
    rng = np.random.default_rng(random_state)
    values = [mmd2_unbiased(R[rng.choice(len(R), m, replace=False)], S[rng.choice(len(S), m, replace=False)])
              for _ in range(int(n_subsets))]
    return {"kid": float(np.mean(values)), "kid_std": float(np.std(values)), "kid_subset_size": m}
