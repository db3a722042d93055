"""Fidelity, detection and utility metrics for real/synthetic pairs."""

from synthkit.metrics.detection import c2st_auc

__all__ = ["c2st_auc"]
