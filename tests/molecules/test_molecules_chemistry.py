"""Metrics, objectives and filters on molecules with known answers."""

import numpy as np
import pytest

pytest.importorskip("rdkit")

from synthkit.domains.molecules import metrics  # noqa: E402
from synthkit.domains.molecules.filters import AllowedAtoms, CatalogFilter, RingSizes, get_filter  # noqa: E402
from synthkit.domains.molecules.objectives import (  # noqa: E402
    MPO,
    QED,
    Desirable,
    FromCallable,
    Gaussian,
    LogP,
    PenalizedLogP,
    ReverseSigmoid,
    SAScore,
    Sigmoid,
    Similarity,
    Substructure,
    get_objective,
)

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
RHODANINE = "O=C1C(=Cc2ccccc2)SC(=S)N1"  # PAINS ene_rhod
AZO = "Oc1ccc(N=Nc2ccccc2)cc1"  # PAINS azo


# ---------------------------------------------------------------------- metrics
def test_validity_uniqueness_novelty_on_known_lists():
    assert metrics.validity(["CCO", "C1CC", ASPIRIN, "not a molecule"]) == 0.5
    assert metrics.validity([]) == 0.0
    assert metrics.uniqueness(["CCO", "OCC", "C(O)C", "CCN"]) == pytest.approx(0.5)  # ethanol 3 ways
    assert metrics.novelty([ASPIRIN, CAFFEINE], [ASPIRIN, CAFFEINE]) == 0.0
    assert metrics.novelty([ASPIRIN, CAFFEINE], ["CCO"]) == 1.0
    assert metrics.novelty(["CCO", "CCN"], ["OCC"]) == 0.5


def test_internal_diversity_and_similarities():
    same = [ASPIRIN] * 5
    assert metrics.internal_diversity(same) == pytest.approx(0.0)
    mixed = [ASPIRIN, CAFFEINE, "CCCCCCCC", "c1ccncc1"]
    assert 0.5 < metrics.internal_diversity(mixed) <= 1.0
    assert metrics.nearest_neighbour_similarity(mixed, mixed) == pytest.approx(1.0)
    assert metrics.fragment_similarity(mixed, mixed) == pytest.approx(1.0)
    assert metrics.scaffold_similarity(mixed, mixed) == pytest.approx(1.0)
    assert metrics.scaffold_similarity(["c1ccccc1C"], ["C1CCCCC1C"]) == 0.0


def test_property_distances_are_zero_for_the_same_set_and_grow_with_shift():
    ref = [ASPIRIN, CAFFEINE, "CCO", "c1ccccc1O", "CCN(CC)CC"]
    same = metrics.property_distances(ref, ref)
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in same.values())
    heavy = metrics.property_distances(["CCCCCCCCCCCCCCCCCCCC"] * 5, ref)
    assert heavy["weight"] > 100 and heavy["logp"] > 3


def test_filter_pass_rate_and_evaluate():
    assert metrics.filter_pass_rate([ASPIRIN, RHODANINE], ["PAINS"]) == 0.5
    out = metrics.evaluate([ASPIRIN, CAFFEINE, "C1CC", CAFFEINE], training=[ASPIRIN], fcd=True)
    assert out["validity"] == 0.75 and out["uniqueness"] == pytest.approx(2 / 3) and out["novelty"] == 0.5
    assert "nearest_neighbour_similarity" in out and "wasserstein_qed" in out
    assert ("fcd" in out) or ("fcd_torch" in out["fcd_note"] or "FCD needs" in out["fcd_note"])


def test_fcd_guard_says_what_to_install():
    try:
        import fcd_torch  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="fcd_torch"):
            metrics.frechet_chemnet_distance([ASPIRIN] * 4, [CAFFEINE] * 8)
    else:  # pragma: no cover - only where fcd_torch is installed
        out = metrics.frechet_chemnet_distance([ASPIRIN, CAFFEINE] * 5, [CAFFEINE, ASPIRIN] * 10)
        assert out["n"] == 10


# ---------------------------------------------------------------------- objectives
def test_qed_sa_logp_on_aspirin():
    assert QED()(ASPIRIN)[0] == pytest.approx(0.55, abs=0.01)
    sa = SAScore()([ASPIRIN, CAFFEINE])
    assert ((1 <= sa) & (sa <= 10)).all() and sa[0] < 3  # aspirin is easy to make
    assert 0 < SAScore(normalize=True)(ASPIRIN)[0] <= 1
    assert LogP()(ASPIRIN)[0] == pytest.approx(1.31, abs=0.01)
    assert PenalizedLogP()(ASPIRIN)[0] < LogP()(ASPIRIN)[0]
    assert QED()(["C1CC"])[0] == 0.0  # invalid molecules score 0


def test_similarity_and_substructure():
    sim = Similarity(ASPIRIN)
    assert sim(ASPIRIN)[0] == pytest.approx(1.0)
    assert sim("OC(=O)c1ccccc1OC(C)=O")[0] == pytest.approx(1.0)  # same molecule, other SMILES
    assert 0 <= sim(CAFFEINE)[0] < 0.3
    assert Substructure("c1ccccc1")([ASPIRIN, CAFFEINE]).tolist() == [1.0, 0.0]
    assert Substructure("C(=O)[OH]", forbidden=True)([ASPIRIN, CAFFEINE]).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="SMARTS"):
        Substructure("[[[")
    with pytest.raises(ValueError, match="SMILES"):
        Similarity("C1CC")


def test_desirability_transforms_and_mpo():
    x = np.array([0.0, 2.0, 5.0, 8.0, 10.0])
    up, down = Sigmoid(2, 8)(x), ReverseSigmoid(2, 8)(x)
    assert np.all(np.diff(up) > 0) and up[0] < 0.05 and up[-1] > 0.95
    assert np.allclose(up + down, 1.0)
    assert Gaussian(5, 1)(x)[2] == 1.0
    mpo = MPO([QED(), (Desirable(LogP(), Gaussian(1.3, 1.0)), 2.0)])
    q, d = QED()(ASPIRIN)[0], Desirable(LogP(), Gaussian(1.3, 1.0))(ASPIRIN)[0]
    assert mpo(ASPIRIN)[0] == pytest.approx((q * d**2) ** (1 / 3))
    assert MPO([QED(), Substructure("[#7]")])(ASPIRIN)[0] == 0.0  # a zero component vetoes


def test_objectives_from_names_and_callables():
    assert get_objective("qed")(ASPIRIN)[0] == pytest.approx(0.55, abs=0.01)
    assert get_objective(f"similarity:{ASPIRIN}")(ASPIRIN)[0] == pytest.approx(1.0)
    assert get_objective("no-smarts:[#7]")([ASPIRIN, CAFFEINE]).tolist() == [1.0, 0.0]
    n_atoms = get_objective(lambda smi: len(smi))
    assert isinstance(n_atoms, FromCallable) and n_atoms(["CCO", "C1CC"]).tolist() == [3.0, 0.0]
    batched = FromCallable(lambda smis: np.ones(len(smis)), batched=True)
    assert batched(["CCO", "bad", "CC"]).tolist() == [1.0, 0.0, 1.0]
    assert isinstance(get_objective(["qed", "sa"]), MPO)
    with pytest.raises(ValueError, match="unknown objective"):
        get_objective("potency")


# ---------------------------------------------------------------------- filters
def test_pains_flags_known_pains_compounds():
    pains = CatalogFilter(["PAINS"])
    assert pains.passes([ASPIRIN, CAFFEINE, RHODANINE, AZO, "C1CC"]).tolist() == [True, True, False, False, False]
    assert any("rhod" in a for a in pains.alerts(RHODANINE))
    assert get_filter("brenk").passes([ASPIRIN]).dtype == bool
    with pytest.raises(ValueError, match="unknown filter catalog"):
        CatalogFilter(["NOPE"])


def test_allowed_atoms_and_ring_sizes():
    assert AllowedAtoms().passes([ASPIRIN, "C[Si](C)(C)C", "[Na+].[Cl-]"]).tolist() == [True, False, False]
    assert RingSizes(5, 6).passes(["C1CCCCC1", "C1CC1", "C1CCCCCCCC1", "CCO"]).tolist() == [True, False, False, True]
    both = get_filter(["organic", "rings"])
    assert both.passes([ASPIRIN, "C1CCCCCCCC1"]).tolist() == [True, False]
