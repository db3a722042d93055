"""The shared training parameters are declared once (issue 24): each family lists only its
deviations from ``TRAINING_DEFAULTS`` in ``training_defaults``, its docstring names them, and
the conformance checks that hold families to this (and the refit and no-mutation checks)
fail on a family that breaks them."""

from typing import ClassVar

import numpy as np
import pytest

from synthkit.backbones.diffusion import DDPM
from synthkit.backbones.vae import VAE
from synthkit.base import TRAINING_DEFAULTS, Generator
from synthkit.testing import (
    GENERATOR_CHECKS,
    check_refit_idempotent,
    check_training_defaults,
    check_X_not_mutated,
)

SMALL = {"hidden_dims": (16,)}


class _DeclaredOnly(VAE):
    """Declares a learning rate its signature does not have."""

    training_defaults: ClassVar[dict] = {"learning_rate": 5e-3}


class _Undeclared(DDPM):
    """Inherits DDPM's signature (learning_rate=2e-3, ema_decay=0.995) but declares nothing."""

    training_defaults: ClassVar[dict] = {}


class _Repeated(VAE):
    training_defaults: ClassVar[dict] = {"learning_rate": 1e-3}


class _Unknown(VAE):
    training_defaults: ClassVar[dict] = {"lr": 5e-3}


class _OtherType(VAE):
    """``verbose=True`` equals the signature's ``1`` but is not the same default."""

    training_defaults: ClassVar[dict] = {"verbose": True}


class _Positional(VAE):
    def __init__(self, max_epochs=None, **params):
        super().__init__(max_epochs=max_epochs, **params)


@pytest.mark.parametrize("cls, match", [
    (_DeclaredOnly, r"has learning_rate=0.001, but .* says 0.005"),
    (_Undeclared, r"has learning_rate=0.002, but .* says 0.001"),
    (_Repeated, r"repeats the shared defaults of \['learning_rate'\]"),
    (_Unknown, r"names \['lr'\], not shared training parameters"),
    (_OtherType, r"has verbose=1, but .* says True"),
    (_Positional, r"takes max_epochs positionally"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_check_training_defaults_fails_on_a_family_whose_signature_disagrees(cls, match):
    with pytest.raises(AssertionError, match=match):
        check_training_defaults(cls())


def test_the_families_declare_exactly_their_signatures_deviations():
    assert Generator.training_defaults == {} and VAE.training_defaults == {}
    assert DDPM.training_defaults == {"learning_rate": 2e-3, "ema_decay": 0.995}
    for cls in (VAE, DDPM):
        check_training_defaults(cls())
    assert set(TRAINING_DEFAULTS) >= set(DDPM.training_defaults)


def test_the_docstring_names_the_familys_own_defaults_and_only_those():
    assert DDPM.__doc__.rstrip().endswith(
        "Training defaults that differ from :class:`synthkit.Generator`'s: "
        "``learning_rate=0.002``, ``ema_decay=0.995``.")
    assert "Training defaults that differ" not in VAE.__doc__
    assert _Unknown.__doc__ is None  # no docstring of its own: nothing is added


def test_the_new_checks_run_in_the_conformance_suite():
    assert {check_training_defaults, check_refit_idempotent, check_X_not_mutated} <= set(GENERATOR_CHECKS)


class _WritesIntoX(VAE):
    """Clips the caller's rows in place before fitting."""

    def fit(self, X, y=None, **kwargs):
        np.clip(X, -1, 1, out=X)
        return super().fit(X, y, **kwargs)


class _CountsFits(VAE):
    """Trains once more on every refit: state from the first fit leaks into the second."""

    def _fit(self, X, c):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        for _ in range(self.n_fits_):
            super()._fit(X, c)


def test_check_X_not_mutated_fails_on_a_fit_that_writes_into_X():
    with pytest.raises(AssertionError, match="fit\\(X, y\\) changed the caller's X"):
        check_X_not_mutated(_WritesIntoX(**SMALL))


def test_check_refit_idempotent_fails_on_a_fit_that_remembers_the_last_one():
    with pytest.raises(AssertionError, match="a second fit with the same random_state gave other samples"):
        check_refit_idempotent(_CountsFits(**SMALL))
