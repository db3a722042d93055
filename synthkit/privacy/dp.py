"""Differentially private training of synthkit generators (DP-SGD with Opacus).

:func:`fit_private` fits any generator that trains through the shared loop with one
optimizer, with :class:`DPTrainingLoop` as that fit's loop (``Generator.fit(..., loop=...)``). Each step
draws a Poisson sample of the rows (every row joins with probability ``q = batch_size /
n``), computes every row's own gradient (Opacus ``GradSampleHooks``), clips each to norm
``max_grad_norm``, adds Gaussian noise of standard deviation ``sigma * max_grad_norm`` and
averages (Opacus ``DPOptimizer``). ``sigma`` is chosen before training
(``opacus.accountants.utils.get_noise_multiplier``) so that the planned number of steps
spends exactly the target ``(epsilon, delta)`` under the Rényi-DP accountant (or PRV);
the accountant then records what was actually spent (less if ``max_time`` cut training
short). The fitted generator carries ``dp_epsilon_``, ``dp_delta_``,
``dp_noise_multiplier_``, ``dp_max_grad_norm_``, ``dp_sample_rate_``, ``dp_steps_``,
``dp_accountant_`` and ``dp_standardization_``, which ``save``/``load`` keep.

What the guarantee covers — read before publishing a model:

* Only the network weights are protected. Whatever the generator computes from the data
  *outside* gradient steps is not: the base class's standardization (per-column ``mean_``
  and ``scale_``), class frequencies (``class_prior_``) and condition statistics, and any
  facts recorded by ``_learn_data`` (the VAE's category counts, the autoregressive model's
  choice of discrete columns), and any preprocessing done before ``fit`` (category lists,
  bounds, quantile transforms of a domain adapter). Each must be public metadata or be paid for from the budget. Pass
  ``bounds=(lower, upper)`` — public ranges of the columns — and standardization uses
  those instead of the data (values outside are clipped), so ``mean_``/``scale_`` leak
  nothing; without ``bounds`` a warning says that they are data-dependent.
* Early stopping picks weights by their loss on held-out *real* rows, which no
  accountant covers; it is refused. EMA of the weights is post-processing and allowed.
* Noise comes from torch's (seeded) generator, not a cryptographically secure one; the
  guarantee is the usual "floating-point, non-adversarial-RNG" DP-SGD guarantee.

Which backbones work (checked with ``fit_private`` at ε = 3 on 2,000 rows): the VAE,
the autoregressive MADE and the normalizing flow (their masked layers go through the
vmap route of :class:`synthkit.privacy.per_sample.PerSampleGradients`), and diffusion
(Opacus hooks) train and learn. Refused with an error that says why: the GAN (two
optimizers; a DP-GAN privatizes only the critic, which needs a loop that knows which loss
sees real rows), the EBM (its energy network also runs on Langevin chains in the same
step), the RBM (its free energy reads the weights outside ``forward``), BatchNorm
anywhere, early stopping, and backbones that do not train through the shared loop.
Diffusion caveat: after training, DDPM measures its Analytic-DPM reverse variances
(``denoising_error_``, ``noise_coef_``) on up to 512 training rows outside DP-SGD; they
enter ``score_samples`` only, not ``sample``, but the saved model carries them.

Tuning: DP-SGD adds noise of size ``sigma * max_grad_norm / batch_size`` to each averaged
gradient, so larger batches help, and a learning rate well above the non-private default
(e.g. 1e-2 to 3e-2 for the VAE) is usually needed within a few hundred steps. Per-row
gradients cost memory and time in proportion to ``batch_size x parameters``: smaller
networks train much faster under DP (and lose less to the noise).

References:
    Abadi et al., "Deep Learning with Differential Privacy", CCS 2016.
    Mironov, Talwar & Zhang, "Rényi Differential Privacy of the Sampled Gaussian
    Mechanism", 2019.
    Yousefpour et al., "Opacus: User-Friendly Differential Privacy Library in PyTorch", 2021.
    Gopi, Lee & Wutschitz, "Numerical Composition of Differential Privacy" (PRV), NeurIPS 2021.
"""

from __future__ import annotations

import warnings

import numpy as np

from synthkit.privacy.dp_loop import ACCOUNTANTS, DPTrainingLoop, quiet
from synthkit.validation import check_fraction, check_positive

__all__ = ["DPTrainingLoop", "fit_private", "privacy_spent"]


def _opacus():
    try:
        import opacus  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "differentially private training needs Opacus; install it with pip install 'synthkit[privacy]'."
        ) from err


def fit_private(
    generator, X, y=None, *, epsilon: float, delta: float = 1e-5, max_grad_norm: float = 1.0,
    bounds=None, accountant: str = "rdp", resume: bool = False,
):
    """Fit ``generator`` on ``X`` with DP-SGD so that training is ``(epsilon, delta)``-DP.

    The budget is planned from the generator's own parameters: ``batch_size`` sets the
    sampling rate ``q = batch_size / n``; ``max_epochs`` (``ceil(max_epochs / q)`` steps) or,
    without it, ``default_steps`` sets the number of steps; ``max_time`` may stop earlier
    (spending less). Larger batches and fewer steps need less noise per step.

    Args:
        generator: an unfitted or fitted :class:`synthkit.Generator` (it is refitted).
        X: training rows, shape (n, d).
        y: optional class labels or conditions (their frequencies are *not* protected).
        epsilon: target ε (> 0).
        delta: target δ (in (0, 1); should be well below ``1 / n``).
        max_grad_norm: per-row gradient clipping norm ``C``.
        bounds: ``None`` or ``(lower, upper)``, two arrays of length ``d`` (or scalars) of
            public column ranges; standardization then uses the centre and half-width of
            the ranges instead of data statistics, and rows are clipped into them.
        accountant: ``"rdp"`` (Rényi DP, Mironov et al.) or ``"prv"`` (tighter numerical
            composition, Gopi et al.).
        resume: continue from the latest checkpoint in the generator's ``checkpoint_dir``
            (written by an interrupted private fit with the same data and budget).

    Returns:
        The fitted generator, with ``dp_epsilon_`` (spent), ``dp_delta_``,
        ``dp_noise_multiplier_`` and the rest of the DP record.

    Example:
        >>> import numpy as np
        >>> from synthkit.backbones.vae import VAE
        >>> X = np.random.default_rng(0).normal(size=(400, 2))
        >>> vae = VAE(hidden_dims=(16,), max_epochs=2, batch_size=100, verbose=0, random_state=0)
        >>> vae = fit_private(vae, X, epsilon=3.0, delta=1e-4, bounds=(-4, 4))
        >>> round(vae.dp_epsilon_, 1), vae.sample(3).shape
        (3.0, (3, 2))
    """
    from synthkit.base import Generator

    if not isinstance(generator, Generator):
        raise ValueError(f"fit_private needs a synthkit Generator, got {type(generator).__name__}.")
    check_positive("epsilon", epsilon, finite=True)
    check_fraction("delta", delta)
    check_positive("max_grad_norm", max_grad_norm)
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}.")
    _opacus()
    n = len(X)
    if n and delta >= 1.0 / n:
        warnings.warn(
            f"delta={delta} is not below 1/n = {1.0 / n:.2g}: such a delta allows releasing whole rows; "
            "choose delta much smaller than 1/n.", UserWarning, stacklevel=2,
        )
    config = dict(epsilon=float(epsilon), delta=float(delta), max_grad_norm=float(max_grad_norm), accountant=accountant)

    X_fit, public = X, None
    if bounds is not None:
        X_fit, public = _apply_bounds(generator, X, bounds)

    for name in [k for k in vars(generator) if k.startswith("dp_") and k.endswith("_")]:
        delattr(generator, name)
    generator.fit(X_fit, y, resume=resume, loop=PrivateLoop(config, public is not None))
    if not hasattr(generator, "dp_epsilon_"):
        raise RuntimeError(
            f"{type(generator).__name__} does not train through the shared training loop, so DP-SGD "
            "could not be applied; its fitted weights are NOT private."
        )
    if public is not None:
        generator.mean_, generator.scale_ = public
        generator.dp_standardization_ = "public bounds"
    elif np.any(generator.scale_ != 1.0) or np.any(generator.mean_ != 0.0):
        generator.dp_standardization_ = "data (not covered by epsilon)"
        warnings.warn(
            "the generator standardized columns with the data's means and standard deviations (mean_, "
            "scale_), which the DP guarantee does not cover; pass public bounds=(lower, upper) to avoid it.",
            UserWarning, stacklevel=2,
        )
    else:
        generator.dp_standardization_ = "none"
    return generator


class PrivateLoop:
    """The loop factory ``fit_private`` hands to ``Generator.fit(..., loop=...)``: a
    :class:`DPTrainingLoop` with the DP settings, and, when the rows were already mapped with
    public bounds, a standardization that leaves them as they are (the data is not looked at)."""

    def __init__(self, config: dict, public: bool):
        self.config = config
        self.public = public

    def __call__(self, estimator, **kwargs) -> DPTrainingLoop:
        return DPTrainingLoop(estimator, **self.config, **kwargs)

    def standardization(self, estimator, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.public:
            d = X.shape[1]
            return np.zeros(d), np.ones(d)
        return estimator._standardization(X)


def _apply_bounds(generator, X, bounds):
    """Clip ``X`` into public bounds and standardize the generator's usual columns with them."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    d = X.shape[1]
    try:
        lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (d,)) for b in bounds)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bounds must be (lower, upper) with scalars or {d} values each: {err}") from None
    if not (np.isfinite(lower).all() and np.isfinite(upper).all() and (upper > lower).all()):
        raise ValueError("bounds need finite lower < upper for every column.")
    generator.n_features_in_ = d  # the mask hook reads it; fit sets it again
    mask = np.asarray(generator._standardize_mask(), dtype=bool)
    mean = np.where(mask, (lower + upper) / 2.0, 0.0)
    scale = np.where(mask, (upper - lower) / 2.0, 1.0)
    X = np.where(mask, (np.clip(X, lower, upper) - mean) / scale, X)
    return X, (mean, scale)


def privacy_spent(noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str = "rdp") -> float:
    """ε spent by ``steps`` Poisson-subsampled Gaussian steps (for planning budgets).

    Example:
        >>> round(privacy_spent(1.0, 0.01, 1000, 1e-5), 2) > 0
        True
    """
    _opacus()
    from opacus.accountants import create_accountant

    acc = create_accountant(mechanism=accountant)
    acc.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    with quiet():
        return float(acc.get_epsilon(delta=delta))
