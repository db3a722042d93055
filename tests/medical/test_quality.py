"""Image quality scores with no download: the locally trained encoder, FID / KID on its
features, MS-SSIM diversity, precision / recall, and the checks of ``image_quality``."""

import itertools

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from synthkit.domains.medical import make_mni152_slices
from synthkit.domains.medical.encoder import RotationEncoder
from synthkit.domains.medical.fid import fid, fid_with_reference, kid
from synthkit.domains.medical.msssim import ms_ssim_diversity, msssim_settings
from synthkit.domains.medical.quality import image_quality


@pytest.fixture(scope="module")
def slices():
    x = make_mni152_slices(64, image_size=24, random_state=0).array
    return x[:32], x[32:]


@pytest.fixture(scope="module")
def encoder(slices):
    return RotationEncoder(max_epochs=8, random_state=0).fit(slices[0])


def test_training_lowers_the_rotation_loss_below_chance(slices, encoder):
    real, held = slices
    untrained = RotationEncoder(max_epochs=0, random_state=0).fit(real)
    assert untrained.loss(real) > np.log(4) - 0.05  # chance
    assert encoder.loss(real) < untrained.loss(real) - 0.15
    assert encoder.loss(held) < untrained.loss(held) - 0.15  # it learned anatomy, not these images
    assert encoder.history_[-1] < encoder.history_[0]


def test_encoder_is_seeded(slices):
    a = RotationEncoder(max_epochs=1, random_state=3).fit(slices[0]).transform(slices[1])
    b = RotationEncoder(max_epochs=1, random_state=3).fit(slices[0]).transform(slices[1])
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fid_is_zero_for_one_set_and_grows_with_blur_and_noise(slices, encoder):
    real, held = slices
    fr = encoder.transform(real)
    assert fid(fr, fr) < 1e-8
    blurred = [fid(fr, encoder.transform(gaussian_filter(held, (0, 0, s, s)))) for s in (0, 1, 2, 3)]
    assert all(a < b for a, b in itertools.pairwise(blurred)), blurred
    rng = np.random.default_rng(0)
    noised = [fid(fr, encoder.transform(held + s * real.std() * rng.normal(size=held.shape)))
              for s in (0, 0.3, 0.6, 1.0)]
    assert all(a < b for a, b in itertools.pairwise(noised)), noised


def test_fid_reference_compares_halves_at_equal_n(slices, encoder):
    real, held = slices
    out = fid_with_reference(encoder.transform(real), encoder.transform(held[:10]))
    assert out["fid_n"] == 10 and out["fid"] > 0 and out["fid_real_vs_real"] > 0


def test_kid_is_unbiased_near_zero_for_one_distribution(slices, encoder):
    real, held = slices
    fr, fh = encoder.transform(real), encoder.transform(held)
    same = kid(fr, fh)["kid"]
    blurred = kid(fr, encoder.transform(gaussian_filter(held, (0, 0, 2, 2))))["kid"]
    assert abs(same) < 0.1 * blurred


def test_ms_ssim_is_one_for_copies_and_low_for_noise():
    rng = np.random.default_rng(0)
    one = make_mni152_slices(1, image_size=16, random_state=0).array
    assert ms_ssim_diversity(np.repeat(one, 4, axis=0)) == pytest.approx(1.0, abs=1e-5)
    assert ms_ssim_diversity(rng.random((6, 1, 16, 16))) < 0.3
    volume = rng.random((1, 1, 16, 16, 16))
    assert ms_ssim_diversity(np.repeat(volume, 3, axis=0)) == pytest.approx(1.0, abs=1e-5)
    assert ms_ssim_diversity(rng.random((4, 1, 16, 16, 16))) < 0.3
    assert [len(msssim_settings(s)["weights"]) for s in (16, 48, 64)] == [2, 3, 4]


def test_recall_and_coverage_drop_for_a_mode_collapsed_set(slices, encoder):
    real, held = slices
    rng = np.random.default_rng(0)
    collapsed = np.repeat(held[:2], 16, axis=0) + 0.01 * rng.normal(size=(32,) + held.shape[1:])
    good = image_quality(real, held, encoder=encoder, n_pairs=20)
    bad = image_quality(real, collapsed, encoder=encoder, n_pairs=20)
    assert bad["recall"] < 0.5 * good["recall"] and bad["coverage"] < 0.5 * good["coverage"]
    assert bad["ms_ssim"] > good["ms_ssim"]  # less diverse
    assert good["encoder"] == encoder.name


def test_image_quality_reports_every_score_and_copying(slices, encoder):
    real, held = slices
    q = image_quality(real[:16], real[:16] + 1e-3, holdout=held[:16], encoder=encoder, n_pairs=20)
    for key in ("fid", "fid_real_vs_real", "kid", "ms_ssim", "ms_ssim_real", "precision", "recall", "density",
                "coverage", "two_sample_auc", "two_sample_auc_features", "copying_share"):
        assert np.isfinite(q[key]), key
    assert q["copying_share"] == 1.0  # every synthetic image is a training image


def test_too_few_real_images_and_mismatched_shapes_are_rejected(slices):
    real, held = slices
    with pytest.raises(ValueError, match="at least 4 real images"):
        image_quality(real[:3], held)
    with pytest.raises(ValueError, match="shapes"):
        image_quality(real, held[:, :, :20, :20])
    with pytest.raises(ValueError, match="NaN"):
        image_quality(real, np.full_like(held, np.nan))


@pytest.mark.parametrize("name", ["encoder", "fid", "msssim", "quality"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    module = importlib.import_module("synthkit.domains.medical." + name)
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_image_quality_runs_on_volumes():
    from synthkit.domains.medical import make_synthetic_shapes

    volumes, _ = make_synthetic_shapes(12, image_size=16, spatial_dims=3, random_state=0)
    x = volumes.array
    q = image_quality(x[:8], x[8:], encoder=RotationEncoder(max_epochs=1).fit(x[:8]), n_pairs=8)
    assert np.isfinite(q["fid"]) and 0.0 <= q["ms_ssim"] <= 1.0 and q["n_real"] == 8
