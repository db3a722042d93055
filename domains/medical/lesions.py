"""Synthetic lesions painted into healthy images: anomaly-detection ground truth without data.

Unsupervised anomaly detection in brain MRI is evaluated by training on healthy images and
scoring images with lesions against their masks (Baur et al., "Autoencoders for unsupervised
anomaly segmentation in brain MR images: a comparative study", MedIA 2021). Without a
downloadable lesion data set, :func:`paint_lesions` paints them: each lesion changes the
intensity by ``contrast`` times the image's robust range (1st-99th percentile) inside a
shape, and its mask is exactly the set of changed voxels (every painted voxel changes by at
least half the contrast; a later lesion replaces an earlier one where they overlap, so
changes never cancel).

Kinds (``LESION_KINDS``):

* ``"bright"`` / ``"dark"``: a ball (disc in 2-D), brightest / darkest at its centre
  (profile ``1 - r^2 / 2R^2``), like a contrast-enhancing or necrotic focus;
* ``"ring"``: a bright shell ``0.6 R <= r <= R`` (ring enhancement);
* ``"irregular"``: a union of 3-5 overlapping balls of random radii, bright or dark.

``kind="mixed"`` draws a kind per lesion. Lesions are centred on foreground voxels (``where``,
by default voxels above 10% of the image's robust range, or all of a constant image) and clipped to it, so they never
appear in the background.
"""

from __future__ import annotations

import numpy as np

from synthkit.domains.medical.imageset import ImageSet

LESION_KINDS = ("bright", "dark", "ring", "irregular")


def paint_lesions(images, *, kind: str = "mixed", n_lesions: int | tuple[int, int] = (1, 3),
                  radius: tuple[float, float] = (2.0, 6.0), contrast: float = 0.5, where=None,
                  random_state=None):
    """Paint random lesions into copies of ``images`` and return them with their masks.

    Args:
        images: an :class:`ImageSet` or array ``(n, C, *spatial)`` (2-D or 3-D); all channels
            get the lesion, each scaled by its own range.
        kind: one of ``LESION_KINDS`` or ``"mixed"``.
        n_lesions: lesions per image: an int, or ``(low, high)`` inclusive.
        radius: ``(low, high)`` lesion radius in voxels.
        contrast: intensity change as a fraction of each image's 1st-99th percentile range.
        where: boolean / 0-1 masks ``(n, 1, *spatial)`` (array or ImageSet, e.g. brain masks)
            of voxels lesions may occupy; default: foreground above 10% of the range.
        random_state: seed (int) or ``numpy.random.Generator``.

    Returns:
        ``(painted, masks)`` of the input's type: painted float32 images and uint8 masks
        ``(n, 1, *spatial)`` that are 1 exactly where a voxel was changed.

    Example:
        >>> import numpy as np
        >>> X = np.ones((2, 1, 32, 32), dtype="float32")
        >>> Y, M = paint_lesions(X, kind="bright", n_lesions=1, random_state=0)
        >>> bool(((Y != X).any(axis=1) == M[:, 0].astype(bool)).all()), int(M.max())
        (True, 1)
    """
    if kind != "mixed" and kind not in LESION_KINDS:
        raise ValueError(f"kind must be one of {LESION_KINDS} or 'mixed', got {kind!r}.")
    lo_n, hi_n = (n_lesions, n_lesions) if np.isscalar(n_lesions) else n_lesions
    if not 0 <= lo_n <= hi_n:
        raise ValueError(f"n_lesions must be a count or (low, high) with 0 <= low <= high, got {n_lesions!r}.")
    r_lo, r_hi = (float(v) for v in radius)
    if not 0 < r_lo <= r_hi:
        raise ValueError(f"radius must be (low, high) with 0 < low <= high, got {radius!r}.")
    rng = np.random.default_rng(random_state)
    as_set = isinstance(images, ImageSet)
    src = images.channel_first().images if as_set else [np.asarray(x) for x in images]
    allowed = _where_list(where, len(src))
    painted, masks = [], []
    for i, x in enumerate(src):
        x = np.asarray(x, dtype=np.float32)
        p1, p99 = np.percentile(x, [1, 99], axis=tuple(range(1, x.ndim)))
        span = np.where(p99 > p1, p99 - p1, np.maximum(np.abs(p99), 1.0))
        if allowed is not None:
            ok = np.asarray(allowed[i]).reshape(x.shape[1:]) > 0
        else:  # foreground; a constant image is all foreground
            ok = x[0] > p1[0] + 0.1 * span[0] if p99[0] > p1[0] else np.ones(x.shape[1:], dtype=bool)
        delta = np.zeros(x.shape[1:], dtype=np.float32)  # change as a fraction of the span, signed
        mask = np.zeros(x.shape[1:], dtype=bool)
        centres = np.argwhere(ok)
        for _ in range(int(rng.integers(lo_n, hi_n + 1)) if len(centres) else 0):
            k = kind if kind != "mixed" else LESION_KINDS[rng.integers(len(LESION_KINDS))]
            shape, value = _lesion(k, x.shape[1:], centres[rng.integers(len(centres))], rng.uniform(r_lo, r_hi), rng)
            shape &= ok
            delta[shape] = contrast * value[shape]
            mask |= shape
        change = delta[None] * span.reshape((-1,) + (1,) * (x.ndim - 1)).astype(np.float32)
        out = x + change
        mask &= (out != x).all(axis=0)  # float32 rounding could swallow a change on a huge value
        painted.append(np.where(mask[None], out, x).astype(np.float32))
        masks.append(mask[None].astype(np.uint8))
    if as_set:
        return (ImageSet(painted, images.affines, images.paths, [dict(m) for m in images.meta]),
                ImageSet(masks, images.affines, images.paths, [dict(m) for m in images.meta]))
    return np.stack(painted), np.stack(masks)


def _lesion(kind: str, shape, centre, radius: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Boolean support and signed intensity profile (|value| >= 0.5 on the support)."""
    r = _distance(shape, centre)
    if kind in ("bright", "dark"):
        support = r <= radius
        value = 1 - 0.5 * (r / radius) ** 2
        return support, value if kind == "bright" else -value
    if kind == "ring":
        support = (r <= radius) & (r >= 0.6 * radius)
        return support, np.ones(shape, dtype=np.float32)
    support = np.zeros(shape, dtype=bool)
    for _ in range(int(rng.integers(3, 6))):
        offset = rng.normal(0, radius / 2, len(shape))
        support |= _distance(shape, centre + offset) <= rng.uniform(0.4, 0.8) * radius
    sign = 1.0 if rng.random() < 0.5 else -1.0
    return support, np.full(shape, sign * rng.uniform(0.5, 1.0), dtype=np.float32)


def _distance(shape, centre) -> np.ndarray:
    grids = np.ogrid[tuple(slice(0, s) for s in shape)]
    return np.sqrt(sum((g - c) ** 2 for g, c in zip(grids, centre))).astype(np.float32)


def _where_list(where, n):
    if where is None:
        return None
    items = where.channel_first().images if isinstance(where, ImageSet) else list(np.asarray(where))
    if len(items) != n:
        raise ValueError(f"where has {len(items)} masks for {n} images.")
    return items
