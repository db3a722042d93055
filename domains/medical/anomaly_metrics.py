"""Metrics of unsupervised anomaly localization: image AUROC, pixel AUROC / AUPRC, Dice.

Following Baur et al. (2021), pixel metrics pool every voxel of the evaluated set:

* **pixel AUROC** and **pixel AUPRC** (average precision) of the maps against the lesion masks;
* **best Dice**: the Dice of ``map > threshold`` with the masks at the best threshold, a
  ceiling on what any threshold achieves (computed exactly over all distinct map values in
  one sort, vectorized);
* **Dice at a healthy threshold**: the threshold is the 99th percentile of the maps of healthy
  *validation* images (no lesion knowledge), the operating point a user without labels would
  pick (1% false-positive voxels on healthy images);
* **image AUROC**: ranking sick images below healthy ones by ``score_samples``
  (higher = more normal).

References:
    Baur, Denner, Wiestler, Navab & Albarqouni (2021). Autoencoders for unsupervised anomaly
    segmentation in brain MR images: a comparative study. Medical Image Analysis 69.

Example:
    >>> import numpy as np
    >>> maps = np.array([[[0.9, 0.8], [0.1, 0.2]]])
    >>> masks = np.array([[[1, 0], [0, 0]]])
    >>> best_dice(maps, masks)
    (1.0, 0.9)
    >>> round(pixel_auprc(maps, masks), 3), round(pixel_auroc(maps, masks), 3)
    (1.0, 1.0)
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _pair(maps, masks) -> tuple[np.ndarray, np.ndarray]:
    maps, masks = np.asarray(maps, dtype=np.float64), np.asarray(masks)
    if maps.shape != masks.shape:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} must have the same shape "
                         "(bring masks onto the model grid with detector.transform_masks).")
    if not np.isfinite(maps).all():
        raise ValueError("maps hold NaN or infinite values.")
    truth = masks.ravel() > 0
    if truth.all() or not truth.any():
        raise ValueError("masks must hold both lesion and healthy voxels.")
    return maps.ravel(), truth


def pixel_auroc(maps, masks) -> float:
    """Area under the ROC curve of all voxels' map values against the masks."""
    values, truth = _pair(maps, masks)
    return float(roc_auc_score(truth, values))


def pixel_auprc(maps, masks) -> float:
    """Average precision (area under the precision-recall curve) of all voxels."""
    values, truth = _pair(maps, masks)
    return float(average_precision_score(truth, values))


def best_dice(maps, masks) -> tuple[float, float]:
    """The largest Dice ``2 |P & M| / (|P| + |M|)`` of ``P = maps >= threshold`` over all
    thresholds, and that threshold (a map value), pooled over all voxels."""
    values, truth = _pair(maps, masks)
    order = np.argsort(-values, kind="stable")
    v, tp = values[order], np.cumsum(truth[order])
    last = np.r_[v[1:] != v[:-1], True]  # the end of each run of tied values: a valid cut
    predicted = np.arange(1, len(v) + 1)[last]
    dice = 2 * tp[last] / (predicted + truth.sum())
    k = int(np.argmax(dice))
    return float(dice[k]), float(v[last][k])


def dice_at(maps, masks, threshold: float) -> float:
    """Dice of ``maps > threshold`` with the masks, pooled over all voxels."""
    values, truth = _pair(maps, masks)
    pred = values > threshold
    denom = pred.sum() + truth.sum()
    return float(2 * (pred & truth).sum() / denom)


def healthy_threshold(healthy_maps, percentile: float = 99.0) -> float:
    """The ``percentile`` of all voxels of maps of healthy validation images."""
    values = np.asarray(healthy_maps, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError("healthy_maps must be a non-empty array of finite values.")
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be in (0, 100), got {percentile!r}.")
    return float(np.percentile(values, percentile))


def image_auroc(healthy_scores, sick_scores) -> float:
    """AUROC of telling sick images from healthy ones by ``score_samples`` (higher = more
    normal), i.e. the chance a sick image scores below a healthy one."""
    h, s = np.asarray(healthy_scores, dtype=np.float64).ravel(), np.asarray(sick_scores, dtype=np.float64).ravel()
    if not len(h) or not len(s):
        raise ValueError("image_auroc needs at least one healthy and one sick score.")
    return float(roc_auc_score(np.r_[np.zeros(len(h)), np.ones(len(s))], -np.r_[h, s]))


def localization_scores(sick_maps, masks, healthy_maps, *, sick_scores=None, healthy_scores=None,
                        percentile: float = 99.0) -> dict[str, float]:
    """All the metrics above in one dict: ``pixel_auroc``, ``pixel_auprc``, ``best_dice``,
    ``best_threshold``, ``healthy_threshold``, ``dice_at_healthy_threshold`` and, given the
    image scores, ``image_auroc``."""
    best, at = best_dice(sick_maps, masks)
    thr = healthy_threshold(healthy_maps, percentile)
    out = {"pixel_auroc": pixel_auroc(sick_maps, masks), "pixel_auprc": pixel_auprc(sick_maps, masks),
           "best_dice": best, "best_threshold": at, "healthy_threshold": thr,
           "dice_at_healthy_threshold": dice_at(sick_maps, masks, thr)}
    if sick_scores is not None and healthy_scores is not None:
        out["image_auroc"] = image_auroc(healthy_scores, sick_scores)
    return out
