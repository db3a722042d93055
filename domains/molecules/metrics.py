"""Distribution-learning metrics for any list of SMILES (MOSES / GuacaMol definitions).

Every function takes SMILES strings; invalid ones count against :func:`validity` and are
ignored by the others (which describe the valid molecules, as MOSES does).

References:
    Polykovskiy et al., "Molecular Sets (MOSES): A benchmarking platform for molecular
    generation models", Front. Pharmacol. 2020 (validity, uniqueness, novelty, IntDiv,
    SNN, Frag, Scaf, FCD).
    Preuer et al., "Fréchet ChemNet Distance", J. Chem. Inf. Model. 2018.
    Brown et al., "GuacaMol", J. Chem. Inf. Model. 2019.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence

import numpy as np

from synthkit.domains.molecules import properties as props
from synthkit.domains.molecules.chem import canonicalize, morgan_fingerprints, scaffold, to_mol
from synthkit.metrics.frechet import gaussian_frechet_distance, gaussian_stats

FCD_MISSING = "fcd_torch is not installed (pip install fcd_torch; it ships the ChemNet weights)"


def _valid(smiles: Sequence[str]) -> list[str]:
    return [s for s in canonicalize(smiles) if s is not None]


def validity(smiles: Sequence[str]) -> float:
    """Fraction of entries RDKit parses into a non-empty molecule.

    Example:
        >>> validity(["CCO", "C1CC", "c1ccccc1", ""])
        0.5
    """
    if len(smiles) == 0:
        return 0.0
    return len(_valid(smiles)) / len(smiles)


def uniqueness(smiles: Sequence[str]) -> float:
    """Fraction of distinct canonical molecules among the valid ones.

    Example:
        >>> uniqueness(["CCO", "OCC", "C"])  # ethanol twice, written two ways
        0.6666666666666666
    """
    valid = _valid(smiles)
    return len(set(valid)) / len(valid) if valid else 0.0


def novelty(smiles: Sequence[str], training: Sequence[str]) -> float:
    """Fraction of distinct valid molecules that are not in ``training``.

    Example:
        >>> novelty(["CCO", "CCN"], ["OCC"])
        0.5
    """
    unique = set(_valid(smiles))
    if not unique:
        return 0.0
    train = set(_valid(training))
    return len(unique - train) / len(unique)


def _fingerprints(smiles: Sequence[str]) -> list:
    return morgan_fingerprints([to_mol(s) for s in smiles])


def _subsample(items: list, max_n: int | None, random_state) -> list:
    if max_n is None or len(items) <= max_n:
        return items
    idx = np.random.default_rng(random_state).choice(len(items), max_n, replace=False)
    return [items[i] for i in np.sort(idx)]


def internal_diversity(smiles: Sequence[str], *, p: int = 1, max_molecules: int | None = 5000, random_state=0) -> float:
    """``1 - (mean over distinct pairs of Tanimoto^p)^(1/p)`` on Morgan (r=2, 2048 bits)
    fingerprints of the valid molecules (at most ``max_molecules``, subsampled)."""
    from rdkit import DataStructs

    fps = _fingerprints(_subsample(_valid(smiles), max_molecules, random_state))
    if len(fps) < 2:
        return 0.0
    total, count = 0.0, 0
    for i in range(1, len(fps)):
        sims = np.asarray(DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i]))
        total += float((sims**p).sum())
        count += i
    return 1.0 - (total / count) ** (1.0 / p)


def nearest_neighbour_similarity(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Mean over valid molecules of the Tanimoto similarity to the closest ``reference``
    molecule (MOSES SNN): high means samples sit close to the reference set."""
    from rdkit import DataStructs

    gen, ref = _fingerprints(_valid(smiles)), _fingerprints(_valid(reference))
    if not gen or not ref:
        return 0.0
    return float(np.mean([max(DataStructs.BulkTanimotoSimilarity(fp, ref)) for fp in gen]))


def _cosine(a: Counter, b: Counter) -> float:
    keys = list(set(a) | set(b))
    va = np.asarray([a.get(k, 0) for k in keys], dtype=float)
    vb = np.asarray([b.get(k, 0) for k in keys], dtype=float)
    denom = np.linalg.norm(va) * np.linalg.norm(vb)
    return float(va @ vb / denom) if denom > 0 else 0.0


def _fragments(smiles: Sequence[str]) -> Counter:
    from rdkit import Chem

    counts: Counter = Counter()
    for s in smiles:
        mol = to_mol(s)
        if mol is not None:  # MOSES: cut every BRICS bond once, count the pieces
            counts.update(Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(mol)).split("."))
    return counts


def fragment_similarity(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Cosine similarity of BRICS fragment counts (MOSES Frag), in [0, 1]."""
    return _cosine(_fragments(_valid(smiles)), _fragments(_valid(reference)))


def scaffold_similarity(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Cosine similarity of Bemis–Murcko scaffold counts (MOSES Scaf), in [0, 1]."""

    def counts(items):
        return Counter(sc for sc in (scaffold(s) for s in _valid(items)) if sc)

    return _cosine(counts(smiles), counts(reference))


def property_values(smiles: Sequence[str], names: Sequence[str] = ("qed", "logp", "sa", "weight")) -> dict:
    """Each property over the valid molecules (arrays without NaN)."""
    valid = _valid(smiles)
    out = {}
    for name in names:
        values = np.array([_property(s, name) for s in valid], dtype=np.float64)
        out[name] = values[np.isfinite(values)]
    return out


@functools.lru_cache(maxsize=200_000)
def _property(smiles: str, name: str) -> float:
    """One property of one molecule, remembered: ``evaluate`` and its report's histograms ask
    for the same molecules' properties (QED costs milliseconds a molecule)."""
    return float(props.compute([to_mol(smiles)], name)[0])


def property_distances(
    smiles: Sequence[str], reference: Sequence[str], names: Sequence[str] = ("qed", "logp", "sa", "weight")
) -> dict[str, float]:
    """Wasserstein-1 distance between each property's distribution in the valid samples
    and in ``reference`` (in the property's own units; 0 is identical)."""
    from scipy.stats import wasserstein_distance

    a, b = property_values(smiles, names), property_values(reference, names)
    return {n: float(wasserstein_distance(a[n], b[n])) if len(a[n]) and len(b[n]) else float("nan") for n in names}


def filter_pass_rate(smiles: Sequence[str], filters=("PAINS",)) -> float:
    """Fraction of valid molecules that pass the filters (names or
    :class:`~synthkit.domains.molecules.filters.Filter` objects)."""
    from synthkit.domains.molecules.filters import get_filter

    valid = _valid(smiles)
    return float(get_filter(list(filters)).passes(valid).mean()) if valid else 0.0


def frechet_chemnet_distance(
    smiles: Sequence[str], reference: Sequence[str], *, n: int | None = None, random_state=0, device="cpu"
) -> dict:
    """Fréchet ChemNet Distance at equal sample sizes, beside a real-vs-real baseline.

    ``n`` molecules of the valid samples are compared with ``n`` reference molecules, and
    a second, disjoint set of ``n`` reference molecules is compared with the same ones:
    the baseline says how far two real samples of that size already are. ``n`` defaults
    to the largest size both sides allow (reference needs ``2 n``).

    Returns:
        ``{"fcd": ..., "fcd_real_vs_real": ..., "n": n}``.

    Raises:
        ImportError: when ``fcd_torch`` is not installed.
    """
    try:
        from fcd_torch import FCD
    except ImportError as err:
        raise ImportError(FCD_MISSING) from err
    gen, ref = _valid(smiles), _valid(reference)
    n_max = min(len(gen), len(ref) // 2)
    n = n_max if n is None else min(int(n), n_max)
    if n < 2:
        raise ValueError(f"FCD needs at least 2 valid samples and 4 reference molecules; have {len(gen)} and {len(ref)}.")
    rng = np.random.default_rng(random_state)
    ref_perm = rng.permutation(len(ref))
    ref_a = [ref[i] for i in ref_perm[:n]]
    ref_b = [ref[i] for i in ref_perm[n : 2 * n]]
    gen_n = [gen[i] for i in rng.permutation(len(gen))[:n]]
    chemnet = FCD(device=device, n_jobs=1)  # ChemNet features of each set once; ref_a serves both distances
    gen_s, a_s, b_s = (gaussian_stats(chemnet.get_predictions(part)) for part in (gen_n, ref_a, ref_b))
    return {"fcd": gaussian_frechet_distance(*gen_s, *a_s), "fcd_real_vs_real": gaussian_frechet_distance(*b_s, *a_s),
            "n": int(n)}


def evaluate(
    smiles: Sequence[str],
    *,
    training: Sequence[str] | None = None,
    reference: Sequence[str] | None = None,
    filters=("PAINS",),
    fcd: bool = True,
    max_molecules: int = 2000,
    random_state=0,
) -> dict:
    """All metrics of generated ``smiles`` at once.

    Args:
        training: the molecules the model learned from (novelty; default reference).
        reference: the set to compare distributions with (default ``training``).
        filters: filters for the pass rate.
        fcd: compute the FCD when ``fcd_torch`` is installed (otherwise a note says so).
        max_molecules: cap on the molecules (each side) the slower metrics see: SNN,
            Frag, Scaf, property distances, internal diversity (subsampled, seeded).

    Returns:
        a flat dict of numbers (plus ``fcd_note`` when the FCD was not computed).
    """
    smiles = list(smiles)
    reference = list(reference) if reference is not None else (list(training) if training is not None else None)
    valid = _valid(smiles)
    out: dict = {
        "n": len(smiles),
        "validity": validity(smiles),
        "uniqueness": uniqueness(smiles),
        "internal_diversity": internal_diversity(valid, max_molecules=max_molecules, random_state=random_state),
        "filter_pass_rate": filter_pass_rate(valid, filters),
    }
    if training is not None:
        out["novelty"] = novelty(valid, training)
    if reference is not None:
        ref_all = _valid(reference)
        ref_valid = _subsample(ref_all, max_molecules, random_state)
        gen_sub = _subsample(valid, max_molecules, random_state)
        out["reference_n"] = len(ref_all)
        out["reference_internal_diversity"] = internal_diversity(ref_valid, max_molecules=max_molecules, random_state=random_state)
        out["nearest_neighbour_similarity"] = nearest_neighbour_similarity(gen_sub, ref_valid)
        out["fragment_similarity"] = fragment_similarity(gen_sub, ref_valid)
        out["scaffold_similarity"] = scaffold_similarity(gen_sub, ref_valid)
        out.update({f"wasserstein_{k}": v for k, v in property_distances(gen_sub, ref_valid).items()})
        if fcd:
            try:
                result = frechet_chemnet_distance(valid, ref_all, random_state=random_state)
                out["fcd"], out["fcd_real_vs_real"] = result["fcd"], result["fcd_real_vs_real"]
                out["fcd_n"] = result["n"]  # molecules per side; "n" stays the sample count
            except ImportError:
                out["fcd_note"] = FCD_MISSING
            except ValueError as err:
                out["fcd_note"] = str(err)
    return out
