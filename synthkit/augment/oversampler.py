"""Generative oversampling in imbalanced-learn's sampler API.

References:
    Chawla et al., "SMOTE: Synthetic Minority Over-sampling Technique", JAIR 2002 (the baseline).
    Sohn, Lee & Yan, "Learning Structured Output Representation using Deep Conditional
    Generative Models", NeurIPS 2015 (class-conditional generators).
    Xu et al., "Modeling Tabular data using Conditional GAN", NeurIPS 2019 (training-by-
    sampling: balancing classes while the generator learns).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from scipy import sparse
from imblearn.utils import check_target_type
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from synthkit.registry import make_backbone
from synthkit.sampling import draw_until
from synthkit.augment.filter import FILTERS, plausibility

#: rounds of drawing candidates before the filter's best rejected rows are used to top up
MAX_ROUNDS = 5


class GenerativeOversampler(BaseOverSampler):
    """Balance classes with rows drawn from a generative backbone.

    ``fit_resample(X, y)`` returns the original rows followed by synthetic rows of the
    classes ``sampling_strategy`` selects (imbalanced-learn semantics: ``"auto"`` brings
    every class up to the majority's count). It works wherever an imbalanced-learn sampler
    does, e.g. as a step of :class:`imblearn.pipeline.Pipeline`, which resamples only
    training folds. Sparse input is densified for the generator (the returned matrix stays
    sparse); mind the memory for wide sparse data.

    How the classes are modelled (``conditioning``):

    ``"conditional"``
        one class-conditional model for all classes, fitted on ``(X, y)``. Classes share
        the network, so a small class borrows the structure common to all of them. The
        model is fitted on class-balanced data (rows of smaller classes repeated up to the
        majority's count, CTGAN's "training-by-sampling") so that the small classes are
        not drowned out of the loss.
    ``"per_class"``
        one unconditional model per class to synthesize, fitted on that class's rows only,
        so nothing of the other classes leaks into it.
    ``"auto"``
        ``"per_class"`` when the smallest class to synthesize has fewer than
        ``per_class_below`` rows (a conditional network sees so few of its rows that it
        tends to blur it toward the large classes), else ``"conditional"``.

    With a ``filter``, candidates are drawn in excess and those the real rows of their
    class make implausible are dropped (:mod:`synthkit.augment.filter`); rounds repeat
    until each quota is met, and after ``MAX_ROUNDS`` the best-scoring rejected rows fill
    what is missing (with a warning).

    Args:
        backbone: registered backbone name or an unfitted :class:`synthkit.Generator`.
        sampling_strategy: as in imbalanced-learn (float, str, dict or callable).
        conditioning: ``"auto"``, ``"conditional"`` or ``"per_class"`` (see above).
        per_class_below: the class size under which ``"auto"`` picks ``"per_class"``.
        filter: ``None``, ``"density"`` or ``"classifier"``.
        filter_quantile: ``"density"``: drop rows scoring below this quantile of the real rows.
        filter_threshold: ``"classifier"``: drop rows whose probability of being synthetic
            exceeds this.
        filter_estimator: replaces the filter's default density model or classifier.
        backbone_params: keyword arguments of the backbone, as a dict (scikit-learn's
            contract needs every parameter named in ``__init__``, so no ``**kwargs``).
            ``verbose`` defaults to 0.
        random_state: seed of the backbone(s), the draws and the filter.

    Attributes:
        sampling_strategy_: rows to add per class.
        conditioning_: the conditioning used.
        generators_: class label -> fitted generator (the same object for every class
            when conditional).
        n_rejected_: class label -> candidates the filter dropped.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = np.vstack([rng.normal(0, 1, (90, 2)), rng.normal(3, 1, (10, 2))])
        >>> y = np.r_[np.zeros(90, int), np.ones(10, int)]
        >>> over = GenerativeOversampler(backbone_params={"max_epochs": 5, "hidden_dims": (16,)},
        ...                              random_state=0)
        >>> X_res, y_res = over.fit_resample(X, y)
        >>> np.bincount(y_res).tolist()
        [90, 90]
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "backbone": [str, HasMethods(["fit", "sample"])],
        "conditioning": [StrOptions({"auto", "conditional", "per_class"})],
        "per_class_below": [Interval(Integral, 0, None, closed="left")],
        "filter": [StrOptions(set(FILTERS)), None],
        "filter_quantile": [Interval(Real, 0, 1, closed="left")],
        "filter_threshold": [Interval(Real, 0, 1, closed="right")],
        "filter_estimator": [HasMethods(["fit"]), None],
        "backbone_params": [dict, None],
    }

    def __init__(
        self,
        backbone="vae",
        *,
        sampling_strategy="auto",
        conditioning="auto",
        per_class_below=50,
        filter=None,
        filter_quantile=0.05,
        filter_threshold=0.7,
        filter_estimator=None,
        backbone_params=None,
        random_state=None,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.backbone = backbone
        self.conditioning = conditioning
        self.per_class_below = per_class_below
        self.filter = filter
        self.filter_quantile = filter_quantile
        self.filter_threshold = filter_threshold
        self.filter_estimator = filter_estimator
        self.backbone_params = backbone_params
        self.random_state = random_state

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_data(self, X=X, y=y, reset=True, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
        return X, y, binarize_y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ resampling
    def _fit_resample(self, X, y):
        if sparse.issparse(X):  # generators model dense rows: densify, and return sparse rows
            X_res, y_res = self._fit_resample(X.toarray(), y)
            return sparse.vstack([X, sparse.csr_matrix(X_res[X.shape[0]:])]).asformat(X.format), y_res
        rng = check_random_state(self.random_state)
        targets = {cls: int(n) for cls, n in self.sampling_strategy_.items() if n > 0}
        classes, codes = np.unique(y, return_inverse=True)
        counts = dict(zip(classes, np.bincount(codes)))
        self.conditioning_ = self._choose_conditioning(targets, counts)
        self.generators_ = self._fit_generators(X, codes, classes, targets, rng)
        self.n_rejected_ = {}
        new_X, new_y = [X], [y]
        for cls in targets:
            code = int(np.searchsorted(classes, cls))
            gen = self.generators_[cls]
            conditional = self.conditioning_ == "conditional"

            def draw(m, seed, gen=gen, code=code, conditional=conditional):
                return gen.sample(m, y=np.full(m, code) if conditional else None, random_state=seed)

            rows = self._draw(draw, X[y == cls], targets[cls], cls, rng)
            new_X.append(rows.astype(X.dtype, copy=False))
            new_y.append(np.full(len(rows), cls, dtype=y.dtype))
        return np.vstack(new_X), np.concatenate(new_y)

    def _choose_conditioning(self, targets, counts) -> str:
        if self.conditioning != "auto":
            return self.conditioning
        if not targets:
            return "conditional"
        return "per_class" if min(counts[c] for c in targets) < self.per_class_below else "conditional"

    def _backbone(self, rng):
        seed = int(rng.randint(0, 2**31 - 1))
        return make_backbone(self.backbone, self.backbone_params, defaults={"verbose": 0, "random_state": seed})

    def _fit_generators(self, X, codes, classes, targets, rng) -> dict:
        if not targets:
            return {}
        if self.conditioning_ == "conditional":
            idx = _balanced_indices(codes, rng)
            gen = self._backbone(rng).fit(X[idx], codes[idx])
            return {cls: gen for cls in targets}
        gens = {}
        for cls in targets:
            rows = X[codes == np.searchsorted(classes, cls)]
            if len(rows) < 2:
                warnings.warn(
                    f"class {cls!r} has a single row: a generator cannot be fitted to it; "
                    "using conditioning='conditional' would let it borrow from the other classes.",
                    UserWarning,
                )
                rows = np.vstack([rows, rows])
            gens[cls] = self._backbone(rng).fit(rows)
        return gens

    def _draw(self, draw, X_real, n, cls, rng) -> np.ndarray:
        """``n`` synthetic rows of one class that pass the filter (if any)."""
        pool, pool_scores = [], []

        def candidates(m, _round):
            return np.asarray(draw(m, int(rng.randint(0, 2**31 - 1))), dtype=np.float64)

        def plausible(cand):
            finite = np.isfinite(cand).all(1)
            if self.filter is None:
                keep, scores = finite, np.zeros(len(cand))
            else:
                scores, real_scores = plausibility(
                    X_real if len(X_real) >= 2 else np.vstack([X_real, X_real]), cand,
                    method=self.filter, estimator=self.filter_estimator, random_state=rng.randint(0, 2**31 - 1),
                )
                cut = np.quantile(real_scores, self.filter_quantile) if self.filter == "density" else 1.0 - self.filter_threshold
                keep = finite & (scores >= cut)
            pool.append(cand[finite & ~keep])  # the best of these fill a shortfall
            pool_scores.append(scores[finite & ~keep])
            return keep

        # with a filter: a surplus, and enough rows for the filter to judge them as a group
        def size(need, drawn, accepted):
            return need if self.filter is None else max(2 * need, 2 * len(X_real), 100)

        found = draw_until(n, candidates, plausible, max_rounds=MAX_ROUNDS, size=size)
        kept, need, rejected = found.chunks, found.missing, found.drawn - found.accepted
        self.n_rejected_[cls] = rejected
        if need > 0:
            pool, pool_scores = np.vstack(pool), np.concatenate(pool_scores)
            if len(pool) < need:
                raise ValueError(
                    f"the backbone produced only {n - need + len(pool)} finite rows of class {cls!r} "
                    f"out of {n} requested; it may have diverged (check its fit)."
                )
            warnings.warn(
                f"the {self.filter} filter rejected most candidates of class {cls!r}; "
                f"{need} of {n} rows are the best-scoring rejected ones. The backbone may be "
                "undertrained, or the filter too strict.",
                UserWarning,
            )
            kept.append(pool[np.argsort(-pool_scores, kind="stable")[:need]])
        return np.vstack(kept)


def _balanced_indices(codes: np.ndarray, rng) -> np.ndarray:
    """All rows, plus rows of the smaller classes drawn again until every class has the
    majority's count (CTGAN's training-by-sampling, as a resampled training set)."""
    counts = np.bincount(codes)
    parts = [np.arange(len(codes))]
    for k, count in enumerate(counts):
        extra = counts.max() - count
        if extra > 0 and count > 0:
            parts.append(rng.choice(np.flatnonzero(codes == k), size=extra, replace=True))
    return np.concatenate(parts)


