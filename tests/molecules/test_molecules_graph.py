"""Molecular graphs: RDKit <-> torch-geometric round trip, graph codes with valence-aware
decoding, and the GraphVAE-style generator (representation="graph", backbone="vae")."""

import warnings

import numpy as np
import pytest

pytest.importorskip("rdkit")

from synthkit.domains.molecules import MoleculeGenerator, load_dataset, metrics  # noqa: E402
from synthkit.domains.molecules.chem import canonical  # noqa: E402

MOLS = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "C[C@H](N)C(=O)O",
    "ClC(Cl)(Cl)Br",
    "O=[N+]([O-])c1ccc(cc1)C#N",
    "C1CC2(CCC1)OCCO2",
    "c1ccc2c(c1)[nH]c1ccccc12",
    "F/C=C/F",
    "CC1=CC=C(C=C1)S(=O)(=O)N[C@@H]1CCCC[C@H]1N",
    "C[NH3+]",
]


@pytest.fixture(scope="module")
def data():
    smiles = load_dataset("nci")
    order = np.random.default_rng(0).permutation(len(smiles))
    return [smiles[i] for i in order[:300]], [smiles[i] for i in order[300:400]]


def test_graph_round_trip_keeps_atoms_bonds_charges_and_chirality():
    pytest.importorskip("torch_geometric")
    from synthkit.domains.molecules.graphs import graph_to_mol, graph_to_smiles, mol_to_graph

    for smi in MOLS + load_dataset("nci")[:200]:
        can = canonical(canonical(smi).replace("/", "").replace("\\", ""))  # E/Z is not carried
        g = mol_to_graph(can)
        assert g.edge_index.shape[1] == len(g.edge_attr) and g.x.shape[1] == 4
        assert graph_to_smiles(g) == can
    g = mol_to_graph("O=[N+]([O-])C")
    assert sorted(g.x[:, 1].tolist()) == [-1, 0, 0, 1]  # formal charges are node features
    g.edge_attr[:] = 3  # every bond triple: impossible valences
    assert graph_to_mol(g) is None


def test_graph_codes_round_trip_and_valence_aware_decoding():
    from synthkit.domains.molecules.graph_codec import GraphCodec, max_valence

    can = [canonical(canonical(s).replace("/", "").replace("\\", "").replace("@", "")) for s in MOLS]
    codec = GraphCodec().fit(can)
    X, kept, failures = codec.encode(can)
    assert failures == [] and X.shape == (len(can), codec.n_columns)
    assert codec.decode_smiles(X) == can
    assert (max_valence(6, 0), max_valence(7, 1), max_valence(8, -1)) == (4, 4, 1)
    # random bonds everywhere: valence correction still yields sanitizable molecules
    rng = np.random.default_rng(0)
    noisy = X.copy()
    noisy[:, codec.max_atoms:] = rng.integers(0, 4, size=noisy[:, codec.max_atoms:].shape)
    decoded = codec.decode_smiles(noisy)
    assert all(s and canonical(s) is not None for s in decoded)


def test_graph_vae_decodes_valid_molecules_and_learns(data, tmp_path):
    from synthkit.domains.molecules.filters import AllowedAtoms

    organic = AllowedAtoms()
    train, held_out = ([s for s, ok in zip(part, organic.passes(part)) if ok] for part in data)
    kwargs = dict(representation="graph", backbone="vae", max_tokens=24, random_state=0)
    small = {"hidden_dims": (64,), "batch_size": 32, "verbose": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # molecules over 24 atoms are skipped, with a warning
        trained = MoleculeGenerator(backbone_params={**small, "max_epochs": 15, "learning_rate": 3e-3}, **kwargs)
        trained.fit(train)
        untrained = MoleculeGenerator(backbone_params={**small, "max_epochs": 1, "learning_rate": 1e-12}, **kwargs)
        untrained.fit(train)
    raw = trained.generate(100, random_state=0)
    assert all(s is not None for s in raw)  # valence-aware decoding: every graph is a molecule
    a, b = trained.score_samples(held_out), untrained.score_samples(held_out)
    known = np.isfinite(a) & np.isfinite(b)
    assert known.sum() > 20 and np.mean(a[known]) > np.mean(b[known]) + 50  # ELBO per molecule
    frag = (metrics.fragment_similarity(trained.sample(100, random_state=1), train),
            metrics.fragment_similarity(untrained.sample(100, random_state=1), train))
    assert frag[0] > frag[1] + 0.1, frag
    trained.save(tmp_path / "graph_model")
    from synthkit import load

    assert load(tmp_path / "graph_model").sample(10, random_state=3) == trained.sample(10, random_state=3)
