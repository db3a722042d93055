"""All no-download quality scores of synthetic images against real ones, in one dict.

:func:`image_quality` trains a :class:`~synthkit.domains.medical.encoder.RotationEncoder`
on the real images only and reads, on its penultimate features:

* FID beside the real-vs-real FID at the same n: the real set is split at random into two
  halves and each figure compares half-sized sets (:func:`~synthkit.domains.medical.fid.fid_with_reference`);
* KID (unbiased, about 0 for one distribution) and the same between the two real halves;
* precision, recall, density and coverage (Kynkäänniemi et al. 2019; Naeem et al. 2020;
  the core :func:`synthkit.metrics.precision_recall.prdc`) on features standardized by
  the real set;
* a classifier two-sample AUC on the features, beside the one on pixels
  (:func:`~synthkit.domains.medical.metrics.two_sample_auc`);

and on pixels: MS-SSIM diversity of the synthetic set beside the real set's
(:mod:`~synthkit.domains.medical.msssim`), and with a real ``holdout`` the copying share
(:func:`~synthkit.domains.medical.metrics.copying_share`: synthetic images nearer a
training image than any held-out one; 0.5 for a model that does not copy).

Both sets must already be on one grid and intensity scale (the evaluate command brings them
there with an :class:`~synthkit.domains.medical.preprocess.ImagePreprocessor` fitted on the
real set).

References:
    Heusel et al. (2017) FID; Bińkowski et al. (2018) KID; Naeem et al. (2020), Reliable
    fidelity and diversity metrics for generative models, ICML; Odena et al. (2017) MS-SSIM
    diversity; Lopez-Paz & Oquab (2017) classifier two-sample tests; Gidaris et al. (2018)
    rotation prediction.
"""

from __future__ import annotations

import numpy as np

from synthkit.domains.medical.encoder import RotationEncoder
from synthkit.domains.medical.fid import fid_with_reference, kid
from synthkit.domains.medical.metrics import copying_share, two_sample_auc
from synthkit.domains.medical.msssim import ms_ssim_diversity

#: fewest real images: two halves of at least two for the real-vs-real FID
MIN_REAL = 4

#: the scores a report or benchmark table shows first, in order
HEADLINE = ("fid", "fid_real_vs_real", "kid", "kid_real_vs_real", "ms_ssim", "ms_ssim_real", "precision",
            "recall", "density", "coverage", "two_sample_auc", "two_sample_auc_features", "copying_share")


def check_image_sets(real, synthetic, holdout=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The sets as float arrays ``(n, C, *spatial)`` of one image shape, or a ValueError saying what is wrong."""
    sets = {"real": real, "synthetic": synthetic} | ({} if holdout is None else {"holdout": holdout})
    out = {}
    for name, x in sets.items():
        X = np.asarray(getattr(x, "array", x), dtype=np.float32)
        if X.ndim not in (4, 5):
            raise ValueError(f"the {name} images must be an array (n, C, H, W) or (n, C, H, W, D), got shape {X.shape}.")
        if not np.isfinite(X).all():
            raise ValueError(f"the {name} images hold NaN or infinite values.")
        out[name] = X
    shapes = {name: X.shape[1:] for name, X in out.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"image shapes (C, *spatial) differ: {shapes}; bring all sets to one grid first "
                         "(ImagePreprocessor(image_size=...).fit(real)).")
    if len(out["real"]) < MIN_REAL:
        raise ValueError(f"image quality needs at least {MIN_REAL} real images (two halves for the real-vs-real "
                         f"FID), got {len(out['real'])}.")
    if len(out["synthetic"]) < 2:
        raise ValueError(f"image quality needs at least 2 synthetic images, got {len(out['synthetic'])}.")
    return out["real"], out["synthetic"], out.get("holdout")


def image_quality(real, synthetic, *, holdout=None, encoder: RotationEncoder | None = None, k: int = 5,
                  n_pairs: int = 200, random_state: int = 0) -> dict:
    """FID, KID, MS-SSIM, PRDC, two-sample AUCs and the copying share (see the module docstring).

    Args:
        real: the real (training) images ``(n, C, *spatial)``, ``n >= 4``; an ImageSet works too.
        synthetic: generated images of the same shape.
        holdout: real images the generator never saw (for the copying share), optional.
        encoder: a fitted :class:`RotationEncoder`; default: one trained here on ``real``.
        k: neighbours of the precision / recall manifolds.
        n_pairs: random pairs per set for the MS-SSIM diversity.

    Returns:
        A flat dict of floats (``HEADLINE`` keys first) plus ``encoder``, ``n_real``,
        ``n_synthetic``, ``fid_n`` and the encoder's rotation accuracy on the real images.

    Example:
        >>> from synthkit.domains.medical import make_mni152_slices
        >>> x = make_mni152_slices(24, image_size=16, random_state=0).array
        >>> q = image_quality(x[:12], x[12:], encoder=RotationEncoder(max_epochs=2).fit(x[:12]))
        >>> sorted(k for k in q if k.startswith("fid"))
        ['fid', 'fid_n', 'fid_real_vs_real']
    """
    from synthkit.metrics.precision_recall import prdc

    R, S, H = check_image_sets(real, synthetic, holdout)
    if encoder is None:
        encoder = RotationEncoder(random_state=random_state).fit(R)
    fr, fs = encoder.transform(R), encoder.transform(S)
    out: dict = {"encoder": encoder.name, "encoder_rotation_accuracy": encoder.accuracy(R),
                 "n_real": len(R), "n_synthetic": len(S)}
    out.update(fid_with_reference(fr, fs, random_state=random_state))
    out.update(kid(fr, fs, random_state=random_state))
    half = np.random.default_rng(random_state).permutation(len(R))
    a, b = fr[half[: len(R) // 2]], fr[half[len(R) // 2:]]
    out["kid_real_vs_real"] = kid(a, b, random_state=random_state)["kid"]
    data_range = float(R.max() - R.min()) or 1.0
    out["ms_ssim"] = ms_ssim_diversity(S, n_pairs=n_pairs, data_range=data_range, random_state=random_state)
    out["ms_ssim_real"] = ms_ssim_diversity(R, n_pairs=n_pairs, data_range=data_range, random_state=random_state)
    mu, sd = fr.mean(0), np.maximum(fr.std(0), 1e-8)
    out.update(prdc((fr - mu) / sd, (fs - mu) / sd, k=k))
    out["two_sample_auc"] = two_sample_auc(R, S, random_state=random_state)
    out["two_sample_auc_features"] = two_sample_auc(fr, fs, random_state=random_state)
    if H is not None and len(H) >= 1:
        out["copying_share"] = copying_share(R, H, S, random_state=random_state)
    return {key: out[key] for key in HEADLINE if key in out} | {key: v for key, v in out.items() if key not in HEADLINE}
