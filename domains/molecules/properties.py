"""Molecular properties on RDKit molecules: QED, SA score, logP, penalized logP, weight.

References:
    Bickerton et al., "Quantifying the chemical beauty of drugs", Nat. Chem. 2012 (QED).
    Ertl & Schuffenhauer, "Estimation of synthetic accessibility score of drug-like
    molecules", J. Cheminform. 2009 (SA score; RDKit Contrib ``SA_Score/sascorer.py``).
    Wildman & Crippen, J. Chem. Inf. Comput. Sci. 1999 (logP).
    Gómez-Bombarelli et al. 2018; Jin et al., "Junction Tree VAE", ICML 2018 (penalized logP).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np


def qed(mol) -> float:
    """Quantitative estimate of drug-likeness in [0, 1]."""
    from rdkit.Chem import QED

    return float(QED.qed(mol))


def logp(mol) -> float:
    """Crippen logP."""
    from rdkit.Chem import Crippen

    return float(Crippen.MolLogP(mol))


def weight(mol) -> float:
    """Average molecular weight (Da)."""
    from rdkit.Chem import Descriptors

    return float(Descriptors.MolWt(mol))


def sa_score(mol) -> float:
    """Synthetic accessibility: 1 (easy) to 10 (hard), from RDKit Contrib's ``sascorer``."""
    return float(_sascorer().calculateScore(mol))


def largest_ring_size(mol) -> int:
    rings = mol.GetRingInfo().AtomRings()
    return max((len(r) for r in rings), default=0)


def penalized_logp(mol) -> float:
    """logP − SA − (rings larger than six atoms), unnormalized (the JT-VAE / GCPN benchmark)."""
    return logp(mol) - sa_score(mol) - max(largest_ring_size(mol) - 6, 0)


PROPERTIES = {"qed": qed, "logp": logp, "sa": sa_score, "weight": weight, "penalized_logp": penalized_logp}


def compute(mols, name: str) -> np.ndarray:
    """A property over a list of molecules (NaN for ``None`` or where RDKit fails)."""
    try:
        fn = PROPERTIES[name]
    except KeyError:
        raise ValueError(f"unknown property {name!r}; choose from {', '.join(PROPERTIES)}.") from None
    out = np.full(len(mols), np.nan)
    for i, m in enumerate(mols):
        if m is not None:
            try:
                out[i] = fn(m)
            except Exception:  # RDKit raises on a few exotic molecules; NaN is honest
                pass
    return out


@functools.lru_cache(maxsize=1)
def _sascorer():
    """Load ``sascorer.py`` from the installed RDKit's Contrib folder (not a module on sys.path)."""
    from rdkit import RDConfig

    path = Path(RDConfig.RDContribDir) / "SA_Score" / "sascorer.py"
    if not path.is_file():
        raise ImportError(
            f"the SA score needs RDKit's Contrib/SA_Score/sascorer.py, which this RDKit lacks ({path})."
        )
    spec = importlib.util.spec_from_file_location("synthkit_rdkit_sascorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.readFragmentScores()
    return module
