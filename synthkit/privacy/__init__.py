"""Privacy of synthetic data: DP-SGD training, distance to closest record, membership inference.

``fit_private`` and ``DPTrainingLoop`` need Opacus (``pip install 'synthkit[privacy]'``) and
are imported on first use; the empirical checks need only scikit-learn.
"""

from synthkit.privacy.dcr import dcr, exact_copy_rate
from synthkit.privacy.membership import membership_inference

__all__ = ["DPTrainingLoop", "dcr", "exact_copy_rate", "fit_private", "membership_inference", "privacy_spent"]


def __getattr__(name):
    if name in ("DPTrainingLoop", "fit_private", "privacy_spent"):
        from synthkit.privacy import dp

        return getattr(dp, name)
    raise AttributeError(f"module 'synthkit.privacy' has no attribute {name!r}")
