"""The one Fréchet distance behind FCD, FID and the audio FID."""

import doctest

import numpy as np
import pytest
from scipy import linalg

from synthkit.metrics import frechet
from synthkit.metrics.frechet import frechet_distance, gaussian_frechet_distance, gaussian_stats


def test_doctests():
    assert doctest.testmod(frechet).failed == 0


def test_matches_the_matrix_square_root_formula():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 6)), rng.normal(size=(30, 6)) @ rng.normal(size=(6, 6)) + 0.5
    (m1, s1), (m2, s2) = gaussian_stats(a), gaussian_stats(b)
    root = linalg.sqrtm(s1 @ s2).real
    expected = (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * root)
    assert gaussian_frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-8)


def test_rank_deficient_covariances_fewer_rows_than_features():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 50))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, x + 3.0) == pytest.approx(50 * 9.0, rel=1e-6)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="n >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="do not match"):
        gaussian_frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
