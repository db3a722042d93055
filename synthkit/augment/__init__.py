"""Augmenting a classifier's training data with generated rows.

:class:`GenerativeOversampler` is an imbalanced-learn sampler (``fit_resample``) backed by
any synthkit backbone; :func:`evaluate_augmentation` measures what it buys a classifier on
real held-out folds, beside SMOTE; :func:`filter_synthetic` drops implausible generated rows.
"""

from synthkit.augment.evaluate import default_scoring, evaluate_augmentation
from synthkit.augment.filter import filter_synthetic, plausibility
from synthkit.augment.oversampler import GenerativeOversampler

__all__ = ["GenerativeOversampler", "default_scoring", "evaluate_augmentation", "filter_synthetic", "plausibility"]
