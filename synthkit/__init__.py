"""synthkit: generative backbones and domain adapters for synthetic data.

Example:
    >>> import numpy as np, synthkit
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> gen = synthkit.make_generator("vae", max_epochs=2, verbose=0, random_state=0).fit(X)
    >>> gen.sample(4).shape
    (4, 2)
"""

__version__ = "0.1.0"

from synthkit.base import Generator  # noqa: E402
from synthkit.persistence import load  # noqa: E402
from synthkit.registry import list_backbones, make_generator  # noqa: E402

__all__ = ["Generator", "__version__", "list_backbones", "load", "make_generator"]
