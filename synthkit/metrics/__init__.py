"""Fidelity, detection, utility, sample-level and empirical privacy metrics for real/synthetic pairs.

Everything here works on any two :class:`pandas.DataFrame` objects with the same columns
(numbers, categories, booleans, datetimes, missing values); column kinds are inferred or
given as ``metadata``. The empirical privacy checks (distance to closest record, exact
copies, membership inference) are metrics like the others; DP-SGD *training* lives in
:mod:`synthkit.privacy`. :func:`evaluate` runs all of it and
:func:`synthkit.metrics.report.write_report` renders the result.
"""

from synthkit.metrics.columns import TableEncoder, infer_kinds
from synthkit.metrics.dcr import dcr, exact_copy_rate
from synthkit.metrics.detection import c2st_auc, detection_score
from synthkit.metrics.evaluation import evaluate
from synthkit.metrics.fidelity import column_shapes, ks_complement, pair_trends, tv_complement
from synthkit.metrics.membership import membership_inference
from synthkit.metrics.precision_recall import alpha_precision_beta_recall, prdc, precision_recall
from synthkit.metrics.report import write_report
from synthkit.metrics.utility import tstr

__all__ = [
    "TableEncoder",
    "alpha_precision_beta_recall",
    "c2st_auc",
    "column_shapes",
    "dcr",
    "detection_score",
    "evaluate",
    "exact_copy_rate",
    "infer_kinds",
    "ks_complement",
    "membership_inference",
    "pair_trends",
    "prdc",
    "precision_recall",
    "tstr",
    "tv_complement",
    "write_report",
]
