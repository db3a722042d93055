"""Decoding a sequence network: one token per position for the whole batch at once.

``decode`` runs any network of role ``"sequence"`` (``f(tokens, c, state) -> (logits, state)``)
from a begin token, draws each next token from ``softmax(logits / temperature)`` after top-k and
top-p (nucleus) filtering, and keeps the exact model log-likelihood of what it drew (temperature 1,
no filter, end token included), so a policy-gradient method (REINVENT) gets the prior's likelihood
of its own samples for free. A :class:`DecodingConstraint` (e.g. the SMILES grammar of the
molecules domain) may forbid tokens position by position; the allowed ones are renormalized before
filtering.

References:
    Holtzman et al. (2020). The curious case of neural text degeneration. ICLR (top-p).
    Fan, Lewis & Dauphin (2018). Hierarchical neural story generation. ACL (top-k).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from synthkit.validation import check_count, check_fraction, check_positive

PAD = END = 0


class DecodingState(Protocol):
    """Where each of ``n`` sequences stands under a constraint."""

    def allowed(self) -> np.ndarray:
        """Bool array ``(n, vocab_size)`` of the tokens each row may take next (column 0: end)."""

    def advance(self, tokens: np.ndarray) -> object:
        """Record the tokens ``(n,)`` just drawn (0 for rows already ended)."""


@runtime_checkable
class DecodingConstraint(Protocol):
    """What ``decode(..., constraint=...)`` takes: ``start(n)`` returns a :class:`DecodingState`."""

    def start(self, n: int) -> DecodingState: ...


def check_options(temperature, top_k, top_p, max_length) -> dict:
    """The decoding options validated (a ``ValueError`` naming the bad one)."""
    check_positive("temperature", temperature)
    check_count("top_k", top_k, none_ok=True)
    check_fraction("top_p", top_p, one_ok=True, none_ok=True)
    check_count("max_length", max_length, none_ok=True)
    return dict(temperature=float(temperature), top_k=top_k, top_p=top_p, max_length=max_length)


def draw_token(logits: torch.Tensor, temperature: float = 1.0, top_k=None, top_p=None) -> torch.Tensor:
    """One token per row from ``softmax(logits / temperature)`` after top-k / top-p filtering."""
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, int(top_k), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        drop = probs.cumsum(-1) - probs >= top_p  # mass before this token already reaches p
        logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
    return torch.multinomial(torch.softmax(logits, dim=-1), 1).squeeze(1)


def decode(net: nn.Module, n: int, c: torch.Tensor | None, *, bos: int, max_length: int, device,
           temperature: float = 1.0, top_k=None, top_p=None,
           constraint: DecodingConstraint | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` sequences of at most ``max_length`` tokens from ``net``.

    Returns ``(tokens, log_likelihood)``: LongTensor ``(n, max_length)`` right-padded with 0, and
    the exact log-likelihood ``(n,)`` of each returned sequence (a sequence still running at
    ``max_length`` is closed by the end token there). Uses torch's global random generator.
    """
    L = int(max_length)
    tokens = torch.zeros(n, L, dtype=torch.long, device=device)
    ll = torch.zeros(n, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    inputs = torch.full((n, 1), bos, dtype=torch.long, device=device)
    state = None
    rules = None if constraint is None else constraint.start(n)
    for t in range(L + 1):
        logits, state = net(inputs, c, state)  # the begin token first, then one token at a time
        logits = logits[:, -1].float()
        logp = torch.log_softmax(logits, dim=-1)
        if t == L:  # cut at max_length: the end token closes the sequence
            ll += torch.where(done, 0.0, logp[:, END])
            break
        if rules is not None:
            allowed = torch.as_tensor(rules.allowed(), dtype=torch.bool, device=device)
            if allowed.shape != logits.shape:
                raise ValueError(f"the decoding constraint's mask has shape {tuple(allowed.shape)}; the model "
                                 f"draws from {tuple(logits.shape)} (rows, vocab_size_={logits.shape[1]}).")
            logits = logits.masked_fill(~allowed, float("-inf"))
        token = draw_token(logits, temperature, top_k, top_p)
        token = torch.where(done, PAD, token)
        if rules is not None:
            rules.advance(token.cpu().numpy())
        ll += torch.where(done, 0.0, logp.gather(1, token[:, None]).squeeze(1))
        tokens[:, t] = token
        done |= token == END
        if bool(done.all()):
            break
        inputs = token[:, None]
    return tokens, ll
