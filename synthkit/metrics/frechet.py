"""The Fréchet distance between two Gaussians, and between Gaussians fitted to two feature sets.

``d^2 = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))`` (Dowson & Landau 1982) is the
distance behind FID (Heusel et al. 2017), FCD (Preuer et al. 2018) and FAD (Kilgour et al.
2019); only the feature extractor differs. The trace of the matrix square root is the sum of
the square roots of the eigenvalues of ``S_1 S_2``, which are real and non-negative (the
product of two covariance matrices is similar to a positive semi-definite one), so no matrix
square root is formed: one ``eigvals`` call instead of a Schur-based ``sqrtm``, and no
complex round-off to discard (the approach torchmetrics' FID takes as well).

References:
    Dowson & Landau (1982). The Fréchet distance between multivariate normal distributions.
    J. Multivariate Analysis 12(3).
    Heusel et al. (2017). GANs trained by a two time-scale update rule converge to a local
    Nash equilibrium. NeurIPS (FID).
"""

from __future__ import annotations

import numpy as np


def gaussian_frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Example:
        >>> I = np.eye(3)
        >>> gaussian_frechet_distance(np.zeros(3), I, np.zeros(3), I)
        0.0
        >>> round(gaussian_frechet_distance(np.zeros(3), I, np.ones(3), 4 * I), 6)  # 3 + 3 (1 + 4 - 2 * 2)
        6.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"means {mu1.shape}, {mu2.shape} and covariances {s1.shape}, {s2.shape} do not match.")
    eig = np.linalg.eigvals(s1 @ s2)
    root_trace = np.sqrt(np.clip(eig.real, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * root_trace, 0.0))


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the rows of ``features`` ``(n, d)``, ``n >= 2``."""
    X = np.asarray(features, np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"features must be an (n, d) array with n >= 2 rows, got shape {X.shape}.")
    return X.mean(0), np.atleast_2d(np.cov(X, rowvar=False))


def frechet_distance(a, b) -> float:
    """Squared Fréchet distance between Gaussians fitted to the rows of ``a`` and ``b``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
        >>> frechet_distance(x, y) < 0.1 < frechet_distance(x, y + 1)
        True
    """
    return gaussian_frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
