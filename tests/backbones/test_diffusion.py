"""DDPM: the forward process is right, sampling is deterministic where it should be, and it learns."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

import synthkit
from synthkit.backbones.diffusion import DDPM, NoiseSchedule
from synthkit.metrics.detection import c2st_auc

TINY = dict(width=48, depth=2, time_embed_dim=32, n_timesteps=200, n_sampling_steps=25,
            n_score_timesteps=32, verbose=0, random_state=0)


@pytest.fixture(scope="module")
def moons():
    X, _ = make_moons(1400, noise=0.08, random_state=0)
    return X[:1000], X[1000:]


@pytest.fixture(scope="module")
def untrained(moons):
    return DDPM(max_epochs=1, **TINY).fit(moons[0])


@pytest.fixture(scope="module")
def trained(moons):
    return DDPM(max_epochs=100, batch_size=128, learning_rate=3e-3, **TINY).fit(moons[0])


def test_q_sample_has_the_forward_marginal():
    sched = NoiseSchedule("cosine", 100)
    x0 = torch.full((20000, 2), 1.5)
    t = torch.full((20000,), 40)
    xt = sched.q_sample(x0, t, torch.randn_like(x0))
    abar = float(sched.alphas_cumprod[40])
    assert torch.allclose(xt.mean(0), torch.full((2,), abar**0.5 * 1.5), atol=0.03)
    assert torch.allclose(xt.var(0), torch.full((2,), 1 - abar), rtol=0.05)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_schedule_runs_from_data_to_noise(schedule):
    abar = NoiseSchedule(schedule, 1000).alphas_cumprod
    assert abar[0] > 0.999 and abar[-1] < 1e-3 and bool((abar[1:] < abar[:-1]).all())


def test_sampling_learns_the_data(moons, untrained, trained):
    _, X_test = moons
    before = c2st_auc(X_test, untrained.sample(400), classifier="knn")
    after = c2st_auc(X_test, trained.sample(400), classifier="knn")
    assert before > 0.8
    assert after < 0.7 and after < before - 0.15


def test_bound_rises_and_ranks_outliers_low(moons, untrained, trained):
    _, X_test = moons
    assert trained.likelihood == "lower_bound"
    held_out = trained.score_samples(X_test)
    assert np.isfinite(held_out).all()
    assert held_out.mean() > untrained.score_samples(X_test).mean() + 0.5
    far = np.array([[4.0, 4.0], [-3.0, -3.0], [0.5, 3.0], [6.0, -2.0]])
    assert trained.score_samples(far).max() < np.percentile(held_out, 5)
    # deterministic given the base class's seeding
    np.testing.assert_array_equal(trained.score_samples(X_test[:5]), trained.score_samples(X_test[:5]))


def test_ddim_with_eta_zero_is_deterministic_given_the_noise(trained):
    model = trained
    x_T = torch.randn(50, 2)
    params = model.get_params()
    try:
        model.set_params(sampler="ddim", eta=0.0)
        torch.manual_seed(1)
        a = model.p_sample_loop(x_T)
        torch.manual_seed(2)
        b = model.p_sample_loop(x_T)
        torch.testing.assert_close(a, b)
        model.set_params(eta=1.0)
        torch.manual_seed(1)
        c = model.p_sample_loop(x_T)
        assert not torch.allclose(a, c)
    finally:
        model.set_params(**params)


def test_classifier_free_guidance_puts_classes_in_their_region():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 800)
    X = rng.normal(size=(800, 2)) * 0.5 + np.where(y[:, None] == 1, 2.0, -2.0) * np.array([1.0, 0.0])
    model = DDPM(max_epochs=60, batch_size=128, learning_rate=3e-3, guidance_scale=2.0,
                 cond_drop_prob=0.2, **TINY).fit(X, y)
    for label, sign in [(0, -1), (1, 1)]:
        S = model.sample(200, y=label)
        assert (np.sign(S[:, 0]) == sign).mean() > 0.9
    S, ys = model.sample(300, return_y=True)
    assert set(np.unique(ys)) == {0, 1}
    # the class-conditional bound marginalizes labels and prefers the right class
    right = model.score_samples(X[:50], y[:50])
    wrong = model.score_samples(X[:50], 1 - y[:50])
    assert np.mean(right > wrong) > 0.9


@pytest.mark.parametrize("options", [dict(prediction="v", schedule="linear", sampler="ddpm"),
                                     dict(prediction="epsilon", sampler="ddim", eta=1.0, n_sampling_steps=None)])
def test_variants_run_and_round_trip(tmp_path, options):
    X = np.random.default_rng(1).normal(size=(120, 3)) * [1.0, 10.0, 0.1]
    y = np.random.default_rng(2).normal(size=(120, 1))
    model = DDPM(max_epochs=2, **{**TINY, **options}).fit(X, y)
    S = model.sample(10, y=y[:10])
    assert S.shape == (10, 3) and np.isfinite(S).all()
    model.save(tmp_path / "m")
    loaded = synthkit.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.sample(10, y=y[:10]), S)
    np.testing.assert_allclose(loaded.score_samples(X[:5], y[:5]), model.score_samples(X[:5], y[:5]))


def test_constant_columns_stay_exact():
    X = np.c_[np.random.default_rng(0).normal(size=(100, 2)), np.zeros(100)]
    S = DDPM(max_epochs=2, **TINY).fit(X).sample(20)
    assert (S[:, 2] == 0).all()


@pytest.mark.parametrize("bad", [dict(schedule="quadratic"), dict(prediction="x0"), dict(sampler="euler"),
                                 dict(n_timesteps=1), dict(eta=-1.0), dict(cond_drop_prob=1.0),
                                 dict(n_sampling_steps=0), dict(time_embed_dim=33)])
def test_bad_parameters_are_rejected_in_fit(bad):
    with pytest.raises(ValueError):
        DDPM(**{**TINY, **bad}).fit(np.zeros((10, 2)))


def test_the_reverse_variance_measurement_stops_at_its_deadline_and_bounds_its_passes(moons):
    """Past the deadline the measurement keeps the rows done (one chunk at least); rows as wide
    as images go through in chunks of at most ``_BOUND_VALUES / d`` evaluations."""
    from synthkit.backbones.diffusion import bound

    X = torch.as_tensor(moons[0][:600], dtype=torch.float32)
    gen = DDPM(width=16, depth=1, n_timesteps=50, max_epochs=1, verbose=0, random_state=0).fit(moons[0][:600])
    torch.manual_seed(0)
    gen._fit_reverse_variances(X, None)
    full = gen.denoising_error_.copy()
    torch.manual_seed(0)
    gen._fit_reverse_variances(X, None, deadline=0.0)  # 2-D rows: all 512 in the first chunk
    np.testing.assert_array_equal(gen.denoising_error_, full)

    wide = torch.randn(40, 4096)
    gen = DDPM(width=16, depth=1, n_timesteps=50, max_epochs=1, verbose=0, random_state=0).fit(wide.numpy())
    calls = []
    denoise = gen._denoise
    gen._denoise = lambda x0, c, t: calls.append(len(x0)) or denoise(x0, c, t)
    gen._fit_reverse_variances(wide, None, deadline=0.0)
    assert calls == [len(gen._variance_grid())], calls  # one row on every grid step, then the deadline
    assert np.isfinite(gen.denoising_error_).all() and (gen.denoising_error_ > 0).all()
    calls.clear()
    gen._fit_reverse_variances(wide, None)
    grid = len(gen._variance_grid())
    assert bound._bound_chunk(4096) < 2 * grid and calls == [grid] * 40, calls  # so one row per pass


@pytest.mark.parametrize("conditions", ["classes", "continuous"])
def test_a_time_budget_works_with_conditions(conditions):
    """The reverse-variance timing pass before training feeds the condition as training does."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = np.repeat([0, 1], 100) if conditions == "classes" else rng.normal(size=(200, 1))
    gen = DDPM(width=16, depth=1, n_timesteps=50, n_sampling_steps=5, max_time=1.0, verbose=0, random_state=0)
    assert np.isfinite(gen.fit(X, y).sample(10, y=y[:10])).all()
