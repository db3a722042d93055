"""SequenceModel (synthkit.backbones.sequence): learns token grammars, exact likelihood,
decoding filters, padding, and the tensor API used for REINVENT fine-tuning."""

import itertools

import numpy as np
import pytest
import torch

from synthkit.backbones.sequence import SequenceModel
from synthkit.backbones.sequence.model import _counting_data

TINY = dict(embedding_dim=16, hidden_dim=64, batch_size=64, verbose=0, random_state=0)


def _balanced(rng, n, width=8):
    """``1^k 2^k`` for k = 1..width/2, right-padded with 0 (needs counting to get right)."""
    k = rng.integers(1, width // 2 + 1, n)
    pos = np.arange(width)[None, :]
    return np.where(pos < k[:, None], 1, np.where(pos < 2 * k[:, None], 2, 0))


def _is_balanced(row) -> bool:
    seq = row[row != 0]
    k = len(seq) // 2
    return len(seq) > 0 and len(seq) % 2 == 0 and (seq[:k] == 1).all() and (seq[k:] == 2).all()


def _counts_up(row) -> bool:
    seq = row[row != 0]
    return len(seq) > 0 and np.array_equal(seq, np.arange(1, len(seq) + 1))


@pytest.fixture(scope="module")
def counting():
    """A GRU fitted to ``1 2 .. k`` (k uniform in 1..8), width 10."""
    X, _ = _counting_data(np.random.default_rng(0), 400, length=8)
    X = np.pad(X[_counting_rows(X)], ((0, 0), (0, 2)))
    return SequenceModel(max_epochs=30, **TINY).fit(X), X


def _counting_rows(X):
    return np.array([_counts_up(r) for r in X])


def test_gru_learns_a_balanced_grammar():
    rng = np.random.default_rng(0)
    X, X_test = _balanced(rng, 400), _balanced(rng, 200)
    untrained = SequenceModel(max_epochs=1, learning_rate=1e-9, **TINY).fit(X)
    model = SequenceModel(max_epochs=30, **TINY).fit(X)
    valid = np.mean([_is_balanced(r) for r in model.sample(300, random_state=1)])
    valid_untrained = np.mean([_is_balanced(r) for r in untrained.sample(300, random_state=1)])
    assert valid > 0.9 and valid_untrained < 0.1, (valid, valid_untrained)
    ll, ll_untrained = model.score_samples(X_test).mean(), untrained.score_samples(X_test).mean()
    assert ll > ll_untrained + 5 and ll > -np.log(4) - 0.3  # four equally likely sequences


def test_transformer_learns_counting():
    X, _ = _counting_data(np.random.default_rng(0), 400, length=8)
    X = X[_counting_rows(X)]
    model = SequenceModel(cell="transformer", max_epochs=30, **TINY).fit(X)
    S = model.sample(200, random_state=1)
    assert np.mean([_counts_up(r) for r in S]) > 0.9
    assert model.score_samples(X[:100]).mean() > -np.log(8) - 0.3  # k uniform in 1..8


def test_probabilities_sum_to_one():
    """Summed over every sequence up to max_length, exp(score) is 1 minus the mass the
    model puts on longer ones (small once trained)."""
    model = SequenceModel(max_epochs=20, **TINY).fit(np.array([[1, 2, 0, 0], [1, 0, 0, 0], [2, 2, 1, 0]] * 30))
    rows = [np.pad(np.array(s, dtype=int), (0, 4 - n)) for n in range(5) for s in itertools.product((1, 2), repeat=n)]
    total = np.exp(model.score_samples(np.array(rows))).sum()
    assert 0.97 < total <= 1 + 1e-5


def test_top_k_one_is_greedy_and_top_p_small_matches_it(counting):
    model, _ = counting
    greedy = model.sample(20, top_k=1, random_state=1)
    assert (greedy == greedy[0]).all()
    np.testing.assert_array_equal(greedy, model.sample(20, top_k=1, random_state=2))
    assert _counts_up(greedy[0]) and (greedy[0] != 0).sum() >= 6  # the end is unlikely before 7
    np.testing.assert_array_equal(greedy, model.sample(20, top_p=0.01, random_state=3))


def test_temperature_trades_diversity(counting):
    model, _ = counting
    cold = model.sample(300, temperature=0.3, random_state=1)
    warm = model.sample(300, random_state=1)
    hot = model.sample(300, temperature=3.0, random_state=1)
    distinct = [len({tuple(r) for r in S}) for S in (cold, warm, hot)]
    assert distinct[0] < distinct[1] < distinct[2]
    assert np.mean([_counts_up(r) for r in hot]) < np.mean([_counts_up(r) for r in warm])
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=0)
    with pytest.raises(ValueError, match="top_p"):
        model.sample(3, top_p=1.5)


def test_tensor_api_matches_scores_and_is_differentiable(counting):
    model, X = counting
    torch.manual_seed(0)
    tokens, ll = model.sample_tokens(50)
    assert tokens.dtype == torch.long and tokens.shape == (50, model.max_length_) and not ll.requires_grad
    torch.testing.assert_close(model.log_likelihood(tokens), ll, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.score_samples(tokens.numpy()), ll.numpy(), rtol=1e-4, atol=1e-4)
    # cut at max_length: the returned likelihood still equals log_likelihood (end token included)
    short, ll_short = model.sample_tokens(50, max_length=3)
    assert short.shape == (50, 3)
    torch.testing.assert_close(model.log_likelihood(short), ll_short, rtol=1e-4, atol=1e-4)
    # gradients reach every parameter in train mode
    model.modules_.train()
    try:
        model.modules_.zero_grad()
        (-model.log_likelihood(torch.as_tensor(X[:32])).mean()).backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.modules_.parameters())
    finally:
        model.modules_.zero_grad()
        model.modules_.eval()


def test_padding_and_input_checks(counting):
    model, X = counting
    S = model.sample(100, random_state=0)
    assert S.dtype == np.int64 and S.shape == (100, model.max_length_)
    after_end = (S != 0) & (np.cumsum(S == 0, axis=1) > 0)
    assert not after_end.any() and S.max() < model.vocab_size_
    assert model.sample(5, max_length=4).shape == (5, 4)
    # extra padding columns do not change scores; a shorter matrix is fine too
    s = model.score_samples(X[:20])
    np.testing.assert_allclose(model.score_samples(np.pad(X[:20], ((0, 0), (0, 5)))), s, rtol=1e-5)
    np.testing.assert_allclose(model.score_samples(X[:20, :9]), s, rtol=1e-5)
    bad = {
        "negative": np.array([[1, -2, 0]]),
        "non-integer": np.array([[1.5, 2.0, 0.0]]),
        "NaN": np.array([[1.0, np.nan, 0.0]]),
        "right-padded": np.array([[1, 0, 3]]),
        "vocabulary": np.array([[1, 2, 99]]),
        "2-D": np.array([1, 2, 3]),
        "empty": np.zeros((0, 3), dtype=int),
        "integer token ids": np.array([["a", "b"]]),
    }
    for what, data in bad.items():
        with pytest.raises(ValueError, match=what):
            model.score_samples(data)


def test_vocab_size_and_max_length():
    X = np.array([[1, 2, 3, 0], [3, 2, 0, 0], [1, 1, 1, 1]] * 10)
    model = SequenceModel(max_length=6, max_epochs=1, **TINY).fit(X, vocab_size=12)
    assert model.vocab_size_ == 12 and model.max_length_ == 6
    S = model.sample(200, temperature=3.0, random_state=0)
    assert S.shape == (200, 6) and S.max() <= 11 and S.min() >= 0
    assert SequenceModel(max_epochs=1, **TINY).fit(X).vocab_size_ == 4
    with pytest.raises(ValueError, match="longer than max_length"):
        SequenceModel(max_length=3, max_epochs=1, **TINY).fit(X)
    with pytest.raises(ValueError, match="cell"):
        SequenceModel(cell="lstm", max_epochs=1, verbose=0).fit(X)


@pytest.mark.parametrize("cell", ["gru", "transformer"])
def test_class_conditional(cell):
    X, y = _counting_data(np.random.default_rng(0), 400, length=6)  # class 0 counts up, class 1 down
    model = SequenceModel(cell=cell, max_epochs=25, **TINY).fit(X, y)
    up = model.sample(100, y=0, random_state=1)
    down = model.sample(100, y=1, random_state=1)
    assert np.mean([_counts_up(r) for r in up]) > 0.85
    assert np.mean([_counts_up(r[r != 0][::-1]) for r in down]) > 0.85
    # the tensor API takes the one-hot condition
    c = torch.nn.functional.one_hot(torch.ones(10, dtype=torch.long), 2).float()
    tokens, ll = model.sample_tokens(10, c)
    torch.testing.assert_close(model.log_likelihood(tokens, c), ll, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="needs c"):
        model.log_likelihood(tokens)


def test_transformer_save_load(tmp_path):
    from synthkit import load

    X, y = _counting_data(np.random.default_rng(0), 100, length=5)
    model = SequenceModel(cell="transformer", dropout=0.1, max_epochs=2, **TINY).fit(X, y)
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.sample(20, random_state=4), model.sample(20, random_state=4))
    np.testing.assert_allclose(loaded.score_samples(X[:10]), model.score_samples(X[:10]), rtol=1e-6)
