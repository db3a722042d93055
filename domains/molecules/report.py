"""A one-file HTML report of molecule metrics: a table of scores and property histograms.

The page, its inline PNG figure and the atomic write of the page with the JSON of the
scores beside it are :mod:`synthkit.reporting`'s, as for every report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.domains.molecules.metrics import property_values
from synthkit.reporting import REAL_COLOR, SYNTH_COLOR, Page, figure, png_tag, report_path

PROPERTY_LABELS = {"qed": "QED", "logp": "Crippen logP", "sa": "SA score", "weight": "Molecular weight (Da)"}

#: how the scores are computed, under their table
NOTE = (
    "Validity, uniqueness and novelty follow MOSES; internal diversity is 1 − mean pairwise Tanimoto\n"
    "(Morgan radius 2, 2048 bits); nearest-neighbour, fragment and scaffold similarity compare with the\n"
    "reference set; Wasserstein distances are in each property's own units. The FCD, when present, is\n"
    "computed at equal sample sizes and shown beside a real-vs-real baseline of the same size."
)


def write_report(results: dict, synthetic, reference, path, *, title: str = "Generated molecules") -> Path:
    """Write ``path`` (HTML) and ``path`` with ``.json`` (the scores); returns the HTML path.

    Args:
        results: numbers from :func:`synthkit.domains.molecules.metrics.evaluate`.
        synthetic, reference: SMILES lists whose property distributions are plotted.
    """
    path = report_path(path)
    page = Page(title).headline(results, note=NOTE)
    page.section("Property distributions", png_tag(_histograms(synthetic, reference), "property histograms",
                                                   tight=False))
    return page.write(path, scores=results)


def _histograms(synthetic, reference):
    names = list(PROPERTY_LABELS)
    gen = property_values(list(synthetic), names)
    ref = property_values(list(reference), names) if reference is not None else None
    fig = figure((4 * len(names), 3.2))
    axes = fig.subplots(1, len(names))
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
    return fig
