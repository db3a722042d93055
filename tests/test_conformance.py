"""Every registered backbone, and every non-default variant in ``VARIANTS``, passes the shared
conformance suite (synthkit.testing), generator checks and score-rule checks alike."""

import pytest

import synthkit
from synthkit.testing import GENERATOR_CHECKS, check_score_rules

BACKBONES = sorted(synthkit.list_backbones())
SMALL = {"hidden_dims": (16,), "n_calibration_steps": 200}
#: "<backbone>:<variant>" -> the parameters that make the variant
VARIANTS = {"flow:cnf": {"flow": "cnf"}}


def _small(name):
    est = synthkit.make_generator(name.partition(":")[0], **VARIANTS.get(name, {}))
    return est.set_params(**{k: v for k, v in SMALL.items() if k in est.get_params()})


@pytest.mark.parametrize("check", GENERATOR_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", BACKBONES + list(VARIANTS))
def test_conformance(name, check):
    check(_small(name))


@pytest.mark.parametrize("name", BACKBONES + list(VARIANTS))
def test_score_rules(name):
    check_score_rules(_small(name))
