"""A one-file HTML report of molecule metrics: a table of scores and property histograms.

Plots are matplotlib figures (Agg backend) embedded as base64 PNG, so the page opens in
any browser without other files; the JSON of the scores is written beside it. Both are
written to a temporary file first and renamed into place.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from synthkit.domains.molecules.metrics import property_values
from synthkit.io import write_text

PROPERTY_LABELS = {"qed": "QED", "logp": "Crippen logP", "sa": "SA score", "weight": "Molecular weight (Da)"}
REAL_COLOR, SYNTH_COLOR = "#4C72B0", "#DD8452"


def write_report(results: dict, synthetic, reference, path, *, title: str = "Generated molecules") -> Path:
    """Write ``path`` (HTML) and ``path`` with ``.json`` (the scores); returns the HTML path.

    Args:
        results: numbers from :func:`synthkit.domains.molecules.metrics.evaluate`.
        synthetic, reference: SMILES lists whose property distributions are plotted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{_fmt(v)}</td></tr>" for k, v in results.items()
    )
    figures = _histograms(synthetic, reference)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}table{{border-collapse:collapse}}
td{{border:1px solid #ccc;padding:3px 10px}}img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Scores</h2><table>{rows}</table>
<p>Validity, uniqueness and novelty follow MOSES; internal diversity is 1 − mean pairwise Tanimoto
(Morgan radius 2, 2048 bits); nearest-neighbour, fragment and scaffold similarity compare with the
reference set; Wasserstein distances are in each property's own units. The FCD, when present, is
computed at equal sample sizes and shown beside a real-vs-real baseline of the same size.</p>
<h2>Property distributions</h2>
<img src="data:image/png;base64,{figures}" alt="property histograms">
</body></html>
"""
    write_text(path, page)
    write_text(path.with_suffix(".json"), json.dumps(results, indent=2, default=str))
    return path


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _histograms(synthetic, reference) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(PROPERTY_LABELS)
    gen = property_values(list(synthetic), names)
    ref = property_values(list(reference), names) if reference is not None else None
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2))
    for ax, name in zip(axes, names):
        both = np.concatenate([gen[name], ref[name] if ref is not None else []])
        bins = np.histogram_bin_edges(both, bins=40) if len(both) else 10
        if ref is not None and len(ref[name]):
            ax.hist(ref[name], bins=bins, density=True, alpha=0.55, color=REAL_COLOR, label="reference")
        if len(gen[name]):
            ax.hist(gen[name], bins=bins, density=True, alpha=0.55, color=SYNTH_COLOR, label="generated")
        ax.set_title(PROPERTY_LABELS[name])
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()
