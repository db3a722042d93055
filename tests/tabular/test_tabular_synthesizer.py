"""TabularSynthesizer: learning, dtypes, missing values, identifiers, conditions, constraints, save/load."""

import warnings

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.domains.tabular import TabularSynthesizer
from synthkit.domains.tabular.sampling import ConditionSampler
from synthkit.metrics.detection import c2st_auc


def _ordinal(df: pd.DataFrame, like: pd.DataFrame) -> np.ndarray:
    """Numbers (NaN -> -1 plus a missing flag) and category codes, for a detection classifier."""
    cols = []
    for name in like.columns:
        s = df[name]
        if like[name].dtype.kind in "if":
            x = s.to_numpy(dtype=float)
            cols += [np.nan_to_num(x, nan=-1.0), np.isnan(x).astype(float)]
        else:
            cols.append(pd.Categorical(s, categories=sorted(like[name].dropna().unique())).codes.astype(float))
    return np.column_stack(cols)


def test_learns_the_joint_distribution_better_than_shuffled_columns(penguins, fitted, fast_vae):
    """Detection AUC (0.5 = indistinguishable): the trained model beats a baseline that keeps
    every marginal but breaks every dependency; an untrained model is caught almost always."""
    rng = np.random.default_rng(0)
    shuffled = penguins.apply(lambda s: s.to_numpy()[rng.permutation(len(s))])
    untrained = TabularSynthesizer("vae", backbone_params={**fast_vae, "max_epochs": 1}, random_state=0).fit(penguins)
    real = _ordinal(penguins, penguins)
    auc = {name: c2st_auc(real, _ordinal(fake, penguins)) for name, fake in
           [("trained", fitted.sample(len(penguins))), ("shuffled", shuffled),
            ("untrained", untrained.sample(len(penguins)))]}
    assert auc["trained"] < auc["shuffled"] - 0.05, auc
    assert auc["trained"] < auc["untrained"] - 0.05, auc


def test_samples_keep_columns_dtypes_and_categories(penguins, fitted):
    fake = fitted.sample(500)
    assert list(fake.columns) == list(penguins.columns)
    assert (fake.dtypes == penguins.dtypes).all()
    assert set(fake["island"]) <= set(penguins["island"])
    assert set(fake["year"]) <= {2007, 2008, 2009}
    x = fake["body_mass_g"].dropna()
    assert x.between(2700, 6300).all() and (x == x.round()).all()
    assert (fake["bill_length_mm"].dropna() * 10).round(6).mod(1).eq(0).all()  # one decimal, like the data
    assert fake.index.equals(pd.RangeIndex(500))


def test_same_seed_same_rows_and_save_load_identical(fitted, tmp_path):
    pd.testing.assert_frame_equal(fitted.sample(50, random_state=3), fitted.sample(50, random_state=3))
    assert not fitted.sample(50, random_state=3).equals(fitted.sample(50, random_state=4))
    fitted.save(tmp_path / "model")
    loaded = synthkit.load(tmp_path / "model")
    assert isinstance(loaded, TabularSynthesizer) and loaded.metadata_ == fitted.metadata_
    pd.testing.assert_frame_equal(loaded.sample(200), fitted.sample(200))
    pd.testing.assert_frame_equal(loaded.sample(20, conditions={"species": "Gentoo"}),
                                  fitted.sample(20, conditions={"species": "Gentoo"}))


def test_exact_conditional_sampling_gives_only_the_requested_class(fitted):
    for species in ("Adelie", "Chinstrap", "Gentoo"):
        fake = fitted.sample(100, conditions={"species": species})
        assert len(fake) == 100 and (fake["species"] == species).all()
    gentoo = fitted.sample(300, conditions={"species": "Gentoo"})
    adelie = fitted.sample(300, conditions={"species": "Adelie"})
    assert gentoo["body_mass_g"].mean() > adelie["body_mass_g"].mean() + 500  # Gentoos are heavier


def test_conditions_on_other_columns_by_bounded_rejection(fitted):
    fake = fitted.sample(40, conditions={"island": "Biscoe", "year": 2008})
    assert len(fake) == 40 and (fake["island"] == "Biscoe").all() and (fake["year"] == 2008).all()
    heavy = fitted.sample(10, conditions={"body_mass_g": 5000})
    assert (heavy["body_mass_g"] == 5000).all()
    unsexed = fitted.sample(5, conditions={"sex": None})
    assert unsexed["sex"].isna().all()


def test_rejection_never_loops_forever(fitted, monkeypatch):
    calls = []
    original = ConditionSampler._draw

    def never_biscoe(self, m, rng):
        calls.append(m)
        return original(self, m, rng).assign(island="Dream")

    monkeypatch.setattr(ConditionSampler, "_draw", never_biscoe)
    with pytest.raises(ValueError, match="no row met the conditions on island"):
        fitted.sample(10, conditions={"island": "Biscoe"}, max_tries=4)
    assert len(calls) == 4 and max(calls) <= 200_000


def test_partial_result_warns(fitted):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fake = fitted.sample(2000, conditions={"species": "Chinstrap", "island": "Dream", "year": 2009,
                                                   "sex": None}, max_tries=1)
        except ValueError:  # none at all is the other legal outcome
            return
    assert len(fake) < 2000 and any("only" in str(w.message) for w in caught)


def test_missing_values_reproduced_by_rate_and_pattern():
    rng = np.random.default_rng(0)
    n = 600
    group = rng.choice(["a", "b"], n)
    x = rng.normal(size=n) + (group == "b")
    x[(group == "b") & (rng.random(n) < 0.6)] = np.nan  # missing only (and often) in group b
    df = pd.DataFrame({"group": group, "x": x, "y": rng.normal(size=n)})
    synth = TabularSynthesizer("vae", backbone_params={"hidden_dims": [64, 64], "max_epochs": 100}, random_state=0).fit(df)
    fake = synth.sample(3000)
    assert abs(fake["x"].isna().mean() - df["x"].isna().mean()) < 0.06
    rate = fake.groupby("group")["x"].apply(lambda s: s.isna().mean())
    assert rate["b"] > 0.4 and rate["a"] < 0.1, rate
    assert fake["y"].notna().all()


def test_identifiers_are_never_copied(mixed):
    synth = TabularSynthesizer("vae", backbone_params={"hidden_dims": [16], "max_epochs": 2}, random_state=0).fit(mixed)
    fake = synth.sample(300)
    for name in ("user_id", "token"):
        assert fake[name].is_unique and not set(fake[name]) & set(mixed[name])
    assert (fake.dtypes == mixed.dtypes).all()


def test_constraints_hold_on_every_row():
    rng = np.random.default_rng(0)
    n = 400
    start = rng.normal(size=n)
    df = pd.DataFrame({"start": start, "end": start + rng.exponential(0.05, n), "level": rng.uniform(0, 10, n)})
    constraints = ["start <= end", "1 <= level <= 9.5"]
    with pytest.raises(ValueError, match="break the constraint '1 <= level <= 9.5'"):
        TabularSynthesizer("vae", constraints=constraints).fit(df)
    df["level"] = df["level"].clip(1, 9.5)
    synth = TabularSynthesizer("vae", backbone_params={"hidden_dims": [16], "max_epochs": 3},
                               constraints=constraints, max_tries=3, random_state=0).fit(df)
    fake = synth.sample(1000)  # rejection: rows that break a rule are redrawn
    assert len(fake) == 1000
    assert (fake["start"] <= fake["end"]).all() and fake["level"].between(1, 9.5).all()
    with pytest.warns(UserWarning, match="repaired"):  # one round is too few for this weak model
        fake = synth.sample(1000, max_tries=1)
    assert len(fake) == 1000
    assert (fake["start"] <= fake["end"]).all() and fake["level"].between(1, 9.5).all()


def test_default_backbone_samples_classes_exactly(penguins):
    synth = TabularSynthesizer(backbone_params={"hidden_dim": 32, "max_epochs": 5}, condition_column="island",
                               random_state=0).fit(penguins)
    assert synth.backbone == "autoregressive" and synth.encoder_.categorical == "codes"
    fake = synth.sample(50, conditions={"island": "Torgersen"})
    assert (fake["island"] == "Torgersen").all() and (fake.dtypes == penguins.dtypes).all()


def test_likelihood_backbones_stop_early_by_default_but_not_under_dp_or_on_small_tables(penguins):
    from synthkit.domains.tabular.synthesizer import MIN_ROWS_EARLY_STOPPING

    big = pd.concat([penguins] * (MIN_ROWS_EARLY_STOPPING // len(penguins) + 1), ignore_index=True)
    small = {"hidden_dims": [16], "max_epochs": 3}
    synth = TabularSynthesizer("vae", backbone_params=small, random_state=0).fit(big)
    assert synth.generator_.early_stopping is True
    assert any("val_loss" in record for record in synth.generator_.history_)
    off = TabularSynthesizer("vae", backbone_params={**small, "early_stopping": False}, random_state=0).fit(big)
    assert off.generator_.early_stopping is False
    few = TabularSynthesizer("vae", backbone_params=small, random_state=0).fit(penguins.head(MIN_ROWS_EARLY_STOPPING - 1))
    assert few.generator_.early_stopping is False
    gan = TabularSynthesizer("gan", backbone_params={"max_epochs": 1, "n_calibration_steps": 1}, random_state=0)
    assert gan.fit(big).generator_.early_stopping is False  # no likelihood, no validation loss


def test_gan_on_tables_samples_without_rejection_unless_asked(penguins):
    params = {"max_epochs": 1, "generator_dims": [16], "critic_dims": [16], "n_calibration_steps": 5}
    plain = TabularSynthesizer("gan", backbone_params=params, random_state=0).fit(penguins)
    assert plain.generator_.rejection_sampling is False and "ratio_critic" not in plain.generator_.modules_
    asked = TabularSynthesizer("gan", backbone_params={**params, "rejection_sampling": True}, random_state=0)
    assert "ratio_critic" in asked.fit(penguins).generator_.modules_


def test_backbone_may_be_an_unfitted_generator_instance(penguins, tmp_path):
    """``backbone=make_generator(...)`` beside the name + backbone_params form: the instance
    is cloned at fit (left unfitted), keeps its own settings, and the model saves and loads."""
    import synthkit

    vae = synthkit.make_generator("vae", hidden_dims=(16,), latent_dim=2, max_epochs=2, verbose=0)
    synth = TabularSynthesizer(backbone=vae, random_state=0).fit(penguins)
    assert not hasattr(vae, "modules_") and synth.generator_ is not vae
    assert synth.generator_.hidden_dims == (16,) and synth.generator_.early_stopping is False
    assert synth.generator_.random_state == synth.fit_seed_ == 0
    synth.save(tmp_path / "m")
    again = synthkit.load(tmp_path / "m")
    assert again.backbone.get_params() == vae.get_params()
    pd.testing.assert_frame_equal(synth.sample(5, random_state=1), again.sample(5, random_state=1))
