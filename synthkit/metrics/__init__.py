"""Fidelity, detection, utility and sample-level metrics for real/synthetic pairs.

Everything here works on any two :class:`pandas.DataFrame` objects with the same columns
(numbers, categories, booleans, datetimes, missing values); column kinds are inferred or
given as ``metadata``. :func:`evaluate` runs all of it (plus the privacy checks of
:mod:`synthkit.privacy`) and :func:`synthkit.metrics.report.write_report` renders the result.
"""

from synthkit.metrics.columns import TableEncoder, infer_kinds
from synthkit.metrics.detection import c2st_auc, detection_score
from synthkit.metrics.evaluation import evaluate
from synthkit.metrics.fidelity import column_shapes, ks_complement, pair_trends, tv_complement
from synthkit.metrics.precision_recall import alpha_precision_beta_recall, prdc, precision_recall
from synthkit.metrics.report import write_report
from synthkit.metrics.utility import tstr

__all__ = [
    "TableEncoder",
    "alpha_precision_beta_recall",
    "c2st_auc",
    "column_shapes",
    "detection_score",
    "evaluate",
    "infer_kinds",
    "ks_complement",
    "pair_trends",
    "prdc",
    "precision_recall",
    "tstr",
    "tv_complement",
    "write_report",
]
