"""Conformance suites every implementation of a synthkit contract must pass (like
scikit-learn's ``check_estimator``): :func:`check_generator` over backbones
(:mod:`synthkit.testing.generators`), :func:`check_score_rules` over their anomaly scores
(:mod:`synthkit.testing.score_rules`) and :func:`check_domain` over domain adapters
(:mod:`synthkit.testing.domains`).
"""

from synthkit.testing.domains import DOMAIN_CHECKS, check_domain, domain_checks
from synthkit.testing.generators import (
    GENERATOR_CHECKS,
    TINY_BUDGET,
    check_bad_input,
    check_clone_roundtrip,
    check_common_parameters,
    check_conditional,
    check_continuous_conditions,
    check_fit_returns_self_and_keeps_params,
    check_generator,
    check_refit_idempotent,
    check_sample_shape,
    check_save_load,
    check_score_samples,
    check_seeded_reproducibility,
    check_training_defaults,
    check_X_not_mutated,
    generator_checks,
)
from synthkit.testing.score_rules import check_score_rules

__all__ = [
    "DOMAIN_CHECKS",
    "GENERATOR_CHECKS",
    "TINY_BUDGET",
    "check_X_not_mutated",
    "check_bad_input",
    "check_clone_roundtrip",
    "check_common_parameters",
    "check_conditional",
    "check_continuous_conditions",
    "check_domain",
    "check_fit_returns_self_and_keeps_params",
    "check_generator",
    "check_refit_idempotent",
    "check_sample_shape",
    "check_save_load",
    "check_score_rules",
    "check_score_samples",
    "check_seeded_reproducibility",
    "check_training_defaults",
    "domain_checks",
    "generator_checks",
]
