"""Masked autoencoder for distribution estimation (MADE) with mixture-of-Gaussians outputs.

The density of a row factorizes over its columns in a fixed order,
``p(x | c) = prod_i p(x_{o_i} | x_{o_<i}, c)``; one network with masked weights (MADE)
computes every conditional in a single pass, so the log-likelihood is exact and costs one
forward pass, while sampling takes one pass per column. Each real column's conditional is
a mixture of ``K`` Gaussians (MADE-MoG), each categorical column's a softmax; a real
column that takes only a few values (pixel intensities, counts, flags) gets a mixture of
``K`` logistics discretized to those values, as in PixelCNN++.

References:
    Germain, Gregor, Murray & Larochelle, "MADE: Masked Autoencoder for Distribution
    Estimation", ICML 2015.
    Papamakarios, Pavlakou & Murray, "Masked Autoregressive Flow for Density Estimation",
    NeurIPS 2017 (the MADE-MoG baseline).
    Nash & Durkan, "Autoregressive Energy Machines", ICML 2019 (residual MADE blocks).
    Salimans, Karpathy, Chen & Kingma, "PixelCNN++", ICLR 2017 (discretized logistic mixtures).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from synthkit.backbones.autoregressive.incremental import DegreeByDegree
from synthkit.backbones.autoregressive.masked import MADENetwork
from synthkit.backbones.autoregressive.mixtures import (
    discretized_logistic_log_prob,
    logistic_sample,
    marginal_mixtures,
    mog_log_prob,
    snap_to_values,
)
from synthkit.base import Generator
from synthkit.memmap import chunks, distinct_values
from synthkit.validation import check_count, check_positive

#: raw scale output 0 maps to a standard deviation of about 1: softplus(0.5413) = 1
_SCALE_SHIFT = math.log(math.e - 1.0)
#: outer bin edges of discretized columns, in standardized units (effectively infinite)
_FAR = 1e4
#: a logistic with scale s * sqrt(3) / pi has standard deviation s
_LOGISTIC = math.sqrt(3.0) / math.pi


class MADE(Generator):
    """Autoregressive density model over the columns of flat vectors (MADE-MoG).

    Each real column is modelled, given the columns before it in ``order`` and the
    condition ``c``, by a mixture of ``n_components`` Gaussians whose weights, means and
    scales come from one masked residual network; integer-code columns listed in
    ``categorical_features`` get a softmax over their categories instead. A class label or
    continuous condition enters every hidden layer unmasked. Before training, the output
    biases are set to each column's marginal (a 1-D mixture fitted by EM) and the output
    weights to zero, so training starts from the independent-columns model.

    Columns in ``discrete_features`` (by default those with few distinct values) use a
    mixture of logistics (same weights, means and standard deviations) *discretized* to
    the values seen in training: the probability of a value is the mixture's mass on the
    interval around it (bounded by the midpoints to its neighbours), and samples land
    exactly on those values.

    ``score_samples`` is the exact log-likelihood (``likelihood = "exact"``): a density in
    the real columns times the probability of the discrete and categorical ones. Sampling
    draws the columns one after another (one network pass per column, vectorized over rows).

    Args:
        n_components: Gaussians per real column (``K``).
        hidden_dim: width of the masked hidden layers.
        n_blocks: masked residual blocks after the first masked layer.
        activation: hidden activation (``"relu"``, ``"silu"``, ...).
        dropout: dropout inside the residual blocks.
        order: ``"natural"`` (column order), ``"random"`` (a permutation drawn from
            ``random_state`` and kept as ``order_``), or an explicit permutation of
            column indices.
        categorical_features: indices of columns holding integer codes ``0..K-1``.
        discrete_features: ``"auto"`` (real columns with at most ``min(32, n_rows / 10)``
            distinct training values, e.g. pixel intensities, small counts, flags,
            constants), a list of column indices, or ``()`` for none. Their training values
            are kept in ``discrete_values_``; a new value counts as its nearest one.
        min_scale: smallest standard deviation of a mixture component, in standardized
            units; keeps densities finite on sharp columns.
        max_epochs, max_time, batch_size, learning_rate, ..., verbose: the training
            parameters of :class:`synthkit.Generator` (``TRAINING_DEFAULTS``).

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(200, 3))
        >>> made = MADE(hidden_dim=32, max_epochs=2, verbose=0, random_state=0).fit(X)
        >>> made.sample(5).shape
        (5, 3)
        >>> made.score_samples(X[:4]).shape
        (4,)
    """

    likelihood = "exact"
    default_steps = 3000

    def __init__(
        self,
        *,
        n_components=8,
        hidden_dim=256,
        n_blocks=2,
        activation="relu",
        dropout=0.0,
        order="natural",
        categorical_features=(),
        discrete_features="auto",
        min_scale=1e-3,
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
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ data
    @property
    def _cats(self) -> list[int]:
        return [int(j) for j in self.categorical_features]

    @property
    def _conts(self) -> list[int]:
        cats = set(self._cats)
        return [j for j in range(self.n_features_in_) if j not in cats]

    def _standardize_mask(self) -> np.ndarray:
        mask = np.ones(self.n_features_in_, dtype=bool)
        mask[self._cats] = False
        return mask

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("n_components", "hidden_dim"):
            check_count(name, getattr(self, name))
        check_count("n_blocks", self.n_blocks, 0)
        check_positive("min_scale", self.min_scale)
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")

    def _check_data(self, X: np.ndarray, *, fitting: bool) -> None:
        d = X.shape[1]
        cats = self._cats
        disc = [] if isinstance(self.discrete_features, str) else [int(j) for j in self.discrete_features]
        for name, idx in (("categorical_features", cats), ("discrete_features", disc)):
            if len(set(idx)) != len(idx) or not all(0 <= j < d for j in idx):
                raise ValueError(f"{name} {idx} must be distinct column indices below {d}.")
        if set(cats) & set(disc):
            raise ValueError(f"columns {sorted(set(cats) & set(disc))} are both categorical and discrete.")
        if not cats:
            return
        for lo, hi in chunks(len(X)):  # in chunks: X may be a memory map larger than memory
            codes = X[lo:hi][:, cats]
            if (codes != np.round(codes)).any() or codes.min() < 0:
                raise ValueError("categorical_features columns must hold non-negative integer codes.")
            if not fitting and (codes.max(0) >= np.asarray(self.n_categories_)).any():
                raise ValueError("a categorical_features column holds a code never seen in fit.")

    def _learn_data(self, X: np.ndarray) -> None:
        n, d = X.shape
        if isinstance(self.order, str):
            if self.order == "natural":
                order = np.arange(d)
            elif self.order == "random":
                order = np.random.default_rng(self.fit_seed_).permutation(d)
            else:
                raise ValueError(f"order must be 'natural', 'random' or a permutation of 0..{d - 1}, got {self.order!r}.")
        else:
            order = np.asarray(self.order)
            if order.shape != (d,) or sorted(order.tolist()) != list(range(d)):
                raise ValueError(f"order must be a permutation of 0..{d - 1}, got {self.order!r}.")
        self.order_ = [int(j) for j in order]
        self.n_categories_ = [int(X[:, j].max()) + 1 for j in self._cats]
        if isinstance(self.discrete_features, str):
            if self.discrete_features != "auto":
                raise ValueError(f"discrete_features must be 'auto' or column indices, got {self.discrete_features!r}.")
            max_values = max(1, min(32, n // 10))
            values = {j: distinct_values(X[:, j], max_values) for j in self._conts}
        else:
            values = {j: distinct_values(X[:, j]) for j in sorted(int(j) for j in self.discrete_features)}
        self.discrete_values_ = {str(j): v.tolist() for j, v in values.items() if v is not None}

    # ------------------------------------------------------------------ networks
    def _build(self):
        d, H = self.n_features_in_, int(self.hidden_dim)
        position = np.empty(d, dtype=int)
        position[self.order_] = np.arange(d)
        conts, cats = self._conts, self._cats
        n_cat = dict(zip(cats, self.n_categories_))
        in_deg = np.repeat(position + 1, [n_cat.get(j, 1) for j in range(d)])
        # output units: every real column's [K logits, K means, K raw scales], then the
        # categorical columns' logits
        out_cols = conts + cats
        widths = [n_cat.get(j, 3 * int(self.n_components)) for j in out_cols]
        out_deg = np.repeat(position[out_cols] + 1, widths)
        start = np.concatenate([[0], np.cumsum(widths)]).astype(int)
        self._slices = {j: slice(int(start[i]), int(start[i + 1])) for i, j in enumerate(out_cols)}
        self._build_grids()
        # Degree-0 hidden units see only c: the first column's conditional needs them when
        # there is a condition (without one it is a learned constant either way).
        lo = 0 if (self.condition_dim_ > 0 or d == 1) else 1
        hidden_deg = lo + np.arange(H) % (d - lo)
        net = MADENetwork(in_deg, hidden_deg, out_deg, self.condition_dim_, int(self.n_blocks),
                          self.activation, float(self.dropout))
        with torch.no_grad():  # start as independent columns (_fit sets the marginals)
            net.out.weight.zero_()
            if net.out.context is not None:
                net.out.context.weight.zero_()
        return {"made": net}

    def _build_grids(self) -> None:
        """Values and bin edges of the discrete columns in model space, padded to a rectangle."""
        device = self._device()
        disc = sorted(int(j) for j in self.discrete_values_)
        pos = {j: i for i, j in enumerate(self._conts)}
        self._disc = disc
        self._disc_pos = torch.as_tensor([pos[j] for j in disc], dtype=torch.long, device=device)
        self._dens_pos = torch.as_tensor([i for j, i in pos.items() if str(j) not in self.discrete_values_],
                                         dtype=torch.long, device=device)
        m = max([len(v) for v in self.discrete_values_.values()], default=1)
        values, gap, count = np.zeros((len(disc), m)), np.ones(len(disc)), np.ones(len(disc))
        lo, hi = np.full((len(disc), m), _FAR), np.full((len(disc), m), _FAR)
        for i, j in enumerate(disc):
            v = (np.asarray(self.discrete_values_[str(j)]) - self.mean_[j]) / self.scale_[j]
            mids = (v[1:] + v[:-1]) / 2
            values[i, : len(v)], count[i] = v, len(v)
            lo[i, : len(v)] = np.r_[-_FAR, mids]
            hi[i, : len(v)] = np.r_[mids, _FAR]
            gap[i] = np.median(np.diff(v)) if len(v) > 1 else 1.0
        as_t = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device)  # noqa: E731
        self._disc_values, self._disc_lo, self._disc_hi = as_t(values), as_t(lo), as_t(hi)
        self._disc_gap, self._disc_last = as_t(gap), torch.as_tensor(count - 1, dtype=torch.long, device=device)
        # a probability (not a density) is invariant to the base's standardization
        self._disc_log_scale = float(np.log(self.scale_[disc]).sum()) if disc else 0.0

    def _fit(self, X, c):
        self._init_marginals(X)
        self._train(X, c)

    @torch.no_grad()
    def _init_marginals(self, X: torch.Tensor, max_rows: int = 2048, n_iter: int = 30) -> None:
        """Data-dependent initialization: set the output biases to each column's marginal.

        A 1-D Gaussian mixture per real column (EM on all columns at once) and the code
        frequencies per categorical column; with the output weights at zero the untrained
        network is the independent-columns model, and training only has to learn the
        dependencies. This matters most for the first column, whose conditional is the
        bias alone, and for sharp or few-valued columns.
        """
        bias = self.modules_["made"].out.bias
        K, floor = int(self.n_components), float(self.min_scale)
        X = X[torch.randperm(len(X))[:max_rows]].cpu()
        if self._conts:
            log_w, mu, sigma = marginal_mixtures(X[:, self._conts], K, floor, n_iter)
            if self._disc:  # discrete columns: components about as wide as the gaps between values
                i = self._disc_pos.cpu()
                sigma[i] = torch.maximum(sigma[i], 0.5 * self._disc_gap.cpu().to(sigma)[:, None])
            raw = torch.log(torch.expm1((sigma - floor).clamp(min=1e-6))) - _SCALE_SHIFT
            n = len(self._conts) * 3 * K
            bias[:n] = torch.stack([log_w, mu, raw], dim=1).flatten().to(bias)
        for j, n_cat in zip(self._cats, self.n_categories_):
            counts = torch.bincount(X[:, j].long(), minlength=n_cat).double() + 0.5
            bias[self._slices[j]] = counts.log().to(bias)

    # ------------------------------------------------------------------ model
    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Network input: real columns as they are, categorical codes one-hot, in column order."""
        if not self._cats:
            return x
        n_cat = dict(zip(self._cats, self.n_categories_))
        parts = [
            F.one_hot(x[:, j].long().clamp(0, n_cat[j] - 1), n_cat[j]).to(x.dtype) if j in n_cat else x[:, j : j + 1]
            for j in range(x.shape[1])
        ]
        return torch.cat(parts, dim=1)

    def _mixture(self, out: torch.Tensor):
        """Split raw outputs (..., 3K) into log-weights, means and standard deviations."""
        # contiguous copies: elementwise kernels on the strided views are several times slower
        logits, mu, raw = (t.contiguous() for t in out.unflatten(-1, (3, int(self.n_components))).unbind(-2))
        sigma = F.softplus(raw + _SCALE_SHIFT) + float(self.min_scale)
        return torch.log_softmax(logits, -1), mu, sigma

    def _bins(self, xd: torch.Tensor) -> torch.Tensor:
        """Index of the nearest training value of each discrete-column entry (n, n_discrete)."""
        return torch.minimum((xd[..., None] >= self._disc_hi).sum(-1), self._disc_last)

    def conditional_log_probs(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Per-column ``log p(x_j | x_<j, c)`` in model space, shape (n, n_features): a log
        density for real columns, a log probability for discrete and categorical ones."""
        out = self.modules_["made"](self._inputs(x), c)
        conts = self._conts
        parts = []  # (column positions, log-probabilities)
        if conts:
            n = len(conts) * 3 * int(self.n_components)
            log_w, mu, sigma = self._mixture(out[:, :n].unflatten(1, (len(conts), -1)))
            xc = x[:, conts]
            if len(self._dens_pos):
                i = self._dens_pos
                parts.append((i, mog_log_prob(xc[:, i], log_w[:, i], mu[:, i], sigma[:, i])))
            if self._disc:
                i = self._disc_pos
                b = self._bins(xc[:, i])[..., None]
                lo = self._disc_lo.expand(len(x), -1, -1).gather(2, b)
                hi = self._disc_hi.expand(len(x), -1, -1).gather(2, b)
                mass = discretized_logistic_log_prob(lo, hi, log_w[:, i], mu[:, i], _LOGISTIC * sigma[:, i])
                parts.append((i, mass))
        if len(parts) == 1 and not self._cats:  # one kind of column: no scatter needed
            return parts[0][1]
        logp = torch.empty_like(x)
        for i, lp in parts:
            logp[:, torch.as_tensor(conts, device=x.device)[i]] = lp
        for j in self._cats:
            log_q = torch.log_softmax(out[:, self._slices[j]], dim=1)
            logp[:, j] = log_q.gather(1, x[:, j : j + 1].long()).squeeze(1)
        return logp

    def _log_prob(self, x, c):
        return self.conditional_log_probs(x, c).sum(1) + self._disc_log_scale

    def score_rules(self):
        """``"likelihood"``: the exact log-likelihood, with the per-column conditionals
        ``log p(x_j | x_<j)`` (raw units) as its per-feature map (see :mod:`synthkit.scoring`)."""
        from synthkit.scoring import ScoreRule

        def conditionals(X):
            return self._score_rows(X, self.conditional_log_probs) - np.log(self.scale_)[None, :]

        return {"likelihood": ScoreRule("likelihood", "exact log-likelihood; per-feature map = log p(x_j | x_<j)",
                                        self._log_likelihood_rows, conditionals, kind="exact")}

    def _training_step(self, x, c, step):
        loss = -self.conditional_log_probs(x, c).sum(1).mean()
        step(loss)
        return {"nll": loss.item()}

    def _sample(self, n, c):
        net = self.modules_["made"]
        cats = set(self._cats)
        disc = {j: i for i, j in enumerate(self._disc)}
        x = torch.zeros(n, self.n_features_in_, device=self._device())
        state = DegreeByDegree(net, c, n)  # each hidden unit computed once, when its columns are drawn
        for degree, j in enumerate(self.order_, start=1):  # column j's outputs have degree = its position
            out = state.outputs(self._inputs(x), self._slices[j], degree)
            if j in cats:
                x[:, j] = torch.multinomial(torch.softmax(out, 1), 1).squeeze(1).to(x.dtype)
                continue
            log_w, mu, sigma = self._mixture(out)
            k = torch.multinomial(log_w.exp(), 1)
            mu, sigma = mu.gather(1, k).squeeze(1), sigma.gather(1, k).squeeze(1)
            if j in disc:  # the bin a draw falls in is the value it takes
                i = disc[j]
                x[:, j] = self._disc_values[i, self._bins(logistic_sample(mu, _LOGISTIC * sigma)[:, None])[:, i]]
            else:
                x[:, j] = mu + sigma * torch.randn_like(mu)
        return x

    def sample(self, n_samples: int, *, y=None, random_state=None, return_y: bool = False):
        """Draw ``n_samples`` rows (see :meth:`synthkit.Generator.sample`); discrete columns
        hold exactly their training values."""
        out = super().sample(n_samples, y=y, random_state=random_state, return_y=return_y)
        X = out[0] if return_y else out
        for j, values in self.discrete_values_.items():  # undo float error of the standardization
            X[:, int(j)] = snap_to_values(np.asarray(values, dtype=float), X[:, int(j)])
        return out
