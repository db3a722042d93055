"""Shared data and fitted synthesizers for the tabular tests (tiny, seeded)."""

import numpy as np
import pandas as pd
import pytest

palmerpenguins = pytest.importorskip("palmerpenguins")

#: a tiny VAE budget: enough to learn penguins' structure in a few seconds
FAST_VAE = {"hidden_dims": [64, 64], "max_epochs": 150}


@pytest.fixture(scope="session")
def fast_vae() -> dict:
    return dict(FAST_VAE)


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    return palmerpenguins.load_penguins()


@pytest.fixture(scope="session")
def mixed() -> pd.DataFrame:
    """Every supported column type, with missing values, 60 rows."""
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame({
        "count": rng.integers(0, 1000, n),
        "f32": rng.normal(size=n).astype("float32"),
        "nullable_int": pd.array(list(rng.integers(0, 100, n - 1)) + [None], dtype="Int64"),
        "flag": rng.random(n) > 0.5,
        "maybe": pd.array([True, False, None] * (n // 3), dtype="boolean"),
        "grade": pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["x", "y", "z", "w"]),
        "when": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "when_tz": (pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D")).tz_localize("UTC"),
        "day": (pd.to_datetime("2021-03-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D")).strftime("%Y-%m-%d"),
        "user_id": np.arange(n) + 10,
        "token": [f"t{i}" for i in range(n)],
        "zeros": np.where(rng.random(n) < 0.5, 0.0, rng.exponential(size=n).round(3)),
        "price": np.where(rng.random(n) < 0.2, np.nan, rng.lognormal(3, 1, n).round(2)),
        "city": np.where(rng.random(n) < 0.1, None, rng.choice(["Oslo", "Lima", "Pune"], n)),
        "constant": 5,
    })


@pytest.fixture(scope="session")
def fitted(penguins):
    """A VAE synthesizer conditioned on species, with constraints."""
    from synthkit.domains.tabular import TabularSynthesizer

    return TabularSynthesizer(
        "vae", backbone_params=FAST_VAE, condition_column="species", random_state=0,
        constraints=["bill_depth_mm <= bill_length_mm", "170 <= flipper_length_mm <= 235"],
    ).fit(penguins)
