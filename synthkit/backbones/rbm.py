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
from synthkit.base import Generator

VISIBLE_TYPES = ("gaussian", "bernoulli")
SAMPLING_INITS = ("chains", "noise")
MAX_EXACT_HIDDEN = 16  # 2^16 hidden states: enumerated in one batch per update


class RBM(Generator):
    """Restricted Boltzmann machine (Gaussian or Bernoulli visibles), or a deep belief net.

    With Gaussian visible units (the default, for continuous columns, which the base
    standardizes) the energy is, after Cho et al. (2011),
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
        visible: ``"gaussian"`` (continuous, standardized) or ``"bernoulli"`` (X in [0, 1]).
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
        visible="gaussian",
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
        if self.visible == "bernoulli" and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                f"visible='bernoulli' needs X in [0, 1], got values in [{X.min():.4g}, {X.max():.4g}]; "
                "scale the data (e.g. MinMaxScaler) or use visible='gaussian'."
            )

    def _standardize_mask(self):
        return np.full(self.n_features_in_, self.visible == "gaussian")

    def _learn_data(self, X):
        self.binary_data_ = bool(self.visible == "bernoulli" and np.isin(X, (0.0, 1.0)).all())

    def _widths(self) -> list[int]:
        return list(self.hidden_layers) if self.hidden_layers is not None else [self.n_hidden]

    # ------------------------------------------------------------------ networks
    def _build(self):
        self.exact_ = bool(self._enumerable() if self.exact is None else self.exact)
        sizes = [self.n_features_in_, *self._widths()]
        k = self.condition_dim_
        modules = {}
        for l, (n_vis, n_hid) in enumerate(zip(sizes[:-1], sizes[1:])):
            gaussian = l == 0 and self.visible == "gaussian"
            modules[f"rbm{l}"] = RBMLayer(
                n_vis, n_hid, k, gaussian=gaussian, learn_variance=gaussian and self.learn_variance,
                min_std=self.min_std,
            )
            # Chains live in their own module so an EMA of the weights never touches them.
            modules[f"chains{l}"] = ReplayBuffer(int(self.n_chains) if self.persistent else 1, n_vis, k)
            if not gaussian:
                modules[f"chains{l}"].x.copy_(_bernoulli(torch.full_like(modules[f"chains{l}"].x, 0.5)))
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
            nll = -self._log_prob(x, c).mean()
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
            return super()._validation_loss(x, c)  # minus the exact log-likelihood
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
    def _log_prob(self, x, c):
        if self.exact_:
            return -self.free_energy(x, c) - self._layer(0).log_partition(c)
        return -self.free_energy(x, c)

    def _sample(self, n, c):
        if self.exact_:
            return self._layer(0).sample_exact(n, c)
        top = self._n_layers - 1
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
        if self.visible == "bernoulli" and not self.binary_data_:
            v = mean  # intensities in [0, 1]: report the probabilities, not binary draws
        return v


class RBMLayer(nn.Module):
    """One RBM: weights ``W``, visible bias ``b``, hidden bias ``a``, visible standard
    deviations (Gaussian units; learned or fixed at 1) and condition-to-bias weights
    ``A`` (visible) and ``B`` (hidden).

    Example:
        >>> rbm = RBMLayer(3, 4)
        >>> rbm.free_energy(torch.zeros(2, 3)).shape
        torch.Size([2])
    """

    def __init__(self, n_visible: int, n_hidden: int, condition_dim: int = 0, *, gaussian: bool = False,
                 learn_variance: bool = False, min_std: float = 0.05):
        super().__init__()
        self.gaussian = gaussian
        self.min_log_std = math.log(min_std)
        self.W = nn.Parameter(0.01 * torch.randn(n_visible, n_hidden))  # Hinton (2010) §8.1
        self.b = nn.Parameter(torch.zeros(n_visible))
        self.a = nn.Parameter(torch.zeros(n_hidden))
        self.A = nn.Parameter(torch.zeros(condition_dim, n_visible))
        self.B = nn.Parameter(torch.zeros(condition_dim, n_hidden))
        if gaussian and learn_variance:
            self.log_std = nn.Parameter(torch.zeros(n_visible))
        else:
            self.register_buffer("log_std", torch.zeros(n_visible if gaussian else 0))

    @torch.no_grad()
    def init_from_data(self, v: torch.Tensor, init_std: float = 1.0) -> None:
        """Visible biases at the data's mean (Gaussian) or log-odds (Bernoulli), learned
        standard deviations at ``init_std`` times the data's (Hinton 2010 §8.1 uses 1)."""
        p = v.float().mean(0)
        self.b.copy_(p if self.gaussian else torch.logit(p.clamp(1e-3, 1 - 1e-3)))
        if isinstance(self.log_std, nn.Parameter):
            std = init_std * v.float().std(0).clamp_min(1e-12)
            self.log_std.copy_(std.log().clamp_min(self.min_log_std))

    def variance(self) -> torch.Tensor:
        return (2 * self.log_std.clamp_min(self.min_log_std)).exp()

    def _biases(self, c):
        if c is None:
            return self.b, self.a
        return self.b + c @ self.A, self.a + c @ self.B

    def _scaled(self, v):
        return v / self.variance() if self.gaussian else v

    def free_energy(self, v: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``F(v) = -log Σ_h exp(-E(v, h))``: the visible term minus ``Σ_j softplus(a_j + ...)``."""
        b, a = self._biases(c)
        hidden = F.softplus(a + self._scaled(v) @ self.W).sum(-1)
        if self.gaussian:
            return ((v - b).pow(2) / (2 * self.variance())).sum(-1) - hidden
        return -(v * b).sum(-1) - hidden

    def energy(self, v: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Joint energy ``E(v, h)``."""
        b, a = self._biases(c)
        coupling = ((self._scaled(v) @ self.W) * h).sum(-1) + (h * a).sum(-1)
        if self.gaussian:
            return ((v - b).pow(2) / (2 * self.variance())).sum(-1) - coupling
        return -(v * b).sum(-1) - coupling

    def sample_h_given_v(self, v, c=None):
        _, a = self._biases(c)
        p = torch.sigmoid(a + self._scaled(v) @ self.W)
        return p, _bernoulli(p)

    def sample_v_given_h(self, h, c=None):
        b, _ = self._biases(c)
        act = b + h @ self.W.T
        if self.gaussian:
            return act, act + self.variance().sqrt() * torch.randn_like(act)
        p = torch.sigmoid(act)
        return p, _bernoulli(p)

    def gibbs_step(self, v, c=None):
        return self.sample_v_given_h(self.sample_h_given_v(v, c)[1], c)[1]

    def noise(self, n: int, device) -> torch.Tensor:
        shape = (n, self.W.shape[0])
        return torch.randn(shape, device=device) if self.gaussian else _bernoulli(torch.full(shape, 0.5, device=device))

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
        m = hs @ self.W.T  # (S, D): W h of every state
        b, a = self._biases(c)  # (D,), (H,) or one row per condition: (n, D), (n, H)
        if self.gaussian:
            var = self.variance()
            return a @ hs.T + (b / var) @ m.T + (m.pow(2) / (2 * var)).sum(-1)
        return a @ hs.T + F.softplus(b.unsqueeze(-2) + m).sum(-1)

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
        """Rows of conditions in groups small enough that ``(rows, 2^n_hidden[, D])`` fits."""
        width = 2 ** self.W.shape[1] * (1 if self.gaussian else self.W.shape[0])
        return torch.split(c, max(1, 2**22 // width))

    @torch.no_grad()
    def sample_exact(self, n: int, c: torch.Tensor | None = None) -> torch.Tensor:
        """Independent draws: ``h`` from its marginal ``p(h)`` (given each row's condition),
        then ``v ~ p(v | h)``."""
        hs = self.hidden_states()
        if c is None:
            probs = torch.softmax(self.hidden_logits(), -1)
            idx = torch.multinomial(probs, n, replacement=True) if n else torch.zeros(0, dtype=torch.long)
        else:  # Gumbel-max, in groups of rows
            idx = torch.cat([self._gumbel_argmax(self.hidden_logits(part)) for part in self._chunks(c)])
        return self.sample_v_given_h(hs[idx.to(hs.device)], c)[1]

    @staticmethod
    def _gumbel_argmax(logits: torch.Tensor) -> torch.Tensor:
        u = torch.rand_like(logits).clamp_min(1e-20)
        return (logits - torch.log(-torch.log(u))).argmax(-1)


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

    TrainingLoop(run, ema_modules=ema_modules).run(X, c, resume=getattr(run, "_resume", False))


def _bernoulli(p: torch.Tensor) -> torch.Tensor:
    """Bernoulli draws; ``torch.bernoulli`` is an order of magnitude slower on CPU."""
    return (torch.rand_like(p) < p).to(p.dtype)
