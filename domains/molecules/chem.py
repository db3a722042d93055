"""RDKit at the edge: one guarded import and the one validity / canonicalization path.

Every molecule that enters or leaves the domain (training data, samples of any backbone,
design candidates, metric inputs) goes through :func:`to_mol` and :func:`canonical`, so
"valid" means the same thing everywhere: RDKit parses and sanitizes it, it has at least
one atom, and (optionally) only its largest fragment is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

INSTALL_HINT = "pip install 'synthkit[molecules]' (RDKit, selfies, torch-geometric)"


def require_rdkit():
    """Import RDKit's ``Chem`` module or fail with an error that names the extra to install."""
    try:
        from rdkit import Chem
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"synthkit.domains.molecules needs RDKit; {INSTALL_HINT}.") from err
    return Chem


def quiet():
    """Context manager that silences RDKit's parse warnings (we count failures instead)."""
    from rdkit import rdBase

    return rdBase.BlockLogs()


def to_mol(smiles, *, largest_fragment: bool = False):
    """Parse and sanitize one SMILES; ``None`` for anything invalid or empty."""
    Chem = require_rdkit()
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    with quiet():
        mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    if largest_fragment and "." in smiles:
        mol = _largest_fragment(mol)
    return mol


def to_mols(smiles: Iterable, *, largest_fragment: bool = False) -> list:
    """:func:`to_mol` over a list (``None`` where invalid)."""
    return [to_mol(s, largest_fragment=largest_fragment) for s in smiles]


def canonical(smiles, *, largest_fragment: bool = False) -> str | None:
    """Canonical isomeric SMILES of one molecule, or ``None`` if it is not valid."""
    mol = to_mol(smiles, largest_fragment=largest_fragment)
    return None if mol is None else mol_to_smiles(mol)


def canonicalize(smiles: Iterable, *, largest_fragment: bool = False) -> list[str | None]:
    """:func:`canonical` over a list (``None`` where invalid), memoized within the call."""
    seen: dict = {}
    out = []
    for s in smiles:
        if s not in seen:
            seen[s] = canonical(s, largest_fragment=largest_fragment)
        out.append(seen[s])
    return out


def mol_to_smiles(mol) -> str:
    Chem = require_rdkit()
    return Chem.MolToSmiles(mol)


def _largest_fragment(mol):
    Chem = require_rdkit()
    frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=True)
    return max(frags, key=lambda m: (m.GetNumHeavyAtoms(), m.GetNumAtoms()))


def scaffold(smiles_or_mol) -> str | None:
    """Bemis–Murcko scaffold SMILES ('' for acyclic molecules, ``None`` if invalid)."""
    from rdkit.Chem.Scaffolds import MurckoScaffold

    mol = to_mol(smiles_or_mol) if isinstance(smiles_or_mol, str) else smiles_or_mol
    if mol is None:
        return None
    try:
        return mol_to_smiles(MurckoScaffold.GetScaffoldForMol(mol))
    except Exception:  # RDKit raises for a few exotic valences; treat as no scaffold
        return ""


def morgan_fingerprints(mols: Sequence, *, radius: int = 2, n_bits: int = 2048) -> list:
    """Morgan (ECFP4 for ``radius=2``) bit vectors of RDKit molecules."""
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return [gen.GetFingerprint(m) for m in mols]
