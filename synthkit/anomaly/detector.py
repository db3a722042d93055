"""Any synthkit backbone as an outlier detector with scikit-learn's outlier API.

References:
    Pang et al., "Deep Learning for Anomaly Detection: A Review", ACM Computing Surveys 2021.
    Han et al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from synthkit.anomaly.scores import feature_score_rows, resolve_rule, score_rows

#: backbone parameters a detector sets for a backbone named by string, unless
#: ``backbone_params`` says otherwise: the flow scores with its NSF, whose exact log-density
#: costs one pass (the CNF that ``flow="auto"`` takes on wide data integrates an ODE with
#: one backward pass per column: ~200x slower on 64 columns)
SCORING_DEFAULTS: dict[str, dict] = {"flow": {"flow": "nsf"}}


class GenerativeDetector(OutlierMixin, BaseEstimator):
    """Unsupervised outlier detector built on a generative backbone.

    ``fit(X)`` trains the backbone on (mostly) normal rows; ``score_samples(X)`` scores rows
    under it (higher = more normal, as in scikit-learn); ``offset_`` is the
    ``contamination``-quantile of the training scores, so ``decision_function(X) =
    score_samples(X) - offset_`` is negative for outliers and ``predict`` returns -1 for
    them and +1 for inliers, exactly like :class:`sklearn.ensemble.IsolationForest`.

    The score is the backbone's own: the detector reads only the backbone's public
    ``score_rules()`` hook (:mod:`synthkit.scoring`; the bundled backbones' rules are listed in
    :mod:`synthkit.anomaly.scores`) and applies the rule named ``score_rule`` (``"auto"``: the
    backbone's first) to the raw rows. Rules are deterministic functions of each row (bounds
    use common random numbers), so a row scores the same alone or in any batch. A backbone
    with no rule, or without the rule asked for, is refused in ``fit`` with a message naming
    what is available. A generator of your own plugs in the same way: the base class gives it
    a ``"likelihood"`` rule when it sets ``likelihood``, and it may override ``score_rules``.

    By default the offset is taken on the training rows, as scikit-learn's detectors do.
    A flexible backbone scores its own training rows higher than new normal rows, so on new
    data more than ``contamination`` of the normal rows can be flagged (an exact-likelihood
    model on a few hundred rows can flag several times as many). ``holdout_fraction`` fixes
    this: that share of the rows is kept from the backbone and the offset is the
    ``contamination``-quantile of *their* scores (the ranking by ``score_samples`` is not
    affected, only ``offset_``, ``decision_function`` and ``predict``).

    Args:
        backbone: a registered backbone name (``synthkit.list_backbones()``) or an unfitted
            :class:`synthkit.Generator` instance (cloned in ``fit``).
        contamination: expected share of outliers in the training data, in (0, 0.5]; sets
            ``offset_``.
        score_rule: name of one of the backbone's ``score_rules()``, or ``"auto"`` (its first),
            e.g. ``"likelihood"``, ``"reconstruction"``, ``"denoising"`` or ``"critic"``. (Not
            named ``score``: scikit-learn reserves that name for the ``score`` method.)
        backbone_params: keyword arguments for the backbone (e.g. ``{"max_time": 30,
            "hidden_dims": (64, 64)}``). A dict rather than ``**kwargs`` because
            scikit-learn's contract (``get_params``/``set_params``/``clone``, grid search)
            needs every parameter named in ``__init__``. ``verbose`` defaults to 0 here.
        holdout_fraction: ``None`` (offset from the training rows) or a share in (0, 0.5)
            of rows held out from the backbone to set the offset (see above).
        random_state: seed for the backbone and the hold-out split (unless
            ``backbone_params`` sets its own seed).

    Attributes:
        backbone_: the fitted generator.
        score_rule_: name of the rule used.
        offset_: threshold on ``score_samples``.
        n_features_in_, feature_names_in_: as in scikit-learn.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 2))
        >>> det = GenerativeDetector("vae", backbone_params={"max_epochs": 5, "hidden_dims": (32,)},
        ...                          random_state=0).fit(X)
        >>> det.predict([[0.0, 0.0], [8.0, -8.0]]).tolist()
        [1, -1]
    """

    _parameter_constraints: dict = {
        "backbone": [str, HasMethods(["fit", "sample"])],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "score_rule": [str],
        "backbone_params": [dict, None],
        "holdout_fraction": [Interval(Real, 0, 0.5, closed="neither"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        backbone="flow",
        *,
        contamination=0.1,
        score_rule="auto",
        backbone_params=None,
        holdout_fraction=None,
        random_state=None,
    ):
        self.backbone = backbone
        self.contamination = contamination
        self.score_rule = score_rule
        self.backbone_params = backbone_params
        self.holdout_fraction = holdout_fraction
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the backbone on ``X`` and set ``offset_`` from ``contamination``.

        Args:
            X: array-like (n_samples, n_features) of finite real numbers.
            y: ignored (present for API consistency).

        Returns:
            self
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        gen = make_backbone(self.backbone, self.backbone_params, self.random_state)
        rule = resolve_rule(gen, self.score_rule)  # refuse before spending the training budget
        X_fit, X_offset = X, X
        if self.holdout_fraction is not None:
            rng = check_random_state(self.random_state)
            perm = rng.permutation(len(X))
            n_out = max(1, int(round(self.holdout_fraction * len(X))))
            if len(X) - n_out < 2:
                raise ValueError(f"holdout_fraction={self.holdout_fraction} leaves fewer than 2 rows to fit on.")
            X_fit, X_offset = X[perm[n_out:]], X[perm[:n_out]]
        gen.fit(X_fit)
        self.backbone_ = gen
        self.score_rule_ = rule.name
        self.offset_ = float(np.percentile(score_rows(X_offset, rule), 100.0 * self.contamination))
        return self

    # ------------------------------------------------------------------ outlier API
    def score_samples(self, X) -> np.ndarray:
        """Anomaly score of each row; higher = more normal (see the class docstring)."""
        check_is_fitted(self, "offset_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return score_rows(X, resolve_rule(self.backbone_, self.score_rule_))

    def decision_function(self, X) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """+1 for inliers, -1 for outliers."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def feature_scores(self, X) -> np.ndarray:
        """Per-feature contributions to the score, shape (n_samples, n_features).

        Higher = more normal, like ``score_samples``; the most negative entries of a row
        point at the features (pixels, time steps) that make it abnormal. Available where
        the rule has a per-feature map (``ScoreRule.feature_scores``): VAE (reconstruction
        error), autoregressive (``log p(x_j | x_<j)``, which sum to the log-likelihood),
        diffusion (denoising error), RBM (reconstruction) and GAN (latent-search residual).
        Others raise ``NotImplementedError``.
        """
        check_is_fitted(self, "offset_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return feature_score_rows(self.backbone_, X, resolve_rule(self.backbone_, self.score_rule_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def make_backbone(backbone, backbone_params, random_state):
    """The detector's unfitted backbone (:func:`synthkit.registry.make_backbone`): quiet and
    seeded, with ``SCORING_DEFAULTS`` for a backbone given by name."""
    from synthkit.registry import make_backbone as build

    return build(backbone, backbone_params, defaults={"verbose": 0, "random_state": _seed(random_state)},
                 per_backbone=SCORING_DEFAULTS)


def _seed(random_state):
    """An int seed (or None) for torch from a scikit-learn ``random_state``."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return None if random_state is None else int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))
