"""Randomized SMILES: several writings of each training molecule from random atom orders,
a data augmentation for SMILES language models (Bjerrum 2017; Arús-Pous et al. 2019).

References:
    Bjerrum, "SMILES Enumeration as Data Augmentation for Neural Network Modeling of
    Molecules", arXiv:1703.07076, 2017.
    Arús-Pous et al., "Randomized SMILES strings improve the quality of molecular
    generative models", J. Cheminform. 2019.
"""

from __future__ import annotations

import numpy as np
from synthkit.domains.molecules.chem import require_rdkit, to_mol


def randomized_smiles(smiles, n: int, *, seed: int = 0):
    """``n`` SMILES of each molecule written from random atom orders (RDKit's
    ``MolToRandomSmilesVect``; repeats are possible for small molecules).

    Returns:
        ``(strings, origin)``: the strings and, for each, the index of its molecule.
    """
    Chem = require_rdkit()
    strings: list[str] = []
    for i, smi in enumerate(smiles):
        strings += list(Chem.MolToRandomSmilesVect(to_mol(smi), n, randomSeed=(seed + i) % 2**31))
    return strings, np.repeat(np.arange(len(smiles)), n)
