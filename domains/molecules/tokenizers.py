"""Token representations of molecules: SMILES (regex tokens) and SELFIES.

A tokenizer maps canonical SMILES to right-padded integer arrays for a sequence backbone
and back. Id 0 is padding (and marks the end of a sequence); tokens get ids 1..V-1 in the
order of ``vocabulary``, which is plain JSON and is all the fitted state there is.

References:
    Schwaller et al., "Molecular Transformer: A Model for Uncertainty-Calibrated Chemical
    Reaction Prediction", ACS Cent. Sci. 2019 (the SMILES regular expression).
    Krenn et al., "Self-referencing embedded strings (SELFIES): A 100% robust molecular
    string representation", Mach. Learn.: Sci. Technol. 2020.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from synthkit.domains.molecules.chem import require_rdkit, to_mol

#: Schwaller et al. 2019: bracket atoms, two-letter organic atoms, bonds, rings (incl. %nn).
SMILES_REGEX = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)
PAD = 0


class Tokenizer:
    """Base: a representation (SMILES -> string -> tokens) and a vocabulary of token ids.

    Args:
        vocabulary: tokens in id order (id = position + 1); ``None`` until :meth:`fit`.
    """

    name = "base"

    def __init__(self, vocabulary: Sequence[str] | None = None):
        self.vocabulary = None if vocabulary is None else list(vocabulary)

    # -------------------------------------------------------------- representation
    def from_smiles(self, smiles: str) -> str | None:
        """Representation string of a (canonical) SMILES, ``None`` if it cannot be written."""
        raise NotImplementedError

    def to_smiles(self, text: str) -> str:
        """SMILES string for a representation string (validity is checked by the caller)."""
        raise NotImplementedError

    def split(self, text: str) -> list[str] | None:
        """Tokens of a representation string, ``None`` if it does not split cleanly."""
        raise NotImplementedError

    def join(self, tokens: Iterable[str]) -> str:
        return "".join(tokens)

    def tokenize(self, smiles: str) -> list[str] | None:
        """Tokens of a SMILES in this representation (``None`` if not representable)."""
        text = self.from_smiles(smiles)
        return None if text is None else self.split(text)

    # -------------------------------------------------------------- vocabulary
    def fit(self, smiles: Iterable[str]) -> Tokenizer:
        """Build the vocabulary from training SMILES (sorted tokens, so it is reproducible)."""
        tokens = set()
        for s in smiles:
            toks = self.tokenize(s)
            if toks:
                tokens.update(toks)
        if not tokens:
            raise ValueError("no molecule could be tokenized; cannot build a vocabulary.")
        self.vocabulary = sorted(tokens)
        return self

    @property
    def vocab_size(self) -> int:
        """Number of ids including padding (0)."""
        return len(self._require_vocabulary()) + 1

    def _require_vocabulary(self) -> list[str]:
        if self.vocabulary is None:
            raise ValueError(f"{type(self).__name__} has no vocabulary; call fit first.")
        return self.vocabulary

    # -------------------------------------------------------------- ids
    def encode(self, smiles: Sequence[str], *, max_length: int | None = None):
        """Token ids of each SMILES, right-padded with 0.

        Returns:
            ``(ids, kept, failures)``: an int64 array (n_kept, L) of the molecules that could
            be encoded, the indices of those molecules in ``smiles``, and a list of
            ``(index, reason)`` for the others (not representable, unknown token, too long).
        """
        index = {t: i + 1 for i, t in enumerate(self._require_vocabulary())}
        rows, kept, failures = [], [], []
        for i, s in enumerate(smiles):
            toks = self.tokenize(s) if isinstance(s, str) else None
            if not toks:
                failures.append((i, f"cannot be written as {self.name}"))
                continue
            unknown = [t for t in toks if t not in index]
            if unknown:
                failures.append((i, f"token {unknown[0]!r} is not in the vocabulary"))
                continue
            if max_length is not None and len(toks) > max_length:
                failures.append((i, f"{len(toks)} tokens, more than max_length={max_length}"))
                continue
            rows.append([index[t] for t in toks])
            kept.append(i)
        width = max((len(r) for r in rows), default=0)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = r
        return ids, np.asarray(kept, dtype=np.int64), failures

    def decode(self, ids) -> list[str]:
        """Representation strings of id rows; a row ends at its first 0."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 2:
            raise ValueError(f"ids must be a 2-D array, got shape {ids.shape}.")
        table = np.asarray([""] + self._require_vocabulary(), dtype=object)
        if ids.size and (ids.min() < 0 or ids.max() >= len(table)):
            raise ValueError(f"ids must lie in 0..{len(table) - 1}.")
        ended = np.cumsum(ids == PAD, axis=1) > 0  # everything from the first pad on
        toks = table[np.where(ended, PAD, ids)]
        return [self.join(row) for row in toks]

    def decode_smiles(self, ids) -> list[str]:
        """SMILES strings (not yet validated) of id rows."""
        return [self.to_smiles(t) for t in self.decode(ids)]


class SmilesTokenizer(Tokenizer):
    """SMILES split by the Schwaller et al. regular expression; joins back exactly.

    Example:
        >>> tok = SmilesTokenizer().fit(["CC(=O)Oc1ccccc1C(=O)O", "C[NH3+]"])
        >>> tok.split("CCl[NH3+]")
        ['C', 'Cl', '[NH3+]']
        >>> ids, kept, failures = tok.encode(["CC(=O)O"])
        >>> tok.decode(ids)
        ['CC(=O)O']
    """

    name = "smiles"

    def from_smiles(self, smiles):
        return smiles

    def to_smiles(self, text):
        return text

    def split(self, text):
        tokens = SMILES_REGEX.findall(text)
        return tokens if "".join(tokens) == text else None


class KekuleSmilesTokenizer(SmilesTokenizer):
    """SMILES in Kekulé form: explicit single and double bonds, no aromatic atoms.

    Whether a string of aromatic SMILES is a molecule depends on its whole ring system
    (RDKit must find a Kekulé structure); in Kekulé form validity is local — parentheses,
    ring closures and each atom's valence — which a decoder can keep track of while it
    samples (:class:`~synthkit.domains.molecules.grammar.SmilesGrammar`). The atom order
    of the input is kept, so randomized SMILES stay randomized.

    Example:
        >>> KekuleSmilesTokenizer().from_smiles("c1ccccc1O")
        'C1=C(O)C=CC=C1'
    """

    name = "kekule_smiles"

    def from_smiles(self, smiles):
        Chem = require_rdkit()
        mol = to_mol(smiles)
        if mol is None:
            return None
        try:
            Chem.Kekulize(mol, clearAromaticFlags=True)
        except Exception:  # RDKit raises KekulizeException
            return None
        return Chem.MolToSmiles(mol, canonical=False, kekuleSmiles=True)


class SelfiesTokenizer(Tokenizer):
    """SELFIES tokens (every token string decodes to some molecule).

    Example:
        >>> tok = SelfiesTokenizer().fit(["c1ccccc1O"])
        >>> tok.split(tok.from_smiles("c1ccccc1O"))[:3]
        ['[C]', '[=C]', '[C]']
    """

    name = "selfies"

    def from_smiles(self, smiles):
        sf = _selfies()
        try:
            return sf.encoder(smiles)
        except Exception:  # selfies raises EncoderError for unsupported valences / syntax
            return None

    def to_smiles(self, text):
        sf = _selfies()
        try:
            return sf.decoder(text)
        except Exception:
            return ""

    def split(self, text):
        sf = _selfies()
        try:
            return list(sf.split_selfies(text))
        except Exception:
            return None


TOKENIZERS = {"smiles": SmilesTokenizer, "kekule_smiles": KekuleSmilesTokenizer, "selfies": SelfiesTokenizer}


def make_tokenizer(representation: str, vocabulary=None) -> Tokenizer:
    """Tokenizer for ``"smiles"``, ``"kekule_smiles"`` or ``"selfies"``."""
    try:
        cls = TOKENIZERS[representation]
    except KeyError:
        raise ValueError(
            f"unknown token representation {representation!r}; choose from {', '.join(TOKENIZERS)}."
        ) from None
    return cls(vocabulary)


def _selfies():
    try:
        import selfies
    except ImportError as err:  # pragma: no cover
        from synthkit.domains.molecules.chem import INSTALL_HINT

        raise ImportError(f"representation='selfies' needs the selfies package; {INSTALL_HINT}.") from err
    return selfies
