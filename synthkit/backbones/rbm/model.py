"""``RBM``: the restricted Boltzmann machine estimator (exact with few hidden units, CD / PCD
otherwise) and, with ``hidden_layers``, a deep belief net.

See :mod:`synthkit.backbones.rbm` for the references.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch

from synthkit.backbones.quantile_bins import QuantileBins
from synthkit.backbones.rbm.dbn import train_layers
from synthkit.backbones.rbm.layer import RBMLayer
from synthkit.backbones.rbm.visible import VISIBLE_TYPES, RBMVisibles
from synthkit.backbones.replay import ReplayBuffer
from synthkit.base import Generator
from synthkit.validation import check_count, check_counts, check_fraction

SAMPLING_INITS = ("chains", "noise")
MAX_EXACT_HIDDEN = 16  # 2^16 hidden states: enumerated in one batch per update


class RBM(RBMVisibles, Generator):
    """Restricted Boltzmann machine (softmax, Gaussian or Bernoulli visibles), or a deep belief net.

    Visible units (:mod:`synthkit.backbones.rbm.visible`): with softmax units every column is
    one K-way unit (Salakhutdinov et al. 2007): ``categorical_features`` hold integer codes
    ``0..K-1``, and every other column is cut at its training quantiles into at most
    ``n_bins`` bins (:mod:`synthkit.backbones.quantile_bins`); a sampled bin becomes a value
    drawn uniformly inside it (exponential tails beyond the outer cuts) and
    ``score_samples`` is the exact density of that piecewise model. Given ``h`` each
    column's bin is an arbitrary categorical, so each of the ``2^n_hidden`` mixture
    components has free marginals. They need rows (a unit knows no order between its bins,
    so every bin's weights are learned from its own rows): ``visible="auto"`` takes softmax
    units from 1,024 rows on (32 bins of 32 rows) while the layer stays within 1,024
    softmax units, and Gaussian units otherwise. Discrete columns are best given as codes.

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

    ``hidden_layers=(h1, h2, ...)`` builds a deep belief net (:mod:`synthkit.backbones.rbm.dbn`):
    RBMs trained greedily one after another (Hinton et al. 2006). Sampling runs Gibbs
    chains in the top RBM, then one down pass through the lower layers' ``p(v | h)``.

    With few hidden units (``exact``; at most 16, the default 12) the partition function is
    a sum over the ``2^n_hidden`` hidden states, each of which integrates ``v`` out in
    closed form (Salakhutdinov & Murray 2008): for Gaussian visibles
    ``log Z = logsumexp_h [a·h + Σ_i (2 b_i m_i + m_i^2) / 2σ_i^2] + Σ_i log(2π σ_i^2) / 2``
    with ``m = W h`` (the marginal ``p(v)`` is a mixture of ``2^n_hidden`` Gaussians
    ``N(b + W h, σ^2)`` weighted by ``p(h)``), for Bernoulli visibles
    ``log Z = logsumexp_h [a·h + Σ_i softplus(b_i + m_i)]``. Training then follows the
    exact log-likelihood gradient instead of contrastive divergence, with the learning rate
    annealed to zero along a cosine (Loshchilov & Hutter 2017; at a constant rate the
    minibatch noise decides where the model ends); ``score_samples`` is the normalized
    ``log p(v) = -F(v) - log Z`` (``likelihood = "exact"``) and ``sample`` draws ``h`` from
    its marginal and ``v`` from ``p(v | h)``, with no Markov chain (no mixing problem, and
    orders of magnitude faster). Wider layers and deep belief nets train by CD or PCD.

    Otherwise ``score_samples`` is ``-F(v)`` of the first (visible) RBM: an unnormalized
    log-density (``likelihood = "unnormalized"``). For a deep belief net this scores rows
    with the first layer alone (its own prior over ``h1`` in place of the upper layers).

    The measurements behind these defaults are in ``docs/benchmarks/rbm.md``.

    Args:
        n_hidden: hidden units of the RBM (ignored when ``hidden_layers`` is set). The
            default 12 keeps the partition function exact (``exact``); wider layers
            (trained by CD) give more capacity where the budget allows.
        hidden_layers: widths of a deep belief net's layers, e.g. ``(128, 64)``.
        visible: ``"auto"`` (softmax or Gaussian, by the data's size; see above; the choice is
            ``visible_``), ``"softmax"`` (every column a categorical unit: codes, or quantile
            bins of continuous columns), ``"gaussian"`` (continuous, standardized) or
            ``"bernoulli"`` (X in [0, 1]). With ``"gaussian"`` and ``"bernoulli"`` the
            ``categorical_features`` are softmax units beside the real-valued ones.
        n_bins: quantile bins per continuous column with softmax visibles (ties merge
            bins; the cut is finer where rows are dense). ``None``: one per 32 training
            rows, at least 8 and at most 64 (each bin's weights are learned from its rows).
        categorical_features: indices of columns holding integer codes ``0..K-1``, each a
            K-way softmax unit.
        learn_variance: learn the Gaussian visibles' standard deviations (floored at
            ``min_std``); otherwise they are 1 (unit variance on standardized data).
        min_std: lower bound of the learned standard deviations.
        init_std: the learned standard deviations start at this fraction of each
            column's standard deviation. At 1 the RBM starts at the single-Gaussian
            solution, a saddle where the gradient of ``W`` nearly vanishes. ``None``: 0.5
            with the exact gradient; 1 with CD (a narrow start made minus the free energy a
            worse anomaly score). With CD on multimodal data start lower (e.g. 0.3 with
            ``k=10, persistent=False``).
        k: Gibbs steps per update (CD-k, or steps of the persistent chains per update).
        persistent: persistent contrastive divergence (PCD) with ``n_chains`` chains kept
            as a registered buffer; otherwise CD-k chains start at the data.
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
        max_epochs, max_time, batch_size, learning_rate, ..., verbose: the training
            parameters of :class:`synthkit.Generator` (``TRAINING_DEFAULTS``; this family's own
            defaults close this docstring).

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
    training_defaults: ClassVar[dict] = {"learning_rate": 1e-2}

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
            check_count(name, getattr(self, name))
        check_count("n_bins", self.n_bins, 2, none_ok=True)
        check_count("n_gibbs_steps", self.n_gibbs_steps, 0)
        if self.hidden_layers is None:
            check_count("n_hidden", self.n_hidden)
        else:
            check_counts("hidden_layers", self.hidden_layers)
        check_fraction("reinit_prob", self.reinit_prob, zero_ok=True, one_ok=True)
        check_fraction("min_std", self.min_std, one_ok=True)
        check_fraction("init_std", self.init_std, one_ok=True, none_ok=True)
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
        train_layers(self, X, c)

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
