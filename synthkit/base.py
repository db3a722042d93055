"""The generator contract every backbone follows.

A backbone subclasses :class:`Generator` and fills in a few private hooks; the public
methods do validation, seeding, standardization, conditioning and batching once, here
(the template-method pattern of SDV's ``fit -> _fit`` and scikit-learn's estimators). What
rows must be and how they are standardized lives in :mod:`synthkit.rows`, how ``y`` becomes a
condition in :mod:`synthkit.conditions`; :class:`Generator` inherits both.

Hooks a backbone implements:

``_build() -> dict[str, nn.Module]``
    Create the networks from hyper-parameters and fitted shapes (``n_features_in_``,
    ``condition_dim_``). Called by ``fit`` and again by :func:`synthkit.load`.
``_fit(X, c)``
    Train on a float32 tensor ``X`` (standardized if ``standardize`` is true) and an
    optional condition tensor ``c``; usually one call to :meth:`Generator._train`.
``_sample(n, c) -> Tensor``
    Draw ``n`` rows in model space.
``_log_prob(X, c) -> Tensor``
    Per-row log-likelihood in model space (families with ``likelihood`` set).
``score_rules() -> dict[str, ScoreRule]`` (public, optional)
    Named per-row scores of raw rows (:mod:`synthkit.scoring`); the default is one
    ``"likelihood"`` rule from ``_log_prob`` when ``likelihood`` is set.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from synthkit.conditions import ConditionEncoding
from synthkit.memmap import standardize
from synthkit.rows import RowContract, standardization  # noqa: F401  (standardization: re-exported)
from synthkit.training.checkpoint import resolve_seed
from synthkit.training.runtime import resolve_device, seeded
from synthkit.validation import check_count, check_fraction, check_positive

if TYPE_CHECKING:
    from synthkit.scoring import ScoreRule

LIKELIHOOD_KINDS = ("exact", "lower_bound", "unnormalized")

#: Parameters every generator takes, with their usual defaults (see :class:`Generator`); a
#: family that chooses other defaults declares them once in ``Generator.training_defaults``
#: (``synthkit.testing.check_training_defaults`` holds each ``__init__`` signature to that).
TRAINING_DEFAULTS: dict[str, Any] = dict(
    max_epochs=None,
    max_time=None,
    batch_size=256,
    learning_rate=1e-3,
    early_stopping=False,
    validation_fraction=0.1,
    n_iter_no_change=20,
    ema_decay=None,
    grad_clip=1.0,
    checkpoint_dir=None,
    checkpoint_interval=60.0,
    device="auto",
    random_state=None,
    verbose=1,
)


def _with_training_defaults(doc: str, deviations: dict[str, Any]) -> str:
    """A class docstring with a closing line naming the family's ``training_defaults``, so
    that ``help()`` and the rendered docs state them without a hand-kept copy."""
    listed = ", ".join(f"``{name}={value!r}``" for name, value in deviations.items())
    return f"{inspect.cleandoc(doc)}\n\nTraining defaults that differ from :class:`synthkit.Generator`'s: {listed}.\n"


class Generator(RowContract, ConditionEncoding, BaseEstimator):
    """Base class of all synthkit generators (scikit-learn estimator contract).

    Every generator takes the training budget and runtime as ordinary parameters:

    Args:
        max_epochs: passes over the data. ``None`` with ``max_time`` set trains until the
            time is spent; ``None`` with neither set uses the family's default number of
            gradient steps (``default_steps``), converted to epochs for the data size.
        max_time: wall-clock seconds of training; training stops cleanly at the first
            step that ends past it.
        batch_size: rows per gradient step (capped at the number of training rows).
        learning_rate: Adam step size.
        early_stopping: hold out ``validation_fraction`` of the rows and stop when the
            validation loss has not improved for ``n_iter_no_change`` epochs; the best
            weights are restored. A family whose objective changes early in training (the
            VAE's KL warm-up) starts watching only after ``_stopping_warmup`` (a fraction
            of the budget).
        validation_fraction, n_iter_no_change: see ``early_stopping`` (at most 100,000
            rows are held out, ``synthkit.training.loop.MAX_VALIDATION_ROWS``).
        ema_decay: if set (e.g. 0.999), keep an exponential moving average of the weights
            and use it as the fitted model.
        grad_clip: maximum global gradient norm (``None`` disables clipping).
        checkpoint_dir: folder for periodic training checkpoints; ``fit(..., resume=True)``
            continues from the latest one after a crash or kill.
        checkpoint_interval: seconds between checkpoints.
        device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
        random_state: seed; the same seed gives the same model and samples on CPU.
        verbose: 0 is silent; 1 shows a progress bar when stderr is a terminal.

    Class attributes describing the family:

    ``likelihood``
        ``"exact"``, ``"lower_bound"``, ``"unnormalized"`` or ``None`` (no ``score_samples``).
    ``standardize``
        Whether the base class maps each column to zero mean and unit variance before the
        hooks see it (and back after sampling; log-likelihoods get the Jacobian term);
        ``_standardize_mask`` can choose columns. Rows that hold images want one scale for
        all pixels or none: a registered network declares that with a ``row_standardization``
        attribute on its factory (``"column"``, ``"global"`` or ``"none"``; see
        :func:`synthkit.nn.networks.row_standardization`), which :meth:`_standardization` reads.
    ``default_steps``
        Gradient steps used when no budget is given.
    ``training_defaults``
        The family's defaults of the parameters above where they differ from
        ``TRAINING_DEFAULTS`` (e.g. ``{"learning_rate": 2e-3}``). The explicit ``__init__``
        signature, which ``get_params``, ``clone``, IDEs and ``help()`` read, must agree
        (``synthkit.testing.check_training_defaults``); the class docstring gets a closing
        line that lists them.
    """

    likelihood: ClassVar[str | None] = None
    standardize: ClassVar[bool] = True
    default_steps: ClassVar[int] = 3000
    #: rows per chunk in sample / score_samples (bounds memory): at most this many, and at most
    #: ``inference_values / n_features_in_`` (wide rows such as images through a conv network)
    inference_batch_size: ClassVar[int] = 4096
    inference_values: ClassVar[int] = 2**20
    training_defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__doc__") and cls.training_defaults:
            cls.__doc__ = _with_training_defaults(cls.__doc__, cls.training_defaults)

    @property
    def _inference_rows(self) -> int:
        """Rows per chunk in inference passes (see ``inference_batch_size``)."""
        width = max(int(getattr(self, "n_features_in_", 1)), 1)
        return max(1, min(self.inference_batch_size, self.inference_values // width))

    @property
    def _ema_decay(self) -> float | None:
        """The weight-averaging decay training uses (``ema_decay``; a family may resolve ``None``)."""
        return self.ema_decay

    @property
    def _stopping_warmup(self) -> float:
        """Share of the budget (``step.progress``) before early stopping watches the validation loss."""
        return 0.0

    # ------------------------------------------------------------------ parameters
    def _store_params(self, params: dict[str, Any]) -> None:
        """Store ``__init__`` arguments unchanged (call as ``self._store_params(locals())``)."""
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------------------ public API
    def fit(self, X, y=None, *, resume: bool = False, loop=None):
        """Fit the generator to rows ``X`` (optionally conditional on ``y``).

        Under ``torchrun`` (or in a process group the caller initialized) every process
        calls ``fit`` on the same data and training is data-parallel
        (:mod:`synthkit.training.distributed`): the seed and the standardization are rank 0's.

        Args:
            X: array-like of shape (n_samples, n_features), finite real numbers.
            y: ``None``; 1-D class labels; or a 2-D array of continuous conditions.
            resume: continue from the latest checkpoint in ``checkpoint_dir``.
            loop: the training loop of this fit, a factory ``loop(estimator, **kwargs) ->
                TrainingLoop`` (a :class:`synthkit.training.TrainingLoop` subclass or a
                ``functools.partial`` of one; default ``TrainingLoop``). Its optional
                ``standardization(estimator, X)`` replaces the data's means and scales
                (DP-SGD with public bounds, :func:`synthkit.privacy.fit_private`).

        Returns:
            self
        """
        from synthkit.training.distributed import ranks
        from synthkit.training.loop import TrainingLoop

        self._check_params()
        r = ranks()
        # drawn once (or read back from the checkpoint on resume) before anything random
        self.fit_seed_ = r.broadcast_object(
            resolve_seed(self.random_state, getattr(self, "checkpoint_dir", None), resume))
        X = self._validate_X(X, reset=True)
        c = self._encode_condition(y, len(X), fit=True)
        self._learn_data(X)
        loop = TrainingLoop if loop is None else loop
        standardize_rows = getattr(loop, "standardization", TrainingLoop.standardization)
        self.mean_, self.scale_ = r.broadcast_object(standardize_rows(self, X))
        X = standardize(X, self.mean_, self.scale_)  # float32; memory-mapped rows stay on disk
        self._resume, self._loop = resume, loop
        start = time.perf_counter()
        try:
            with seeded(self.fit_seed_, self._device()):
                self.modules_ = torch.nn.ModuleDict(self._build()).to(self._device())
                self._fit(torch.from_numpy(X), c)
        finally:
            del self._resume, self._loop
        self.modules_.eval()
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def sample(self, n_samples: int, *, y=None, random_state=None, return_y: bool = False):
        """Draw ``n_samples`` new rows.

        Args:
            n_samples: number of rows.
            y: for a class-conditional model, one label or one per row (``None`` draws
                labels from the training class frequencies); for continuous conditions,
                an array of shape (n_samples, n_conditions) (required).
            random_state: seed for this call (default: the estimator's ``random_state``).
            return_y: also return the labels/conditions used.

        Returns:
            ndarray of shape (n_samples, n_features_in_) (and ``y`` if ``return_y``). Rows
            that came out NaN or infinite are returned as they are, with a ``RuntimeWarning``.
        """
        check_is_fitted(self, "modules_")
        n_samples = check_count("n_samples", n_samples, 0)
        seed = self.random_state if random_state is None else random_state
        y = self._sampling_labels(y, n_samples, seed)
        c = self._encode_condition(y, n_samples, fit=False)
        chunks = []
        with seeded(seed, self._device()), torch.no_grad():
            step = self._inference_rows
            for lo in range(0, n_samples, step):
                hi = min(lo + step, n_samples)
                cc = None if c is None else c[lo:hi].to(self._device())
                chunks.append(self._sample(hi - lo, cc).float().cpu())
        Z = torch.cat(chunks).numpy().astype(np.float64) if chunks else np.zeros((0, self.n_features_in_))
        X = Z * self.scale_ + self.mean_
        bad = int((~np.isfinite(X).all(axis=1)).sum())
        if bad:
            warnings.warn(
                f"{type(self).__name__}.sample: {bad} of {n_samples} rows are not finite (NaN or "
                "inf): the model sends some draws out of range, a sign of divergence or of an "
                "overfitted, too sharp fit; drop those rows, or refit with early_stopping=True "
                "or a lower learning_rate.",
                RuntimeWarning,
                stacklevel=2,
            )
        return (X, np.asarray(y)) if return_y else X

    def score_samples(self, X, y=None) -> np.ndarray:
        """Per-row log-likelihood of ``X``; higher is more typical.

        The ``likelihood`` class attribute says whether this is the exact log density,
        a lower bound on it, or an unnormalized score. For a class-conditional model
        with ``y=None`` the classes are marginalized with their training frequencies.
        """
        if self.likelihood is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no likelihood; use a detector that supports it."
            )
        check_is_fitted(self, "modules_")
        Xt = self._to_model_space(X)
        if self.condition_kind_ == "classes" and y is None:
            logp = np.stack(
                [
                    self._score(Xt, self._encode_condition(np.full(len(X), k), len(X), fit=False))
                    + math.log(p)
                    for k, p in zip(self.classes_, self.class_prior_)
                ]
            )
            out = np.logaddexp.reduce(logp, axis=0)
        else:
            out = self._score(Xt, self._encode_condition(y, len(X), fit=False))
        return out - np.log(self.scale_).sum()  # change of variables of the standardization

    def _to_model_space(self, X) -> torch.Tensor:
        """Validate rows and map them to the (standardized) space the networks see."""
        X = self._validate_X(X, reset=False)
        return torch.as_tensor((X - self.mean_) / self.scale_, dtype=torch.float32)

    def _score(self, X: torch.Tensor, c: torch.Tensor | None) -> np.ndarray:
        out = []
        with seeded(0, self._device()), torch.no_grad():
            step = self._inference_rows
            for lo in range(0, len(X), step):
                xb = X[lo : lo + step].to(self._device())
                cb = None if c is None else c[lo : lo + step].to(self._device())
                out.append(self._log_prob(xb, cb).double().cpu())
        return torch.cat(out).numpy()

    # ------------------------------------------------------------------ score rules
    def score_rules(self) -> dict[str, ScoreRule]:
        """Named ways to score rows, the default first: ``{name: ScoreRule}`` (see
        :mod:`synthkit.scoring`). Each rule takes raw rows and is a deterministic function of
        each row (higher = more typical); :class:`synthkit.anomaly.GenerativeDetector` reads
        this hook. The default is one ``"likelihood"`` rule, the unconditional per-row
        log-likelihood of ``_log_prob`` in float64, when ``likelihood`` is set (none
        otherwise); a family overrides this to add bounds, reconstructions or per-feature maps.
        """
        from synthkit.scoring import ScoreRule

        if self.likelihood is None:
            return {}
        return {"likelihood": ScoreRule(
            "likelihood", f"log p(x) ({self.likelihood.replace('_', ' ')}; score_samples in float64)",
            self._log_likelihood_rows, kind=self.likelihood)}

    def _log_likelihood_rows(self, X) -> np.ndarray:
        """Per-row log-likelihood of raw rows (the Jacobian of the standardization included);
        a generator that overrides ``score_samples`` instead of ``_log_prob`` is scored by it."""
        if type(self)._log_prob is Generator._log_prob:
            return np.asarray(self.score_samples(X), dtype=np.float64)
        return self._score_rows(X, lambda x: self._log_prob(x, None)) - np.log(self.scale_).sum()

    def _score_rows(self, X, fn) -> np.ndarray:
        """``fn`` over chunks of raw rows ``X`` mapped to model space, in float64 (networks and
        real-valued rows) without gradients; the results (one row each) are concatenated."""
        from synthkit.scoring import SCORE_CHUNK, float64

        check_is_fitted(self, "modules_")
        Xt = self._to_model_space(X)
        device = self._device()
        parts = []
        with float64(self.modules_), torch.no_grad(), seeded(0, device):
            for lo in range(0, len(Xt), SCORE_CHUNK):
                x = Xt[lo : lo + SCORE_CHUNK].to(device)
                parts.append(fn(x.double() if x.is_floating_point() else x).double().cpu())
        return torch.cat(parts).numpy() if parts else np.zeros((0,))

    def save(self, path) -> None:
        """Save to a folder: JSON config + safetensors weights + JSON state + versions."""
        from synthkit.persistence import save

        save(self, path)

    # ------------------------------------------------------------------ training helpers
    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _check_params(self) -> None:
        for name in ("max_epochs", "batch_size"):
            check_count(name, getattr(self, name), none_ok=True)
        check_positive("max_time", self.max_time, none_ok=True, unit="seconds")
        check_fraction("validation_fraction", self.validation_fraction)

    def _train(self, X: torch.Tensor, c: torch.Tensor | None, **kwargs) -> None:
        """Run the training loop of this fit (``fit(..., loop=...)``; by default the shared
        :class:`synthkit.training.TrainingLoop`); ``kwargs`` are the family's loop options
        (``ema_modules``, ``on_epoch_end``, ``max_time``)."""
        from synthkit.training.loop import TrainingLoop

        loop = getattr(self, "_loop", None) or TrainingLoop
        loop(self, **kwargs).run(X, c, resume=getattr(self, "_resume", False))

    def _epoch_batches(self, X: torch.Tensor, perm: torch.Tensor, batch_size: int, gen: torch.Generator):
        """Row indices of each batch of one epoch, given the epoch's shuffled training rows
        ``perm``; consecutive slices here, length buckets for sequence models."""
        return perm.split(batch_size)

    def _configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam over every network; GANs and others override."""
        return {"model": torch.optim.Adam(self.modules_.parameters(), lr=self.learning_rate)}

    def _training_step(self, x: torch.Tensor, c: torch.Tensor | None, step) -> dict[str, float]:
        """One gradient step on a batch; call ``step(loss)`` and return logged numbers."""
        raise NotImplementedError

    def _validation_loss(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Per-row validation loss (lower is better); defaults to minus the log-likelihood."""
        return -self._log_prob(x, c)

    # ------------------------------------------------------------------ hooks
    def _build(self) -> dict[str, torch.nn.Module]:
        raise NotImplementedError

    def _fit(self, X: torch.Tensor, c: torch.Tensor | None) -> None:
        self._train(X, c)

    def _sample(self, n: int, c: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def _log_prob(self, X: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
