"""The visible units of an RBM: which columns are real-valued (Gaussian or Bernoulli units)
and which are K-way softmax units (categorical codes, or continuous columns cut into
quantile bins), how model-space rows become the first RBM's visible vectors and back, and
the checks on the data they need.

References:
    Salakhutdinov, Mnih & Hinton, "Restricted Boltzmann Machines for Collaborative
    Filtering", ICML 2007 (softmax visible units).
"""

from __future__ import annotations

import numpy as np
import torch

from synthkit.backbones.quantile_bins import fit_quantile_bins
from synthkit.base import standardization

VISIBLE_TYPES = ("auto", "softmax", "gaussian", "bernoulli")
#: ``visible="auto"`` picks softmax units when every continuous column gets at least 32 bins of
#: 32 rows (1,024 rows) and the layer stays within 1,024 softmax units; Gaussian units otherwise
SOFTMAX_MIN_ROWS, SOFTMAX_MAX_UNITS = 1024, 1024


class RBMVisibles:
    """The visible-unit half of :class:`~synthkit.backbones.rbm.RBM` (a mixin: it reads the
    estimator's ``visible``, ``categorical_features``, ``n_bins`` and fitted attributes)."""

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

    def _visible_draws(self, mean, v):
        """Rows from a last draw of the first RBM's visibles: Bernoulli units on data that is
        not binary (intensities in [0, 1]) report their probabilities instead of binary draws;
        softmax units keep their draws."""
        if self.visible_ == "bernoulli" and not self.binary_data_:
            r = self._layer(0).n_real
            v = torch.cat([mean[:, :r], v[:, r:]], 1)
        return self._from_visible(v)

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
