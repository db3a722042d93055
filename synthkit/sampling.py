"""Bounded rejection sampling: draw batches until ``n`` items pass, never looping forever.

Every synthesizer that must return only acceptable items (rows that meet conditions and
constraints, valid molecules, distinct molecules, plausible oversampled rows) runs the same
loop: draw a batch sized from the acceptance rate seen so far, keep what passes, stop after
``max_rounds``. :func:`draw_until` is that loop, once; the caller decides what to do with a
shortfall (raise, warn, repair the rejected, fill from the best rejected), since that is
the domain's call.

Two modes:

- *pooled* (default): any accepted item fills the next open place; batches may be larger
  than the number still needed.
- *slots* (``slots=True``): item ``j`` of a round was drawn for open place ``j`` (its own
  condition, say) and can only fill that place; ``draw`` receives the open places.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np

from synthkit.validation import check_count


@dataclass
class Drawn:
    """What :func:`draw_until` found.

    Attributes:
        chunks: pooled mode: the accepted part of each batch, in order (at most ``n`` items
            in all; concatenate them in the batch's own type).
        items: slots mode: one entry per place, ``None`` where nothing was accepted.
        rejected: the last round's rejected items (what a caller may repair or rank).
        drawn, accepted, duplicates, rounds: counts over all rounds.
        missing: places still open (``n`` minus those filled).
    """

    chunks: list = field(default_factory=list)
    items: list = field(default_factory=list)
    rejected: object = None
    drawn: int = 0
    accepted: int = 0
    duplicates: int = 0
    rounds: int = 0
    missing: int = 0


def default_size(need: int, drawn: int, accepted: int) -> int:
    """Batch size for ``need`` more items: enough for the acceptance rate seen so far
    (1 before any draw) with a 20 % margin, plus 16 so that tiny needs finish."""
    rate = (accepted + 1) / (drawn + 1) if drawn else 1.0
    return max(need, math.ceil(1.2 * need / max(rate, 1e-4)) + 16)


def draw_until(n: int, draw: Callable, accept: Callable | None = None, *, max_rounds: int,
               unique: bool = False, key: Callable[[object], Hashable] | None = None,
               size: Callable[[int, int, int], int] = default_size, slots: bool = False) -> Drawn:
    """Draw until ``n`` items are accepted or ``max_rounds`` rounds are spent.

    Args:
        n: items wanted.
        draw: ``draw(m, round) -> batch`` (pooled: ``m`` items; a list, an array or a
            DataFrame) or, with ``slots``, ``draw(places, round) -> batch`` with one item
            per open place.
        accept: ``accept(batch) -> bool array`` (``None``: all pass).
        max_rounds: at most this many batches.
        unique: also reject items whose ``key`` was accepted before (or earlier in the
            same batch).
        key: hashable identity of an item for ``unique`` (default: the item).
        size: ``size(need, drawn, accepted) -> m``, the pooled batch size.
        slots: per-place draws (see the module docstring).

    Returns:
        :class:`Drawn` (the caller handles a shortfall, ``missing > 0``).
    """
    check_count("max_rounds", max_rounds)
    key = key or (lambda item: item)
    out = Drawn(items=[None] * n if slots else [])
    seen: set = set()
    pending, filled = np.arange(n), 0
    for r in range(int(max_rounds)):
        need = len(pending) if slots else n - filled
        if need <= 0:
            break
        batch = draw(pending if slots else int(size(need, out.drawn, out.accepted)), r)
        ok = np.ones(len(batch), bool) if accept is None else np.asarray(accept(batch), bool)
        if unique:
            ok = _first_unseen(batch, ok, key, seen, out)
        out.drawn, out.rounds, out.accepted = out.drawn + len(batch), out.rounds + 1, out.accepted + int(ok.sum())
        out.rejected = _take(batch, np.flatnonzero(~ok))
        if slots:
            for place, i in zip(pending[ok], np.flatnonzero(ok)):
                out.items[place] = batch[i]
            pending = pending[~ok]
        else:
            good = np.flatnonzero(ok)[:need]
            out.chunks.append(_take(batch, good))
            filled += len(good)
    out.missing = len(pending) if slots else n - filled
    return out


def _first_unseen(batch, ok, key, seen: set, out: Drawn) -> np.ndarray:
    """``ok`` narrowed to items whose key is new (accepted items' keys join ``seen``)."""
    keep = np.zeros(len(ok), bool)
    for i, item in enumerate(_items(batch)):
        if not ok[i]:
            continue
        k = key(item)
        if k in seen:
            out.duplicates += 1
        else:
            seen.add(k)
            keep[i] = True
    return keep


def _take(batch, index: np.ndarray):
    """The items of ``batch`` at the integer positions ``index``, in the batch's own type."""
    if hasattr(batch, "iloc"):
        return batch.iloc[index]
    if isinstance(batch, np.ndarray):
        return batch[index]
    return [batch[i] for i in index]


def _items(batch):
    if hasattr(batch, "iloc"):
        raise ValueError("unique=True needs a list or an array batch, not a DataFrame.")
    return list(batch)
