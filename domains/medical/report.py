"""The HTML report of ``synthkit evaluate --domain medical``: the scores of
:func:`~synthkit.domains.medical.quality.image_quality` with what each means and which
encoder gave the features, image grids of real beside synthetic images (middle slices of
volumes) and intensity histograms; written atomically, with a JSON of the scores beside it."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from synthkit.domains.medical.metrics import middle_slices

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
    from synthkit.io import write_text
    from synthkit.metrics.evaluation import to_jsonable

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{_fmt(v)}</td>"
                   f"<td class='m'>{html.escape(MEANINGS.get(k, ''))}</td></tr>"
                   for k, v in results["summary"].items())
    limits = tuple(np.percentile(middle_slices(real[:GRID]), [0.5, 99.5]))
    encoder = results.get("quality", {}).get("encoder", "")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>Synthetic medical images</title>"
            "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 12px}td.m{color:#555}"
            ".pair{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>"
            "<h1>Synthetic medical images</h1>"
            f"<h2>Scores</h2><table>{rows}</table>"
            f"<p>Features: {html.escape(encoder)}. The real-vs-real FID splits the real set into two random "
            "halves; the FID compares each half with as many synthetic images, so both are at the same n.</p>"
            "<h2>Images (model grid, channel 0, middle slice of volumes)</h2><div class='pair'>"
            f"<div><h3>Real</h3>{_grid(real, 'real images', limits)}</div>"
            f"<div><h3>Synthetic</h3>{_grid(synthetic, 'synthetic images', limits)}</div></div>"
            f"<h2>Intensities</h2>{_histogram(results['intensity'])}</body></html>")
    write_text(path.with_suffix(".json"), json.dumps(to_jsonable(results), indent=2))
    write_text(path, page)
    return path


def _grid(X: np.ndarray, alt: str, limits=None) -> str:
    """A grid of middle slices, grey levels from ``limits`` (the real set's, so both grids share a scale)."""
    from synthkit.metrics.plots import figure, png_tag

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
    from synthkit.metrics.plots import figure, png_tag

    fig = figure((5, 3))
    ax = fig.add_subplot(1, 1, 1)
    edges = np.asarray(stats["edges"])
    for key, label in (("real_histogram", "real"), ("synthetic_histogram", "synthetic")):
        ax.stairs(stats[key], edges, label=label)
    ax.set_xlabel("intensity (model scale)")
    ax.set_ylabel("share of pixels")
    ax.legend()
    return png_tag(fig, "intensity histograms")


def _fmt(v) -> str:
    return html.escape(f"{v:.3f}" if isinstance(v, float) else str(v))
