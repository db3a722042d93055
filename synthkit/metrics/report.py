"""A self-contained HTML report of :func:`synthkit.metrics.evaluate` results.

One file a person can open in any browser and send by e-mail: a verdict table of the
headline scores, per-column marginals of real against synthetic data (worst columns
first), association heat maps and their difference, utility and privacy sections, and
notes on how each number is computed. Plots are matplotlib figures (Agg backend, no
display needed) embedded as base64 PNG. The JSON of the results is written beside it.
The page skeleton, figures, tables and the atomic write of both files are
:mod:`synthkit.reporting`'s, shared with the domains' reports.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from synthkit.metrics import plots
from synthkit.metrics.evaluation import HEADLINES
from synthkit.reporting import Markup, Page, png_tag, report_path, table
from synthkit.reporting import escape as _e

#: marginal plots shown (worst column shapes first)
MAX_MARGINALS = 24
#: columns in the association heat maps (those with the worst pair trends)
MAX_HEATMAP_COLUMNS = 30


def write_report(results: dict, real: pd.DataFrame, synthetic: pd.DataFrame, path, *, title: str | None = None) -> Path:
    """Write ``path`` (HTML) and the JSON of ``results`` beside it (same name, ``.json``).

    Args:
        results: the dictionary returned by :func:`synthkit.metrics.evaluate`.
        real, synthetic: the tables that were evaluated (for the plots).
        path: the HTML file to write; its folder is created if needed.
        title: page heading (default "Synthetic data report").

    Returns:
        The path of the HTML file.

    Example:
        >>> import tempfile, numpy as np, pandas as pd
        >>> from synthkit.metrics import evaluate
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(list("ab"), 100)})
        >>> res = evaluate(df, df.sample(frac=1, random_state=1), sections=("fidelity",))
        >>> out = write_report(res, df, df, Path(tempfile.mkdtemp()) / "report.html")
        >>> out.with_suffix(".json").exists(), out.read_text().startswith("<!DOCTYPE html>")
        (True, True)
    """
    path = report_path(path)
    if "summary" not in results or "data" not in results:
        raise ValueError("results must be the dictionary returned by synthkit.metrics.evaluate.")
    return _render(results, real, synthetic, title or "Synthetic data report").write(path, scores=results)


# ---------------------------------------------------------------------------- page
def _render(results: dict, real: pd.DataFrame, synthetic: pd.DataFrame, title: str) -> Page:
    kinds = results["data"]["columns"]
    kinds = {c: kinds.get(str(c), "id") for c in real.columns}
    page = Page(title, meta=_meta(results))
    page.section("Summary", _summary_table(results))
    fidelity = results.get("fidelity")
    if fidelity:
        _fidelity_sections(page, fidelity, real, synthetic, kinds)
    if "detection" in results:
        d = results["detection"]
        page.section(
            "Detection",
            f"<p>A gradient-boosted classifier ({_e(d.get('classifier'))}, {d.get('cv')}-fold cross-validation) "
            f"tried to tell real rows from synthetic ones. Its held-out ROC AUC is <b>{_fmt(d.get('auc'))}</b> "
            "(0.5: cannot tell them apart; 1.0: recognizes every synthetic row). "
            "Identical rows are kept in one fold, so copies of real rows count as undetectable here; "
            "the privacy section is what flags them.</p>",
        )
    if results.get("precision_recall"):
        page.section("Sample-level fidelity and diversity", _precision_recall(results["precision_recall"]))
    if results.get("utility"):
        page.section("Utility", _utility(results["utility"]))
    if results.get("privacy"):
        page.section("Privacy", _privacy(results["privacy"]))
    return page.add(_footer(results))


def _meta(results: dict) -> Markup:
    d = results["data"]
    counts = Counter(d["columns"].values())
    kinds = ", ".join(f"{n} {k}" for k, n in counts.items())
    holdout = f" · holdout {d['n_holdout']:,} rows" if d.get("n_holdout") else ""
    target = f" · target <code>{_e(d['target'])}</code>" if d.get("target") else ""
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return Markup(
        f"real {d['n_real']:,} rows · synthetic {d['n_synthetic']:,} rows{holdout} · "
        f"{len(d['columns'])} columns ({_e(kinds)}){target} · {when}"
    )


def _summary_table(results: dict) -> str:
    s = results["summary"]
    rows = []
    for key, (label, ideal, meaning) in HEADLINES.items():
        if key not in s:
            continue
        verdict = _verdict(key, s)
        badge = Markup(f"<span class='badge {verdict}'>{verdict}</span>") if verdict else ""
        rows.append((label, _fmt(s[key]), ideal, badge, meaning))
    skipped = results.get("skipped") or {}
    note = "".join(f"<li><b>{_e(k)}</b> skipped: {_e(v)}</li>" for k, v in skipped.items())
    header = ("Score", "Value", "Ideal", "", "What it measures")
    return (table(rows, header, classes=("", "num", "num", "", "muted"), cls="summary")
            + (f"<ul class='muted'>{note}</ul>" if note else ""))


def _verdict(key: str, s: dict) -> str:
    v = s.get(key)
    if v is None:
        return ""
    if key in ("column_shapes", "pair_trends"):
        return "good" if v >= 0.9 else "fair" if v >= 0.8 else "poor"
    if key == "detection_auc":
        return "good" if v <= 0.6 else "fair" if v <= 0.75 else "poor"
    if key in ("precision", "recall"):
        return "good" if v >= 0.9 else "fair" if v >= 0.75 else "poor"
    if key == "coverage":
        return "good" if v >= 0.9 else "fair" if v >= 0.75 else "poor"
    if key.startswith("tstr_"):
        ref = s.get("trtr_" + key[5:])
        if ref is None:
            return ""
        gap = ref - v
        return "good" if gap <= 0.03 else "fair" if gap <= 0.1 else "poor"
    if key == "exact_copy_rate":
        base = s.get("exact_copy_rate_holdout") or 0.0
        return "good" if v <= base + 0.005 else "fair" if v <= base + 0.02 else "poor"
    if key == "dcr_share":
        return "good" if 0.45 <= v <= 0.55 else "fair" if 0.4 <= v <= 0.6 else "poor"
    if key == "mia_auc":
        return "good" if v <= 0.55 else "fair" if v <= 0.6 else "poor"
    if key == "authenticity":
        return "good" if v >= 0.4 else "fair" if v >= 0.25 else "poor"
    return ""


# ---------------------------------------------------------------------------- fidelity
def _fidelity_sections(page: Page, fidelity: dict, real, synthetic, kinds) -> None:
    shapes = sorted(fidelity.get("column_shapes", []), key=lambda r: (r["score"] is None, r["score"] or 0))
    out = []
    if shapes:
        shown = shapes[:MAX_MARGINALS]
        more = f" ({len(shapes) - len(shown)} better columns not drawn)" if len(shapes) > len(shown) else ""
        out.append(
            f"<p>Real (blue) against synthetic (orange) distributions, the worst-matching columns first{more}. "
            "The score in each title is the KS complement for numbers and dates, the total-variation "
            "complement for categories (1 = identical).</p>"
        )
        out.append(png_tag(plots.marginals_figure(shown, real, synthetic, kinds), "marginal distributions", tight=False))
        rows = [(r["column"], r["kind"], r["metric"], _bar(r["score"]), _pct(r["missing_real"]),
                 _pct(r["missing_synthetic"])) for r in shapes]
        header = ("Column", "Kind", "Metric", "Score", "Missing (real)", "Missing (synthetic)")
        out.append("<details><summary>All column scores</summary>"
                   + table(rows, header, classes=("", "", "", "num", "num", "num")) + "</details>")
    page.section("Columns", *out)
    trends = fidelity.get("pair_trends", [])
    if trends:
        out = []
        cols = _heatmap_columns(trends, kinds)
        if len(cols) >= 2:
            sub = {c: kinds[c] for c in kinds if str(c) in cols}
            out.append(
                "<p>Association of every pair of columns in the real and the synthetic table "
                "(Pearson correlation between numbers, Cramér's V when a category is involved; "
                "numbers are binned at the real deciles for Cramér's V), and the absolute difference."
                + (f" Shown: the {len(cols)} columns with the worst pair trends." if len(cols) < len(
                    [k for k in kinds.values() if k != "id"]) else "")
                + "</p>"
            )
            for fig in plots.association_figures(real, synthetic, sub):
                out.append(png_tag(fig, "association heat maps"))
        worst = sorted(trends, key=lambda r: r["score"])[:10]
        rows = [(" × ".join(r["columns"]), r["metric"], _bar(r["score"]), _fmt(r["real"]), _fmt(r["synthetic"]))
                for r in worst]
        header = ("Pair", "Metric", "Score", "Correlation (real)", "Correlation (synthetic)")
        out.append("<h3>Worst pairs</h3>" + table(rows, header, classes=("", "", "num", "num", "num")))
        page.section("Relations between columns", *out)


def _heatmap_columns(trends: list[dict], kinds) -> list[str]:
    cols = [str(c) for c, k in kinds.items() if k != "id"]
    if len(cols) <= MAX_HEATMAP_COLUMNS:
        return cols
    badness = {c: 0.0 for c in cols}
    for r in trends:
        for c in r["columns"]:
            badness[c] = max(badness[c], 1.0 - r["score"])
    keep = set(sorted(cols, key=lambda c: -badness[c])[:MAX_HEATMAP_COLUMNS])
    return [c for c in cols if c in keep]


# ---------------------------------------------------------------------------- other sections
def _precision_recall(pr: dict) -> str:
    rows = [(HEADLINES[k][0], _fmt(pr.get(k)), HEADLINES[k][2])
            for k in ("precision", "recall", "density", "coverage", "alpha_precision", "beta_recall", "authenticity")
            if k in pr]
    fig = plots.alpha_beta_figure(pr) if pr.get("alphas") else None
    return (
        f"<p>Computed on standardized one-hot rows with k = {pr.get('k')} nearest neighbours "
        "(Kynkäänniemi et al. 2019; Naeem et al. 2020; Alaa et al. 2022). Precision is about realism, "
        "recall and coverage about diversity (mode collapse lowers them).</p>"
        f"<div class='row'>{table(rows, classes=('', 'num', 'muted'))}"
        + (png_tag(fig, "alpha-precision and beta-recall curves") if fig is not None else "") + "</div>"
    )


def _utility(u: dict) -> str:
    metrics = [k for k in u["trtr"] if k != "note"]
    names = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "f1_macro": "F1 (macro)", "r2": "R²", "mae": "MAE"}
    rows = [(names.get(k, k), _fmt(u["trtr"][k]), _fmt(u["tstr"][k]), _fmt(u["gap"].get(k))) for k in metrics]
    notes = " ".join(_e(u[s]["note"]) for s in ("trtr", "tstr") if "note" in u[s])
    return (
        f"<p>Predicting <code>{_e(u['target'])}</code> ({_e(u['task'])}) on the real holdout with "
        "histogram gradient boosting trained on the real table (TRTR) or on the synthetic table (TSTR). "
        "A small gap means models trained on synthetic data work on real data.</p>"
        + table(rows, ("Metric", "Train real", "Train synthetic", "Gap"), classes=("", "num", "num", "num"))
        + (f"<p class='muted'>{notes}</p>" if notes else "")
    )


def _privacy(p: dict) -> str:
    out = []
    if "dp" in p:
        dp = p["dp"]
        out.append(
            f"<p class='callout'>The generator was trained with differential privacy: "
            f"ε = {_fmt(dp.get('epsilon'))}, δ = {_fmt(dp.get('delta'), '.1e')}"
            + (f", noise multiplier {_fmt(dp.get('noise_multiplier'))}" if dp.get("noise_multiplier") else "")
            + ".</p>"
        )
    c = p.get("exact_copies")
    if c:
        base = "" if c.get("holdout") is None else f" (real holdout rows that equal a training row: {_pct(c['holdout'])})"
        out.append(f"<p><b>Exact copies</b>: {_pct(c['synthetic'])} of synthetic rows equal a training row{base}.</p>")
    d = p.get("dcr")
    if d:
        out.append(
            f"<p><b>Distance to closest record</b>: {_pct(d['share_closer_to_train'])} of synthetic rows are nearer "
            f"to a training row than to any of {d['n_reference']:,} holdout rows (ideal 50%; much more means "
            "memorization).</p>"
        )
        out.append(png_tag(plots.dcr_figure(d), "distance to closest record"))
    m = p.get("membership_inference")
    if m:
        rows = [(name, _fmt(a["auc"]), _fmt(a["tpr_at_fpr_0.01"]), f"{a['n_members']:,}")
                for name, a in m["attacks"].items()]
        out.append(
            "<p><b>Membership inference</b>: an attacker who holds the synthetic table scores real rows; "
            "AUC 0.5 means training rows cannot be told from unseen rows. The true-positive rate at a 1% "
            "false-positive rate shows whether a few rows are exposed with confidence (ideal 0.01).</p>"
            + table(rows, ("Attack", "AUC", "TPR at 1% FPR", "Members"), classes=("", "num", "num", "num"))
        )
    out.append(
        "<p class='muted'>These are empirical checks, not guarantees: only differential privacy bounds what "
        "any attacker can learn.</p>"
    )
    return "".join(out)


def _footer(results: dict) -> str:
    secs = results.get("seconds") or {}
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in secs.items())
    return (
        "<footer><p>Numbers: column shapes and pair trends follow SDMetrics' KSComplement, TVComplement, "
        "CorrelationSimilarity and ContingencySimilarity; identifier columns are left out. Full results are in "
        f"the JSON file beside this page.</p><p>Computed in: {_e(timing)}.</p></footer>"
    )


# ---------------------------------------------------------------------------- helpers
def _fmt(v, spec: str = ".3f") -> str:
    if v is None:
        return "–"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{v:,}"
    return format(float(v), spec)


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _bar(score) -> str:
    if score is None:
        return "–"
    color = "#3a9a5b" if score >= 0.9 else "#d9a43a" if score >= 0.8 else "#c4483e"
    return Markup(
        f"<span class='bar'><span style='width:{100 * max(0.0, min(1.0, score)):.0f}%;background:{color}'></span></span>"
        f" {score:.3f}"
    )
