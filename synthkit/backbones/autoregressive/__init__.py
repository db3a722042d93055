"""Autoregressive density models over the columns of flat vectors.

``MADE`` (registered as ``"autoregressive"``) is the estimator; ``masked`` holds the
masked network layers and ``mixtures`` the per-column output distributions.
"""

from synthkit.backbones.autoregressive.made import MADE
from synthkit.backbones.autoregressive.masked import MADENetwork, MaskedLinear, MaskedResidualBlock

__all__ = ["MADE", "MADENetwork", "MaskedLinear", "MaskedResidualBlock"]
