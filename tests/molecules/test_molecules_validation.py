"""Molecule parameters checked through synthkit.validation: a ValueError naming the parameter and value."""

import re
from types import SimpleNamespace

import pytest

pytest.importorskip("rdkit")

from synthkit.domains.molecules import MoleculeGenerator, optimize
from synthkit.domains.molecules.objectives import Gaussian

SMILES = ["CCO", "CCN", "c1ccccc1", "CC(=O)O"]


def raises(words):
    return pytest.raises(ValueError, match=re.escape(words))


def test_gaussian_width():
    with raises("width must be positive, got 0."):
        Gaussian(1.0, 0)


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_n_randomized_is_a_count_or_none(bad):
    with raises(f"n_randomized must be a non-negative integer or None, got {bad!r}."):
        MoleculeGenerator(n_randomized=bad).fit(SMILES)


@pytest.mark.parametrize(("options", "words"), [
    ({"sigma": 0}, "sigma must be positive, got 0."),
    ({"learning_rate": -1.0}, "learning_rate must be positive, got -1.0."),
    ({"budget": 0}, "budget must be a positive integer, got 0."),
    ({"batch_size": True}, "batch_size must be a positive integer, got True."),
])
def test_optimize_options_are_refused_by_name(options, words):
    generator = MoleculeGenerator()
    generator.backbone_ = SimpleNamespace(log_likelihood=None, sample_tokens=None)  # passes the prior check
    with raises(words):
        optimize(generator, "qed", **{"budget": 10, **options})
