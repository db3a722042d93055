"""``MoleculeGenerator``: a backbone over a molecular representation, SMILES in and out.

The adapter turns SMILES into what a backbone models (SMILES or SELFIES token ids) and
every sample back into canonical SMILES through one validity path
(:mod:`synthkit.domains.molecules.chem`), whatever the backbone.

References:
    Segler et al., "Generating Focused Molecule Libraries for Drug Discovery with Recurrent
    Neural Networks", ACS Cent. Sci. 2018 (SMILES language models).
    Krenn et al., "SELFIES", Mach. Learn.: Sci. Technol. 2020.
    Polykovskiy et al., "MOSES", Front. Pharmacol. 2020 (what "valid, unique, novel" means).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted
from synthkit.domains.molecules.chem import canonical, canonicalize, require_rdkit
from synthkit.domains.molecules.conditions import condition_rows, condition_values
from synthkit.domains.molecules.grammar import SmilesGrammar
from synthkit.domains.molecules.graph_codec import GraphCodec
from synthkit.domains.molecules.io import read_molecules, warn_unrepresentable
from synthkit.domains.molecules.randomized import randomized_smiles
from synthkit.domains.molecules.tokenizers import TOKENIZERS, make_tokenizer

from synthkit.sampling import draw_until
from synthkit.synthesizer import Synthesizer
from synthkit.training.runtime import seed_from
from synthkit.validation import check_count

#: backbones a molecule representation can be handed to: token ids for "sequence", and
#: integer codes as categorical columns for "vae" (tokens, or graph node/adjacency codes)
BACKBONES = ("sequence", "vae")
REPRESENTATIONS = (*TOKENIZERS, "graph")
#: representations whose strings :class:`SmilesGrammar` can constrain while sampling
GRAMMAR_REPRESENTATIONS = ("smiles", "kekule_smiles")
#: randomized writings per molecule for the sequence backbone (``n_randomized=None``)
DEFAULT_RANDOMIZED = 5


class MoleculeGenerator(Synthesizer):
    """Learn a chemical space from SMILES and sample new valid molecules.

    ``fit`` reads SMILES (a list, or a ``.smi`` / ``.csv`` / ``.sdf`` path), skips and
    reports invalid entries by line, canonicalizes the rest, tokenizes them and fits the
    backbone on the token ids. ``sample`` draws from the backbone and returns canonical
    SMILES: decodings that are not valid molecules are dropped, counted, and drawn again
    (up to ``max_rounds`` rounds), so ``sample(n)`` normally returns exactly ``n``.

    Args:
        backbone: ``"sequence"`` (or an unfitted :class:`~synthkit.backbones.sequence.SequenceModel`,
            cloned at fit) (GRU / causal transformer, exact likelihood; needed by
            :func:`~synthkit.domains.molecules.optimize`) or ``"vae"`` (token positions as
            categorical columns; likelihood is the ELBO).
        representation: ``"kekule_smiles"`` (the default: SMILES with explicit single and
            double bonds instead of aromatic atoms, whose validity the decoding grammar can
            keep track of; see ``constrained_decoding``), ``"smiles"`` (aromatic, regex
            tokens), ``"selfies"`` (every token string decodes to a molecule, but its decoder
            turns would-be-invalid strings into odd, hard-to-synthesize molecules), or
            ``"graph"`` (atoms and Kekulé bonds as node and adjacency codes in breadth-first
            order, decoded with valence correction; see
            :mod:`~synthkit.domains.molecules.graph_codec`; needs ``backbone="vae"``, a
            GraphVAE-style one-shot model). The default was SELFIES until Kekulé SMILES with
            randomized writings measured far closer to the training distribution
            (``docs/benchmarks/molecules.md``).
        backbone_params: keyword arguments of the backbone (e.g. ``{"hidden_dim": 512,
            "max_time": 600}``); see ``synthkit.make_generator``. The sequence backbone
            defaults to ``batch_size=64`` here (faster progress on a time budget).
        largest_fragment: keep only the largest fragment of each training molecule
            (strips salts and solvents) and of each sample.
        max_tokens: skip training molecules longer than this many tokens (for ``"graph"``:
            heavy atoms; ``None``: keep all).
        n_randomized: randomized SMILES augmentation (Arús-Pous et al. 2019, "Randomized
            SMILES strings improve the quality of molecular generative models", J.
            Cheminform. 11:71): each training molecule enters training as this many SMILES
            written from random atom orders (for ``"selfies"``: their SELFIES) instead of
            its one canonical string, which slows the overfitting of sequence models on
            small sets (the paper's finding; measured here with Kekulé SMILES, not with
            SELFIES: ``docs/benchmarks/molecules.md``). ``None`` (default): 5 with
            ``backbone="sequence"``, 0 otherwise (the VAE models token positions as
            categorical columns, and other writings put tokens where the canonical string
            never has them); ``0`` trains on canonical strings only. Not used by ``"graph"``. The backbone's validation
            split (``early_stopping``) is then drawn from the augmented strings, so other
            writings of a validation molecule may be trained on. ``score_samples`` is
            the likelihood of the canonical string, one of many writings of a molecule.
        constrained_decoding: with ``backbone="sequence"`` and a SMILES representation,
            sample under :class:`~synthkit.domains.molecules.grammar.SmilesGrammar`: tokens
            that would break the SMILES grammar (branches, ring bonds) or an atom's
            valence are masked as the string is written and the model's probabilities are
            renormalized over the rest. With ``"kekule_smiles"`` (explicit bonds) this
            makes nearly every string a molecule; with aromatic ``"smiles"`` it fixes
            the grammar, not the aromatic rings. Ignored for other pairs. ``generate``
            can switch it off per call to measure the model's own validity.
        max_rounds: sampling rounds used to replace invalid (or, with ``unique=True``,
            repeated) molecules before giving up with a warning.
        random_state: seed of the backbone (unless ``backbone_params`` sets one) and the
            default seed of ``sample``.
        verbose: the backbone's progress bar (0 is silent).

    Attributes:
        backbone_: the fitted backbone (saved as a nested model).
        vocabulary_: tokens in id order (id 0 is padding).
        condition_: ``None``, ``"labels"``, ``"values"`` or the property name conditioned on.
        fit_report_: counts of entries read, invalid and not representable.

    Example:
        >>> from synthkit.domains.molecules.data import load_dataset
        >>> gen = MoleculeGenerator(backbone_params={"hidden_dim": 32, "embedding_dim": 16,
        ...     "max_epochs": 1, "verbose": 0}, random_state=0).fit(load_dataset("nci")[:200])
        >>> len(gen.sample(5))
        5
    """

    domain = "molecules"

    def __init__(
        self,
        backbone="sequence",
        representation="kekule_smiles",
        backbone_params=None,
        *,
        largest_fragment=True,
        max_tokens=None,
        n_randomized=None,
        constrained_decoding=True,
        max_rounds=10,
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.representation = representation
        self.backbone_params = backbone_params
        self.largest_fragment = largest_fragment
        self.max_tokens = max_tokens
        self.n_randomized = n_randomized
        self.constrained_decoding = constrained_decoding
        self.max_rounds = max_rounds
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, smiles, y=None, *, resume: bool = False):
        """Fit to molecules.

        Args:
            smiles: a list of SMILES or a path to a ``.smi`` / ``.csv`` / ``.sdf`` file.
            y: optional condition: a property name (``"qed"``, ``"logp"``, ``"sa"``,
                ``"weight"``, computed here and conditioned on as a continuous value), a
                CSV column / SDF field name (numbers: continuous; text: class labels), 1-D
                class labels (e.g. property bins) or a 2-D array of continuous values, one
                per entry of ``smiles`` (rows of skipped entries are dropped with them).
            resume: continue the backbone's training from its ``checkpoint_dir``.

        Returns:
            self
        """
        require_rdkit()
        self._check_params()
        mols = read_molecules(smiles, largest_fragment=self.largest_fragment, warn=True)
        if not mols.smiles:
            raise ValueError(f"{mols.source}: no valid molecule to learn from. {mols.summary()}")
        cond, kind = condition_values(mols, y)
        strings, origin = mols.smiles, np.arange(len(mols.smiles))
        # one seed for the randomized writings and the backbone, drawn once and read back from the
        # backbone's checkpoint on resume, so an unseeded fit resumes on the same strings
        self._fit_seed(resume)
        if self._n_randomized and self.representation != "graph":
            strings, origin = randomized_smiles(mols.smiles, self._n_randomized, seed=self.fit_seed_)
        if self.representation == "graph":
            codec = GraphCodec().fit(strings, max_atoms=self.max_tokens)
        else:
            codec = make_tokenizer(self.representation).fit(strings)
        ids, kept, failures = codec.encode(strings, max_length=self.max_tokens)
        kept = origin[np.asarray(kept, dtype=np.int64)]
        failures = warn_unrepresentable(mols, failures, origin, self.representation)
        if len(ids) < 2:
            raise ValueError("fewer than two molecules are left to learn from after skipping bad entries.")
        if cond is not None:
            cond = cond[kept]
        self.vocabulary_ = list(codec.vocabulary)
        if self.representation == "graph":
            self.max_atoms_ = int(codec.max_atoms)
        self.condition_ = kind
        self.fit_report_ = {
            "entries": len(mols.smiles) + len(mols.invalid),
            "invalid": len(mols.invalid),
            "invalid_lines": [line for line, _, _ in mols.invalid[:1000]],
            "not_representable": len(failures),
            "molecules": int(len(np.unique(kept))),
            "training_strings": int(len(ids)),
            "max_tokens": int(ids.shape[1]),
        }
        backbone = self._make_backbone(ids.shape[1])
        if self.backbone_name_ == "sequence":
            backbone.fit(ids, cond, vocab_size=codec.vocab_size, resume=resume)
        else:
            backbone.fit(ids.astype(np.float64), cond, resume=resume)
        self.backbone_ = backbone
        return self

    def _check_params(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}.")
        if self.backbone_name_ not in BACKBONES:
            raise ValueError(f"backbone {self.backbone!r} cannot model molecules yet; choose from {BACKBONES} "
                             "(a name or an instance of their classes).")
        if self.representation == "graph" and self.backbone_name_ != "vae":
            raise ValueError("representation='graph' is modelled one-shot; use backbone='vae'.")
        if self.backbone_params is not None and not isinstance(self.backbone_params, dict):
            raise ValueError(f"backbone_params must be a dict or None, got {type(self.backbone_params).__name__}.")
        check_count("max_tokens", self.max_tokens, none_ok=True)
        check_count("n_randomized", self.n_randomized, 0, none_ok=True)
        check_count("max_rounds", self.max_rounds)

    @property
    def _n_randomized(self) -> int:
        """Randomized writings per molecule: ``n_randomized``, or its default for the backbone."""
        if self.n_randomized is not None:
            return int(self.n_randomized)
        return DEFAULT_RANDOMIZED if self.backbone_name_ == "sequence" else 0

    def _make_backbone(self, width: int):
        per_backbone = {
            # more updates per second: better priors on a time budget
            "sequence": {"batch_size": 64},
            # the prior measured on molecules; the VAE's learned mixture prior (its default since
            # it was measured on 2-D and tabular data) learned token and graph codes more slowly
            # in short fits (fragment similarity 0.04 vs > 0.1 after 15 epochs of graph codes);
            # 64 latents: 16, the VAE's default since it was measured on digits, left graph codes
            # at fragment similarity 0.05 after 15 epochs
            "vae": {"prior": "standard", "latent_dim": min(64, max(2, width))},
        }
        # every code column is categorical, for a named VAE or an instance that leaves it unset
        defaults = {"categorical_features": list(range(width))} if self.backbone_name_ == "vae" else {}
        return super()._make_backbone(defaults=defaults, per_backbone=per_backbone)

    # ------------------------------------------------------------------ sampling
    @property
    def codec_(self):
        """The fitted representation: a tokenizer, or a :class:`GraphCodec` for graphs."""
        check_is_fitted(self, "vocabulary_")
        if self.representation == "graph":
            return GraphCodec(self.vocabulary_, self.max_atoms_)
        return make_tokenizer(self.representation, self.vocabulary_)

    @property
    def grammar_(self):
        """The :class:`SmilesGrammar` of the vocabulary when this model samples under one
        (sequence backbone, SMILES representation), else ``None``."""
        check_is_fitted(self, "vocabulary_")
        if self.backbone_name_ != "sequence" or self.representation not in GRAMMAR_REPRESENTATIONS:
            return None
        if getattr(self, "_grammar", None) is None or self._grammar.vocabulary != self.vocabulary_:
            self._grammar = SmilesGrammar(self.vocabulary_)
        return self._grammar

    def _sampling_grammar(self, constrained: bool | None = None):
        """The grammar sampling runs under (``None``: unconstrained); ``constrained``
        overrides ``constrained_decoding``."""
        use = self.constrained_decoding if constrained is None else constrained
        return self.grammar_ if use else None

    def _condition_rows(self, y, n: int):
        """Per-row condition for ``n`` draws (``None`` for an unconditional model)."""
        width = self.backbone_.condition_dim_ if self.condition_ not in (None, "labels") else 0
        return condition_rows(self.condition_, y, n, width)

    def generate(self, n: int, *, y=None, random_state=None, constrained: bool | None = None) -> list[str | None]:
        """One draw per row: canonical SMILES, or ``None`` where the decoding is not a valid
        molecule (use this to measure validity; :meth:`sample` replaces the ``None``s).
        ``constrained`` overrides ``constrained_decoding`` for this call."""
        check_is_fitted(self, "backbone_")
        rows = self._condition_rows(y, n)
        grammar = self._sampling_grammar(constrained)
        extra = {} if grammar is None else {"constraint": grammar}
        ids = self.backbone_.sample(n, y=rows, random_state=random_state, **extra)
        ids = np.rint(np.asarray(ids)).astype(np.int64)
        if self.representation != "graph":
            ids = np.clip(ids, 0, len(self.vocabulary_))
            ids[np.cumsum(ids == 0, axis=1) > 0] = 0  # a VAE may emit tokens after a pad
        strings = self.codec_.decode_smiles(ids)
        return canonicalize(strings, largest_fragment=self.largest_fragment)

    def sample(self, n_samples: int, *, y=None, unique: bool = False, random_state=None, return_stats: bool = False):
        """Draw ``n_samples`` valid molecules as canonical SMILES.

        Invalid decodings (and with ``unique=True`` repeats) are dropped, counted and drawn
        again, up to ``max_rounds`` rounds; if that is not enough a warning says how many
        are missing and fewer are returned.

        Args:
            n_samples: number of molecules.
            y: condition of a conditional model: a label, a value, or one per row.
            unique: return distinct molecules only.
            random_state: seed of this call (default: the estimator's ``random_state``).
            return_stats: also return a dict: ``drawn``, ``invalid``, ``duplicates``, ``rounds``.

        Returns:
            list of ``n_samples`` SMILES (and the stats).
        """
        check_is_fitted(self, "backbone_")
        n = check_count("n_samples", n_samples, 0)
        seed = self.random_state if random_state is None else random_state
        seeds = np.random.SeedSequence(seed_from(seed)).spawn(int(self.max_rounds))
        conds = self._condition_rows(y, n)

        def size(need, drawn, accepted):  # a few extra when validity is low, so that rounds stay few
            rate = 1.0 if drawn == 0 else max(0.05, accepted / drawn)
            return min(int(math.ceil(need / rate * 1.1)) + 1, 20 * need + 10)

        def draw(m_or_places, r):  # unconditional: m molecules; conditional: one per open place
            rows = None if conds is None else conds[m_or_places]
            m = m_or_places if conds is None else len(m_or_places)
            return self.generate(m, y=rows, random_state=int(seeds[r].generate_state(1)[0]))

        found = draw_until(n, draw, lambda batch: np.array([s is not None for s in batch], bool),
                           max_rounds=int(self.max_rounds), unique=unique, size=size, slots=conds is not None)
        stats = {"drawn": found.drawn, "invalid": found.drawn - found.accepted - found.duplicates,
                 "duplicates": found.duplicates, "rounds": found.rounds}
        out = found.items if conds is not None else [s for chunk in found.chunks for s in chunk]
        if found.missing:
            warnings.warn(
                f"only {n - found.missing} of {n} molecules after {stats['rounds']} rounds "
                f"({stats['invalid']} invalid, {stats['duplicates']} repeated draws); "
                "train longer or raise max_rounds.",
                UserWarning,
                stacklevel=2,
            )
        result = [s for s in out if s is not None]
        return (result, stats) if return_stats else result

    # ------------------------------------------------------------------ likelihood
    def score_samples(self, smiles, y=None) -> np.ndarray:
        """Log-likelihood of each molecule's canonical encoding under the backbone.

        For ``backbone="sequence"`` this is the exact log-probability of the canonical
        string (a lower bound on the molecule's probability, which other spellings share);
        for ``"vae"`` an ELBO. Molecules that are invalid, longer than the model allows or
        use tokens it never saw get ``-inf``.
        """
        check_is_fitted(self, "backbone_")
        if self.backbone_.likelihood is None:
            raise NotImplementedError(f"backbone {self.backbone!r} has no likelihood.")
        smiles = list(smiles)
        can = [canonical(s, largest_fragment=self.largest_fragment) if isinstance(s, str) else None for s in smiles]
        if self.representation == "graph":
            limit = self.max_atoms_
        else:
            limit = self.backbone_.max_length_ if self.backbone_name_ == "sequence" else self.backbone_.n_features_in_
        ids, kept, _ = self.codec_.encode([c or "" for c in can], max_length=limit)
        out = np.full(len(smiles), -np.inf)
        if len(kept):
            width = self.backbone_.n_features_in_ if self.backbone_name_ == "vae" else ids.shape[1]
            X = np.zeros((len(kept), width), dtype=np.int64)
            X[:, : ids.shape[1]] = ids
            cond = None
            if y is not None:
                cond = self._condition_rows(y, len(smiles))
                cond = cond[kept]
            elif self.condition_ not in (None, "labels"):
                raise ValueError(f"this MoleculeGenerator is conditioned on {self.condition_}; pass y.")
            if self.backbone_name_ == "vae":
                X = X.astype(np.float64)
                seen = np.all(X < np.asarray(self.backbone_.n_categories_), axis=1)
                scores = np.full(len(kept), -np.inf)
                if seen.any():
                    scores[seen] = self.backbone_.score_samples(X[seen], None if cond is None else cond[seen])
                out[kept] = scores
            else:
                out[kept] = self.backbone_.score_samples(X, cond)
        return out

    def _write_samples(self, path, batches, *, total: int, progress: bool) -> int:
        """SMILES batches to a ``.smi`` / ``.txt`` file (one per line), atomically."""
        from synthkit.io import write_batches
        from synthkit.training.progress import counting

        with counting(batches, total=total, verbose=progress, unit="molecule") as counted:
            return write_batches(path, counted)
