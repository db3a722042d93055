"""Objectives ("oracles") for molecular design: a score per SMILES, higher is better.

Built-ins: :class:`QED`, :class:`SAScore`, :class:`LogP`, :class:`PenalizedLogP`,
:class:`Similarity` (Tanimoto to a target), :class:`Substructure` (SMARTS required or
forbidden), :class:`FromCallable` (any Python function of a SMILES), combined by
:class:`MPO` after desirability transforms (:class:`Sigmoid`, :class:`ReverseSigmoid`,
:class:`Window`, :class:`Linear`, :class:`Gaussian`) as in REINVENT's scoring functions.
Design (:func:`synthkit.domains.molecules.optimize`) expects scores in [0, 1]: wrap
unbounded properties (logP, weight) in a transform with :class:`Desirable`.

References:
    Olivecrona et al., "Molecular de-novo design through deep reinforcement learning",
    J. Cheminform. 2017; Blaschke et al., "REINVENT 2.0", J. Chem. Inf. Model. 2020.
    Brown et al., "GuacaMol", J. Chem. Inf. Model. 2019 (MPO with desirability scores).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from synthkit.domains.molecules import properties
from synthkit.domains.molecules.chem import require_rdkit, to_mol
from synthkit.validation import check_positive


class Objective:
    """Base: score valid molecules; invalid ones get ``invalid_score`` (0)."""

    name = "objective"
    invalid_score = 0.0

    def score_mol(self, mol) -> float:
        raise NotImplementedError

    def score_mols(self, mols: Sequence) -> np.ndarray:
        out = np.full(len(mols), self.invalid_score, dtype=float)
        for i, m in enumerate(mols):
            if m is not None:
                try:
                    value = float(self.score_mol(m))
                except Exception:  # a failing property is a failing molecule, not a crash
                    continue
                out[i] = value if np.isfinite(value) else self.invalid_score
        return out

    def __call__(self, smiles: Sequence[str]) -> np.ndarray:
        """Scores of a list of SMILES (one string is accepted too)."""
        if isinstance(smiles, str):
            smiles = [smiles]
        return self.score_mols([to_mol(s) for s in smiles])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class QED(Objective):
    """Quantitative estimate of drug-likeness, in [0, 1] (Bickerton et al. 2012).

    Example:
        >>> round(float(QED()("CC(=O)Oc1ccccc1C(=O)O")[0]), 2)  # aspirin
        0.55
    """

    name = "qed"

    def score_mol(self, mol):
        return properties.qed(mol)


class SAScore(Objective):
    """Synthetic accessibility, 1 (easy) to 10 (hard); ``normalize=True`` maps it to
    ``(10 - SA) / 9`` in [0, 1] so that higher is better."""

    def __init__(self, normalize: bool = False):
        self.normalize = normalize
        self.name = "sa_desirability" if normalize else "sa"

    def score_mol(self, mol):
        sa = properties.sa_score(mol)
        return (10.0 - sa) / 9.0 if self.normalize else sa


class LogP(Objective):
    """Crippen logP (unbounded: wrap in a transform for design)."""

    name = "logp"

    def score_mol(self, mol):
        return properties.logp(mol)


class PenalizedLogP(Objective):
    """logP − SA − large-ring penalty (unbounded; the JT-VAE benchmark)."""

    name = "penalized_logp"
    invalid_score = -100.0

    def score_mol(self, mol):
        return properties.penalized_logp(mol)


class Similarity(Objective):
    """Tanimoto similarity of Morgan fingerprints to a target molecule, in [0, 1].

    Example:
        >>> float(Similarity("c1ccccc1O")("Oc1ccccc1")[0])
        1.0
    """

    def __init__(self, target: str, radius: int = 2, n_bits: int = 2048):
        from rdkit.Chem import rdFingerprintGenerator

        mol = to_mol(target)
        if mol is None:
            raise ValueError(f"similarity target {target!r} is not a valid SMILES.")
        self.target, self.radius, self.n_bits = target, radius, n_bits
        self.name = f"similarity({target})"
        self._gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
        self._fp = self._gen.GetFingerprint(mol)

    def score_mol(self, mol):
        from rdkit import DataStructs

        return DataStructs.TanimotoSimilarity(self._fp, self._gen.GetFingerprint(mol))


class Substructure(Objective):
    """1 if the molecule matches a SMARTS pattern (0 otherwise); ``forbidden=True`` inverts.

    Example:
        >>> Substructure("c1ccccc1")(["Cc1ccccc1", "CCO"]).tolist()
        [1.0, 0.0]
        >>> Substructure("[N+](=O)[O-]", forbidden=True)(["CC[N+](=O)[O-]"]).tolist()
        [0.0]
    """

    def __init__(self, smarts: str, forbidden: bool = False):
        Chem = require_rdkit()
        self.pattern = Chem.MolFromSmarts(smarts)
        if self.pattern is None:
            raise ValueError(f"{smarts!r} is not a valid SMARTS pattern.")
        self.smarts, self.forbidden = smarts, forbidden
        self.name = f"{'no ' if forbidden else ''}{smarts}"

    def score_mol(self, mol):
        return float(mol.HasSubstructMatch(self.pattern) != self.forbidden)


class Property(Objective):
    """Any property of :mod:`synthkit.domains.molecules.properties` by name (raw value)."""

    def __init__(self, name: str):
        if name not in properties.PROPERTIES:
            raise ValueError(f"unknown property {name!r}; choose from {', '.join(properties.PROPERTIES)}.")
        self.name = name
        self._fn = properties.PROPERTIES[name]

    def score_mol(self, mol):
        return self._fn(mol)


class FromCallable(Objective):
    """Wrap a Python function of one SMILES (``batched=False``) or of a list of SMILES
    returning an array (``batched=True``). The SMILES given are canonical; a function that
    raises or returns NaN gives the molecule ``invalid_score``."""

    def __init__(self, fn: Callable, name: str | None = None, batched: bool = False):
        if not callable(fn):
            raise ValueError(f"objective must be callable, got {fn!r}.")
        self.fn, self.batched = fn, batched
        self.name = name or getattr(fn, "__name__", "callable")

    def score_mols(self, mols):
        from synthkit.domains.molecules.chem import mol_to_smiles

        smiles = [None if m is None else mol_to_smiles(m) for m in mols]
        if not self.batched:
            return super().score_mols(mols)
        valid = [i for i, s in enumerate(smiles) if s is not None]
        out = np.full(len(mols), self.invalid_score, dtype=float)
        if valid:
            values = np.asarray(self.fn([smiles[i] for i in valid]), dtype=float).reshape(-1)
            if len(values) != len(valid):
                raise ValueError(f"objective {self.name} returned {len(values)} scores for {len(valid)} molecules.")
            out[valid] = np.where(np.isfinite(values), values, self.invalid_score)
        return out

    def score_mol(self, mol):
        from synthkit.domains.molecules.chem import mol_to_smiles

        return self.fn(mol_to_smiles(mol))


# ---------------------------------------------------------------------- desirability
class Transform:
    """A desirability function: raw value -> [0, 1]."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Sigmoid(Transform):
    """Rises from ~0 at ``low`` to ~1 at ``high`` (REINVENT's sigmoid; ``k`` sets steepness)."""

    def __init__(self, low: float, high: float, k: float = 0.25):
        if not high > low:
            raise ValueError(f"need high > low, got low={low}, high={high}.")
        self.low, self.high, self.k = low, high, k

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + 10.0 ** (self.k * ((self.high + self.low) / 2 - x) * 10.0 / (self.high - self.low)))


class ReverseSigmoid(Sigmoid):
    """Falls from ~1 at ``low`` to ~0 at ``high``."""

    def __call__(self, x):
        return 1.0 - super().__call__(x)


class Window(Transform):
    """~1 inside [``low``, ``high``], falling off smoothly over ``softness`` outside."""

    def __init__(self, low: float, high: float, softness: float = 0.5):
        if not high >= low or softness <= 0:
            raise ValueError("need high >= low and softness > 0.")
        self.low, self.high, self.softness = low, high, softness

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        s = self.softness
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-(x - self.low) / s * 4)) / (1.0 + np.exp(-(self.high - x) / s * 4))


class Linear(Transform):
    """Linear from 0 at ``zero`` to 1 at ``one`` (either order), clipped to [0, 1]."""

    def __init__(self, zero: float, one: float):
        if zero == one:
            raise ValueError("zero and one must differ.")
        self.zero, self.one = zero, one

    def __call__(self, x):
        return np.clip((np.asarray(x, dtype=float) - self.zero) / (self.one - self.zero), 0.0, 1.0)


class Gaussian(Transform):
    """``exp(-(x - target)^2 / (2 width^2))``: 1 at the target value."""

    def __init__(self, target: float, width: float):
        check_positive("width", width)
        self.target, self.width = target, width

    def __call__(self, x):
        return np.exp(-0.5 * ((np.asarray(x, dtype=float) - self.target) / self.width) ** 2)


class Desirable(Objective):
    """An objective passed through a desirability transform (invalid molecules score 0).

    Example:
        >>> logp_2_to_4 = Desirable(LogP(), Window(2, 4))
        >>> logp_2_to_4("CCCCc1ccccc1").round(2).tolist()  # butylbenzene, logP 3.0
        [1.0]
    """

    def __init__(self, objective: Objective, transform: Transform):
        self.objective, self.transform = objective, transform
        self.name = f"{type(transform).__name__.lower()}({objective.name})"

    def score_mols(self, mols):
        raw = self.objective.score_mols(mols)
        out = self.transform(raw)
        out[[m is None for m in mols]] = 0.0
        return out


class MPO(Objective):
    """Multi-parameter optimization: a weighted geometric (default) or arithmetic mean of
    components in [0, 1]. A geometric mean makes every component matter: one zero gives 0.

    Args:
        components: objectives, or ``(objective, weight)`` pairs.
        combine: ``"geometric"`` or ``"arithmetic"``.

    Example:
        >>> mpo = MPO([QED(), (SAScore(normalize=True), 0.5)])
        >>> 0 < float(mpo("CC(=O)Oc1ccccc1C(=O)O")[0]) < 1
        True
    """

    def __init__(self, components: Sequence, combine: str = "geometric"):
        if combine not in ("geometric", "arithmetic"):
            raise ValueError(f"combine must be 'geometric' or 'arithmetic', got {combine!r}.")
        pairs = [c if isinstance(c, tuple) else (c, 1.0) for c in components]
        if not pairs:
            raise ValueError("MPO needs at least one component.")
        self.components = [(get_objective(o), float(w)) for o, w in pairs]
        self.combine = combine
        self.name = f"mpo({', '.join(o.name for o, _ in self.components)})"

    def score_mols(self, mols):
        weights = np.asarray([w for _, w in self.components])
        scores = np.stack([o.score_mols(mols) for o, _ in self.components])  # (k, n)
        scores = np.clip(scores, 0.0, 1.0)
        if self.combine == "arithmetic":
            return weights @ scores / weights.sum()
        with np.errstate(divide="ignore"):
            return np.exp(weights @ np.log(scores) / weights.sum())

    def component_scores(self, smiles: Sequence[str]) -> dict[str, np.ndarray]:
        """Each component's score, for reports."""
        mols = [to_mol(s) for s in smiles]
        return {o.name: o.score_mols(mols) for o, _ in self.components}


# ---------------------------------------------------------------------- by name
NAMED = {
    "qed": (lambda: QED(), "quantitative estimate of drug-likeness, [0, 1]"),
    "sa": (lambda: SAScore(normalize=True), "synthetic accessibility as (10 - SA) / 9, [0, 1]"),
    "logp": (lambda: Desirable(LogP(), Window(1.0, 3.0)), "Crippen logP in the window 1-3, [0, 1]"),
    "penalized_logp": (lambda: PenalizedLogP(), "logP - SA - large-ring penalty (unbounded)"),
}


def list_objectives() -> dict[str, str]:
    """Objective names understood by :func:`get_objective` (and ``synthkit design``)."""
    return {
        **{name: help for name, (_, help) in NAMED.items()},
        "similarity:SMILES": "Tanimoto similarity (Morgan r=2) to SMILES, [0, 1]",
        "smarts:PATTERN": "1 if the SMARTS pattern matches, else 0",
        "no-smarts:PATTERN": "1 if the SMARTS pattern does not match, else 0",
    }


def get_objective(spec) -> Objective:
    """An objective from a name (see :func:`list_objectives`), an :class:`Objective`, a
    callable on one SMILES, or a list of any of these (their :class:`MPO`)."""
    if isinstance(spec, Objective):
        return spec
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("an empty list is not an objective.")
        return get_objective(spec[0]) if len(spec) == 1 else MPO(list(spec))
    if callable(spec):
        return FromCallable(spec)
    if not isinstance(spec, str):
        raise ValueError(f"cannot make an objective from {spec!r}.")
    kind, sep, arg = spec.partition(":")
    kind = kind.strip().lower()
    if sep:
        if kind in ("similarity", "sim"):
            return Similarity(arg)
        if kind in ("smarts", "has"):
            return Substructure(arg)
        if kind in ("no-smarts", "not", "forbid"):
            return Substructure(arg, forbidden=True)
    elif kind in NAMED:
        return NAMED[kind][0]()
    raise ValueError(f"unknown objective {spec!r}; choose from {', '.join(list_objectives())}.")
