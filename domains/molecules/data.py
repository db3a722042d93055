"""Real molecules that need no download: read from the files RDKit's wheel ships.

Nothing is copied into synthkit; each set is read from the installed RDKit
(``RDConfig.RDDataDir`` and ``RDConfig.RDContribDir``, BSD licence) on first use.

========== ======== =================================================================
name        ~size    what
========== ======== =================================================================
nci         4,999    ``Data/NCI/first_5K.smi``: the first 5K NCI open compounds
wehi        10,000   ``Data/Pains/test_data/wehi_mols.csv``: a WEHI screening library
chembl      ~1,650   ChEMBL / ZINC sets under ``Contrib/`` (FreeWilson, fraggle, PBF EGFR,
                     Fastcluster CDK2, SA_Score ZINC sample)
drug_like   ~16,000  all of the above, salts stripped, deduplicated and kept to
                     organic molecules of 8–50 heavy atoms (the default training set)
========== ======== =================================================================
"""

from __future__ import annotations

import functools
from pathlib import Path

from synthkit.domains.molecules.chem import require_rdkit, to_mol, mol_to_smiles

ORGANIC = frozenset({"C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "H"})

#: name -> list of (root, relative path, reader); root is "data" or "contrib"
_SOURCES = {
    "nci": [("data", "NCI/first_5K.smi", "smi")],
    "wehi": [("data", "Pains/test_data/wehi_mols.csv", "csv0")],
    "chembl": [
        ("contrib", "FreeWilson/data/CHEMBL2321810.smi", "smi"),
        ("contrib", "fraggle/data/ChEMBL_11265_actives.smi", "smi"),
        ("contrib", "Fastcluster/testdata/converted.smi", "smi"),
        ("contrib", "SA_Score/data/zim.100.txt", "smi"),
        ("contrib", "PBF/testData/egfr.sdf", "sdf"),
        ("contrib", "FreeWilson/data/cmet_ligands.sdf", "sdf"),
    ],
}

DESCRIPTIONS = {
    "nci": "First 5K NCI open-database compounds (RDKit Data/NCI/first_5K.smi).",
    "wehi": "10,000 WEHI screening-library compounds (RDKit Data/Pains/test_data/wehi_mols.csv).",
    "chembl": "ChEMBL / ZINC molecules from RDKit Contrib test sets (EGFR, c-Met, CDK2, ...).",
    "drug_like": "All bundled sets, salts stripped, deduplicated, organic, 8-50 heavy atoms (default).",
}


def list_datasets() -> dict[str, str]:
    """Bundled molecule sets and their one-line descriptions."""
    return dict(DESCRIPTIONS)


def load_dataset(name: str = "drug_like") -> list[str]:
    """Canonical SMILES of a bundled set (see the module docstring).

    Example:
        >>> smiles = load_dataset("nci")
        >>> len(smiles) > 4000
        True
    """
    if name not in DESCRIPTIONS:
        raise ValueError(f"unknown molecule data set {name!r}; choose from {', '.join(DESCRIPTIONS)}.")
    return list(_load(name))


def dataset_path(name: str) -> Path:
    """Path of the single file behind ``nci`` or ``wehi`` (for CLI demos)."""
    if name not in ("nci", "wehi"):
        raise ValueError("only 'nci' and 'wehi' are single files.")
    root, rel, _ = _SOURCES[name][0]
    return _root(root) / rel


@functools.lru_cache(maxsize=None)
def _load(name: str) -> tuple[str, ...]:
    if name == "drug_like":
        seen: dict[str, None] = {}
        for part in _SOURCES:
            for smi in _load(part):
                mol = to_mol(smi, largest_fragment=True)
                if mol is not None and _drug_like(mol):
                    seen.setdefault(mol_to_smiles(mol), None)
        return tuple(seen)
    from synthkit.domains.molecules.io import read_molecules

    out: list[str] = []
    for root, rel, kind in _SOURCES[name]:
        path = _root(root) / rel
        if not path.is_file():  # an RDKit build without this test file: skip it
            continue
        if kind == "csv0":
            out += read_molecules(path, smiles_column="column_0", warn=False).smiles
        else:
            out += read_molecules(path, warn=False).smiles
    return tuple(out)


def _drug_like(mol) -> bool:
    if not 8 <= mol.GetNumHeavyAtoms() <= 50:
        return False
    return all(a.GetSymbol() in ORGANIC for a in mol.GetAtoms())


def _root(which: str) -> Path:
    require_rdkit()
    from rdkit import RDConfig

    return Path(RDConfig.RDDataDir if which == "data" else RDConfig.RDContribDir)
