"""Restricted Boltzmann machine and deep belief network.

An RBM couples visible units ``v`` and binary hidden units ``h`` through the energy
``E(v, h)``; summing out ``h`` gives the free energy ``F(v)`` and ``p(v) ∝ exp(-F(v))``.
With few hidden units (the default, 12) ``log Z`` is a sum over the ``2^n_hidden`` hidden
states and the RBM is trained, scored and sampled exactly. Wider RBMs are trained by
contrastive divergence: the gradient of ``mean F(v_data) - mean F(v_model)`` with the model
samples (``k`` Gibbs steps from the data, CD-k, or from persistent chains, PCD) held fixed is
the CD estimate of the log-likelihood gradient, so the shared training loop and optimizer
apply unchanged.

References:
    Hinton, "Training Products of Experts by Minimizing Contrastive Divergence",
    Neural Computation 2002.
    Tieleman, "Training Restricted Boltzmann Machines using Approximations to the
    Likelihood Gradient", ICML 2008.
    Hinton, "A Practical Guide to Training Restricted Boltzmann Machines", UTML TR 2010-003.
    Cho, Ilin & Raiko, "Improved Learning of Gaussian-Bernoulli Restricted Boltzmann
    Machines", ICANN 2011.
    Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009.
    Hinton, Osindero & Teh, "A Fast Learning Algorithm for Deep Belief Nets",
    Neural Computation 2006.
    Larochelle & Bengio, "Classification using Discriminative Restricted Boltzmann
    Machines", ICML 2008.
    Taylor, Hinton & Roweis, "Modeling Human Motion Using Binary Latent Variables", NIPS 2007.
    Salakhutdinov & Murray, "On the Quantitative Analysis of Deep Belief Networks", ICML 2008
    (the exact partition function of an RBM with few hidden units, by enumeration).
    Fischer & Igel, "Training Restricted Boltzmann Machines: An Introduction",
    Pattern Recognition 2014 (exact log-likelihood gradients of small RBMs as the baseline).
    Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from synthkit.backbones.ebm import ReplayBuffer
from synthkit.backbones.quantile_bins import QuantileBins, fit_quantile_bins
from synthkit.base import Generator, standardization

VISIBLE_TYPES = ("auto", "softmax", "gaussian", "bernoulli")
#: ``visible="auto"`` picks softmax units when every continuous column gets at least 32 bins of
#: 32 rows (1,024 rows) and the layer stays within 1,024 softmax units; Gaussian units otherwise
SOFTMAX_MIN_ROWS, SOFTMAX_MAX_UNITS = 1024, 1024
SAMPLING_INITS = ("chains", "noise")
MAX_EXACT_HIDDEN = 16  # 2^16 hidden states: enumerated in one batch per update


class RBM(Generator):
    """Restricted Boltzmann machine (softmax, Gaussian or Bernoulli visibles), or a deep belief net.

    With softmax visible units every column is one K-way unit
    (Salakhutdinov et al. 2007): ``categorical_features`` hold integer codes ``0..K-1``, and
    every other column is cut at its training quantiles into at most ``n_bins`` bins
    (:mod:`synthkit.backbones.quantile_bins`); a sampled bin becomes a value drawn uniformly
    inside it (exponential tails beyond the outer cuts) and ``score_samples`` is the exact
    density of that piecewise model. Given ``h`` each column's bin is an arbitrary
    categorical, so each of the ``2^n_hidden`` mixture components has free marginals; with
    Gaussian units the components are ``N(b + W h, σ^2)`` with one shared ``σ`` and means at
    subset sums of ``W``'s columns. On the benchmark's 2-D sets (30 s, three seeds) softmax
    units reach two-sample AUC 0.55 / 0.56 / 0.56 on eight Gaussians / moons / pinwheel
    where Gaussian units reach 0.51 / 0.80 / 0.74. They need rows: a unit knows no order
    between its bins, so every bin's weights are learned from its own rows, and the bins'
    weights outnumber a Gaussian unit's by the bin count. On small tables (344 and 442 rows,
    30 s) they fit the training rows more closely and generalize worse than Gaussian units
    (utility TSTR 0.975 / 0.595 against 0.999 / 0.728, membership-inference AUC 0.62 / 0.58
    against 0.58 / 0.55), and on the 64 columns of digits (1,200 rows) their held-out
    log-likelihood is lower (58 against 67). ``visible="auto"`` (the default) therefore
    takes softmax units from 1,024 rows on (32 bins of 32 rows) while the layer stays within
    1,024 softmax units, and Gaussian units otherwise. Discrete columns are best given as
    codes: digits' 17 grey levels as ``categorical_features`` (one 17-way unit per pixel)
    reach a held-out log-likelihood of 86.0 nats with the default 12 hidden units (30 s,
    three seeds; the highest of the backbones benchmark, a 10-component Gaussian mixture
    50.6). Their samples are still far from digits (two-sample AUC 0.980): given ``h`` the
    pixels are independent, so a sample draws every pixel on its own from the categorical
    that one of the ``2^12`` hidden states sets for it.

    With Gaussian visible units (continuous columns, which the base standardizes) the
    energy is, after Cho et al. (2011),
    ``E(v, h) = Σ_i (v_i - b_i)^2 / 2σ_i^2 - Σ_j a_j h_j - Σ_ij (v_i / σ_i^2) W_ij h_j``, so
    ``p(v | h) = N(b + W h, σ^2)`` and ``p(h_j = 1 | v) = sigmoid(a_j + Σ_i W_ij v_i / σ_i^2)``;
    ``σ`` is learned (``learn_variance=True``) or fixed to 1. Bernoulli visibles need ``X``
    in [0, 1] and are not standardized; ``p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)``.

    A condition ``c`` (one-hot class label or standardized continuous condition) shifts
    both biases, ``b + A c`` and ``a + B c`` (a conditional RBM, Taylor et al. 2007). For a
    one-hot label the hidden shift ``B c`` is exactly the softmax label units of a
    classification RBM (Larochelle & Bengio 2008) with the label clamped; ``A c`` adds
    direct label-to-visible weights. Persistent chains keep the condition they were
    started with, drawn from the training conditions.

    ``hidden_layers=(h1, h2, ...)`` builds a deep belief net: RBMs trained greedily one
    after another (Hinton et al. 2006), layer ``l`` on the mean-field hidden probabilities
    of layer ``l - 1``, each through the shared training loop with an equal share of the
    budget (``max_time`` is split between layers; ``max_epochs`` applies to each layer;
    checkpoints go to ``checkpoint_dir/layer<l>``). Sampling runs Gibbs chains in the top
    RBM, then one down pass through the lower layers' ``p(v | h)``.

    With few hidden units (``exact``; at most 16) the partition function is a sum over the
    ``2^n_hidden`` hidden states, each of which integrates ``v`` out in closed form
    (Salakhutdinov & Murray 2008): for Gaussian visibles
    ``log Z = logsumexp_h [a·h + Σ_i (2 b_i m_i + m_i^2) / 2σ_i^2] + Σ_i log(2π σ_i^2) / 2``
    with ``m = W h`` (the marginal ``p(v)`` is a mixture of ``2^n_hidden`` Gaussians
    ``N(b + W h, σ^2)`` weighted by ``p(h)``), for Bernoulli visibles
    ``log Z = logsumexp_h [a·h + Σ_i softplus(b_i + m_i)]``. Training then follows the
    exact log-likelihood gradient instead of contrastive divergence, with the learning rate
    annealed to zero along a cosine (Loshchilov & Hutter 2017; at a constant rate the
    minibatch noise decided where the model ended: eight Gaussians 0.58-0.67 two-sample AUC
    instead of 0.50-0.52); ``score_samples`` is the normalized ``log p(v) = -F(v) - log Z``
    (``likelihood = "exact"``) and ``sample`` draws ``h`` from its marginal and ``v`` from
    ``p(v | h)``, with no Markov chain (no mixing problem, and 10^5-10^6 rows/s instead of
    10^3). This is the default (``n_hidden=12``); wider layers and deep belief nets train by
    CD or PCD.

    Otherwise ``score_samples`` is ``-F(v)`` of the first (visible) RBM: an unnormalized
    log-density (``likelihood = "unnormalized"``). For a deep belief net this scores rows
    with the first layer alone (its own prior over ``h1`` in place of the upper layers).

    Args:
        n_hidden: hidden units of the RBM (ignored when ``hidden_layers`` is set). The
            default 12 keeps the partition function exact (``exact``). Against 256 units
            trained by PCD (the default before) on held-out two-sample AUC: eight Gaussians
            0.51 vs 0.96, moons 0.80 vs 0.87, pinwheel 0.74 vs 0.87, digits 0.99 vs 1.00
            (30 s, three seeds); iris 0.74 vs 0.89, wine 0.70 vs 0.98, breast cancer 0.96 vs
            0.99 (20 s, one run); as a TabularSynthesizer (penguins, 30 s) column shapes
            0.95 vs 0.63 and detection AUC 0.60 vs 0.95; anomaly benchmark mean ROC AUC
            0.938 vs 0.931 (two seeds). Wider layers (trained by CD) give more capacity where
            the budget allows.
        hidden_layers: widths of a deep belief net's layers, e.g. ``(128, 64)``.
        visible: ``"auto"`` (softmax or Gaussian, by the data's size; see above; the choice is
            ``visible_``), ``"softmax"`` (every column a categorical unit: codes, or quantile
            bins of continuous columns), ``"gaussian"`` (continuous, standardized) or
            ``"bernoulli"`` (X in [0, 1]). With ``"gaussian"`` and ``"bernoulli"`` the
            ``categorical_features`` are softmax units beside the real-valued ones.
        n_bins: quantile bins per continuous column with softmax visibles (ties merge
            bins; the cut is finer where rows are dense). ``None``: one per 32 training
            rows, at least 8 and at most 64. A unit knows no order between its bins, so each
            bin's weights are learned from the rows in it: on 600 rows of two clusters, 300
            epochs, 64 bins stayed at the product of the marginals (two-sample AUC 0.79), 16
            bins reached 0.58. On 2,000 rows of eight Gaussians, moons and pinwheel (30 s,
            seeds 0-2, a stand-alone probe of the same model) 32 / 64 / 128 bins gave mean
            AUC 0.62 / 0.58 / 0.60, 0.58 / 0.56 / 0.58 and (seeds 0-1) 0.56 / 0.59 / 0.59.
        categorical_features: indices of columns holding integer codes ``0..K-1``, each a
            K-way softmax unit.
        learn_variance: learn the Gaussian visibles' standard deviations (floored at
            ``min_std``); otherwise they are 1 (unit variance on standardized data).
        min_std: lower bound of the learned standard deviations.
        init_std: the learned standard deviations start at this fraction of each
            column's standard deviation. At 1 the RBM starts at the single-Gaussian
            solution, a saddle where the gradient of ``W`` nearly vanishes, for CD and the
            exact gradient alike: on eight Gaussians both stayed a blob (two-sample AUC 0.96
            after 30 s). ``None``: 0.5 with the exact gradient; 1 with CD, where a narrow
            start made minus the free energy a worse anomaly score on the anomaly tests'
            correlated 3-D set (dependency-breaking AUC 0.78 after 60 epochs, below its
            1-epoch self). With CD on multimodal data start lower: with ``init_std=0.3, k=10,
            persistent=False`` the eight modes separated (AUC 0.51-0.53; two
            moons stayed at 0.88).
        k: Gibbs steps per update (CD-k, or steps of the persistent chains per update).
        persistent: persistent contrastive divergence (PCD) with ``n_chains`` chains kept
            as a registered buffer; otherwise CD-k chains start at the data (with
            ``init_std=0.3`` on eight Gaussians, 30 s, CD-10 reached two-sample AUC 0.53,
            PCD-1 0.96).
        n_chains: persistent chains.
        reinit_prob: chance per update that a persistent chain restarts at a random row of
            the batch. Gibbs chains barely cross between well-separated modes, so without
            restarts the chains' share of each mode can drift from the model's and the
            weights chase it (the same remedy as an EBM's replay-buffer restarts).
        n_gibbs_steps: Gibbs steps run by ``sample`` before the final draw.
        sampling_init: start sampling chains from the persistent ``"chains"`` or from
            ``"noise"`` (always noise when ``persistent=False``).
        weight_decay: L2 penalty ``weight_decay |W|^2 / 2`` on the weights (Hinton 2010).
        exact: train, score and sample with the exact partition function (one RBM with at
            most 16 hidden units); ``None`` does so whenever that holds. The CD parameters
            (``k``, ``persistent``, ``n_chains``, ``reinit_prob``, ``n_gibbs_steps``,
            ``sampling_init``) then play no part.
        **training: see :class:`synthkit.Generator`.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(200, 3))
        >>> rbm = RBM(n_hidden=16, max_epochs=2, verbose=0, random_state=0).fit(X)
        >>> rbm.sample(5).shape
        (5, 3)
        >>> rbm.score_samples(X[:2]).shape
        (2,)
    """

    default_steps = 5000

    def __init__(
        self,
        *,
        n_hidden=12,
        hidden_layers=None,
        visible="auto",
        n_bins=None,
        categorical_features=(),
        learn_variance=True,
        min_std=0.05,
        init_std=None,
        k=1,
        persistent=True,
        n_chains=512,
        reinit_prob=0.05,
        n_gibbs_steps=1000,
        sampling_init="chains",
        weight_decay=1e-4,
        exact=None,
        max_epochs=None,
        max_time=None,
        batch_size=256,
        learning_rate=1e-2,
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
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ data
    def _check_params(self) -> None:
        super()._check_params()
        if self.visible not in VISIBLE_TYPES:
            raise ValueError(f"visible must be one of {VISIBLE_TYPES}, got {self.visible!r}.")
        if self.sampling_init not in SAMPLING_INITS:
            raise ValueError(f"sampling_init must be one of {SAMPLING_INITS}, got {self.sampling_init!r}.")
        for name in ("k", "n_chains"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if self.n_bins is not None and (not isinstance(self.n_bins, (int, np.integer)) or self.n_bins < 2):
            raise ValueError(f"n_bins must be None or an integer >= 2, got {self.n_bins!r}.")
        if not isinstance(self.n_gibbs_steps, (int, np.integer)) or self.n_gibbs_steps < 0:
            raise ValueError(f"n_gibbs_steps must be a non-negative integer, got {self.n_gibbs_steps!r}.")
        widths = self._widths()
        if not widths or not all(isinstance(h, (int, np.integer)) and h >= 1 for h in widths):
            raise ValueError(f"hidden widths must be positive integers, got {widths!r}.")
        if not 0 <= self.reinit_prob <= 1:
            raise ValueError(f"reinit_prob must be in [0, 1], got {self.reinit_prob!r}.")
        if not 0 < self.min_std <= 1:
            raise ValueError(f"min_std must be in (0, 1], got {self.min_std!r}.")
        if self.init_std is not None and not 0 < self.init_std <= 1:
            raise ValueError(f"init_std must be in (0, 1], got {self.init_std!r}.")
        if self.exact not in (None, True, False):
            raise ValueError(f"exact must be None, True or False, got {self.exact!r}.")
        if self.exact and not self._enumerable():
            raise ValueError(
                f"exact=True needs a single RBM with at most {MAX_EXACT_HIDDEN} hidden units "
                f"(2^n_hidden states are enumerated), got hidden widths {self._widths()!r}."
            )

    def _enumerable(self) -> bool:
        widths = self._widths()
        return len(widths) == 1 and widths[0] <= MAX_EXACT_HIDDEN

    @property
    def likelihood(self) -> str:
        """``"exact"`` for a fitted RBM with an enumerated partition function, else ``"unnormalized"``."""
        return "exact" if getattr(self, "exact_", False) else "unnormalized"

    def _check_data(self, X, *, fitting):
        cats = self._cats(X.shape[1])
        real = X[:, self._conts(X.shape[1])]
        if self.visible == "bernoulli" and real.size and (real.min() < 0 or real.max() > 1):
            raise ValueError(
                f"visible='bernoulli' needs X in [0, 1], got values in [{real.min():.4g}, {real.max():.4g}]; "
                "scale the data (e.g. MinMaxScaler) or use visible='gaussian'."
            )
        for j in cats:
            x = X[:, j]
            wrong = np.flatnonzero((x != np.round(x)) | (x < 0))
            if wrong.size:
                raise ValueError(
                    f"categorical_features column {j} must hold non-negative integer codes, "
                    f"got {float(x[wrong[0]])!r} (row {int(wrong[0])})."
                )
            if not fitting and x.max() >= self.n_categories_[cats.index(j)]:
                raise ValueError(
                    f"categorical_features column {j} holds code {int(x.max())}, never seen in fit "
                    f"(codes 0..{self.n_categories_[cats.index(j)] - 1})."
                )

    def _cats(self, n_columns: int | None = None) -> list[int]:
        n_columns = self.n_features_in_ if n_columns is None else n_columns
        cats = [int(j) for j in self.categorical_features]
        if len(set(cats)) != len(cats) or not all(0 <= j < n_columns for j in cats):
            raise ValueError(
                f"categorical_features must be distinct column indices below {n_columns}, got {cats!r}."
            )
        return cats

    def _conts(self, n_columns: int | None = None) -> list[int]:
        """The columns that are not ``categorical_features``."""
        n_columns = self.n_features_in_ if n_columns is None else n_columns
        cats = set(self._cats(n_columns))
        return [j for j in range(n_columns) if j not in cats]

    def _standardize_mask(self):
        mask = np.zeros(self.n_features_in_, dtype=bool)
        # Softmax units see standardized columns too: the bins are the same (quantiles follow an
        # affine map), and float32 keeps its precision on columns far from zero (e.g. timestamps).
        if getattr(self, "visible_", self.visible) != "bernoulli":
            mask[self._conts()] = True
        return mask

    def _learn_data(self, X):
        conts = self._conts()
        self.n_categories_ = [int(X[:, j].max()) + 1 for j in self._cats()]
        # About 32 training rows per bin, 8 to 64 bins: every bin's weights are learned from its
        # own rows (the units know no order between bins).
        n_bins = int(self.n_bins) if self.n_bins is not None else min(64, max(8, len(X) // 32))
        self.visible_ = self.visible
        if self.visible == "auto":
            units = len(conts) * n_bins + sum(self.n_categories_)
            self.visible_ = "softmax" if len(X) >= SOFTMAX_MIN_ROWS and units <= SOFTMAX_MAX_UNITS else "gaussian"
        self.binary_data_ = bool(self.visible_ == "bernoulli" and np.isin(X[:, conts], (0.0, 1.0)).all())
        if self.visible_ == "softmax":  # cut the columns as the base will standardize them
            mean, scale = standardization(X, self._standardize_mask())
            self.n_bins_ = n_bins
            self.bin_cuts_, self.tail_rates_ = fit_quantile_bins(((X - mean) / scale)[:, conts], n_bins)

    # ---------------------------------------------------------- visible layout
    # The first RBM sees [real-valued columns (Gaussian / Bernoulli units), one-hot blocks of
    # the softmax units]. With softmax visibles the binned continuous columns come first
    # among the softmax units, then the categorical features.
    def _softmax_sizes(self) -> list[int]:
        bins = [len(c) + 1 for c in self.bin_cuts_] if self.visible_ == "softmax" else []
        return bins + list(self.n_categories_)

    def _n_real(self) -> int:
        return 0 if self.visible_ == "softmax" else len(self._conts())

    def _to_visible(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space rows -> the first RBM's visible vectors."""
        conts, cats = self._conts(), self._cats()
        layer = self._layer(0)
        if not layer.n_groups:
            return x
        codes = x[:, cats].long()
        if self.visible_ == "softmax":
            codes = torch.cat([self.modules_["bins"].encode(x[:, conts]), codes], 1)
            return layer._one_hot(codes)
        return torch.cat([x[:, conts], layer._one_hot(codes)], 1)

    def _from_visible(self, v: torch.Tensor) -> torch.Tensor:
        """The first RBM's visible vectors -> model-space rows (bins become values)."""
        layer = self._layer(0)
        if not layer.n_groups:
            return v
        conts, cats = self._conts(), self._cats()
        x = torch.empty(len(v), self.n_features_in_, device=v.device)
        codes = layer.codes(v)
        if self.visible_ == "softmax":
            x[:, conts] = self.modules_["bins"].decode(codes[:, : len(conts)])
        else:
            x[:, conts] = v[:, : layer.n_real]
        x[:, cats] = codes[:, codes.shape[1] - len(cats):].to(x.dtype)
        return x

    def _bin_log_density(self, x: torch.Tensor) -> torch.Tensor | float:
        """``log q(x | bins)`` of the binned columns (0 without softmax visibles)."""
        if self.visible_ != "softmax":
            return 0.0
        return self.modules_["bins"].log_density(x[:, self._conts()])

    def _widths(self) -> list[int]:
        return list(self.hidden_layers) if self.hidden_layers is not None else [self.n_hidden]

    # ------------------------------------------------------------------ networks
    def _build(self):
        self.exact_ = bool(self._enumerable() if self.exact is None else self.exact)
        sizes = [self._n_real(), *self._widths()]
        k = self.condition_dim_
        modules = {}
        if self.visible_ == "softmax":
            modules["bins"] = QuantileBins(self.bin_cuts_, self.tail_rates_)
        for l, (n_vis, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
            gaussian = l == 0 and self.visible_ == "gaussian"
            layer = modules[f"rbm{l}"] = RBMLayer(
                n_vis, n_hid, k, gaussian=gaussian, learn_variance=gaussian and self.learn_variance,
                min_std=self.min_std, softmax_sizes=self._softmax_sizes() if l == 0 else (),
            )
            # Chains live in their own module so an EMA of the weights never touches them.
            chains = modules[f"chains{l}"] = ReplayBuffer(int(self.n_chains) if self.persistent else 1,
                                                          layer.W.shape[0], k)
            if not gaussian or layer.n_groups:
                chains.x.copy_(layer.noise(len(chains.x), chains.x.device))
        return modules

    @property
    def _n_layers(self) -> int:
        return len(self._widths())

    def _layer(self, l: int) -> RBMLayer:
        return self.modules_[f"rbm{l}"]

    # ------------------------------------------------------------------ model
    def free_energy(self, v: torch.Tensor, c: torch.Tensor | None = None, *, layer: int = 0) -> torch.Tensor:
        """Per-row free energy ``F(v) = -log Σ_h exp(-E(v, h))`` of RBM ``layer``."""
        return self._layer(layer).free_energy(v, c)

    def log_partition(self, c: torch.Tensor | None = None) -> torch.Tensor:
        """``log Z`` of the (single, ``exact``) RBM, by enumerating its hidden states; one
        per row of ``c`` for a conditional RBM."""
        if not self._enumerable():
            raise ValueError(f"log Z is tractable for one RBM with at most {MAX_EXACT_HIDDEN} hidden units.")
        return self._layer(0).log_partition(c)

    def sample_h_given_v(self, v, c=None, *, layer: int = 0):
        """``(p(h = 1 | v), h)``: hidden probabilities and a Bernoulli draw."""
        return self._layer(layer).sample_h_given_v(v, c)

    def sample_v_given_h(self, h, c=None, *, layer: int = 0):
        """``(E[v | h], v)``: visible means and a draw from ``p(v | h)``."""
        return self._layer(layer).sample_v_given_h(h, c)

    def gibbs_step(self, v, c=None, *, layer: int = 0) -> torch.Tensor:
        """One block-Gibbs step ``v -> h ~ p(h | v) -> v' ~ p(v | h)``."""
        return self._layer(layer).gibbs_step(v, c)

    def _up(self, x, c, n_layers: int) -> torch.Tensor:
        """Mean-field up pass: hidden probabilities after ``n_layers`` layers."""
        for l in range(n_layers):
            x = self._layer(l).sample_h_given_v(x, c)[0]
        return x

    # ------------------------------------------------------------------ training
    def _fit(self, X, c):
        X = self._to_visible(X.to(self._device())).to(X.device)  # one-hot softmax units from here on
        init_std = self.init_std if self.init_std is not None else (0.5 if self.exact_ else 1.0)
        self._layer(0).init_from_data(X, init_std=init_std)
        n_layers = self._n_layers
        if n_layers == 1:
            self._active = 0
            self.modules_["chains0"].reset_conditions(c, classes=self._classes)
            try:
                self._train(X, c, ema_modules=["rbm0"])
            finally:
                del self._active
            return
        history, epochs, steps = [], 0, 0
        for l in range(n_layers):
            self._active = l
            self.modules_[f"chains{l}"].reset_conditions(c, classes=self._classes)
            with torch.no_grad():
                H = self._up(X.to(self._device()), None if c is None else c.to(self._device()), l)
            if l > 0:
                self._layer(l).init_from_data(H)
            run = _LayerRun(self, l, n_layers)
            try:
                _train_with(run, H, c, [f"rbm{l}"])
            finally:
                del self._active
            history += [dict(r, layer=l) for r in run.history_]
            epochs, steps = epochs + run.n_epochs_, steps + run.n_steps_
        self.history_, self.n_epochs_, self.n_steps_ = history, epochs, steps

    @property
    def _classes(self) -> bool:
        return self.condition_kind_ == "classes"

    def _configure_optimizers(self):
        params = self._layer(self._active).parameters()
        self._optimizer = torch.optim.Adam(params, lr=self.learning_rate)  # its rate is annealed when exact
        return {"model": self._optimizer}

    def _negatives(self, v, c, layer: int):
        """Model samples for the negative phase and their conditions (no gradient)."""
        rbm, chains = self._layer(layer), self.modules_[f"chains{layer}"]
        with torch.no_grad():
            if self.persistent:
                v_neg, c_neg = chains.x, (chains.c if c is not None else None)
                restart = torch.rand(len(v_neg), device=v.device) < self.reinit_prob
                rows = torch.randint(len(v), (len(v_neg),), device=v.device)
                v_neg = torch.where(restart[:, None], v[rows], v_neg)
            else:
                v_neg, c_neg = v, c
            for _ in range(int(self.k)):
                v_neg = rbm.gibbs_step(v_neg, c_neg)
            if self.persistent:
                chains.x.copy_(v_neg)
        return v_neg, c_neg

    def _training_step(self, x, c, step):
        l = self._active
        rbm = self._layer(l)
        if self.exact_:
            # Cosine annealing (Loshchilov & Hutter 2017): at a constant rate the exact
            # likelihood's minibatch gradient leaves the model wherever its noise does.
            lr = 0.5 * self.learning_rate * (1 + math.cos(math.pi * step.progress))
            for group in self._optimizer.param_groups:
                group["lr"] = lr
            nll = -self._visible_log_prob(x, c).mean()
            loss = nll + 0.5 * self.weight_decay * rbm.W.pow(2).sum()
            step(loss)
            return {"loss": loss.item(), "nll": nll.item(), "lr": lr}
        v_neg, c_neg = self._negatives(x, c, l)
        f_pos, f_neg = rbm.free_energy(x, c), rbm.free_energy(v_neg, c_neg)
        cd = f_pos.mean() - f_neg.mean()
        loss = cd + 0.5 * self.weight_decay * rbm.W.pow(2).sum()
        step(loss)
        return {"loss": loss.item(), "cd": cd.item()}

    def _validation_loss(self, x, c):
        if self.exact_:
            return -self._visible_log_prob(x, c)
        # Free energy of held-out rows relative to the model samples' mean: a contrastive
        # estimate of -log p(x) up to a constant (the partition function is intractable).
        l = getattr(self, "_active", 0)
        rbm = self._layer(l)
        if self.persistent:
            chains = self.modules_[f"chains{l}"]
            f_neg = rbm.free_energy(chains.x, chains.c if c is not None else None).mean()
        else:
            v = x
            for _ in range(int(self.k)):
                v = rbm.gibbs_step(v, c)
            f_neg = rbm.free_energy(v, c)
        return rbm.free_energy(x, c) - f_neg

    # ------------------------------------------------------------------ inference
    def _visible_log_prob(self, v, c):
        """``log p(v)`` of the first RBM's visible vectors (``-F(v)`` when not ``exact``)."""
        if self.exact_:
            return -self.free_energy(v, c) - self._layer(0).log_partition(c)
        return -self.free_energy(v, c)

    def _log_prob(self, x, c):
        return self._visible_log_prob(self._to_visible(x), c) + self._bin_log_density(x)

    def reconstruction_scores(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Per-column score of the first RBM's mean-field reconstruction ``E[v | p(h | v)]`` of
        model-space rows, shape (n, n_features), higher = better reconstructed:
        ``-1/2 (v - v_hat)^2 / sigma^2`` for Gaussian units, ``log p(v | h)`` for Bernoulli ones
        and, for a softmax unit, the log-probability the reconstruction gives the row's own
        category; a binned column adds the density inside its bin, ``log q(x_j | bin)``, so the
        map is the reconstruction's log-density at ``x_j`` (a value far out in a tail bin scores low)."""
        layer = self._layer(0)
        v = self._to_visible(x)
        v_hat, _ = layer.sample_v_given_h(layer.sample_h_given_v(v, c)[0], c)
        r = layer.n_real
        if layer.gaussian:
            real = -0.5 * (v[:, :r] - v_hat[:, :r]) ** 2 / layer.variance()
        else:
            p = v_hat[:, :r].clamp(1e-7, 1 - 1e-7)
            real = v[:, :r] * p.log() + (1 - v[:, :r]) * (1 - p).log()
        own = v * v_hat.clamp_min(1e-12).log()  # nonzero only at each softmax unit's own category
        groups = own[:, layer.group_index].masked_fill(~layer.group_mask, 0.0).sum(-1)
        softmax = self.visible_ == "softmax"
        out = torch.empty(len(x), self.n_features_in_, dtype=v.dtype, device=v.device)
        out[:, [] if softmax else self._conts()] = real
        out[:, (self._conts() if softmax else []) + self._cats()] = groups
        if softmax:
            out[:, self._conts()] += self.modules_["bins"].log_densities(x[:, self._conts()])
        return out

    def score_rules(self):
        """``"likelihood"``: exact ``log p(x)`` with an enumerated partition function, else minus
        the free energy (unnormalized), with the reconstruction map; ``"reconstruction"``: the
        summed :meth:`reconstruction_scores` (see :mod:`synthkit.scoring`)."""
        from synthkit.scoring import ScoreRule, summed

        exact = getattr(self, "exact_", self._enumerable() if self.exact is None else bool(self.exact))

        def recon(X):
            return self._score_rows(X, self.reconstruction_scores)

        return {
            "likelihood": ScoreRule("likelihood", "log p(x): exact with at most 16 hidden units, else minus the free "
                                    "energy (unnormalized); per-feature map = mean-field reconstruction",
                                    self._log_likelihood_rows, recon, kind="exact" if exact else "unnormalized"),
            "reconstruction": ScoreRule("reconstruction", "the mean-field reconstruction's per-column fit "
                                        "(Gaussian: minus the squared error; softmax, Bernoulli: log p)",
                                        summed(recon), recon, kind="heuristic"),
        }

    def _sample(self, n, c):
        top = self._n_layers - 1
        if self.exact_:
            mean, v = self._layer(0).sample_v_given_h(self._layer(0).sample_hidden(n, c), c)
            return self._visible_draws(mean, v)
        rbm, chains = self._layer(top), self.modules_[f"chains{top}"]
        if self.persistent and self.sampling_init == "chains":
            v = chains.x[chains.draw(n, c, classes=self._classes)].clone()
        else:
            v = rbm.noise(n, chains.x.device)
        for _ in range(int(self.n_gibbs_steps)):
            v = rbm.gibbs_step(v, c)
        if top == 0:
            mean, v = rbm.sample_v_given_h(rbm.sample_h_given_v(v, c)[1], c)
        for l in range(top - 1, -1, -1):  # down pass through the directed lower layers
            mean, v = self._layer(l).sample_v_given_h(v, c)
        return self._visible_draws(mean, v)

    def _visible_draws(self, mean, v):
        """Rows from a last draw of the first RBM's visibles: Bernoulli units on data that is
        not binary (intensities in [0, 1]) report their probabilities instead of binary draws;
        softmax units keep their draws."""
        if self.visible_ == "bernoulli" and not self.binary_data_:
            r = self._layer(0).n_real
            v = torch.cat([mean[:, :r], v[:, r:]], 1)
        return self._from_visible(v)


class RBMLayer(nn.Module):
    """One RBM: weights ``W``, visible bias ``b``, hidden bias ``a``, visible standard
    deviations (Gaussian units; learned or fixed at 1) and condition-to-bias weights
    ``A`` (visible) and ``B`` (hidden).

    The visible vector holds ``n_visible`` real units (Gaussian, or Bernoulli) followed by
    one-hot softmax units of the sizes in ``softmax_sizes`` (Salakhutdinov et al. 2007): a
    K-way unit is K binary units of which exactly one is on, so its energy terms are the
    Bernoulli ones and only ``p(v | h)`` (a softmax over the unit's K inputs) and the
    partition function's sum over ``v`` (a log-sum-exp per unit) differ.

    Example:
        >>> rbm = RBMLayer(3, 4)
        >>> rbm.free_energy(torch.zeros(2, 3)).shape
        torch.Size([2])
        >>> RBMLayer(0, 4, softmax_sizes=(5, 3)).noise(2, "cpu").sum(-1).tolist()
        [2.0, 2.0]
    """

    def __init__(self, n_visible: int, n_hidden: int, condition_dim: int = 0, *, gaussian: bool = False,
                 learn_variance: bool = False, min_std: float = 0.05, softmax_sizes=()):
        super().__init__()
        self.gaussian = gaussian
        self.n_real = int(n_visible)
        self.min_log_std = math.log(min_std)
        sizes = [int(k) for k in softmax_sizes]
        width = self.n_real + sum(sizes)
        self.W = nn.Parameter(0.01 * torch.randn(width, n_hidden))  # Hinton (2010) §8.1
        self.b = nn.Parameter(torch.zeros(width))
        self.a = nn.Parameter(torch.zeros(n_hidden))
        self.A = nn.Parameter(torch.zeros(condition_dim, width))
        self.B = nn.Parameter(torch.zeros(condition_dim, n_hidden))
        if gaussian and learn_variance:
            self.log_std = nn.Parameter(torch.zeros(self.n_real))
        else:
            self.register_buffer("log_std", torch.zeros(self.n_real if gaussian else 0))
        # Softmax unit g owns visible columns group_index[g, :sizes[g]] (rows padded by masking).
        longest = max(sizes, default=0)
        index = torch.zeros(len(sizes), longest, dtype=torch.long)
        mask = torch.zeros(len(sizes), longest, dtype=torch.bool)
        start = self.n_real
        for g, k in enumerate(sizes):
            index[g, :k] = torch.arange(start, start + k)
            mask[g, :k] = True
            start += k
        self.register_buffer("group_index", index, persistent=False)
        self.register_buffer("group_mask", mask, persistent=False)
        self.softmax_sizes = sizes

    @property
    def n_groups(self) -> int:
        return len(self.softmax_sizes)

    @torch.no_grad()
    def init_from_data(self, v: torch.Tensor, init_std: float = 1.0) -> None:
        """Visible biases at the data's mean (Gaussian), log-odds (Bernoulli) or log
        frequencies (softmax units); learned standard deviations at ``init_std`` times the
        data's (Hinton 2010 §8.1 uses 1)."""
        p = v.float().mean(0)
        r = self.n_real
        real = p[:r] if self.gaussian else torch.logit(p[:r].clamp(1e-3, 1 - 1e-3))
        self.b.copy_(torch.cat([real, p[r:].clamp_min(1e-3).log()]))
        if isinstance(self.log_std, nn.Parameter):
            std = init_std * v[:, :r].float().std(0).clamp_min(1e-12)
            self.log_std.copy_(std.log().clamp_min(self.min_log_std))

    def variance(self) -> torch.Tensor:
        return (2 * self.log_std.clamp_min(self.min_log_std)).exp()

    def _biases(self, c):
        if c is None:
            return self.b, self.a
        return self.b + c @ self.A, self.a + c @ self.B

    def _scaled(self, v):
        if not self.gaussian:
            return v
        r = self.n_real
        return torch.cat([v[..., :r] / self.variance(), v[..., r:]], -1)

    def _visible_term(self, v, b):
        """The energy's terms in ``v`` alone."""
        if not self.gaussian:
            return -(v * b).sum(-1)
        r = self.n_real
        quadratic = ((v[..., :r] - b[..., :r]).pow(2) / (2 * self.variance())).sum(-1)
        return quadratic - (v[..., r:] * b[..., r:]).sum(-1)

    def _group_logits(self, act: torch.Tensor) -> torch.Tensor:
        """``(..., width) -> (..., n_groups, longest)``: each softmax unit's inputs, padded with -inf."""
        return act[..., self.group_index].masked_fill(~self.group_mask, -math.inf)

    def free_energy(self, v: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``F(v) = -log Σ_h exp(-E(v, h))``: the visible term minus ``Σ_j softplus(a_j + ...)``."""
        b, a = self._biases(c)
        return self._visible_term(v, b) - F.softplus(a + self._scaled(v) @ self.W).sum(-1)

    def energy(self, v: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Joint energy ``E(v, h)``."""
        b, a = self._biases(c)
        coupling = ((self._scaled(v) @ self.W) * h).sum(-1) + (h * a).sum(-1)
        return self._visible_term(v, b) - coupling

    def sample_h_given_v(self, v, c=None):
        _, a = self._biases(c)
        p = torch.sigmoid(a + self._scaled(v) @ self.W)
        return p, _bernoulli(p)

    def sample_v_given_h(self, h, c=None):
        b, _ = self._biases(c)
        act = b + h @ self.W.T
        r = self.n_real
        real = act[..., :r]
        if self.gaussian:
            mean, draw = real, real + self.variance().sqrt() * torch.randn_like(real)
        else:
            mean = torch.sigmoid(real)
            draw = _bernoulli(mean)
        if not self.n_groups:
            return mean, draw
        logits = self._group_logits(act)
        probs = torch.softmax(logits, -1)[..., self.group_mask]  # the mask's order is the layout's
        return torch.cat([mean, probs], -1), torch.cat([draw, self._one_hot(_gumbel_argmax(logits))], -1)

    def _one_hot(self, codes: torch.Tensor) -> torch.Tensor:
        """``(..., n_groups)`` category codes -> the softmax units' one-hot block."""
        one_hot = F.one_hot(codes, self.group_mask.shape[1])  # (..., n_groups, longest)
        return one_hot[..., self.group_mask.to(codes.device)].to(self.W.dtype)

    def codes(self, v: torch.Tensor) -> torch.Tensor:
        """The category of every softmax unit of one-hot rows ``v``: ``(..., n_groups)``."""
        return self._group_logits(v).argmax(-1)

    def gibbs_step(self, v, c=None):
        return self.sample_v_given_h(self.sample_h_given_v(v, c)[1], c)[1]

    def noise(self, n: int, device) -> torch.Tensor:
        shape = (n, self.n_real)
        real = torch.randn(shape, device=device) if self.gaussian else _bernoulli(torch.full(shape, 0.5, device=device))
        if not self.n_groups:
            return real
        uniform = torch.zeros(n, self.n_groups, self.group_index.shape[1], device=device)
        codes = _gumbel_argmax(uniform.masked_fill(~self.group_mask.to(device), -math.inf))
        return torch.cat([real, self._one_hot(codes)], -1)

    # ---------------------------------------------------------- exact (few hidden units)
    def hidden_states(self) -> torch.Tensor:
        """All ``2^n_hidden`` binary hidden vectors, one per row."""
        n_hidden = self.W.shape[1]
        codes = torch.arange(2**n_hidden, device=self.W.device)
        return ((codes[:, None] >> torch.arange(n_hidden, device=self.W.device)) & 1).to(self.W.dtype)

    def hidden_logits(self, c: torch.Tensor | None = None) -> torch.Tensor:
        """Unnormalized ``log p(h)`` of every hidden state (``v`` integrated out): shape
        ``(2^n_hidden,)``, or ``(n, 2^n_hidden)`` for ``n`` rows of conditions."""
        hs = self.hidden_states()
        m = hs @ self.W.T  # (S, width): W h of every state
        b, a = self._biases(c)  # (width,), (H,) or one row per condition: (n, width), (n, H)
        r = self.n_real
        out = a @ hs.T
        if self.gaussian:
            var = self.variance()
            out = out + (b[..., :r] / var) @ m[:, :r].T + (m[:, :r].pow(2) / (2 * var)).sum(-1)
        elif r:
            out = out + F.softplus(b[..., :r].unsqueeze(-2) + m[:, :r]).sum(-1)
        if self.n_groups:
            out = out + torch.logsumexp(self._group_logits(b.unsqueeze(-2) + m), -1).sum(-1)
        return out

    def log_partition(self, c: torch.Tensor | None = None) -> torch.Tensor:
        """``log Z`` by enumerating the hidden states: a scalar, or one per row of ``c``."""
        if c is None:
            return self._log_partition(None)
        unique, inverse = torch.unique(c, dim=0, return_inverse=True)
        return torch.cat([self._log_partition(part) for part in self._chunks(unique)])[inverse]

    def _log_partition(self, c):
        log_z = torch.logsumexp(self.hidden_logits(c), -1)
        if self.gaussian:
            log_z = log_z + 0.5 * torch.log(2 * math.pi * self.variance()).sum()
        return log_z

    def _chunks(self, c: torch.Tensor):
        """Rows of conditions in groups small enough that ``(rows, 2^n_hidden[, width])`` fits."""
        pure_gaussian = self.gaussian and not self.n_groups
        width = 2 ** self.W.shape[1] * (1 if pure_gaussian else self.W.shape[0])
        return torch.split(c, max(1, 2**22 // width))

    @torch.no_grad()
    def sample_hidden(self, n: int, c: torch.Tensor | None = None) -> torch.Tensor:
        """Independent draws of ``h`` from its marginal ``p(h)`` (given each row's condition)."""
        hs = self.hidden_states()
        if c is None:
            probs = torch.softmax(self.hidden_logits(), -1)
            idx = torch.multinomial(probs, n, replacement=True) if n else torch.zeros(0, dtype=torch.long)
        else:  # Gumbel-max, in groups of rows
            idx = torch.cat([_gumbel_argmax(self.hidden_logits(part)) for part in self._chunks(c)])
        return hs[idx.to(hs.device)]



class _LayerRun:
    """The estimator as the training loop sees it while one DBN layer trains: every
    attribute is the estimator's, except this layer's share of the budget, its own
    checkpoint folder and the loop's outputs (history), which stay here."""

    def __init__(self, est: RBM, layer: int, n_layers: int):
        self.__dict__["_est"] = est
        if est.max_time is not None:
            self.max_time = est.max_time / n_layers
        if est.max_epochs is None and est.max_time is None:
            self.default_steps = max(1, est.default_steps // n_layers)
        if est.checkpoint_dir is not None:
            self.checkpoint_dir = str(Path(est.checkpoint_dir) / f"layer{layer}")

    def __getattr__(self, name):
        return getattr(self.__dict__["_est"], name)


def _train_with(run, X, c, ema_modules) -> None:
    from synthkit.training.loop import TrainingLoop

    loop = getattr(run, "_loop", None) or TrainingLoop  # the fit's loop (``fit(..., loop=...)``)
    loop(run, ema_modules=ema_modules).run(X, c, resume=getattr(run, "_resume", False))


def _gumbel_argmax(logits: torch.Tensor) -> torch.Tensor:
    """A draw from ``softmax(logits)`` along the last axis (the Gumbel-max trick)."""
    u = torch.rand_like(logits).clamp_min(1e-20)
    return (logits - torch.log(-torch.log(u))).argmax(-1)


def _bernoulli(p: torch.Tensor) -> torch.Tensor:
    """Bernoulli draws; ``torch.bernoulli`` is an order of magnitude slower on CPU."""
    return (torch.rand_like(p) < p).to(p.dtype)
