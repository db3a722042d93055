"""The shared training loop: budgets, early stopping, EMA, checkpoints and resume, seeding."""

import time

import numpy as np
import pytest
import torch

from synthkit.backbones.vae import VAE
from synthkit.datasets import load_dataset


@pytest.fixture(scope="module")
def moons():
    X, _ = load_dataset("moons", n_samples=600, random_state=0)
    return X


def small(**kw):
    return VAE(**{"hidden_dims": (32,), "batch_size": 64, "verbose": 0, "random_state": 0, **kw})


def weights(est):
    return {k: v.clone() for k, v in est.modules_.state_dict().items()}


def test_max_epochs_and_history(moons):
    est = small(max_epochs=3).fit(moons)
    assert est.n_epochs_ == 3 and len(est.history_) == 3
    assert est.n_steps_ == 3 * int(np.ceil(600 / 64))
    assert all(np.isfinite(h["loss"]) for h in est.history_)


def test_training_lowers_the_loss(moons):
    from synthkit.backbones.flow import NormalizingFlow

    est = NormalizingFlow(hidden_dims=(32,), n_transforms=2, batch_size=64, max_epochs=15, verbose=0, random_state=0)
    est.fit(moons)
    assert est.history_[-1]["nll"] < est.history_[0]["nll"] - 0.5


def test_max_time_stops_training(moons):
    start = time.perf_counter()
    est = small(max_time=1.0).fit(moons)  # no epoch cap: only the clock stops it
    assert time.perf_counter() - start < 10
    assert est.history_[-1]["seconds"] >= 1.0 and est.n_epochs_ > 1


def test_default_budget_comes_from_default_steps(moons):
    est = small()
    est.default_steps = 50
    est.fit(moons)
    assert est.n_steps_ >= 50 and est.n_epochs_ == int(np.ceil(50 / np.ceil(600 / 64)))


def test_early_stopping_restores_best(moons):
    est = small(max_epochs=400, early_stopping=True, n_iter_no_change=3, learning_rate=3e-2, kl_warmup=0).fit(moons)
    vals = [h["val_loss"] for h in est.history_]
    assert est.n_epochs_ < 400
    assert np.argmin(vals) == len(vals) - 1 - 3  # stopped 3 epochs after the best


def test_early_stopping_waits_for_the_end_of_a_warm_up(moons):
    # the VAE's KL weight rises over the first half: its validation ELBO is not comparable yet
    est = small(max_epochs=40, early_stopping=True, n_iter_no_change=1, kl_warmup=0.5).fit(moons)
    assert est.n_epochs_ > 20


def test_ema_weights_are_kept(moons):
    plain = small(max_epochs=3).fit(moons)
    ema = small(max_epochs=3, ema_decay=0.9).fit(moons)
    assert any(not torch.equal(plain.modules_.state_dict()[k], v) for k, v in ema.modules_.state_dict().items())


def test_seeding_is_reproducible_and_restores_global_rng(moons):
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = small(max_epochs=2).fit(moons)
    assert torch.rand(1) == expected  # fit did not consume the caller's random stream
    b = small(max_epochs=2).fit(moons)
    for k, v in weights(a).items():
        assert torch.equal(v, b.modules_.state_dict()[k])
    c = small(max_epochs=2, random_state=1).fit(moons)
    assert not np.allclose(a.sample(10), c.sample(10))


def test_resume_continues_exactly(moons, tmp_path):
    # kl_warmup=0: a warm-up schedule depends on the budget, which changes between the runs here
    straight = small(max_epochs=4, kl_warmup=0, checkpoint_dir=tmp_path / "a").fit(moons)
    first = small(max_epochs=2, kl_warmup=0, checkpoint_dir=tmp_path / "b").fit(moons)
    resumed = small(max_epochs=4, kl_warmup=0, checkpoint_dir=tmp_path / "b").fit(moons, resume=True)
    assert resumed.n_epochs_ == 4 and len(resumed.history_) == 4
    assert [h["loss"] for h in resumed.history_[:2]] == [h["loss"] for h in first.history_]
    for k, v in weights(straight).items():
        torch.testing.assert_close(resumed.modules_.state_dict()[k], v)


def test_resume_refuses_other_data(moons, tmp_path):
    small(max_epochs=1, checkpoint_dir=tmp_path).fit(moons)
    with pytest.raises(ValueError, match="different training data"):
        small(max_epochs=2, checkpoint_dir=tmp_path).fit(moons + 1, resume=True)


def test_resume_needs_checkpoint_dir(moons):
    with pytest.raises(ValueError, match="checkpoint_dir"):
        small(max_epochs=1).fit(moons, resume=True)


def test_corrupted_checkpoint_is_a_clear_error(moons, tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        small(max_epochs=1, checkpoint_dir=tmp_path).fit(moons, resume=True)


def test_inference_chunks_shrink_with_the_row_width():
    """Wide rows (images) go through sample / score_samples in chunks of at most
    ``inference_values / width`` rows; narrow rows keep ``inference_batch_size``."""
    X = np.random.default_rng(0).normal(size=(40, 4096)).astype(np.float32)
    vae = VAE(hidden_dims=(8,), latent_dim=2, max_epochs=1, verbose=0, random_state=0).fit(X)
    sizes = []
    sample, log_prob = vae._sample, vae._log_prob
    vae._sample = lambda n, c: sizes.append(n) or sample(n, c)
    vae._log_prob = lambda x, c: sizes.append(len(x)) or log_prob(x, c)
    assert vae.sample(600).shape == (600, 4096) and vae.score_samples(np.repeat(X, 15, axis=0)).shape == (600,)
    rows = VAE.inference_values // 4096
    assert sizes == [rows, rows, 600 - 2 * rows] * 2, sizes
    assert VAE(max_epochs=1, verbose=0).fit(X[:, :8])._inference_rows == VAE.inference_batch_size


def test_a_loop_subclass_is_chosen_per_fit_through_the_public_seam(moons):
    from synthkit.training import TrainingLoop

    class WithRows(TrainingLoop):
        def epoch_extras(self, X, c, state, ema):
            return {**super().epoch_extras(X, c, state, ema), "rows": float(len(X))}

    est = small(max_epochs=2).fit(moons, loop=WithRows)
    assert [h["rows"] for h in est.history_] == [600.0, 600.0]
    assert "rows" not in est.fit(moons).history_[0] and not hasattr(est, "_loop")  # the next fit: the default


def test_the_validation_split_is_capped_for_large_tables(monkeypatch):
    from types import SimpleNamespace

    from synthkit.training import loop as loop_mod

    est = SimpleNamespace(modules_={}, max_time=None, default_steps=10, checkpoint_dir=None, early_stopping=True,
                          validation_fraction=0.1)
    monkeypatch.setattr(loop_mod, "MAX_VALIDATION_ROWS", 50)
    gen = torch.Generator().manual_seed(0)
    train, val = loop_mod.TrainingLoop(est)._split(1000, gen)
    assert len(val) == 50 and len(train) == 950  # not 100: the rest train
    assert len(loop_mod.TrainingLoop(est)._split(300, gen)[1]) == 30  # below the cap: the fraction


def test_a_resumed_fit_whose_time_is_spent_takes_no_step(moons, tmp_path):
    first = small(max_time=0.5, checkpoint_dir=str(tmp_path)).fit(moons)
    again = small(max_time=0.5, checkpoint_dir=str(tmp_path)).fit(moons, resume=True)
    assert first.n_steps_ > 0
    assert again.n_steps_ == first.n_steps_ and again.n_epochs_ == first.n_epochs_
