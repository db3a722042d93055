"""The HTML report of ``synthkit evaluate --domain medical``: headline scores, image grids of
real and synthetic images (middle slices of volumes) and intensity histograms, written
atomically with a JSON of the scores beside it."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from synthkit.domains.medical.metrics import middle_slices

#: images per grid
GRID = 16


def write_image_report(results: dict, real: np.ndarray, synthetic: np.ndarray, path) -> Path:
    """Write ``path`` (HTML) and ``path.json`` (the scores); returns ``path``."""
    from synthkit.io import write_text
    from synthkit.metrics.evaluation import to_jsonable

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{_fmt(v)}</td></tr>"
                   for k, v in results["summary"].items())
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>Synthetic medical images</title>"
            "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 12px}</style></head><body>"
            "<h1>Synthetic medical images</h1>"
            f"<h2>Summary</h2><table>{rows}</table>"
            "<h2>Images (model grid, channel 0, middle slice of volumes)</h2>"
            f"<h3>Real</h3>{_grid(real, 'real images')}<h3>Synthetic</h3>{_grid(synthetic, 'synthetic images')}"
            f"<h2>Intensities</h2>{_histogram(results['intensity'])}"
            "<p>Two-sample AUC: PCA + logistic regression on pixels, out of fold (0.5 = indistinguishable). "
            "Copying share: synthetic images nearer a training image than any held-out one "
            "(0.5 = no copying).</p></body></html>")
    write_text(path.with_suffix(".json"), json.dumps(to_jsonable(results), indent=2))
    write_text(path, page)
    return path


def _grid(X: np.ndarray, alt: str) -> str:
    from synthkit.metrics.plots import figure, png_tag

    views = middle_slices(X[:GRID])
    cols = min(8, len(views))
    nrows = max(1, -(-len(views) // cols))
    fig = figure((1.3 * cols, 1.3 * nrows))
    lo, hi = np.percentile(views, [0.5, 99.5]) if len(views) else (0, 1)
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
