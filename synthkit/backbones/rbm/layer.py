"""One restricted Boltzmann machine: its energy, free energy, conditionals and, with few
hidden units, its exact partition function (enumerated hidden states).

References:
    Hinton, "A Practical Guide to Training Restricted Boltzmann Machines", UTML TR 2010-003.
    Cho, Ilin & Raiko, "Improved Learning of Gaussian-Bernoulli Restricted Boltzmann
    Machines", ICANN 2011.
    Salakhutdinov, Mnih & Hinton, "Restricted Boltzmann Machines for Collaborative
    Filtering", ICML 2007 (softmax visible units).
    Salakhutdinov & Murray, "On the Quantitative Analysis of Deep Belief Networks", ICML 2008.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

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



def _gumbel_argmax(logits: torch.Tensor) -> torch.Tensor:
    """A draw from ``softmax(logits)`` along the last axis (the Gumbel-max trick)."""
    u = torch.rand_like(logits).clamp_min(1e-20)
    return (logits - torch.log(-torch.log(u))).argmax(-1)


def _bernoulli(p: torch.Tensor) -> torch.Tensor:
    """Bernoulli draws; ``torch.bernoulli`` is an order of magnitude slower on CPU."""
    return (torch.rand_like(p) < p).to(p.dtype)
