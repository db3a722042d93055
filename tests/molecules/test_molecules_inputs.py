"""Tokenizers round-trip; loaders skip and report bad entries by line; bundled data loads."""

import warnings

import numpy as np
import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from synthkit.domains.molecules.chem import canonical  # noqa: E402
from synthkit.domains.molecules.data import list_datasets, load_dataset  # noqa: E402
from synthkit.domains.molecules.io import read_molecules  # noqa: E402
from synthkit.domains.molecules.tokenizers import SelfiesTokenizer, SmilesTokenizer, make_tokenizer  # noqa: E402

MOLS = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",  # caffeine
    "C[C@H](N)C(=O)O",  # L-alanine
    "ClC(Cl)(Cl)Br",
    "O=[N+]([O-])c1ccc(cc1)C#N",
    "C1CC2(CCC1)OCCO2",
    "c1ccc2c(c1)[nH]c1ccccc12",
    "F/C=C/F",
    "CC1=CC=C(C=C1)S(=O)(=O)N[C@@H]1CCCC[C@H]1N",
    "C%10CCCCC%10",
]


def test_smiles_tokens_join_back_exactly():
    tok = SmilesTokenizer()
    for smi in MOLS:
        tokens = tok.split(smi)
        assert tokens is not None and "".join(tokens) == smi
    assert tok.split("C1CC[NH3+]Cl") == ["C", "1", "C", "C", "[NH3+]", "Cl"]
    assert tok.split("Br%12") == ["Br", "%12"]


def test_token_ids_round_trip_through_vocabulary():
    for rep in ("smiles", "selfies"):
        can = [canonical(s) for s in MOLS]
        tok = make_tokenizer(rep).fit(can)
        ids, kept, failures = tok.encode(can)
        assert failures == [] and len(kept) == len(can)
        assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < tok.vocab_size
        assert (ids[:, 0] > 0).all()  # no empty rows
        back = [canonical(s) for s in tok.decode_smiles(ids)]
        assert back == can, rep


def test_selfies_encode_decode_gives_same_canonical_molecule():
    tok = SelfiesTokenizer()
    for smi in load_dataset("nci")[:300]:
        text = tok.from_smiles(smi)
        if text is None:  # a valence SELFIES does not support
            continue
        assert canonical(tok.to_smiles(text)) == canonical(smi)


def test_encode_reports_unknown_and_too_long():
    tok = SmilesTokenizer().fit(["CCO"])
    ids, kept, failures = tok.encode(["CCO", "CCN", "CCOCCOCCO"], max_length=5)
    assert kept.tolist() == [0]
    reasons = dict(failures)
    assert "not in the vocabulary" in reasons[1] and "max_length" in reasons[2]


def test_smi_loader_reports_bad_lines(tmp_path):
    path = tmp_path / "mols.smi"
    path.write_text("SMILES Name\nCCO ethanol\n# a comment\nC1CC broken\n\nc1ccccc1 benzene\nXyz nonsense\n")
    with pytest.warns(UserWarning, match=r"line 4.*line 7"):
        mols = read_molecules(path)
    assert mols.smiles == ["CCO", "c1ccccc1"]
    assert mols.lines == [2, 6]
    assert [line for line, _, _ in mols.invalid] == [4, 7]


def test_csv_loader_finds_column_and_reports_bad_rows(tmp_path):
    path = tmp_path / "mols.csv"
    path.write_text("id,Smiles,pIC50\na,CCO,5.0\nb,not_a_molecule,6.0\nc,c1ccncc1,7.5\n")
    with pytest.warns(UserWarning, match="line 3"):
        mols = read_molecules(path)
    assert mols.smiles == ["CCO", "c1ccncc1"]
    assert mols.properties["pIC50"].tolist() == ["5.0", "7.5"]


def test_sdf_loader_reports_bad_records(tmp_path):
    from rdkit import Chem

    good = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    bad = good.replace("O   0", "Xx  0")  # unknown element: RDKit rejects the record
    path = tmp_path / "mols.sdf"
    path.write_text(f"{good}$$$$\n{bad}$$$$\n{good}> <pIC50>\n6.1\n\n$$$$\n")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        mols = read_molecules(path)
    assert mols.smiles == ["CCO", "CCO"]
    assert [line for line, _, _ in mols.invalid] == [2]
    assert "record 2" in mols.summary()


def test_loader_never_crashes_on_junk_list():
    mols = read_molecules(["CCO", None, "", 42, "C(C", "[Na+].[Cl-]"], warn=False)
    assert mols.smiles == ["CCO", "[Cl-].[Na+]"]
    assert [line for line, _, _ in mols.invalid] == [2, 3, 4, 5]
    stripped = read_molecules(["[Na+].CC(=O)[O-]"], largest_fragment=True, warn=False)
    assert stripped.smiles == ["CC(=O)[O-]"]


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_molecules(tmp_path / "nope.smi")


def test_bundled_data_sets_need_no_download():
    assert set(list_datasets()) == {"nci", "wehi", "chembl", "drug_like"}
    nci = load_dataset("nci")
    assert len(nci) > 4900 and all(isinstance(s, str) for s in nci[:10])
    assert len(load_dataset("chembl")) > 1000
    with pytest.raises(ValueError, match="unknown molecule data set"):
        load_dataset("zinc250k")
