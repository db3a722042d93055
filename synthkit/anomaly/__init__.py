"""Anomaly detection from any generative backbone, in scikit-learn's outlier API.

Example:
    >>> import numpy as np
    >>> from synthkit.anomaly import GenerativeDetector
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> det = GenerativeDetector("vae", backbone_params={"max_epochs": 2, "hidden_dims": (16,)},
    ...                          random_state=0).fit(X)
    >>> det.predict(X).shape
    (200,)
"""

from synthkit.anomaly.detector import GenerativeDetector
from synthkit.anomaly.scores import available_rules, resolve_rule
from synthkit.scoring import ScoreRule

__all__ = ["GenerativeDetector", "ScoreRule", "available_rules", "resolve_rule"]
