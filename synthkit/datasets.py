"""Small data sets for demos, tests and benchmarks; nothing is downloaded.

Two kinds: 2-D toy densities generated on the fly (the classic hard shapes of the flow
and diffusion literature) and real numeric tables that ship inside scikit-learn.
Domain data sets (tables with categories, molecules) live in their domains.

Example:
    >>> X, y = load_dataset("moons", n_samples=100, random_state=0)
    >>> X.shape, y.shape
    ((100, 2), (100,))
"""

from __future__ import annotations

import numpy as np


def eight_gaussians(n_samples: int = 2000, random_state=None):
    """Eight isotropic Gaussians on a circle of radius 2 (std 0.1 after scaling)."""
    rng = np.random.default_rng(random_state)
    k = rng.integers(0, 8, n_samples)
    angles = k * (2 * np.pi / 8)
    centers = np.c_[np.cos(angles), np.sin(angles)] * 2.0
    return centers + rng.normal(scale=0.1 * 2.0 / 1.414, size=(n_samples, 2)), k


def moons(n_samples: int = 2000, random_state=None):
    """scikit-learn's two interleaving half circles with noise 0.05."""
    from sklearn.datasets import make_moons

    return make_moons(n_samples, noise=0.05, random_state=_int_seed(random_state))


def pinwheel(n_samples: int = 2000, random_state=None, n_arms: int = 5):
    """Five spiral arms (Johnson et al. 2016, "Composing graphical models with neural networks")."""
    rng = np.random.default_rng(random_state)
    radial_std, tangential_std, rate = 0.3, 0.1, 0.25
    k = rng.integers(0, n_arms, n_samples)
    feats = rng.normal(size=(n_samples, 2)) * [radial_std, tangential_std]
    feats[:, 0] += 1.0
    angles = 2 * np.pi * k / n_arms + rate * np.exp(feats[:, 0])
    rot = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)], 1).reshape(-1, 2, 2)
    return 2.0 * np.einsum("ni,nji->nj", feats, rot), k


def checkerboard(n_samples: int = 2000, random_state=None):
    """Uniform density on the dark squares of a 4 x 4 board on [-4, 4]^2 (labels: board column)."""
    rng = np.random.default_rng(random_state)
    x1 = rng.uniform(-2, 2, n_samples)
    x2 = rng.uniform(0, 1, n_samples) - 2 * rng.integers(0, 2, n_samples) + np.floor(x1) % 2
    return 2 * np.c_[x1, x2], (np.floor(x1) + 2).astype(int)


def _sklearn(loader: str, scale01: bool = False):
    def load(n_samples=None, random_state=None):
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, loader)(return_X_y=True)
        X = X.astype(float)
        if scale01:
            X = X / X.max()
        if n_samples is not None and n_samples < len(X):
            idx = np.random.default_rng(random_state).choice(len(X), n_samples, replace=False)
            X, y = X[idx], y[idx]
        return X, y

    load.__doc__ = f"scikit-learn's ``{loader}`` (bundled with scikit-learn)" + (", pixels scaled to [0, 1]." if scale01 else ".")
    return load


_LOADERS = {
    "moons": (moons, "2-D toy: two interleaving half circles (generated)."),
    "eight_gaussians": (eight_gaussians, "2-D toy: eight Gaussians on a circle (generated)."),
    "pinwheel": (pinwheel, "2-D toy: five spiral arms (generated)."),
    "checkerboard": (checkerboard, "2-D toy: uniform on a checkerboard (generated)."),
    "digits": (_sklearn("load_digits", scale01=True), "scikit-learn digits: 1,797 8x8 images as 64 columns in [0, 1], 10 classes."),
    "breast_cancer": (_sklearn("load_breast_cancer"), "scikit-learn breast cancer: 569 rows, 30 real features, 2 classes."),
    "wine": (_sklearn("load_wine"), "scikit-learn wine: 178 rows, 13 real features, 3 classes."),
    "iris": (_sklearn("load_iris"), "scikit-learn iris: 150 rows, 4 real features, 3 classes."),
}

def load_dataset(name: str, *, n_samples: int | None = None, random_state=None):
    """Return ``(X, y)`` for a bundled data set (``list_datasets()`` names them).

    Generated sets take ``n_samples`` (default 2,000); scikit-learn sets are subsampled
    when ``n_samples`` is smaller than the set.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(_LOADERS)}.")
    fn = _LOADERS[name][0]
    if n_samples is None and fn in (moons, eight_gaussians, pinwheel, checkerboard):
        n_samples = 2000
    return fn(n_samples=n_samples, random_state=random_state)


def list_datasets() -> dict[str, str]:
    """Bundled data set names with one-line descriptions."""
    return {name: help_ for name, (_, help_) in _LOADERS.items()}


def _int_seed(random_state):
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return random_state
    return int(np.random.default_rng(random_state).integers(2**31 - 1))
