"""Sequence networks: the GRU and the causal transformer the token-sequence backbone is built on.

Both map ``tokens`` ``(n, T)`` (ids ``0..vocab_size``, ``vocab_size`` being the begin token)
and an optional condition ``c`` to logits ``(n, T, vocab_size)`` over the next token and a
state to continue from: ``f(tokens, c=None, state=None) -> (logits, state)``, the contract of
every network of role ``"sequence"`` (:mod:`synthkit.nn.networks`). They are registered as
``"gru"`` and ``"transformer"``; other sequence networks (e.g. audio's WaveNet) register the same
way, and :class:`~synthkit.backbones.sequence.SequenceModel` builds any of them by name.

References:
    Cho et al. (2014). Learning phrase representations using RNN encoder-decoder for
    statistical machine translation. EMNLP (GRU).
    Radford et al. (2019). Language models are unsupervised multitask learners (GPT-2:
    pre-norm decoder-only transformer, learned positions).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from synthkit.nn.networks import register_network


class GRUNetwork(nn.Module):
    """Token embedding, stacked GRU and a softmax head; ``c`` sets the initial hidden state.

    Input ids are ``0..vocab_size`` (``vocab_size`` is the begin token); outputs are logits
    over ``0..vocab_size-1`` (0 = end).

    Example:
        >>> net = GRUNetwork(5, 8, 16, 2)
        >>> logits, state = net(torch.zeros(3, 4, dtype=torch.long))
        >>> logits.shape, state.shape
        (torch.Size([3, 4, 5]), torch.Size([2, 3, 16]))
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_dim: int, n_layers: int,
                 dropout: float = 0.0, condition_dim: int = 0):
        super().__init__()
        self.n_layers, self.hidden_dim = n_layers, hidden_dim
        self.embedding = nn.Embedding(vocab_size + 1, embedding_dim)
        self.rnn = nn.GRU(embedding_dim, hidden_dim, n_layers, batch_first=True,
                          dropout=dropout if n_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_dim, vocab_size)
        self.condition = nn.Linear(condition_dim, n_layers * hidden_dim) if condition_dim else None

    def initial_state(self, n: int, c: torch.Tensor | None) -> torch.Tensor | None:
        if self.condition is None or c is None:
            return None
        return torch.tanh(self.condition(c)).view(n, self.n_layers, self.hidden_dim).transpose(0, 1).contiguous()

    def forward(self, tokens: torch.Tensor, c: torch.Tensor | None = None, state=None):
        """Logits (n, T, vocab) for every prefix of ``tokens`` (n, T), and the final state.
        Without ``state`` the sequence starts afresh from ``c``."""
        if state is None:
            state = self.initial_state(len(tokens), c)
        out, state = self.rnn(self.dropout(self.embedding(tokens)), state)
        return self.head(self.dropout(out)), state


class CausalBlock(nn.Module):
    """Pre-norm transformer block with causal self-attention and a key/value cache."""

    def __init__(self, dim: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, cache=None):
        """``h`` (n, T, dim) are new positions; ``cache`` the keys and values of earlier ones
        (then T must be 1). Returns the new ``h`` and the cache including these positions."""
        n, T, dim = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(n, T, 3, self.n_heads, dim // self.n_heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None and T > 1,
                                           dropout_p=self.dropout if self.training else 0.0)
        h = h + self.drop(self.proj(a.transpose(1, 2).reshape(n, T, dim)))
        return h + self.drop(self.mlp(self.norm2(h))), (k, v)


class CausalTransformerNetwork(nn.Module):
    """Decoder-only transformer (GPT-style: pre-norm, learned positions); ``c`` is a prefix
    embedding. Sampling feeds one token at a time and reuses cached keys and values.

    Example:
        >>> net = CausalTransformerNetwork(5, 8, 32, 2, max_positions=10)
        >>> logits, state = net(torch.zeros(3, 4, dtype=torch.long))
        >>> logits.shape
        torch.Size([3, 4, 5])
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_dim: int, n_layers: int,
                 dropout: float = 0.0, condition_dim: int = 0, max_positions: int = 512):
        super().__init__()
        n_heads = next((h for h in (8, 4, 2) if hidden_dim % h == 0 and hidden_dim // h >= 32), 1)
        self.max_positions = max_positions
        self.embedding = nn.Embedding(vocab_size + 1, embedding_dim)
        self.proj = nn.Linear(embedding_dim, hidden_dim) if embedding_dim != hidden_dim else nn.Identity()
        self.position = nn.Embedding(max_positions, hidden_dim)
        self.condition = nn.Linear(condition_dim, hidden_dim) if condition_dim else None
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(CausalBlock(hidden_dim, n_heads, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(hidden_dim)
        self.head = nn.Linear(hidden_dim, vocab_size)

    def forward(self, tokens: torch.Tensor, c: torch.Tensor | None = None, state=None):
        """Logits (n, T, vocab) for every prefix of ``tokens`` (n, T), and the state (caches
        and next position) to continue from. With ``state`` (then T = 1) the sequence goes
        on from there and ``c``, already in the cache, is not needed."""
        h = self.proj(self.embedding(tokens))
        prefix = state is None and self.condition is not None and c is not None
        if prefix:
            h = torch.cat([self.condition(c)[:, None], h], dim=1)
        caches, start = state if state is not None else ([None] * len(self.blocks), 0)
        T = h.shape[1]
        if start + T > self.max_positions:
            raise ValueError(f"sequence of {start + T} positions is longer than the model's {self.max_positions}.")
        h = self.drop(h + self.position(torch.arange(start, start + T, device=h.device)))
        new_caches = []
        for block, cache in zip(self.blocks, caches):
            h, cache = block(h, cache)
            new_caches.append(cache)
        logits = self.head(self.norm(h))
        return (logits[:, 1:] if prefix else logits), (new_caches, start + T)


def _gru(*, vocab_size: int, condition_dim: int = 0, embedding_dim: int = 128, hidden_dim: int = 256,
         n_layers: int = 2, dropout: float = 0.0, **_shapes) -> GRUNetwork:
    return GRUNetwork(vocab_size, embedding_dim, hidden_dim, n_layers, dropout, condition_dim)


def _transformer(*, vocab_size: int, max_positions: int, condition_dim: int = 0, embedding_dim: int = 128,
                 hidden_dim: int = 256, n_layers: int = 2, dropout: float = 0.0, **_shapes) -> CausalTransformerNetwork:
    return CausalTransformerNetwork(vocab_size, embedding_dim, hidden_dim, n_layers, dropout, condition_dim,
                                    max_positions=max_positions)


register_network("sequence", "gru", _gru)
register_network("sequence", "transformer", _transformer)
