"""Figures of the synthetic-data report (matplotlib, Agg canvas, no pyplot state: each is made by
:func:`synthkit.reporting.figure` and inlined by :func:`synthkit.reporting.png_tag`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthkit.metrics.columns import as_labels, as_numbers
from synthkit.metrics.fidelity import association_matrix
from synthkit.reporting import REAL_COLOR, SYNTH_COLOR, figure

#: categories per bar chart (most frequent in the real data; the rest are pooled)
MAX_BARS = 12


def marginals_figure(shapes: list[dict], real, synthetic, kinds):
    """A grid of real-against-synthetic marginals, one panel per ``column_shapes`` record."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    n = len(shapes)
    ncols = min(4, n)
    nrows = int(np.ceil(n / ncols))
    fig = figure((3.6 * ncols, 2.7 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    by_name = {str(c): c for c in real.columns}
    for ax, r in zip(axes.ravel(), shapes):
        col = by_name[r["column"]]
        if r["kind"] == "categorical":
            _bars(ax, real[col], synthetic[col])
        else:
            _histogram(ax, real[col], synthetic[col], r["kind"])
        name = r["column"] if len(r["column"]) <= 28 else r["column"][:26] + "…"
        ax.set_title(f"{name}   {r['score']:.2f}", fontsize=10, loc="left")
        miss = (r["missing_real"], r["missing_synthetic"])
        if max(miss) > 0 and r["kind"] != "categorical":
            ax.text(0.99, 0.97, f"missing {miss[0]:.0%} / {miss[1]:.0%}", transform=ax.transAxes,
                    ha="right", va="top", fontsize=7, color="#555")
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    handles = [Rectangle((0, 0), 1, 1, color=REAL_COLOR, alpha=0.55), Line2D([], [], color=SYNTH_COLOR, lw=2)]
    fig.legend(handles, ["real", "synthetic"], loc="upper right", ncol=2, frameon=False, fontsize=9)
    height = 2.7 * nrows  # a fixed grid: tight_layout would cost seconds on 24 panels
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - 0.5 / height, bottom=0.55 / height, wspace=0.12, hspace=0.5)
    return fig


def _histogram(ax, real: pd.Series, synthetic: pd.Series, kind: str) -> None:
    r, s = as_numbers(real), as_numbers(synthetic)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    both = np.r_[r, s]
    if len(both) == 0:
        ax.text(0.5, 0.5, "all missing", ha="center", transform=ax.transAxes)
        return
    lo, hi = np.quantile(both, [0.005, 0.995])
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    n_unique = len(np.unique(r)) if len(r) else 0
    if n_unique <= 30 and np.all(r == np.round(r)):  # few integer values: one bar each
        edges = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.0, max(1.0, np.ceil((hi - lo + 1) / 40)))
    else:
        bins = int(np.clip(np.sqrt(min(len(r), len(s)) or len(both)), 8, 30))
        edges = np.histogram_bin_edges(np.clip(r if len(r) else both, lo, hi), bins=bins, range=(lo, hi))
    hr = np.histogram(np.clip(r, edges[0], edges[-1]), edges)[0] / max(len(r), 1)
    hs = np.histogram(np.clip(s, edges[0], edges[-1]), edges)[0] / max(len(s), 1)
    ax.stairs(hr, edges, fill=True, color=REAL_COLOR, alpha=0.55, linewidth=0)
    ax.stairs(hs, edges, color=SYNTH_COLOR, linewidth=1.8)
    ax.set_yticks([])
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if n_unique <= 30 and kind != "datetime":
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    if kind == "datetime":
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _date_label(v)))


def _date_label(seconds: float) -> str:
    try:
        return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%d")
    except (ValueError, OverflowError):
        return ""


def _bars(ax, real: pd.Series, synthetic: pd.Series) -> None:
    r = pd.Series(as_labels(real)).fillna("(missing)").value_counts(normalize=True)
    s = pd.Series(as_labels(synthetic)).fillna("(missing)").value_counts(normalize=True)
    top = list(r.index[:MAX_BARS])
    labels = top + (["(other)"] if len(r) > MAX_BARS or not set(s.index) <= set(top) else [])
    pr = np.array([r.get(c, 0.0) for c in top] + ([r.drop(top).sum()] if len(labels) > len(top) else []))
    ps = np.array([s.get(c, 0.0) for c in top] + ([s.drop([c for c in top if c in s.index]).sum()] if len(labels) > len(top) else []))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, pr, width=0.4, color=REAL_COLOR, alpha=0.55)
    ax.bar(x + 0.2, ps, width=0.4, color=SYNTH_COLOR, alpha=0.9)
    short = [c if len(c) <= 12 else c[:11] + "…" for c in labels]
    ax.set_xticks(x, short, rotation=35 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center")
    ax.set_yticks([])


def association_figures(real, synthetic, kinds) -> list:
    """Real and synthetic association matrices and their absolute difference.

    Up to 15 columns: one figure with three panels (values written in the cells up to 12).
    More: the real and synthetic matrices side by side, then the difference on its own,
    so that it stays legible.
    """
    a_real = association_matrix(real, kinds=kinds)
    a_synth = association_matrix(synthetic, kinds=kinds, reference=real)
    diff = (a_real - a_synth).abs()
    n = len(a_real)
    panels = [(a_real, "real", "RdBu_r", -1, 1), (a_synth, "synthetic", "RdBu_r", -1, 1),
              (diff, "|real − synthetic|", "Reds", 0, 1)]
    groups = [panels] if n <= 15 else [panels[:2], panels[2:]]
    size = min(max(3.2, 0.32 * n + 1.6), 7.0) if n <= 15 else 0.24 * n + 2.0
    figs = []
    for group in groups:
        fig = figure((len(group) * size + 1.0, size))
        axes = np.atleast_1d(fig.subplots(1, len(group)))
        for ax, (m, name, cmap, vmin, vmax) in zip(axes, group):
            _heatmap(fig, ax, m, name, cmap, vmin, vmax, labels_left=ax is axes[0])
        fig.subplots_adjust(left=0.08, right=0.98, wspace=0.25)
        figs.append(fig)
    return figs


def _heatmap(fig, ax, m: pd.DataFrame, name: str, cmap: str, vmin: float, vmax: float, *, labels_left: bool) -> None:
    n = len(m)
    im = ax.imshow(m.to_numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
    labels = [c if len(c) <= 16 else c[:15] + "…" for c in m.columns]
    fs = 8 if n <= 15 else 7
    ax.set_xticks(range(n), labels, rotation=90, fontsize=fs)
    ax.set_yticks(range(n), labels if labels_left else [""] * n, fontsize=fs)
    ax.set_title(name, fontsize=10)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                v = m.iat[i, j]
                ax.text(j, i, f"{v:.2f}".replace("0.", ".").replace("-.", "−."), ha="center", va="center",
                        fontsize=6, color="white" if abs(v) > 0.6 else "#222")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)


def dcr_figure(d: dict):
    """Distances to the nearest training row: synthetic rows against real holdout rows."""
    h = d["histogram"]
    edges = np.asarray(h["edges"])
    fig = figure((6.4, 2.8))
    ax = fig.subplots()
    ax.stairs(h["holdout_to_train"], edges, fill=True, color=REAL_COLOR, alpha=0.55,
              label="real holdout → nearest training row")
    ax.stairs(h["synthetic_to_train"], edges, color=SYNTH_COLOR, lw=1.8, label="synthetic → nearest training row")
    ax.set_xlabel("distance (standardized one-hot space)", fontsize=9)
    ax.set_yticks([])
    ax.legend(fontsize=8, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def alpha_beta_figure(pr: dict):
    """α-precision and β-recall curves against the diagonal."""
    fig = figure((4.2, 3.4))
    ax = fig.subplots()
    a = np.asarray(pr["alphas"])
    ax.plot(a, a, color="#999", ls="--", lw=1, label="ideal (α-precision)")
    ax.plot(a, pr["alpha_precision_curve"], color=REAL_COLOR, lw=2, label="α-precision")
    ax.plot(a, pr["beta_recall_curve"], color=SYNTH_COLOR, lw=2, label="β-recall")
    ax.set_xlabel("α, β", fontsize=9)
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False)
    ax.tick_params(labelsize=8)
    return fig
