"""Grammar- and valence-constrained decoding of SMILES tokens.

While a sequence model writes a SMILES string token by token, :class:`SmilesGrammar`
tracks what has been written — open branches, open ring bonds, the atoms and how much
valence each has left — and masks every token that could not continue a valid molecule:
a ``)`` without its ``(``, the end of the string with a ring still open, a fifth bond on a
neutral carbon, a ring closing onto its own atom or onto a neighbour it is already bonded
to. The model's distribution is renormalized over the tokens that remain, the way
syntax-directed decoders restrict a generator to its grammar (Kusner et al. 2017;
Dai et al. 2018), here with the SMILES grammar and RDKit's valence rules.

In Kekulé SMILES (``representation="kekule_smiles"``) every atom carries its bonds
explicitly, so these local rules are all RDKit checks: nearly every constrained string
is a molecule. In aromatic SMILES the valence of a lowercase atom depends on its whole
ring system (Kekulé structure), so lowercase atoms get the grammar only.

The largest valence of each atom token comes from RDKit itself: the token is bonded to
more and more methyl groups until RDKit rejects it.

References:
    Weininger, "SMILES, a chemical language and information system", J. Chem. Inf.
    Comput. Sci. 1988; OpenSMILES specification (opensmiles.org).
    Kusner, Paige & Hernández-Lobato, "Grammar Variational Autoencoder", ICML 2017.
    Dai, Tian, Dai, Skiena & Song, "Syntax-Directed Variational Autoencoder for
    Structured Data", ICLR 2018.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from synthkit.domains.molecules.chem import quiet, require_rdkit

BOND_ORDER = {"-": 1, "=": 2, "#": 3, "$": 4, "/": 1, "\\": 1, ":": 1}
_RING = re.compile(r"^(%[0-9]{2}|[0-9])$")
_ORGANIC = re.compile(r"^(Br|Cl|B|C|N|O|S|P|F|I|b|c|n|o|s|p)$")
UNLIMITED = 99  # valence of atoms the grammar does not check (aromatic)

# token kinds
OTHER, ATOM, BOND, OPEN, CLOSE, RING, DOT = range(7)


class SmilesGrammar:
    """Decoding constraint for a SMILES vocabulary (id 0 = end, ids 1.. = ``vocabulary``).

    A :class:`synthkit.backbones.sequence.DecodingConstraint`; use with
    :meth:`synthkit.backbones.sequence.SequenceModel.sample` (``constraint=``):
    ``start(n)`` returns a :class:`SmilesGrammarState` for ``n`` strings written in
    parallel, whose ``allowed()`` is the (n, V) mask of tokens each string may take next
    and ``advance(tokens)`` records the tokens drawn.

    Args:
        vocabulary: the tokenizer's tokens in id order (id = position + 1).
        lowest_label: a new ring bond takes the smallest number not open, as RDKit
            writes SMILES (and every training string here is written by RDKit). A digit
            that is neither open nor that number is a ring closure the model lost track
            of; read as an opening it would leave a ring that nothing closes, so the
            string could never end.

    Example:
        >>> g = SmilesGrammar(["C", "O", "=", "(", ")", "1"])
        >>> def next_tokens(state):
        ...     return ["<end>" if i == 0 else g.vocabulary[i - 1] for i in np.flatnonzero(state.allowed()[0])]
        >>> next_tokens(g.start(1).advance([1]).advance([4]))  # after "C(": no ")", no end
        ['C', 'O', '=']
        >>> next_tokens(g.start(1).advance([1]).advance([3]).advance([2]))  # "C=O" is complete
        ['<end>']
    """

    def __init__(self, vocabulary: Sequence[str], *, lowest_label: bool = True):
        self.vocabulary = list(vocabulary)
        self.lowest_label = lowest_label
        V = len(self.vocabulary) + 1
        self.kind = np.full(V, OTHER, dtype=np.int64)
        self.max_valence = np.zeros(V, dtype=np.int64)
        self.order = np.zeros(V, dtype=np.int64)  # bond order of bond tokens
        self.label = np.full(V, -1, dtype=np.int64)  # ring-bond label index of ring tokens
        labels: list[str] = []
        for i, tok in enumerate(self.vocabulary, start=1):
            if tok in BOND_ORDER:
                self.kind[i], self.order[i] = BOND, BOND_ORDER[tok]
            elif tok == "(":
                self.kind[i] = OPEN
            elif tok == ")":
                self.kind[i] = CLOSE
            elif tok == ".":
                self.kind[i] = DOT
            elif _RING.match(tok):
                self.kind[i], self.label[i] = RING, len(labels)
                labels.append(tok)
            elif tok.startswith("[") or _ORGANIC.match(tok):
                valence = atom_max_valence(tok)
                if valence is not None:
                    self.kind[i], self.max_valence[i] = ATOM, valence
        self.n_labels = len(labels)
        #: the number each ring-bond label stands for ("1" -> 1, "%12" -> 12)
        self.label_value = np.array([int(t.lstrip("%")) for t in labels], dtype=np.int64)
        self.atom_tokens = self.kind == ATOM
        self.bond_tokens = self.kind == BOND
        self.ring_tokens = np.flatnonzero(self.kind == RING)
        self.open_tokens, self.close_tokens, self.dot_tokens = (self.kind == OPEN, self.kind == CLOSE, self.kind == DOT)

    def start(self, n: int) -> SmilesGrammarState:
        """Fresh state for ``n`` empty strings."""
        return SmilesGrammarState(self, n)


class SmilesGrammarState:
    """What ``n`` partly written SMILES strings have open (see :class:`SmilesGrammar`)."""

    def __init__(self, grammar: SmilesGrammar, n: int):
        self.g = grammar
        self.n = n
        L = grammar.n_labels
        self.free = np.full(n, -1, dtype=np.int64)  # valence left on the current atom; -1: none yet
        self.pending = np.zeros(n, dtype=np.int64)  # order of a bond written but not yet used
        self.depth = np.zeros(n, dtype=np.int64)
        self.branch_empty = np.zeros(n, dtype=bool)  # "(" written, no atom in the branch yet
        self.ring_open = np.zeros((n, L), dtype=bool)
        self.ring_order = np.zeros((n, L), dtype=np.int64)  # order written at the opening (0: unsaid)
        self.ring_free = np.zeros((n, L), dtype=np.int64)  # valence left on the ring's first atom
        self.closed_here = np.zeros((n, L), dtype=bool)  # ring bonds closed at the current atom
        self.ring_blocked = np.zeros((n, L), dtype=bool)  # closing here would repeat a bond / self-bond
        self.finished = np.zeros(n, dtype=bool)
        self.reach_other = np.zeros(n, dtype=bool)  # a branch point other than the current atom has valence left
        # per string: valence left on each atom, neighbours, current atom, branch stack, rings
        self._free = [[] for _ in range(n)]
        self._nbrs = [[] for _ in range(n)]
        self._cur = [-1] * n
        self._stack = [[] for _ in range(n)]
        self._ring_atom = [dict() for _ in range(n)]

    # -------------------------------------------------------------- mask
    def allowed(self) -> np.ndarray:
        """Bool (n, V): the tokens each string may take next (column 0 = end).

        A string with no allowed token (a dead end the rules cannot foresee, e.g. a ring
        left open on an atom with no valence to spare) may only end; it will then fail
        validation like an unconstrained string.
        """
        g = self.g
        has_atom = self.free >= 0
        bare = ~self.branch_empty & (self.pending == 0)  # not inside an empty branch or after a bond
        need = np.where(self.pending > 0, self.pending, has_atom.astype(np.int64))  # bond to a next atom
        room = np.where(has_atom, self.free, UNLIMITED)
        # lookahead: an open ring bond needs an atom to close on later, so no token may
        # leave every atom the string can still grow from without a free valence
        rings = self.ring_open.sum(1)
        safe = (rings == 0) | self.reach_other  # a branch point with valence to spare
        mask = np.zeros((self.n, len(g.kind)), dtype=bool)
        valence = g.max_valence[g.atom_tokens][None, :]
        keep_top = self.branch_empty & (self.free - need >= 1)  # the branch point it bonds to
        mask[:, g.atom_tokens] = (need[:, None] <= np.minimum(room[:, None], valence)) & (
            (safe | keep_top)[:, None] | (valence - need[:, None] >= 1))
        mask[:, g.bond_tokens] = (has_atom & (self.pending == 0))[:, None] & (  # also C(=O): after "("
            g.order[g.bond_tokens][None, :] <= self.free[:, None])
        mask[:, g.open_tokens] = (has_atom & bare & (self.free >= 1))[:, None]
        mask[:, g.close_tokens] = ((self.depth > 0) & bare & has_atom & safe)[:, None]
        if len(g.ring_tokens):
            # opening: the ring bond's order (written now, or 1) must fit on this atom;
            # closing: the order must fit on both atoms and agree with the opening's
            b_close = np.where(self.pending[:, None] > 0, self.pending[:, None],
                               np.maximum(self.ring_order, 1))
            reserved = np.maximum(self.ring_order, 1)
            agree = (self.pending[:, None] == 0) | (self.ring_order == 0) | (self.ring_order == self.pending[:, None])
            closing = (self.ring_open & ~self.ring_blocked & agree & (b_close <= self.free[:, None])
                       & (b_close - reserved <= self.ring_free)
                       & ((rings[:, None] == 1) | self.reach_other[:, None] | (self.free[:, None] - b_close >= 1)))
            left = self.free - np.maximum(self.pending, 1)
            opening = ~self.ring_open & ((left >= 0) & (self.reach_other | (left >= 1)))[:, None]
            if self.g.lowest_label:
                opening &= self.g.label_value[None, :] == self._lowest_free_label()[:, None]
            ok = has_atom[:, None] & ~self.branch_empty[:, None] & np.where(self.ring_open, closing, opening)
            mask[:, g.ring_tokens] = ok[:, g.label[g.ring_tokens]]
        complete = has_atom & bare & (self.depth == 0) & ~self.ring_open.any(1)
        mask[:, 0] = complete
        mask[:, g.dot_tokens] = complete[:, None]
        mask[self.finished] = False
        mask[:, 0] |= ~mask.any(1)
        return mask

    def _lowest_free_label(self) -> np.ndarray:
        """Per string, the smallest ring-bond number neither open nor closed at the current atom."""
        values = self.g.label_value
        taken = np.zeros((self.n, int(values.max(initial=0)) + 2), dtype=bool)
        taken[:, 0] = True
        taken[:, values] = self.ring_open | self.closed_here  # RDKit never reuses a number on the atom that closed it
        return np.argmin(taken, axis=1)

    # -------------------------------------------------------------- update
    def advance(self, tokens) -> SmilesGrammarState:
        """Record one drawn token per string (0 = end; finished strings ignore theirs)."""
        g = self.g
        for i, t in enumerate(np.asarray(tokens).tolist()):
            if self.finished[i]:
                continue
            if t == 0:
                self.finished[i] = True
                continue
            kind = g.kind[t]
            if kind == ATOM:
                self._add_atom(i, int(g.max_valence[t]))
            elif kind == BOND:
                self.pending[i] = g.order[t]
            elif kind == OPEN:
                self._stack[i].append(self._cur[i])
                self.depth[i] += 1
            elif kind == CLOSE:
                self._set_current(i, self._stack[i].pop())
                self.depth[i] -= 1
            elif kind == RING:
                self._ring(i, int(g.label[t]))
            elif kind == DOT:
                self._cur[i], self.free[i] = -1, -1
            if kind in (OPEN, ATOM):
                self.branch_empty[i] = kind == OPEN
            if kind != BOND:
                self.pending[i] = 0
        return self

    def _add_atom(self, i: int, max_valence: int) -> None:
        prev = self._cur[i]
        free, nbrs = self._free[i], self._nbrs[i]
        new = len(free)
        order = 0
        if prev >= 0:
            order = int(self.pending[i]) or 1
            free[prev] -= order
            nbrs[prev].add(new)
        free.append(max_valence - order)
        nbrs.append({prev} if prev >= 0 else set())
        self._set_current(i, new)

    def _ring(self, i: int, label: int) -> None:
        cur, free = self._cur[i], self._free[i]
        if self.ring_open[i, label]:
            other = self._ring_atom[i].pop(label)
            reserved = max(int(self.ring_order[i, label]), 1)
            order = int(self.pending[i]) or reserved
            free[cur] -= order
            free[other] -= order - reserved
            self._nbrs[i][cur].add(other)
            self._nbrs[i][other].add(cur)
            self.ring_open[i, label] = False
            self.ring_order[i, label] = 0
            self.closed_here[i, label] = True
        else:
            order = int(self.pending[i])
            free[cur] -= max(order, 1)
            self._ring_atom[i][label] = cur
            self.ring_open[i, label] = True
            self.ring_order[i, label] = order
        self._set_current(i, cur)

    def _set_current(self, i: int, atom: int) -> None:
        """Make ``atom`` the current atom of string ``i`` and refresh what depends on it."""
        if atom != self._cur[i]:
            self.closed_here[i] = False
        self._cur[i] = atom
        free = self._free[i]
        self.free[i] = free[atom]
        nbrs = self._nbrs[i][atom]
        self.reach_other[i] = any(free[a] >= 1 for a in self._stack[i] if a != atom)
        for label, first in self._ring_atom[i].items():
            self.ring_free[i, label] = free[first]
            self.ring_blocked[i, label] = first == atom or first in nbrs


def atom_max_valence(token: str) -> int | None:
    """Largest number of single bonds RDKit accepts on the atom ``token`` (``"C"``: 4,
    ``"[NH+]"``: 3, ``"[O-]"``: 1); :data:`UNLIMITED` for aromatic (lowercase) atoms,
    whose valence the grammar does not check; ``None`` if RDKit cannot read it at all."""
    Chem = require_rdkit()
    symbol = token.strip("[]")
    if symbol[:1].islower() or symbol[:2] in ("se", "as", "te"):
        return UNLIMITED
    best = None
    with quiet():
        for k in range(0, 9):
            smi = token + "(C)" * k
            mol = Chem.MolFromSmiles(smi)
            if mol is None:
                if k > 0 and best is not None:
                    break
                continue
            best = k
    return best
