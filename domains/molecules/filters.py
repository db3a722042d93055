"""Structural filters: RDKit ``FilterCatalog`` alert sets (PAINS, Brenk, NIH, ...),
allowed elements and ring sizes.

A filter answers "does this molecule pass?" for a list of SMILES or molecules; invalid
molecules never pass. Design uses filters to zero the score of failing candidates.

References:
    Baell & Holloway, "New substructure filters for removal of pan assay interference
    compounds (PAINS)", J. Med. Chem. 2010.
    Brenk et al., "Lessons learnt from assembling screening libraries for drug
    discovery for neglected diseases", ChemMedChem 2008.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from synthkit.domains.molecules.chem import to_mol

CATALOGS = ("PAINS", "PAINS_A", "PAINS_B", "PAINS_C", "BRENK", "NIH", "ZINC",
            "CHEMBL", "CHEMBL_BMS", "CHEMBL_LINT", "CHEMBL_MLSMR", "ALL")
ORGANIC = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "H")


class Filter:
    """Base: subclasses implement :meth:`passes_mol`."""

    name = "filter"

    def passes_mol(self, mol) -> bool:
        raise NotImplementedError

    def passes(self, molecules: Iterable) -> np.ndarray:
        """Boolean array: which molecules (SMILES or RDKit ``Mol``; invalid fail) pass."""
        out = []
        for m in molecules:
            mol = to_mol(m) if isinstance(m, str) or m is None else m
            out.append(mol is not None and bool(self.passes_mol(mol)))
        return np.asarray(out, dtype=bool)

    __call__ = passes

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class CatalogFilter(Filter):
    """Reject molecules that match any alert of RDKit ``FilterCatalog`` sets.

    Args:
        catalogs: names from ``FilterCatalogParams.FilterCatalogs``: ``"PAINS"``
            (A+B+C), ``"BRENK"``, ``"NIH"``, ``"ZINC"``, ``"CHEMBL"`` (all ChEMBL sets), ...

    Example:
        >>> pains = CatalogFilter(["PAINS"])
        >>> pains.passes(["CCO", "O=C1C(=Cc2ccccc2)SC(=S)N1"]).tolist()  # 2nd: ene_rhod
        [True, False]
    """

    def __init__(self, catalogs: Sequence[str] = ("PAINS",)):
        from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

        catalogs = [catalogs] if isinstance(catalogs, str) else list(catalogs)
        params = FilterCatalogParams()
        for name in catalogs:
            key = str(name).upper()
            if key not in CATALOGS:
                raise ValueError(f"unknown filter catalog {name!r}; choose from {', '.join(CATALOGS)}.")
            params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, key))
        self.catalogs = catalogs
        self.name = "+".join(str(c).upper() for c in catalogs)
        self._catalog = FilterCatalog(params)

    def passes_mol(self, mol) -> bool:
        return not self._catalog.HasMatch(mol)

    def alerts(self, molecule) -> list[str]:
        """Descriptions of every alert a molecule (SMILES or ``Mol``) matches."""
        mol = to_mol(molecule) if isinstance(molecule, str) else molecule
        if mol is None:
            return []
        return [m.GetDescription() for m in self._catalog.GetMatches(mol)]


class AllowedAtoms(Filter):
    """Pass molecules made only of the given elements (default: organic subset)."""

    def __init__(self, elements: Sequence[str] = ORGANIC):
        self.elements = frozenset(elements)
        self.name = "atoms in " + ",".join(sorted(self.elements))

    def passes_mol(self, mol) -> bool:
        return all(a.GetSymbol() in self.elements for a in mol.GetAtoms())


class RingSizes(Filter):
    """Pass molecules whose every ring has between ``min_size`` and ``max_size`` atoms."""

    def __init__(self, min_size: int = 3, max_size: int = 7):
        if not 3 <= min_size <= max_size:
            raise ValueError(f"need 3 <= min_size <= max_size, got {min_size}, {max_size}.")
        self.min_size, self.max_size = int(min_size), int(max_size)
        self.name = f"rings {min_size}-{max_size}"

    def passes_mol(self, mol) -> bool:
        return all(self.min_size <= len(r) <= self.max_size for r in mol.GetRingInfo().AtomRings())


class AllOf(Filter):
    """Pass only molecules that pass every filter."""

    def __init__(self, filters: Sequence[Filter]):
        self.filters = list(filters)
        self.name = " & ".join(f.name for f in self.filters)

    def passes_mol(self, mol) -> bool:
        return all(f.passes_mol(mol) for f in self.filters)


def get_filter(spec) -> Filter:
    """A filter from a name: a catalog (``"pains"``, ``"brenk"``, ...), ``"organic"`` or
    ``"rings"`` (3–7 atoms); a :class:`Filter` passes through; a list gives :class:`AllOf`."""
    if isinstance(spec, Filter):
        return spec
    if isinstance(spec, (list, tuple)):
        return AllOf([get_filter(s) for s in spec])
    key = str(spec).strip()
    if key.lower() == "organic":
        return AllowedAtoms()
    if key.lower() == "rings":
        return RingSizes()
    return CatalogFilter([key.upper()])
