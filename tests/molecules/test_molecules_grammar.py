"""SmilesGrammar masks exactly what cannot continue a valid molecule, and sampling honours it."""

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem, RDLogger  # noqa: E402

from synthkit.domains.molecules import MoleculeGenerator, load_dataset, optimize  # noqa: E402
from synthkit.domains.molecules.randomized import randomized_smiles  # noqa: E402
from synthkit.domains.molecules.grammar import UNLIMITED, SmilesGrammar, atom_max_valence  # noqa: E402
from synthkit.domains.molecules.tokenizers import KekuleSmilesTokenizer, make_tokenizer  # noqa: E402

RDLogger.DisableLog("rdApp.*")


@pytest.fixture(scope="module")
def kekule():
    smiles = load_dataset("drug_like")[:1500]
    writings, _ = randomized_smiles(smiles[:500], 2, seed=0)
    tok = make_tokenizer("kekule_smiles").fit(smiles + writings)
    return tok, smiles + writings


def _walk(grammar: SmilesGrammar, n: int, length: int, seed: int):
    """Strings of uniformly random tokens under the grammar (ending less often than not)."""
    rng = np.random.default_rng(seed)
    state = grammar.start(n)
    ids = np.zeros((n, length), dtype=np.int64)
    for t in range(length):
        weights = state.allowed() * rng.random((n, len(grammar.kind)))
        weights[:, 0] *= 0.3
        token = np.where(state.finished, 0, weights.argmax(1))
        state.advance(token)
        ids[:, t] = token
    return ids, state.finished


def test_valences_come_from_rdkit():
    assert [atom_max_valence(t) for t in ("C", "N", "O", "F", "Cl", "[NH+]", "[O-]", "[N+]", "[C@@H]")] == [
        4, 3, 2, 1, 1, 3, 1, 4, 3]
    assert atom_max_valence("c") == UNLIMITED and atom_max_valence("[nH]") == UNLIMITED


def test_every_real_molecule_passes_the_grammar(kekule):
    """No false rejection: each token of 2,500 real Kekulé SMILES (canonical and randomized)
    is allowed when it comes, and each string may end where it ends."""
    tok, strings = kekule
    ids, kept, failures = tok.encode(strings)
    assert not failures
    grammar = SmilesGrammar(tok.vocabulary)
    state = grammar.start(len(ids))
    rows = np.arange(len(ids))
    for t in range(ids.shape[1]):
        allowed = state.allowed()
        ok = allowed[rows, ids[:, t]] | state.finished
        assert ok.all(), f"rejected {tok.decode(ids[~ok][:1])[0]!r} at token {t}"
        state.advance(ids[:, t])


def test_random_token_strings_become_molecules_under_the_grammar(kekule):
    """Uniformly random tokens are almost never a molecule; under the grammar every string
    that ends is one (RDKit sanitizes it)."""
    tok, _ = kekule
    rng = np.random.default_rng(0)
    free = tok.decode(rng.integers(1, tok.vocab_size, (600, 30)) * (np.arange(30) < rng.integers(3, 30, (600, 1))))
    assert np.mean([Chem.MolFromSmiles(s) is not None for s in free]) < 0.05
    ids, ended = _walk(SmilesGrammar(tok.vocabulary), 600, 80, seed=0)
    ruled = [s for s, e in zip(tok.decode(ids), ended) if e]
    assert len(ruled) > 200 and all(Chem.MolFromSmiles(s) is not None for s in ruled)


def test_grammar_rules_on_small_cases():
    g = SmilesGrammar(["C", "O", "F", "=", "(", ")", "1", "2"])
    ids = {t: i + 1 for i, t in enumerate(g.vocabulary)}

    def allowed_after(text):
        state = g.start(1)
        for t in text:
            state.advance([ids[t]])
        return {("<end>" if i == 0 else g.vocabulary[i - 1]) for i in np.flatnonzero(state.allowed()[0])}

    assert allowed_after("") == {"C", "O", "F"}
    assert ")" not in allowed_after("CC") and "<end>" in allowed_after("CC")
    assert "<end>" not in allowed_after("C1CC") and "1" in allowed_after("C1CC")
    assert "1" not in allowed_after("C1C")  # would bond C to its neighbour twice
    assert "<end>" not in allowed_after("C(") and ")" not in allowed_after("C(")
    assert allowed_after("C=O") == {"<end>"}  # O has no valence left
    assert "=" not in allowed_after("CC(F)(F)") and {"C", "F"} <= allowed_after("CC(F)(F)")
    # new ring bonds take the smallest free number, as RDKit writes them; not one just closed here
    assert "1" in allowed_after("CC") and "2" not in allowed_after("CC")
    assert "2" in allowed_after("C1CC") and "1" in allowed_after("C1CC")  # open 2 or close 1
    assert "2" in allowed_after("C1CCC1") and "1" not in allowed_after("C1CCC1")
    assert "1" in allowed_after("C1CCC1C") and "2" not in allowed_after("C1CCC1C")
    # lookahead: with ring 1 open, F would leave no atom to close it on (unless in a branch)
    assert "F" not in allowed_after("C1CC") and "F" in allowed_after("C1CC(")


def test_kekule_tokenizer_keeps_the_molecule_and_the_atom_order():
    tok = KekuleSmilesTokenizer()
    assert tok.from_smiles("c1ccccc1O") == "C1=C(O)C=CC=C1"
    for smi in ("c1ccccc1O", "Cc1c[nH]c2ccccc12", "O=[N+]([O-])c1ccc(cc1)S(N)(=O)=O"):
        text = tok.from_smiles(smi)
        assert not any(a.GetIsAromatic() for a in Chem.MolFromSmiles(text, sanitize=False).GetAtoms())
        assert Chem.CanonSmiles(text) == Chem.CanonSmiles(smi)
    writings, _ = randomized_smiles(["Cc1c[nH]c2ccccc12"], 4, seed=0)
    assert len({tok.from_smiles(w) for w in writings}) > 1  # random writings stay random


@pytest.fixture(scope="module")
def weak():
    train = load_dataset("drug_like")[:400]
    return MoleculeGenerator(representation="kekule_smiles", random_state=0, backbone_params={
        "hidden_dim": 48, "embedding_dim": 24, "max_epochs": 4, "verbose": 0}).fit(train)


def test_constrained_sampling_turns_a_weak_model_valid(weak):
    """A prior trained for a few epochs writes invalid Kekulé SMILES; under the grammar every
    string it finishes within max_length is a molecule (cut strings stay invalid)."""
    gen = weak
    free = np.mean([s is not None for s in gen.generate(300, random_state=1, constrained=False)])
    ids = gen.backbone_.sample(300, random_state=1, constraint=gen.grammar_)
    ended = (ids == 0).any(1)
    valid = np.array([Chem.MolFromSmiles(s) is not None for s in gen.codec_.decode(ids)])
    assert free < 0.2 and ended.sum() > 100, (free, ended.sum())
    assert valid[ended].all()
    assert np.mean([s is not None for s in gen.generate(300, random_state=1)]) == pytest.approx(valid.mean())


def test_design_samples_under_the_priors_grammar(weak):
    import copy

    free = copy.deepcopy(weak).set_params(constrained_decoding=False)
    runs = [optimize(g, "qed", budget=60, batch_size=16, random_state=0, verbose=0) for g in (weak, free)]
    ruled, unruled = (r.attrs["invalid"] / r.attrs["sampled"] for r in runs)
    assert ruled < unruled - 0.3, (ruled, unruled)


def test_a_constraint_for_another_vocabulary_is_refused(weak):
    with pytest.raises(ValueError, match="vocab_size_"):
        weak.backbone_.sample(3, constraint=SmilesGrammar(["C", "O"]))


def test_the_grammar_is_a_decoding_constraint():
    """SmilesGrammar implements the sequence backbone's DecodingConstraint protocol."""
    from synthkit.backbones.sequence import DecodingConstraint

    grammar = SmilesGrammar(["C", "O", "=", "(", ")", "1"])
    assert isinstance(grammar, DecodingConstraint)
    allowed = grammar.start(3).allowed()
    assert allowed.shape == (3, 7) and allowed.dtype == bool
