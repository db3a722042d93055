"""MS-SSIM diversity of a set of images: the mean MS-SSIM over random pairs within the set.

Odena, Olah & Shlens (2017) read the mean pairwise MS-SSIM (Wang, Simoncelli & Bovik 2003)
of generated images as a diversity score: near 1 for a generator that repeats one image,
lower for varied ones; a generator matches the data when its figure is near the real set's
(MS-SSIM of synthetic *vs* the real set's own, not synthetic against real). The structural
comparison is MONAI's :func:`monai.metrics.regression.compute_ms_ssim` (2-D and 3-D).

The published recipe (an 11-pixel Gaussian window, five scales) needs images of at least
about 176 pixels a side; :func:`msssim_settings` picks, for the image's shortest side, the
largest window in (7, 5, 3) and then as many of the five scales as fit (MONAI's own size
check and the coarsest scale holding one window), keeping the first scales' published
weights renormalized to sum to 1. 16 px images get a 7-pixel window at 2 scales, 48 px
at 3, 64 px at 4. The ``data_range`` is the real set's intensity range, the same for both sets.

References:
    Wang, Simoncelli & Bovik (2003). Multiscale structural similarity for image quality
    assessment. Asilomar Conference on Signals, Systems and Computers.
    Odena, Olah & Shlens (2017). Conditional image synthesis with auxiliary classifier GANs. ICML.
"""

from __future__ import annotations

import numpy as np

#: the five scale weights of Wang et al. (2003)
WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
#: window sizes tried, largest first, and the Gaussian sigma used with each
KERNELS = {7: 1.5, 5: 1.0, 3: 0.5}


def msssim_settings(shortest_side: int) -> dict:
    """Window size, sigma and scale weights for images whose shortest spatial side is given.

    Example:
        >>> [(s, len(msssim_settings(s)["weights"])) for s in (16, 48, 64)]
        [(16, 2), (48, 3), (64, 4)]
    """
    for k, sigma in KERNELS.items():
        for scales in range(len(WEIGHTS), 1, -1):
            monai_ok = shortest_side // max(1, scales - 1) ** 2 > k - 1  # MONAI's check
            if monai_ok and shortest_side // 2 ** (scales - 1) >= k:
                w = np.asarray(WEIGHTS[:scales])
                return {"kernel_size": k, "kernel_sigma": sigma, "weights": tuple((w / w.sum()).tolist())}
    raise ValueError(f"MS-SSIM needs images of at least 6 pixels a side, got a shortest side of {shortest_side}.")


def ms_ssim(a, b, *, data_range: float | None = None) -> np.ndarray:
    """MS-SSIM of each image pair ``(a[i], b[i])``, arrays ``(n, C, *spatial)`` with 2 or 3 spatial axes."""
    import torch
    from monai.metrics.regression import compute_ms_ssim

    A, B = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if A.shape != B.shape or A.ndim not in (4, 5):
        raise ValueError(f"MS-SSIM compares image pairs of one shape (n, C, H, W[, D]), got {A.shape} and {B.shape}.")
    if data_range is None:
        data_range = float(max(A.max(), B.max()) - min(A.min(), B.min())) or 1.0
    settings = msssim_settings(min(A.shape[2:]))
    with torch.no_grad():
        out = compute_ms_ssim(torch.from_numpy(A), torch.from_numpy(B), spatial_dims=A.ndim - 2,
                              data_range=float(data_range), **settings)
    return out.reshape(-1).numpy().astype(np.float64)


def ms_ssim_diversity(images, *, n_pairs: int = 200, data_range: float | None = None, random_state=0,
                      batch_size: int = 64) -> float:
    """Mean MS-SSIM over ``n_pairs`` random pairs of distinct images of one set (lower = more diverse).

    Args:
        images: ``(n, C, *spatial)``, ``n >= 2``.
        data_range: intensity range for the SSIM constants (default: the set's own range);
            give the real set's range to read two sets on one scale.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((1, 1, 32, 32))
        >>> round(ms_ssim_diversity(np.repeat(x, 4, axis=0)), 6)
        1.0
        >>> ms_ssim_diversity(rng.random((8, 1, 32, 32))) < 0.2
        True
    """
    X = np.asarray(getattr(images, "array", images), dtype=np.float32)
    if X.ndim not in (4, 5) or len(X) < 2:
        raise ValueError(f"MS-SSIM diversity needs at least 2 images (n, C, H, W[, D]), got shape {X.shape}.")
    if data_range is None:
        data_range = float(X.max() - X.min()) or 1.0
    rng = np.random.default_rng(random_state)
    i = rng.integers(0, len(X), n_pairs)
    j = (i + rng.integers(1, len(X), n_pairs)) % len(X)  # j != i
    values = [ms_ssim(X[i[s:s + batch_size]], X[j[s:s + batch_size]], data_range=data_range)
              for s in range(0, n_pairs, batch_size)]
    return float(np.concatenate(values).mean())
