"""Augmenting a classifier's training data with generated rows.

:class:`GenerativeOversampler` is an imbalanced-learn sampler (``fit_resample``) backed by
any synthkit backbone; :func:`evaluate_augmentation` measures what it buys a classifier on
real held-out folds, beside SMOTE; :func:`filter_synthetic` drops implausible generated rows.
"""

try:
    import imblearn  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "synthkit.augment needs imbalanced-learn; install it with pip install 'synthkit[augment]'."
    ) from err

from synthkit.augment.evaluate import default_scoring, evaluate_augmentation  # noqa: E402
from synthkit.augment.filter import filter_synthetic, plausibility  # noqa: E402
from synthkit.augment.oversampler import GenerativeOversampler  # noqa: E402

__all__ = ["GenerativeOversampler", "default_scoring", "evaluate_augmentation", "filter_synthetic", "plausibility"]
