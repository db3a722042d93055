"""``synthkit.sampling.draw_until``: the one bounded rejection loop (pooled and per-slot)."""

import numpy as np
import pandas as pd
import pytest

from synthkit.sampling import default_size, draw_until


def test_pooled_fills_in_order_and_stops_when_full():
    rng = np.random.default_rng(0)
    found = draw_until(50, lambda m, r: rng.integers(0, 100, m), lambda b: b % 2 == 0, max_rounds=10)
    kept = np.concatenate(found.chunks)
    assert len(kept) == 50 and (kept % 2 == 0).all() and found.missing == 0
    assert found.rounds >= 2 and found.drawn >= 100  # half pass: the second round is sized from the rate


def test_bounded_and_reports_the_shortfall_and_the_last_rejected():
    found = draw_until(5, lambda m, r: list(range(m)), lambda b: np.zeros(len(b), bool), max_rounds=3)
    assert found.rounds == 3 and found.missing == 5 and found.accepted == 0 and len(found.rejected) > 0


def test_unique_rejects_repeats_across_and_within_batches():
    found = draw_until(3, lambda m, r: ["a", "a", "b", "b", "c"][:m] if r == 0 else ["c", "d"], None,
                       max_rounds=4, unique=True, size=lambda need, drawn, accepted: 5)
    assert sum(found.chunks, []) == ["a", "b", "c"] and found.duplicates == 2


def test_slots_fill_only_their_own_place():
    # place p accepts only a draw made for it in round p (its own condition)
    found = draw_until(3, lambda places, r: [int(p) * 10 + r for p in places],
                       lambda b: np.array([x // 10 == x % 10 for x in b]), max_rounds=5, slots=True)
    assert found.items == [0, 11, 22] and found.rounds == 3 and found.missing == 0


def test_dataframe_batches_keep_their_type():
    df = pd.DataFrame({"x": np.arange(10)})
    found = draw_until(4, lambda m, r: df.head(m), lambda b: (b["x"] % 3 == 0).to_numpy(), max_rounds=3,
                       size=lambda *a: 10)
    assert pd.concat(found.chunks)["x"].tolist() == [0, 3, 6, 9]


def test_default_size_grows_with_the_rejection_rate():
    assert default_size(10, 0, 0) == 28 and default_size(10, 100, 9) > default_size(10, 100, 90)
    with pytest.raises(ValueError, match="max_rounds"):
        draw_until(1, lambda m, r: [1], max_rounds=0)
