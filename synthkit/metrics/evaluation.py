"""One call that scores a synthetic table for fidelity, utility and privacy.

:func:`evaluate` runs every metric whose inputs are present and returns one JSON-able
dictionary; :func:`synthkit.metrics.report.write_report` turns it into an HTML page.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import pandas as pd

from synthkit.metrics.columns import check_pair, infer_kinds
from synthkit.metrics.dcr import dcr, exact_copy_rate
from synthkit.metrics.detection import c2st_auc, detection_score
from synthkit.metrics.fidelity import column_shapes, pair_trends, summarize
from synthkit.metrics.membership import membership_inference
from synthkit.metrics.precision_recall import precision_recall
from synthkit.metrics.utility import tstr
from synthkit.reporting import to_jsonable

SECTIONS = ("fidelity", "detection", "precision_recall", "utility", "privacy")


def evaluate(
    real: pd.DataFrame, synthetic: pd.DataFrame, *, holdout: pd.DataFrame | None = None, target=None,
    metadata=None, sections=SECTIONS, dp: Mapping | None = None, random_state=0,
) -> dict:
    """Score ``synthetic`` against ``real`` (and a real ``holdout``) in one dictionary.

    Sections (each present only when its inputs are):

    ``fidelity``          column shapes and pair trends (always);
    ``detection``         cross-validated AUC of gradient boosting telling real from synthetic (always);
    ``precision_recall``  k-NN precision/recall/density/coverage and α-precision/β-recall (always);
    ``utility``           train-synthetic-test-real beside train-real-test-real (``holdout`` and ``target``);
    ``privacy``           exact-copy rate (always); DCR share and membership inference (``holdout``);
                          the spent DP budget when ``dp`` is given.

    Args:
        real: the real table the generator was trained on.
        synthetic: the generated table (same columns; extra columns are ignored).
        holdout: real rows from the same source that the generator never saw.
        target: column to predict for the utility section.
        metadata: column kinds (see :func:`synthkit.metrics.columns.infer_kinds`);
            identifier columns (kind ``"id"``) are left out of every metric.
        sections: which sections to run (default all).
        dp: the generator's spent differential-privacy budget, e.g. ``{"epsilon": 3.0,
            "delta": 1e-5}``, shown in the report.
        random_state: seed of every subsample and model.

    Returns:
        ``{"data", "summary", "fidelity", "detection", "precision_recall", "utility",
        "privacy", "seconds", "skipped"}``: ``summary`` holds the headline numbers (see
        :data:`HEADLINES`), the other keys the details, ``seconds`` the time per metric and
        ``skipped`` why a metric did not run (missing holdout or target, or a table too
        small for it). Non-finite numbers are ``None``.

    Raises:
        ValueError: not DataFrames, no rows, columns missing from ``synthetic`` or
            ``holdout``, an unknown ``target`` or section, or only identifier columns.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> draw = lambda n: pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n)})
        >>> out = evaluate(draw(200), draw(200), holdout=draw(200), target="c",
        ...                sections=("fidelity", "privacy"))
        >>> sorted(out["summary"])[:3], out["summary"]["column_shapes"] > 0.8
        (['column_shapes', 'dcr_share', 'exact_copy_rate'], True)
    """
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}.")
    check_pair(real, synthetic)
    if holdout is not None:
        check_pair(real, holdout, what="holdout")
    kinds = infer_kinds(real, metadata)
    if target is not None and target not in real.columns:
        raise ValueError(f"target {target!r} is not a column of the real table; columns: {list(real.columns)}.")
    if not [c for c, k in kinds.items() if k != "id"]:
        raise ValueError("every column is an identifier; nothing to compare.")
    synthetic = synthetic[list(real.columns)]
    holdout = None if holdout is None else holdout[list(real.columns)]
    out: dict = {
        "data": {
            "n_real": len(real), "n_synthetic": len(synthetic),
            "n_holdout": None if holdout is None else len(holdout),
            "columns": {str(c): k for c, k in kinds.items()}, "target": None if target is None else str(target),
        },
        "summary": {}, "seconds": {}, "skipped": {},
    }
    kw = {"kinds": kinds, "random_state": random_state}
    summary = out["summary"]

    def timed(name, fn):
        """Run one metric; a table too small for it (a ValueError) skips it with the reason."""
        start = time.perf_counter()
        try:
            result = fn()
        except ValueError as err:
            out["skipped"][name] = str(err)
            return None
        out["seconds"][name] = round(time.perf_counter() - start, 3)
        return result

    if "fidelity" in sections:
        shapes = timed("column_shapes", lambda: column_shapes(real, synthetic, kinds=kinds))
        trends = timed("pair_trends", lambda: pair_trends(real, synthetic, kinds=kinds))
        out["fidelity"] = {"column_shapes": shapes or [], "pair_trends": trends or []}
        summary["column_shapes"] = summarize(shapes or [])
        summary["pair_trends"] = summarize(trends or [])
    if "detection" in sections:
        auc = timed("detection", lambda: c2st_auc(real, synthetic, **kw))
        if auc is not None:
            out["detection"] = {"auc": auc, "score": detection_score(auc), "classifier": "HistGradientBoosting", "cv": 5}
            summary["detection_auc"] = auc
    if "precision_recall" in sections:
        pr = timed("precision_recall", lambda: precision_recall(real, synthetic, **kw))
        if pr is not None:
            out["precision_recall"] = pr
            for key in ("precision", "recall", "density", "coverage", "alpha_precision", "beta_recall", "authenticity"):
                summary[key] = pr[key]
    if "utility" in sections:
        if holdout is None or target is None:
            out["skipped"]["utility"] = "needs holdout= and target="
        else:
            util = timed("utility", lambda: tstr(real, synthetic, holdout, target, **kw))
            if util is not None:
                out["utility"] = util
                main = "roc_auc" if util["task"] == "classification" else "r2"
                summary[f"trtr_{main}"] = util["trtr"][main]
                summary[f"tstr_{main}"] = util["tstr"][main]
    if "privacy" in sections:
        privacy: dict = {}
        copies = timed("exact_copies", lambda: exact_copy_rate(real, synthetic, holdout, kinds=kinds))
        if copies is not None:
            privacy["exact_copies"] = copies
            summary["exact_copy_rate"] = copies["synthetic"]
            if copies["holdout"] is not None:
                summary["exact_copy_rate_holdout"] = copies["holdout"]
        if holdout is None:
            out["skipped"]["dcr"] = out["skipped"]["membership_inference"] = "needs holdout="
        else:
            d = timed("dcr", lambda: dcr(real, synthetic, holdout, **kw))
            if d is not None:
                privacy["dcr"] = d
                summary["dcr_share"] = d["share_closer_to_train"]
            mia = timed("membership_inference", lambda: membership_inference(real, synthetic, holdout, **kw))
            if mia is not None:
                privacy["membership_inference"] = mia
                summary["mia_auc"] = mia["auc"]
        if dp is not None:
            privacy["dp"] = dict(dp)
            summary["dp_epsilon"] = dp.get("epsilon")
        out["privacy"] = privacy
    return to_jsonable(out)


#: headline numbers of ``summary``: (label, ideal, one-line meaning)
HEADLINES = {
    "column_shapes": ("Column shapes", "1", "marginal distributions (KS / total variation complement)"),
    "pair_trends": ("Pair trends", "1", "pairwise correlations and contingency tables"),
    "detection_auc": ("Detection AUC", "0.5", "gradient boosting telling real from synthetic rows"),
    "precision": ("Precision", "1", "synthetic rows inside the real data's k-NN support"),
    "recall": ("Recall", "1", "real rows inside the synthetic data's k-NN support"),
    "density": ("Density", "1", "how crowded synthetic rows are among real neighbours"),
    "coverage": ("Coverage", "≈0.97", "real rows with a synthetic row among their 5 nearest"),
    "alpha_precision": ("α-precision", "1", "synthetic rows in the real α-supports, over α"),
    "beta_recall": ("β-recall", "≈0.5", "real rows reached by synthetic β-supports (estimator ceiling ≈0.5)"),
    "authenticity": ("Authenticity", "≈0.5", "synthetic rows not closer to a real row than its own neighbour"),
    "trtr_roc_auc": ("Train real → test real (ROC AUC)", "", "the reference utility"),
    "tstr_roc_auc": ("Train synthetic → test real (ROC AUC)", "= TRTR", "utility of the synthetic table"),
    "trtr_r2": ("Train real → test real (R²)", "", "the reference utility"),
    "tstr_r2": ("Train synthetic → test real (R²)", "= TRTR", "utility of the synthetic table"),
    "exact_copy_rate": ("Exact copies of training rows", "≤ holdout", "share of synthetic rows equal to a training row"),
    "exact_copy_rate_holdout": ("Exact copies, real holdout", "", "the same share for unseen real rows (baseline)"),
    "dcr_share": ("DCR share closer to train", "0.5", "synthetic rows nearer the training rows than the holdout"),
    "mia_auc": ("Membership-inference AUC", "0.5", "strongest attack telling training rows from holdout rows"),
    "dp_epsilon": ("DP ε spent", "small", "differential-privacy budget of the generator's training"),
}
