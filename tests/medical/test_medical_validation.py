"""Medical parameters checked through synthkit.validation: a ValueError naming the parameter and value."""

import re

import numpy as np
import pytest

from synthkit.domains.medical import ImageAnomalyDetector
from synthkit.domains.medical.autoencoder import LatentAutoencoder
from synthkit.domains.medical.datasets import make_synthetic_shapes
from synthkit.domains.medical.noise import simplex_noise


def raises(words):
    return pytest.raises(ValueError, match=re.escape(words))


@pytest.mark.parametrize(("call", "words"), [
    (lambda: simplex_noise((1, 1, 8, 8), persistence=0), "persistence must be in (0, 1], got 0."),
    (lambda: make_synthetic_shapes(2, image_size=4), "image_size must be an integer >= 8, got 4."),
    (lambda: ImageAnomalyDetector(top_fraction=0).fit(np.zeros((2, 1, 8, 8))), "top_fraction must be in (0, 1], got 0."),
    (lambda: LatentAutoencoder(image_shape=[1, 8, 8], kl_weight=-1.0).fit(np.zeros((4, 64))),
     "kl_weight must be non-negative, got -1.0."),
])
def test_medical_parameters_are_refused_by_name(call, words):
    with raises(words):
        call()
