"""Sample-quality scores of generated clips from a classifier's outputs and features, no downloads.

The scores of the DiffWave / SaShiMi evaluation beside the inception score and FID of
:mod:`~synthkit.domains.audio.evaluation`, computed on the project's own classifier:

- :func:`modified_inception_score` (mIS, Gurumurthy et al. 2017):
  ``exp E_{x_i, x_j} KL(p(y|x_i) || p(y|x_j))`` over pairs of generated clips; besides
  confident, varied classes (what IS rewards), it rewards clips that differ *within* a
  class: a generator repeating one clip per class scores lower than real clips do.
  Higher is better; computed over all ordered pairs ``i != j`` (SaShiMi draws random pairs).
- :func:`am_score` (Zhou et al. 2018): ``KL(p_real(y) || p_gen(y)) + E_x H(p(y|x))``, the
  mismatch of the class marginals plus the classifier's mean uncertainty on the generated
  clips; lower is better, 0 when every clip is classified with certainty and the classes
  come in the real proportions.
- :func:`ndb_k` (Richardson & Weiss 2018): k-means bins on real features; the share of the
  ``K`` bins whose proportion of generated clips differs from that of real clips by a
  two-proportion z-test (two-sided, level ``alpha``). Lower is better; two samples of one
  distribution give about ``alpha``.
- :func:`copying_share`: the share of generated clips whose nearest training clip is closer
  than their nearest held-out clip. For a generator that draws from the data distribution
  without copying, the training and held-out clips are exchangeable, so the share is about
  ``n_train / (n_train + n_holdout)`` (:func:`copying_share_expected`; 0.5 at equal sizes);
  one that replays training clips gives 1. Read it only for clips near the real ones (FID,
  NDB/K): a clip far from every real clip is simply nearer the larger of the two sets.

References:
    Gurumurthy, Sarvadevabhatla & Babu, "DeLiGAN: generative adversarial networks for
    diverse and limited data", CVPR 2017 (modified inception score).
    Zhou et al., "Activation maximization generative adversarial nets", ICLR 2018 (AM score).
    Richardson & Weiss, "On GANs and GMMs", NeurIPS 2018 (NDB).
    Goel, Gu, Donahue & Ré, "It's raw! Audio generation with state-space models", ICML 2022.
    Meehan, Chaudhuri & Dasgupta, "A non-parametric test to detect data-copying in
    generative models", AISTATS 2020 (train-vs-test nearest-neighbour distances).
"""

from __future__ import annotations

import numpy as np

#: probabilities are clipped here before logarithms (as in the inception score)
EPS = 1e-12


def _proba(p, name: str = "proba") -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2 or not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must be a non-empty (n, n_classes >= 2) array of probabilities, got shape "
                         f"{p.shape}.")
    return np.clip(p / p.sum(1, keepdims=True), EPS, 1.0)


def modified_inception_score(proba) -> float:
    """``exp`` of the mean KL divergence between the class posteriors of two different clips."""
    p = _proba(proba)
    if len(p) < 2:
        raise ValueError("the modified inception score needs at least 2 clips.")
    logp = np.log(p)
    kl = (p * logp).sum(1)[:, None] - p @ logp.T  # kl[i, j] = KL(p_i || p_j); zero diagonal
    n = len(p)
    return float(np.exp((kl.sum() - np.trace(kl)) / (n * (n - 1))))


def am_score(proba, real_proba) -> float:
    """``KL(mean real posterior || mean generated posterior) + mean entropy of the generated posteriors``.

    ``real_proba`` is the classifier's output on real clips (``(m, n_classes)``), or a
    class-prior vector (``(n_classes,)``, e.g. the real label frequencies).
    """
    p = _proba(proba)
    ref = np.asarray(real_proba, dtype=np.float64)
    ref = _proba(ref[None] if ref.ndim == 1 else ref, "real_proba").mean(0)
    if ref.shape[0] != p.shape[1]:
        raise ValueError(f"real_proba has {ref.shape[0]} classes, proba {p.shape[1]}.")
    gen = p.mean(0)
    return float((ref * (np.log(ref) - np.log(gen))).sum() - (p * np.log(p)).sum(1).mean())


def _features(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or len(a) == 0 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a non-empty, finite (n, d) feature array, got shape {a.shape}.")
    return a


def ndb_k(real, generated, *, k: int | None = None, alpha: float = 0.05, random_state=0) -> float:
    """NDB/K: the share of k-means bins of ``real`` features where ``generated`` is over- or
    under-represented (two-proportion z-test at level ``alpha``).

    Args:
        real, generated: ``(n, d)`` and ``(m, d)`` features (e.g. a classifier's embedding).
        k: number of bins; default ``min(50, n // 10)`` and at least 2 (Richardson & Weiss use
            100 bins on tens of thousands of images; keep about ten real points per bin).
        alpha: significance level of each bin's test.
    """
    from scipy.stats import norm
    from sklearn.cluster import KMeans

    real, generated = _features(real, "real"), _features(generated, "generated")
    if real.shape[1] != generated.shape[1]:
        raise ValueError(f"real and generated features differ in width: {real.shape[1]} and {generated.shape[1]}.")
    k = max(2, min(50, len(real) // 10)) if k is None else int(k)
    if not 2 <= k <= len(real):
        raise ValueError(f"k must be between 2 and the number of real points ({len(real)}), got {k}.")
    km = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(real)
    n1, n2 = len(real), len(generated)
    p1 = np.bincount(km.labels_, minlength=k) / n1
    p2 = np.bincount(km.predict(generated), minlength=k) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = np.divide(p1 - p2, se, out=np.zeros(k), where=se > 0)
    return float((2 * norm.sf(np.abs(z)) < alpha).mean())


def copying_share(generated, train, holdout) -> float:
    """Share of ``generated`` points nearer to a training point than to any held-out point
    (ties count half); compare with :func:`copying_share_expected`."""
    from sklearn.neighbors import NearestNeighbors

    gen, tr, ho = _features(generated, "generated"), _features(train, "train"), _features(holdout, "holdout")
    if not gen.shape[1] == tr.shape[1] == ho.shape[1]:
        raise ValueError(f"feature widths differ: generated {gen.shape[1]}, train {tr.shape[1]}, "
                         f"holdout {ho.shape[1]}.")
    d_train = NearestNeighbors(n_neighbors=1).fit(tr).kneighbors(gen)[0][:, 0]
    d_hold = NearestNeighbors(n_neighbors=1).fit(ho).kneighbors(gen)[0][:, 0]
    return float(((d_train < d_hold) + 0.5 * (d_train == d_hold)).mean())


def copying_share_expected(n_train: int, n_holdout: int) -> float:
    """The copying share of a generator that does not copy: ``n_train / (n_train + n_holdout)``."""
    return n_train / (n_train + n_holdout)


__all__ = ["am_score", "copying_share", "copying_share_expected", "modified_inception_score", "ndb_k"]
