"""The HTML report of ``synthkit evaluate --domain medical``: the scores of
:func:`~synthkit.domains.medical.quality.image_quality` with what each means and which
encoder gave the features, image grids of real beside synthetic images (middle slices of
volumes) and intensity histograms; written atomically, with a JSON of the scores beside it
(the page, figures and write are :mod:`synthkit.reporting`'s, as for every report)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.domains.medical.metrics import middle_slices
from synthkit.reporting import Page, escape, figure, png_tag, report_path

#: images per grid
GRID = 16


#: what each score in the table means (how to read it)
MEANINGS = {
    "n_real": "real images (after bringing them to the synthetic grid)",
    "n_synthetic": "synthetic images",
    "fid": "Fréchet distance on the local encoder's features; read beside the real-vs-real FID",
    "fid_real_vs_real": "FID between two random halves of the real set, at the same n as the FID",
    "fid_n": "images per side in both FID figures",
    "kid": "kernel inception distance (unbiased MMD², cubic kernel); about 0 for one distribution",
    "kid_real_vs_real": "KID between the two real halves",
    "ms_ssim": "mean MS-SSIM over random pairs of synthetic images (lower = more diverse)",
    "ms_ssim_real": "the same within the real set: the diversity to match",
    "precision": "share of synthetic images inside the real feature manifold (k-NN balls)",
    "recall": "share of real images inside the synthetic manifold (low: missing modes)",
    "density": "mean real balls holding a synthetic image, over k (about 1 when matched)",
    "coverage": "share of real images whose ball holds a synthetic image",
    "two_sample_auc": "PCA + logistic regression on pixels, out of fold (0.5 = indistinguishable)",
    "two_sample_auc_features": "logistic regression on the encoder's features, out of fold",
    "copying_share": "synthetic images nearer a training image than any held-out one (0.5 = no copying)",
    "histogram_overlap": "overlap of pooled pixel-intensity histograms (1 = identical)",
    "encoder": "feature network of FID, KID and precision / recall",
}


def write_image_report(results: dict, real: np.ndarray, synthetic: np.ndarray, path) -> Path:
    """Write ``path`` (HTML) and ``path.json`` (the scores); returns ``path``."""
    path = report_path(path)
    limits = tuple(np.percentile(middle_slices(real[:GRID]), [0.5, 99.5]))
    encoder = results.get("quality", {}).get("encoder", "")
    page = Page("Synthetic medical images", css=".pair{display:flex;gap:2em;flex-wrap:wrap}")
    page.headline(results["summary"], meanings=MEANINGS, spec=".3f", note=(
        f"Features: {escape(encoder)}. The real-vs-real FID splits the real set into two random "
        "halves; the FID compares each half with as many synthetic images, so both are at the same n."))
    page.section("Images (model grid, channel 0, middle slice of volumes)",
                 "<div class='pair'>"
                 f"<div><h3>Real</h3>{_grid(real, 'real images', limits)}</div>"
                 f"<div><h3>Synthetic</h3>{_grid(synthetic, 'synthetic images', limits)}</div></div>")
    page.section("Intensities", _histogram(results["intensity"]))
    return page.write(path, scores=results)


def _grid(X: np.ndarray, alt: str, limits=None) -> str:
    """A grid of middle slices, grey levels from ``limits`` (the real set's, so both grids share a scale)."""
    views = middle_slices(X[:GRID])
    cols = min(8, len(views))
    nrows = max(1, -(-len(views) // cols))
    fig = figure((1.3 * cols, 1.3 * nrows))
    lo, hi = limits if limits is not None else (np.percentile(views, [0.5, 99.5]) if len(views) else (0, 1))
    for i, v in enumerate(views):
        ax = fig.add_subplot(nrows, cols, i + 1)
        ax.imshow(np.asarray(v).T, cmap="gray", vmin=lo, vmax=hi, origin="lower")
        ax.axis("off")
    return png_tag(fig, alt)


def _histogram(stats: dict) -> str:
    fig = figure((5, 3))
    ax = fig.add_subplot(1, 1, 1)
    edges = np.asarray(stats["edges"])
    for key, label in (("real_histogram", "real"), ("synthetic_histogram", "synthetic")):
        ax.stairs(stats[key], edges, label=label)
    ax.set_xlabel("intensity (model scale)")
    ax.set_ylabel("share of pixels")
    ax.legend()
    return png_tag(fig, "intensity histograms")
