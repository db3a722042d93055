"""MoleculeGenerator learns a chemical space; REINVENT improves it within its oracle budget."""

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

import synthkit  # noqa: E402
from synthkit.domains.molecules import MoleculeGenerator, Substructure, load_dataset, metrics, optimize  # noqa: E402
from synthkit.domains.molecules.chem import canonical  # noqa: E402

SMALL = {"hidden_dim": 48, "embedding_dim": 24, "batch_size": 64, "verbose": 0}


@pytest.fixture(scope="module")
def data():
    smiles = load_dataset("nci")
    order = np.random.default_rng(0).permutation(len(smiles))
    return [smiles[i] for i in order[:300]], [smiles[i] for i in order[300:400]]


@pytest.fixture(scope="module")
def prior(data):
    train, _ = data
    return MoleculeGenerator(backbone_params={**SMALL, "max_epochs": 12, "learning_rate": 3e-3}, random_state=0).fit(train)


@pytest.fixture(scope="module")
def untrained(data):
    train, _ = data
    return MoleculeGenerator(backbone_params={**SMALL, "max_epochs": 1, "learning_rate": 1e-12}, random_state=0).fit(train)


def test_generator_learns_beyond_an_untrained_model(prior, untrained, data):
    train, held_out = data
    a, b = prior.score_samples(held_out), untrained.score_samples(held_out)
    known = np.isfinite(a) & np.isfinite(b)  # -inf: a token the training set never had
    assert known.mean() > 0.8
    gain = np.mean(a[known]) - np.mean(b[known])
    assert gain > 15, f"held-out log-likelihood gained only {gain:.1f} nats per molecule"
    # samples sit closer to the training molecules and share their BRICS fragments
    trained, random = prior.sample(150, random_state=1), untrained.sample(150, random_state=1)
    snn = metrics.nearest_neighbour_similarity(trained, train), metrics.nearest_neighbour_similarity(random, train)
    frag = metrics.fragment_similarity(trained, train), metrics.fragment_similarity(random, train)
    assert snn[0] > snn[1] + 0.04, snn
    assert frag[0] > frag[1] + 0.15, frag
    samples = prior.sample(150, random_state=2)
    assert metrics.validity(samples) == 1.0
    assert metrics.uniqueness(samples) > 0.8 and metrics.novelty(samples, train) > 0.8


def test_sample_returns_canonical_valid_smiles_and_is_seeded(prior):
    a, stats = prior.sample(40, unique=True, random_state=3, return_stats=True)
    assert len(a) == 40 and len(set(a)) == 40
    assert all(canonical(s) == s for s in a)
    assert stats["drawn"] >= 40 and stats["rounds"] >= 1
    assert prior.sample(10, random_state=4) == prior.sample(10, random_state=4)
    raw = prior.generate(50, random_state=5)
    assert len(raw) == 50 and all(s is None or canonical(s) == s for s in raw)


def test_score_samples_is_minus_inf_for_what_the_model_cannot_hold(prior, data):
    train, _ = data
    scores = prior.score_samples(train[:5] + ["C1CC", "[U]"])
    assert np.isfinite(scores[:5]).all() and (scores[:5] < 0).all()
    assert np.isneginf(scores[5:]).all()


def test_fit_skips_and_reports_invalid_entries(tmp_path):
    smiles = load_dataset("nci")[:40]
    smiles[3] = "C1CC"
    smiles[10] = "garbage"
    gen = MoleculeGenerator(backbone_params={**SMALL, "hidden_dim": 16, "max_epochs": 1}, random_state=0)
    with pytest.warns(UserWarning, match=r"line 4.*line 11"):
        gen.fit(smiles)
    assert gen.fit_report_["invalid"] == 2 and gen.fit_report_["invalid_lines"] == [4, 11]
    with pytest.raises(ValueError, match="no valid molecule"), pytest.warns(UserWarning, match="line 1"):
        MoleculeGenerator().fit(["C1CC", "xx"])
    with pytest.raises(ValueError, match="representation"):
        MoleculeGenerator(representation="inchi").fit(smiles)


def test_save_load_keeps_vocabulary_and_samples(prior, tmp_path):
    prior.save(tmp_path / "model")
    state = json.loads((tmp_path / "model" / "state.json").read_text())
    assert state["vocabulary_"] == prior.vocabulary_  # plain JSON fitted state
    assert (tmp_path / "model" / "backbone_" / "weights.safetensors").exists()  # nested model
    loaded = synthkit.load(tmp_path / "model")
    assert type(loaded) is MoleculeGenerator
    assert loaded.sample(20, random_state=7) == prior.sample(20, random_state=7)
    np.testing.assert_allclose(loaded.score_samples(["CCO"]), prior.score_samples(["CCO"]), rtol=1e-6)


def test_smiles_representation_and_conditioning_on_a_property():
    smiles = load_dataset("nci")[:120]
    gen = MoleculeGenerator(representation="smiles", backbone_params={**SMALL, "hidden_dim": 16, "max_epochs": 2},
                            random_state=0, max_rounds=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an untrained SMILES model may fall short of n valid
        gen.fit(smiles, y="qed")
        out = gen.sample(5, y=0.8, random_state=0)
    assert gen.condition_ == "qed" and gen.backbone_.condition_dim_ == 1
    assert all(canonical(s) == s for s in out)
    with pytest.raises(ValueError, match="pass y"):
        gen.sample(3)
    table = optimize(gen, "qed", budget=12, batch_size=8, y=0.9, random_state=0, verbose=0)  # design for QED 0.9
    assert table.attrs["oracle_calls"] <= 12
    with pytest.raises(ValueError, match="pass y"):
        optimize(gen, "qed", budget=12, verbose=0)
    labels = np.where(np.arange(120) % 2, "high", "low")
    binned = MoleculeGenerator(backbone_params={**SMALL, "hidden_dim": 16, "max_epochs": 1}, random_state=0)
    binned.fit(smiles, y=labels)
    assert binned.condition_ == "labels" and len(binned.sample(4, y="high", random_state=0)) == 4


def test_vae_backbone_passes_through_the_same_validity_path():
    smiles = load_dataset("nci")[:120]
    gen = MoleculeGenerator(backbone="vae", backbone_params={"hidden_dims": (32,), "max_epochs": 2, "verbose": 0},
                            random_state=0).fit(smiles)
    out = gen.sample(10, random_state=0)
    assert len(out) == 10 and all(canonical(s) == s for s in out)
    assert np.isfinite(gen.score_samples(smiles[:3])).all()


# ---------------------------------------------------------------------- design
def test_reinvent_raises_the_objective_and_never_exceeds_the_budget(prior):
    calls = []
    has_halogen = Substructure("[F,Cl,Br,I]")  # rarer than nitrogen in the prior's draws: room to rise

    def oracle(smi):
        calls.append(smi)
        return float(has_halogen(smi)[0])

    before = has_halogen(prior.sample(200, random_state=11)).mean()
    table, agent = optimize(prior, oracle, budget=320, batch_size=32, learning_rate=1e-3,
                            random_state=0, verbose=0, return_agent=True)
    after = has_halogen(agent.sample(200, random_state=11)).mean()
    assert len(calls) <= 320 and table.attrs["oracle_calls"] == len(calls)
    assert len(set(calls)) == len(calls)  # a molecule is never scored twice
    assert after > before + 0.1, (before, after)
    assert list(table.columns) == ["smiles", "score", "call", "step", "scaffold"]
    assert table["score"].is_monotonic_decreasing and table["call"].between(1, 320).all()
    assert prior.sample(5, random_state=1) == prior.sample(5, random_state=1)  # the prior is untouched


def test_reinvent_filters_cost_no_oracle_calls(prior):
    table = optimize(prior, "qed", budget=40, batch_size=16, filters=["pains", "organic"],
                     random_state=1, verbose=0)
    assert table.attrs["oracle_calls"] <= 40
    from synthkit.domains.molecules.filters import get_filter

    assert get_filter(["pains", "organic"]).passes(table["smiles"]).all()


def test_reinvent_needs_an_autoregressive_prior():
    smiles = load_dataset("nci")[:60]
    vae = MoleculeGenerator(backbone="vae", backbone_params={"hidden_dims": (16,), "max_epochs": 1, "verbose": 0},
                            random_state=0).fit(smiles)
    with pytest.raises(ValueError, match="autoregressive prior"):
        optimize(vae, "qed", budget=10)


def test_randomized_smiles_are_other_writings_of_the_same_molecules():
    from synthkit.domains.molecules.randomized import randomized_smiles

    mols = ["CCc1ncsc1C(=O)NC1CCc2ccccc2C1=O", "O=S(=O)(Nc1nccc2c1CC2)c1ccccc1Cl"]
    strings, origin = randomized_smiles(mols, 4, seed=3)
    assert origin.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [canonical(s) for s in strings] == [canonical(mols[i]) for i in origin]
    assert len(set(strings[:4])) > 1 and not set(strings) <= set(mols)  # new writings, not copies
    assert randomized_smiles(mols, 4, seed=3)[0] == strings  # seeded


@pytest.mark.parametrize("representation", ["selfies", "smiles"])
def test_fit_with_randomized_smiles_trains_on_every_writing(data, representation):
    train, _ = data
    params = {**SMALL, "max_epochs": 1}
    gen = MoleculeGenerator(representation=representation, n_randomized=3, backbone_params=params,
                            random_state=0).fit(train[:100])
    assert gen.fit_report_["molecules"] == 100
    assert gen.fit_report_["training_strings"] == 300
    assert all(canonical(s) is not None for s in gen.sample(5))
    with pytest.raises(ValueError, match="n_randomized"):
        MoleculeGenerator(n_randomized=-1).fit(train[:10])


def test_randomized_writings_failing_max_tokens_are_reported_once_per_molecule(data):
    train, _ = data
    gen = MoleculeGenerator(representation="smiles", n_randomized=4, max_tokens=30,
                            backbone_params={**SMALL, "max_epochs": 1}, random_state=0)
    with pytest.warns(UserWarning, match="skipped") as record:
        gen.fit(train[:60])
    n_skipped = int(str(record[0].message).split("skipped ")[1].split()[0])
    # one report per molecule with a skipped writing; molecules with no writing left are among them
    assert 60 - gen.fit_report_["molecules"] <= n_skipped <= 60
    assert gen.fit_report_["not_representable"] == n_skipped
    assert gen.fit_report_["training_strings"] < 4 * 60
