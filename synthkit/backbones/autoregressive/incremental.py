"""Column-by-column sampling from a MADE network that computes each hidden unit once per row.

Drawing a row from an autoregressive model takes one network evaluation per column. In a
MADE network a hidden unit of degree ``k`` sees only the columns at positions ``1..k`` (and
the condition), so once column ``k`` is drawn its units never change again: they can be
computed once, when column ``k`` is known, and kept. :class:`DegreeByDegree` does exactly
that for every layer of the residual network (the input layer, each block's inner and outer
layer), so a whole row costs about half of one full pass (a lower triangle of each weight
matrix) instead of one pass per column -- the idea of caching the hidden state between steps
of an autoregressive decoder, applied to MADE's degrees. Hidden units are sorted by degree
once, so every step reads and writes contiguous column ranges (views, no gathers). The
outputs equal the full network's to float precision.

References:
    Germain, Gregor, Murray & Larochelle, "MADE: Masked Autoencoder for Distribution
    Estimation", ICML 2015.
    Nash & Durkan, "Autoregressive Energy Machines", ICML 2019 (residual MADE blocks).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


class DegreeByDegree:
    """Hidden states of ``net`` (a :class:`MADENetwork`) for ``n`` rows, filled one degree at
    a time as columns are drawn in order; for sampling (no gradients).

    Args:
        net: the network (in eval mode: dropout is the identity).
        c: condition rows (n, context_dim) or ``None``.
        n: rows drawn together.
    """

    @torch.no_grad()
    def __init__(self, net, c: torch.Tensor | None, n: int):
        self.net, self.c = net, c
        degrees = net.hidden_degrees
        order = torch.argsort(degrees, stable=True)  # units sorted by degree: each degree a range
        sorted_deg = degrees[order]
        self.end = {int(k): int((sorted_deg <= k).sum()) for k in torch.unique(degrees)}
        self.start = {k: e - int((sorted_deg == k).sum()) for k, e in self.end.items()}

        def permuted(lin, rows=order, cols=order):  # None: that side keeps its own order
            w, b, v = lin.weight * lin.mask, lin.bias, None if lin.context is None or c is None else lin.context.weight
            if rows is not None:
                w, b, v = w[rows], b[rows], None if v is None else v[rows]
            w = w if cols is None else w[:, cols]
            return w.contiguous(), b.contiguous(), None if v is None else F.linear(c, v)

        self.inp = permuted(net.inp, cols=None)
        self.blocks = [(permuted(b.linear1), permuted(b.linear2)) for b in net.blocks]
        self.out = permuted(net.out, rows=None)
        width, device = len(degrees), degrees.device
        size = (n, width)
        self.stream = [torch.empty(size, device=device) for _ in range(len(net.blocks) + 1)]  # h_0 .. h_L
        self.active = [torch.empty(size, device=device) for _ in range(len(net.blocks) + 1)]  # act(h_l)
        self.inner = [torch.empty(size, device=device) for _ in range(len(net.blocks))]  # act(W1 act(h) + V c)
        self.level = 0  # hidden units of degree < level are computed (the only ones ever read)

    @staticmethod
    def _linear(params, h, rows: slice, cols: slice | None):
        w, b, v = params
        w = w[rows] if cols is None else w[rows, cols]
        out = F.linear(h, w, b[rows])
        return out if v is None else out + v[:, rows]

    @torch.no_grad()
    def outputs(self, x: torch.Tensor, rows: slice, degree: int) -> torch.Tensor:
        """Output units ``rows`` of degree ``degree``; ``x`` holds the columns before it."""
        net = self.net
        for k in range(self.level, degree):  # units of degree k see columns 1..k: all drawn now
            if k not in self.end:
                continue
            g, seen = slice(self.start[k], self.end[k]), slice(0, self.end[k])
            self.stream[0][:, g] = self._linear(self.inp, x, g, None)
            self.active[0][:, g] = net.act(self.stream[0][:, g])
            for i, block in enumerate(net.blocks):
                first, second = self.blocks[i]
                self.inner[i][:, g] = block.act(self._linear(first, self.active[i][:, seen], g, seen))
                out = self.stream[i][:, g] + self._linear(second, block.dropout(self.inner[i][:, seen]), g, seen)
                self.stream[i + 1][:, g] = out
                self.active[i + 1][:, g] = net.act(out)
        self.level = max(self.level, degree)
        below = slice(0, self._below(degree))
        return self._linear(self.out, self.active[-1][:, below], rows, below)

    def _below(self, degree: int) -> int:
        """Number of hidden units of degree below ``degree`` (they come first once sorted)."""
        return max([e for k, e in self.end.items() if k < degree], default=0)
