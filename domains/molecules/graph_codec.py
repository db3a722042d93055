"""Molecular graphs as fixed-size categorical codes, with valence-aware decoding.

A one-shot graph backbone (e.g. the VAE with categorical outputs, as in GraphVAE) sees a
molecule as ``max_atoms`` node codes followed by the upper triangle of its adjacency
matrix: node code 0 is "no atom" and ``k`` is atom type ``vocabulary[k - 1]`` (element and
formal charge); edge code 0 is "no bond" and 1, 2, 3 are Kekulé bond orders. Atoms are
put in breadth-first order from RDKit's canonical first atom (GraphRNN's ordering), so
bonds sit near the diagonal and no graph matching is needed.

Decoding is valence-aware (as MoFlow's validity correction): bonds at an atom that
exceeds its maximum valence are lowered, highest order first, until every atom fits;
then the largest connected fragment is kept and RDKit sanitizes it. Hydrogens are
implicit and follow from the valences.

References:
    Simonovsky & Komodakis, "GraphVAE: Towards Generation of Small Graphs Using
    Variational Autoencoders", ICANN 2018.
    You et al., "GraphRNN", ICML 2018 (breadth-first node ordering).
    Zang & Wang, "MoFlow: An Invertible Flow Model for Generating Molecular Graphs",
    KDD 2020 (valency correction).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from synthkit.domains.molecules.chem import mol_to_smiles, quiet, require_rdkit, to_mol

#: change of the maximum valence per unit of positive / negative formal charge
#: ([N+] and [O+] gain a bond, [N-] and [O-] lose one, [C+] and [C-] lose one, [B-] gains one)
_CATION_SHIFT = {5: -1, 6: -1, 7: 1, 8: 1, 15: 1, 16: 1}
_ANION_SHIFT = {5: 1, 6: -1, 7: -1, 8: -1, 15: -1, 16: -1}


def max_valence(z: int, charge: int, *, strict: bool = False) -> int:
    """Largest total bond order an atom of element ``z`` and formal ``charge`` may carry
    (``strict``: the element's smallest listed valence, e.g. 1 for iodine, not 7)."""
    Chem = require_rdkit()
    valences = [v for v in Chem.GetPeriodicTable().GetValenceList(int(z)) if v >= 0]
    base = (min(valences) if strict else max(valences)) if valences else 4
    if charge > 0:
        base += _CATION_SHIFT.get(int(z), 0) * charge
    elif charge < 0:
        base += _ANION_SHIFT.get(int(z), 0) * -charge
    return max(base, 0)


class GraphCodec:
    """Encode molecules as node + adjacency codes and decode codes back to SMILES.

    Args:
        vocabulary: atom types ``"C"``, ``"N+1"``, ``"O-1"``, ... (id = position + 1).
        max_atoms: number of node slots.

    Example:
        >>> codec = GraphCodec().fit(["CC(=O)O", "C[NH3+]"])
        >>> codec.vocabulary, codec.max_atoms
        (['C', 'N+1', 'O'], 4)
        >>> X, kept, failures = codec.encode(["CC(=O)O"])
        >>> X.shape, codec.decode_smiles(X)
        ((1, 10), ['CC(=O)O'])
    """

    name = "graph"

    def __init__(self, vocabulary: Sequence[str] | None = None, max_atoms: int | None = None):
        self.vocabulary = None if vocabulary is None else list(vocabulary)
        self.max_atoms = max_atoms

    @property
    def n_columns(self) -> int:
        m = int(self.max_atoms)
        return m + m * (m - 1) // 2

    @staticmethod
    def atom_type(atom) -> str:
        charge = atom.GetFormalCharge()
        return atom.GetSymbol() + (f"{charge:+d}" if charge else "")

    def fit(self, smiles: Sequence[str], max_atoms: int | None = None) -> GraphCodec:
        """Atom types and the largest molecule (or ``max_atoms``) from training SMILES."""
        types, largest = set(), 0
        for s in smiles:
            mol = to_mol(s)
            if mol is None:
                continue
            types.update(self.atom_type(a) for a in mol.GetAtoms())
            largest = max(largest, mol.GetNumAtoms())
        if not types:
            raise ValueError("no molecule could be read; cannot build the atom vocabulary.")
        self.vocabulary = sorted(types)
        self.max_atoms = int(max_atoms) if max_atoms is not None else largest
        return self

    # -------------------------------------------------------------- encode
    def encode(self, smiles: Sequence[str], *, max_length: int | None = None):
        """Codes of each molecule: ``(X int64 (n_kept, n_columns), kept, failures)``.
        ``max_length`` (atoms) lowers ``max_atoms`` for this call's filter only."""
        Chem = require_rdkit()
        index = {t: i + 1 for i, t in enumerate(self.vocabulary)}
        m = int(self.max_atoms)
        limit = m if max_length is None else min(m, int(max_length))
        iu = np.triu_indices(m, k=1)
        rows, kept, failures = [], [], []
        for i, s in enumerate(smiles):
            mol = to_mol(s) if isinstance(s, str) else None
            if mol is None:
                failures.append((i, "not a valid molecule"))
                continue
            if mol.GetNumAtoms() > limit:
                failures.append((i, f"{mol.GetNumAtoms()} atoms, more than {limit}"))
                continue
            types = [self.atom_type(a) for a in mol.GetAtoms()]
            unknown = [t for t in types if t not in index]
            if unknown:
                failures.append((i, f"atom type {unknown[0]!r} is not in the vocabulary"))
                continue
            mol = Chem.RWMol(mol)
            Chem.Kekulize(mol, clearAromaticFlags=True)
            order = _bfs_order(mol)
            where = {atom: k for k, atom in enumerate(order)}
            nodes = np.zeros(m, dtype=np.int64)
            nodes[: len(order)] = [index[types[a]] for a in order]
            adj = np.zeros((m, m), dtype=np.int64)
            ok = True
            for b in mol.GetBonds():
                bo = int(round(b.GetBondTypeAsDouble()))
                if bo not in (1, 2, 3):
                    ok = False
                    break
                u, v = where[b.GetBeginAtomIdx()], where[b.GetEndAtomIdx()]
                adj[u, v] = adj[v, u] = bo
            if not ok:
                failures.append((i, "has a bond that is not single, double or triple"))
                continue
            rows.append(np.concatenate([nodes, adj[iu]]))
            kept.append(i)
        X = np.asarray(rows, dtype=np.int64).reshape(len(rows), self.n_columns)
        return X, np.asarray(kept, dtype=np.int64), failures

    # -------------------------------------------------------------- decode
    def decode_smiles(self, X) -> list[str]:
        """SMILES of each code row after valence correction ('' if nothing valid is left)."""
        X = np.asarray(X, dtype=np.int64)
        m = int(self.max_atoms)
        if X.ndim != 2 or X.shape[1] != self.n_columns:
            raise ValueError(f"codes must have shape (n, {self.n_columns}), got {X.shape}.")
        iu = np.triu_indices(m, k=1)
        out = []
        for row in X:
            nodes = np.clip(row[:m], 0, len(self.vocabulary))
            adj = np.zeros((m, m), dtype=np.int64)
            adj[iu] = np.clip(row[m:], 0, 3)
            adj = adj + adj.T
            out.append(self._smiles(nodes, adj))
        return out

    def _smiles(self, nodes: np.ndarray, adj: np.ndarray) -> str:
        """SMILES of one code row ('' if nothing valid is left): valence-corrected with each
        element's largest valence, or, if RDKit cannot read back what that gives (hypervalent
        halogens with charges), with its smallest (default) valence."""
        present = np.flatnonzero(nodes > 0)
        if not len(present):
            return ""
        adj = adj[np.ix_(present, present)]
        kinds = [_parse_type(self.vocabulary[k - 1]) for k in nodes[present]]
        for strict in (False, True):
            mol = _assemble(kinds, adj.copy(), np.asarray([max_valence(z, q, strict=strict) for z, q in kinds]))
            smiles = None if mol is None else mol_to_smiles(mol)
            if smiles is not None and to_mol(smiles) is not None:
                return smiles
        return ""


def _assemble(kinds: list[tuple[int, int]], adj: np.ndarray, limits: np.ndarray):
    """Lower bonds to ``limits``, keep the largest component, build and sanitize (None if RDKit refuses)."""
    Chem = require_rdkit()
    _correct_valence(adj, limits)
    keep = _largest_component(adj)
    mol = Chem.RWMol()
    for k in keep:
        atom = Chem.Atom(int(kinds[k][0]))
        atom.SetFormalCharge(int(kinds[k][1]))
        mol.AddAtom(atom)
    bond = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
    for a, b in zip(*np.nonzero(np.triu(adj[np.ix_(keep, keep)], 1))):
        mol.AddBond(int(a), int(b), bond[int(adj[keep[a], keep[b]])])
    with quiet():
        try:
            Chem.SanitizeMol(mol)
        except Exception:  # a valence RDKit still rejects (e.g. a charged ring atom)
            return None
    return mol.GetMol()


def _parse_type(text: str) -> tuple[int, int]:
    Chem = require_rdkit()
    symbol, charge = text, 0
    for sign in "+-":
        if sign in text[1:]:
            k = text.index(sign, 1)
            symbol, charge = text[:k], int(text[k:])
    return Chem.GetPeriodicTable().GetAtomicNumber(symbol), charge


def _bfs_order(mol) -> list[int]:
    """Breadth-first atom order from the canonical first atom, neighbours by canonical rank."""
    Chem = require_rdkit()
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    order, seen = [], set()
    for root in sorted(range(mol.GetNumAtoms()), key=ranks.__getitem__):
        if root in seen:
            continue
        queue = deque([root])
        seen.add(root)
        while queue:
            a = queue.popleft()
            order.append(a)
            nbrs = sorted((n.GetIdx() for n in mol.GetAtomWithIdx(a).GetNeighbors()), key=ranks.__getitem__)
            for n in nbrs:
                if n not in seen:
                    seen.add(n)
                    queue.append(n)
    return order


def _correct_valence(adj: np.ndarray, limits: np.ndarray) -> None:
    """Lower bonds in place until no atom's bond-order sum exceeds its limit (highest order,
    then farthest partner, first)."""
    while True:
        excess = adj.sum(1) - limits
        over = np.flatnonzero(excess > 0)
        if not len(over):
            return
        a = over[0]
        partners = np.flatnonzero(adj[a])
        b = partners[np.lexsort((-np.abs(partners - a), -adj[a, partners]))[0]]
        adj[a, b] -= 1
        adj[b, a] -= 1


def _largest_component(adj: np.ndarray) -> list[int]:
    n = len(adj)
    label = -np.ones(n, dtype=np.int64)
    best: list[int] = []
    for s in range(n):
        if label[s] >= 0:
            continue
        comp, queue = [], [s]
        label[s] = s
        while queue:
            a = queue.pop()
            comp.append(a)
            for b in np.flatnonzero(adj[a]):
                if label[b] < 0:
                    label[b] = s
                    queue.append(b)
        if len(comp) > len(best):
            best = comp
    return sorted(best)
