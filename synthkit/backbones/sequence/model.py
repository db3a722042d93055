"""Autoregressive language model over token-id sequences (SMILES / SELFIES tokens, audio codes).

A sequence ``x_1 .. x_T`` followed by an end token is modelled as
``p(x | c) = prod_t p(x_t | x_<t, c) * p(end | x_<=T, c)`` by a GRU (the recurrent SMILES
prior of Segler et al. and REINVENT) or a causal transformer (GPT-style, as in MolGPT).
Token id 0 is padding; the model uses class 0 of its softmax as the end token and an
extra input id as the begin token, so ``score_samples`` is the exact log-probability of
the whole sequence, end included.

References:
    Segler, Kogej, Tyrchan & Waller, "Generating Focused Molecule Libraries for Drug
    Discovery with Recurrent Neural Networks", ACS Central Science 2018.
    Olivecrona, Blaschke, Engkvist & Chen, "Molecular de-novo design through deep
    reinforcement learning", J. Cheminformatics 2017 (REINVENT).
    Radford et al., "Language Models are Unsupervised Multitask Learners", 2019 (GPT-2).
    Bagal et al., "MolGPT: Molecular Generation Using a Transformer-Decoder Model",
    J. Chem. Inf. Model. 2021.
    Holtzman et al., "The Curious Case of Neural Text Degeneration", ICLR 2020 (top-p).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from synthkit.backbones.sequence.decoding import END, PAD, check_options, decode
from synthkit.base import Generator
from synthkit.nn import sequence as _sequence_networks  # noqa: F401  (registers "gru" and "transformer")
from synthkit.nn.networks import build_network, check_output, list_networks
from synthkit.training.runtime import seeded
from synthkit.validation import check_count

#: the sequence networks built from the estimator's embedding_dim, hidden_dim, n_layers and dropout
CELLS = ("gru", "transformer")
#: batches per pool sorted by length in :meth:`SequenceModel._epoch_batches`
BUCKET_POOL = 50


class _Logits(nn.Module):
    """The logits of a sequence network, for checking a given one's output shape."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, tokens: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(tokens, c)[0]


class SequenceModel(Generator):
    """Autoregressive model of right-padded token-id sequences (GRU or causal transformer).

    ``X`` is an integer matrix (n_sequences, length) of token ids ``1..V-1`` right-padded
    with 0; a sequence ends at its first 0 (or after the last column). The model adds a
    begin token, learns the end, and ``score_samples`` returns the exact log-probability
    of each whole sequence including its end (``likelihood = "exact"``). ``sample``
    returns sequences in the same format, drawn position by position for the whole batch
    at once, with optional temperature, top-k and top-p (nucleus) filtering; sequences
    still running at ``max_length_`` are cut there. A class label or continuous
    condition ``y`` sets the GRU's initial state or the transformer's prefix embedding.

    For policy-gradient fine-tuning (REINVENT), :meth:`log_likelihood` and
    :meth:`sample_tokens` work on tensors; the parameters are ``self.modules_.parameters()``.

    Args:
        cell: ``"gru"`` or ``"transformer"``; or any other sequence network
            (:mod:`synthkit.nn.networks`, role ``"sequence"``) called as
            ``f(tokens, c=None, state=None) -> (logits, state)`` like the two built in
            (``embedding_dim``, ``hidden_dim``, ``n_layers`` and ``dropout`` then unused).
        embedding_dim: width of the token embedding.
        hidden_dim: GRU state width, or transformer model width (heads of at least 32
            dimensions, up to 8; feed-forward width 4 * hidden_dim).
        n_layers: stacked GRU layers or transformer blocks.
        dropout: dropout on embeddings and outputs (GRU: also between layers;
            transformer: also on attention weights and residual branches).
        max_length: longest sequence ``sample`` produces (default: the training width);
            training sequences must fit in it.
        temperature: softmax temperature of ``sample`` (> 0; below 1 is more conservative).
        top_k: sample among the ``k`` most probable tokens only (1 = greedy decoding).
        top_p: sample from the smallest set of tokens whose probability reaches ``p``.
        max_epochs, max_time, batch_size, learning_rate, ..., verbose: the training
            parameters of :class:`synthkit.Generator` (``TRAINING_DEFAULTS``).

    ``fit(X, y=None, *, vocab_size=None)`` sets ``vocab_size_`` to the largest id in ``X``
    plus one, or to ``vocab_size`` if that is larger (for tokens absent from ``X``).

    Example:
        >>> import numpy as np
        >>> X = np.array([[1, 2, 3, 0], [1, 2, 0, 0], [1, 2, 3, 4]] * 20)
        >>> model = SequenceModel(hidden_dim=32, embedding_dim=16, max_epochs=2, verbose=0, random_state=0).fit(X)
        >>> model.sample(4).shape
        (4, 4)
        >>> model.score_samples(X[:2]).shape
        (2,)
    """

    likelihood = "exact"
    standardize = False
    default_steps = 2000

    def __init__(
        self,
        *,
        cell="gru",
        embedding_dim=128,
        hidden_dim=256,
        n_layers=2,
        dropout=0.0,
        max_length=None,
        temperature=1.0,
        top_k=None,
        top_p=None,
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
    def fit(self, X, y=None, *, vocab_size=None, resume: bool = False, loop=None):
        """Fit to token sequences ``X`` (n, L), optionally conditional on ``y``.

        Args:
            X: integer token ids ``1..V-1``, right-padded with 0.
            y: ``None``; 1-D class labels; or a 2-D array of continuous conditions.
            vocab_size: size of the vocabulary (pad included) if larger than ``X.max() + 1``.
            resume: continue from the latest checkpoint in ``checkpoint_dir``.
            loop: the training loop factory of this fit (see :meth:`synthkit.Generator.fit`).
        """
        self._vocab_size = vocab_size
        try:
            return super().fit(X, y, resume=resume, loop=loop)
        finally:
            del self._vocab_size

    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        X = np.asarray(X)
        if X.dtype.kind == "O":
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError("X must hold integer token ids, got non-numeric objects.") from None
        if X.dtype.kind not in "iuf":
            raise ValueError(f"X must hold integer token ids, got dtype {X.dtype}.")
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_sequences, length) of token ids, got {X.ndim}-D shape {X.shape}.")
        if X.shape[0] < (2 if reset else 1) or X.shape[1] == 0:
            raise ValueError(f"X is empty or too small (shape {X.shape}); fit needs at least 2 sequences.")
        if X.dtype.kind == "f":
            if not np.isfinite(X).all():
                raise ValueError("X contains NaN or infinity; token ids must be integers.")
            bad = np.argwhere(X != np.round(X))
            if len(bad):
                i, j = bad[0]
                raise ValueError(f"X holds non-integer value {X[i, j]!r} at row {i}, column {j}; token ids must be integers.")
        X = X.astype(np.int64)
        bad = np.argwhere(X < 0)
        if len(bad):
            i, j = bad[0]
            raise ValueError(f"X holds negative token id {X[i, j]} at row {i}, column {j}; ids are 1..V-1, 0 pads.")
        after_end = (X != PAD) & (np.cumsum(X == PAD, axis=1) > 0)
        if after_end.any():
            i, j = np.argwhere(after_end)[0]
            raise ValueError(
                f"row {i} has token {X[i, j]} at column {j} after padding (0) began; sequences must be "
                "right-padded (0 only after the last token)."
            )
        longest = int((X != PAD).sum(1).max())
        if reset:
            self.n_features_in_ = X.shape[1]
            if self.max_length is not None and longest > self.max_length:
                raise ValueError(f"X holds a sequence of length {longest}, longer than max_length={self.max_length}.")
        else:
            check_is_fitted(self, "vocab_size_")
            if X.max() >= self.vocab_size_:
                raise ValueError(f"X holds token id {X.max()}, outside the vocabulary 0..{self.vocab_size_ - 1} seen in fit.")
            if longest > self.max_length_:
                raise ValueError(f"X holds a sequence of length {longest}, longer than the model's max_length_={self.max_length_}.")
            X = X[:, : self.max_length_]
        return X

    def _check_params(self) -> None:
        super()._check_params()
        if isinstance(self.cell, str) and self.cell not in CELLS and self.cell not in list_networks("sequence"):
            raise ValueError(f"cell must be one of {CELLS} or a registered sequence network "
                             f"({list_networks('sequence')}), got {self.cell!r}.")
        for name in ("embedding_dim", "hidden_dim", "n_layers", "max_length"):
            value = getattr(self, name)
            if value is None and name == "max_length":
                continue
            check_count(name, value)
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        self._decoding(self.temperature, self.top_k, self.top_p, None)

    def _learn_data(self, X: np.ndarray) -> None:
        hint = self._vocab_size
        if hint is not None:
            check_count("vocab_size", hint)
        self.vocab_size_ = max(int(X.max()) + 1, int(hint or 1))
        self.max_length_ = int(self.max_length if self.max_length is not None else X.shape[1])

    def _to_model_space(self, X) -> torch.Tensor:
        return torch.as_tensor(self._validate_X(X, reset=False))

    # ------------------------------------------------------------------ networks
    def _build(self):
        V, k = self.vocab_size_, self.condition_dim_
        spec = self.cell
        if spec in CELLS:
            spec = {"name": spec, "embedding_dim": int(self.embedding_dim), "hidden_dim": int(self.hidden_dim),
                    "n_layers": int(self.n_layers), "dropout": float(self.dropout)}
        # positions: condition prefix, begin token, max_length_ tokens
        net = build_network(spec, "sequence", "cell", in_features=V + 1, out_features=V, condition_dim=k,
                            vocab_size=V, max_positions=self.max_length_ + 2)
        check_output(_Logits(net), "cell", (torch.full((2, 2), V, dtype=torch.long), torch.zeros(2, k) if k else None),
                     (2, 2, V), "logits over the vocabulary for every position")
        return {"net": net}

    @property
    def _bos(self) -> int:
        return self.vocab_size_

    def _fit(self, X, c):
        self._train(X.long(), c)

    def _check_c(self, c: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if (c is None) != (self.condition_dim_ == 0):
            need = "needs c (it was fitted with y)" if c is None else "was fitted without y; pass c=None"
            raise ValueError(f"{type(self).__name__} {need}.")
        if c is None:
            return None
        c = torch.as_tensor(c, dtype=torch.float32, device=self._device())
        if c.shape != (n, self.condition_dim_):
            raise ValueError(f"c must have shape ({n}, {self.condition_dim_}), got {tuple(c.shape)}.")
        return c

    # ------------------------------------------------------------------ likelihood
    def log_likelihood(self, tokens: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Exact ``log p(x | c)`` of each right-padded sequence, end token included.

        Differentiable with respect to ``self.modules_.parameters()`` and usable in train
        mode (the REINVENT agent's likelihood).

        Args:
            tokens: LongTensor (n, L) of ids ``1..vocab_size_-1`` right-padded with 0.
            c: condition tensor (n, condition_dim_) for a conditional model, else ``None``.

        Returns:
            Tensor (n,).
        """
        device = self._device()
        tokens = torch.as_tensor(tokens, device=device).long()
        n = len(tokens)
        c = self._check_c(c, n)
        lengths = (tokens != PAD).sum(1)
        tokens = tokens[:, : int(lengths.max()) if n else 0]
        inputs = torch.cat([torch.full((n, 1), self._bos, dtype=torch.long, device=device), tokens], dim=1)
        targets = torch.cat([tokens, torch.full((n, 1), END, dtype=torch.long, device=device)], dim=1)
        logits, _ = self.modules_["net"](inputs, c)
        logp = -F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (n, T+1)
        valid = torch.arange(targets.shape[1], device=device)[None, :] <= lengths[:, None]
        return (logp * valid).sum(1)

    def _log_prob(self, x, c):
        return self.log_likelihood(x, c)

    def _epoch_batches(self, X, perm, batch_size, gen):
        """Length-bucketed batches: the shuffled rows are cut into pools of
        ``BUCKET_POOL`` batches, each pool is sorted by sequence length and cut into
        batches, and the batches of the epoch are shuffled. A batch is as long as its
        longest sequence, so similar lengths waste less work on padding (about half of
        it for random batches of drug-like SMILES: an epoch of 6,400 Kekulé SMILES took
        14 s instead of 31 s on one thread) while batches stay random. Below two pools
        of rows the batches are plain random slices: there is little time to save, and
        sorting a whole epoch would fix which rows meet in a batch."""
        pool = batch_size * BUCKET_POOL
        if len(perm) < 2 * pool:
            return perm.split(batch_size)
        lengths = (X != PAD).sum(1).cpu()[perm]
        batches = []
        for lo in range(0, len(perm), pool):
            order = torch.argsort(lengths[lo : lo + pool], stable=True)
            batches += list(perm[lo : lo + pool][order].split(batch_size))
        return [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]

    def _training_step(self, x, c, step):
        ll = self.log_likelihood(x, c)
        n_tokens = (x != PAD).sum() + len(x)  # tokens plus one end per sequence
        loss = -ll.sum() / n_tokens
        step(loss)
        return {"nll_per_token": loss.item()}

    # ------------------------------------------------------------------ sampling
    def _decoding(self, temperature, top_k, top_p, max_length) -> dict:
        """Validated decoding options; ``None`` falls back to the estimator's parameters."""
        opts = check_options(self.temperature if temperature is None else temperature,
                             self.top_k if top_k is None else top_k,
                             self.top_p if top_p is None else top_p, max_length)
        if max_length is not None and self.cell == "transformer" and max_length > self.max_length_:
            raise ValueError(f"a transformer samples at most max_length_={self.max_length_} tokens, got {max_length}.")
        return opts

    @torch.no_grad()
    def sample_tokens(self, n: int, c: torch.Tensor | None = None, temperature: float = 1.0, top_k=None,
                      top_p=None, max_length: int | None = None, constraint=None):
        """Draw ``n`` sequences as tensors, all rows at once, one position at a time.

        Runs without gradients and in the networks' current mode (call
        ``modules_.eval()`` to switch dropout off). Uses torch's global random generator.

        Args:
            n: number of sequences.
            c: condition tensor (n, condition_dim_) for a conditional model.
            temperature, top_k, top_p: decoding filters (see the class docstring).
            max_length: longest sequence (default ``max_length_``).
            constraint: a decoding constraint (e.g. a grammar): ``constraint.start(n)``
                returns a state whose ``allowed()`` is a bool array (n, vocab_size_) of
                the tokens each row may take next (column 0: end) and whose
                ``advance(tokens)`` records the tokens drawn. Disallowed tokens get
                probability zero and the rest are renormalized before filtering.

        Returns:
            ``(tokens, log_likelihood)``: LongTensor (n, max_length) right-padded with 0, and
            the exact model log-likelihood (n,) of each returned sequence (temperature 1, no
            filtering, end token included), equal to :meth:`log_likelihood` of ``tokens``.
        """
        opts = self._decoding(temperature, top_k, top_p, max_length)
        c = self._check_c(c, n)
        return decode(self.modules_["net"], n, c, bos=self._bos, max_length=opts["max_length"] or self.max_length_,
                      device=self._device(), temperature=opts["temperature"], top_k=opts["top_k"],
                      top_p=opts["top_p"], constraint=constraint)

    def sample(self, n_samples: int, *, y=None, random_state=None, temperature=None, top_k=None, top_p=None,
               max_length=None, constraint=None, return_y: bool = False):
        """Draw ``n_samples`` token sequences.

        Args:
            n_samples: number of sequences.
            y: as in :meth:`synthkit.Generator.sample` (class labels or conditions).
            random_state: seed for this call (default: the estimator's ``random_state``).
            temperature, top_k, top_p, max_length: override the estimator's parameters.
            constraint: a decoding constraint, see :meth:`sample_tokens`.
            return_y: also return the labels/conditions used.

        Returns:
            int64 ndarray (n_samples, max_length) right-padded with 0 (and ``y``).
        """
        check_is_fitted(self, "modules_")
        n = check_count("n_samples", n_samples, 0)
        opts = self._decoding(temperature, top_k, top_p, max_length)
        L = opts["max_length"] or self.max_length_
        seed = self.random_state if random_state is None else random_state
        y = self._sampling_labels(y, n, seed)
        c = self._encode_condition(y, n, fit=False)
        chunks = [torch.zeros(0, L, dtype=torch.long)]
        with seeded(seed, self._device()):
            for lo in range(0, n, self.inference_batch_size):
                hi = min(lo + self.inference_batch_size, n)
                cc = None if c is None else c[lo:hi]
                chunks.append(self.sample_tokens(hi - lo, cc, constraint=constraint, **opts)[0].cpu())
        S = torch.cat(chunks).numpy()
        return (S, np.asarray(y)) if return_y else S

    @classmethod
    def _conformance_data(cls, rng: np.random.Generator):
        """Small two-class token data for :mod:`synthkit.testing`: counting up or down."""
        return _counting_data(rng, 120, length=6)

    @classmethod
    def _conformance_outliers(cls, rng: np.random.Generator, n: int):
        """Rows far from :meth:`_conformance_data` for :mod:`synthkit.testing`: one token repeated."""
        return np.repeat(rng.integers(1, 7, size=(n, 1)), 6, axis=1)


def _counting_data(rng: np.random.Generator, n: int, length: int = 6):
    """Sequences ``1 2 .. k`` (class 0) or ``k .. 2 1`` (class 1) of random length ``k``."""
    y = rng.integers(0, 2, n)
    k = rng.integers(1, length + 1, n)
    pos = np.arange(1, length + 1)[None, :]
    up = np.where(pos <= k[:, None], pos, 0)
    down = np.where(pos <= k[:, None], k[:, None] + 1 - pos, 0)
    return np.where(y[:, None] == 0, up, down), y
