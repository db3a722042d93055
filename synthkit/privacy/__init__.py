"""Differentially private training: DP-SGD for synthkit generators.

``fit_private``, ``privacy_spent`` and ``DPTrainingLoop`` need Opacus
(``pip install 'synthkit[privacy]'``) and are imported on first use.

The empirical privacy checks of a synthetic table (``dcr``, ``exact_copy_rate``,
``membership_inference``) are evaluation metrics and live in :mod:`synthkit.metrics`;
the old names here still work, with a :class:`DeprecationWarning`.
"""

import warnings

__all__ = ["DPTrainingLoop", "fit_private", "privacy_spent"]

#: names that moved to synthkit.metrics (kept here for backward compatibility)
_MOVED_TO_METRICS = ("dcr", "exact_copy_rate", "membership_inference")


def __getattr__(name):
    if name in ("DPTrainingLoop", "fit_private", "privacy_spent"):
        from synthkit.privacy import dp

        return getattr(dp, name)
    if name in _MOVED_TO_METRICS:
        warnings.warn(f"synthkit.privacy.{name} moved to synthkit.metrics.{name}; import it from there.",
                      DeprecationWarning, stacklevel=2)
        import synthkit.metrics

        return getattr(synthkit.metrics, name)
    raise AttributeError(f"module 'synthkit.privacy' has no attribute {name!r}")
