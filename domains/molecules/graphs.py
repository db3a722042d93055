"""Molecular graphs: RDKit molecules <-> torch-geometric ``Data``.

A molecule becomes a graph with one node per heavy atom and one edge per bond in each
direction, in Kekulé form so that bond orders are explicit (what a valence-aware decoder
needs):

``x`` (long, n_atoms x 4)
    atomic number, formal charge, number of hydrogens, chiral tag.
``edge_index`` (long, 2 x 2 n_bonds)
    bond ``k`` is edges ``2k`` (i -> j) and ``2k + 1`` (j -> i), in RDKit's bond order, so
    tetrahedral chirality (defined by neighbour order) survives the round trip.
``edge_attr`` (long, 2 n_bonds)
    bond order 1, 2 or 3.

Double-bond E/Z stereo is not carried. :func:`graph_to_mol` sanitizes the rebuilt
molecule, so a generated graph is valid exactly when RDKit accepts its valences; graph
backbones feed their samples through the same canonicalization as token backbones.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from synthkit.domains.molecules.chem import mol_to_smiles, quiet, require_rdkit, to_mol

ATOM_FEATURES = ("atomic_num", "formal_charge", "num_hs", "chiral_tag")
BOND_ORDERS = {1: "SINGLE", 2: "DOUBLE", 3: "TRIPLE"}


def _pyg_data():
    try:
        from torch_geometric.data import Data
    except ImportError as err:  # pragma: no cover
        from synthkit.domains.molecules.chem import INSTALL_HINT

        raise ImportError(f"representation='graph' needs torch-geometric; {INSTALL_HINT}.") from err
    return Data


def mol_to_graph(molecule):
    """A torch-geometric ``Data`` for a SMILES or RDKit ``Mol`` (``None`` if invalid).

    Example:
        >>> g = mol_to_graph("C[C@H](N)C(=O)O")  # L-alanine
        >>> g.x.shape, g.edge_index.shape
        (torch.Size([6, 4]), torch.Size([2, 10]))
        >>> graph_to_smiles(g)
        'C[C@H](N)C(=O)O'
    """
    Chem = require_rdkit()
    mol = to_mol(molecule) if isinstance(molecule, str) else molecule
    if mol is None:
        return None
    mol = Chem.RWMol(mol)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    x = torch.tensor(
        [[a.GetAtomicNum(), a.GetFormalCharge(), a.GetTotalNumHs(), int(a.GetChiralTag())] for a in mol.GetAtoms()],
        dtype=torch.long,
    ).reshape(-1, len(ATOM_FEATURES))
    pairs, orders = [], []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        order = int(round(b.GetBondTypeAsDouble()))
        if order not in BOND_ORDERS:
            return None  # dative / zero-order bonds are outside this representation
        pairs += [(i, j), (j, i)]
        orders += [order, order]
    edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    return _pyg_data()(x=x, edge_index=edge_index, edge_attr=torch.tensor(orders, dtype=torch.long))


def graph_to_mol(graph, *, sanitize: bool = True):
    """Rebuild an RDKit ``Mol`` from :func:`mol_to_graph`'s layout (``None`` if RDKit
    rejects the valences). Edges are read in pairs; only ``i -> j`` with ``i < j`` is used."""
    Chem = require_rdkit()
    x = graph.x.detach().cpu().long().reshape(-1, len(ATOM_FEATURES)).tolist()
    if not x:
        return None
    mol = Chem.RWMol()
    for z, charge, n_h, chiral in x:
        atom = Chem.Atom(int(z))
        atom.SetFormalCharge(int(charge))
        atom.SetNumExplicitHs(int(n_h))
        atom.SetNoImplicit(True)
        atom.SetChiralTag(Chem.ChiralType.values[int(chiral)] if int(chiral) in Chem.ChiralType.values else Chem.ChiralType.CHI_UNSPECIFIED)
        mol.AddAtom(atom)
    edges = graph.edge_index.detach().cpu().long().t().tolist()
    orders = graph.edge_attr.detach().cpu().long().reshape(-1).tolist()
    seen = set()
    for (i, j), order in zip(edges, orders):
        key = (min(i, j), max(i, j))
        if i == j or key in seen or order not in BOND_ORDERS:
            continue
        seen.add(key)
        mol.AddBond(int(i), int(j), getattr(Chem.BondType, BOND_ORDERS[order]))
    mol = mol.GetMol()
    if sanitize:
        with quiet():
            try:
                Chem.SanitizeMol(mol)
                Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
            except Exception:  # RDKit raises on impossible valences: an invalid graph
                return None
    return mol


def graph_to_smiles(graph) -> str | None:
    """Canonical SMILES of a graph, ``None`` if it is not a valid molecule."""
    mol = graph_to_mol(graph)
    if mol is None:
        return None
    smiles = mol_to_smiles(mol)
    return smiles if to_mol(smiles) is not None else None


def smiles_to_graphs(smiles: Sequence[str]) -> list:
    """Graphs of a list of SMILES (``None`` for invalid entries)."""
    return [mol_to_graph(s) for s in smiles]
