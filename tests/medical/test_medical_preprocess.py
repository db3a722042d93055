"""ImagePreprocessor: one intensity scale per channel from the training set, exact inverse,
crop / pad / orientation / spacing through MONAI, masks by nearest neighbour, JSON state."""

import json

import numpy as np
import pytest

from synthkit.domains.medical import ImagePreprocessor, ImageSet


def lps_set(n=3, seed=0):
    """Two-channel 3-D images in LPS orientation with different intensity scales per channel."""
    rng = np.random.default_rng(seed)
    images = [np.stack([rng.gamma(2, 100, (6, 7, 5)), rng.normal(-500, 50, (6, 7, 5))]).astype(np.float32)
              for _ in range(n)]
    aff = np.diag([-2.0, -2.0, 3.0, 1.0])
    aff[:3, 3] = [50, 60, -10]
    return ImageSet(images, [aff] * n, [f"img{i}.nii.gz" for i in range(n)])


def test_one_scale_per_channel_fitted_on_the_pooled_training_voxels():
    s = lps_set()
    prep = ImagePreprocessor(orientation=None, percentiles=(1, 99)).fit(s)
    pooled = np.stack(s.images)  # (n, C, ...)
    for c in range(2):
        lo, hi = np.percentile(pooled[:, c], [1, 99])
        assert prep.low_[c] == pytest.approx(lo) and prep.high_[c] == pytest.approx(hi)
    assert prep.low_[0] > 0 > prep.low_[1]  # the channels got their own scales
    Z = prep.transform(s).array
    # one map for every image: an image alone gets exactly what it gets inside the set ...
    np.testing.assert_array_equal(prep.transform(s.subset([1])).array[0], Z[1])
    # ... and the pooled percentiles land on the ends of output_range (not each image's)
    for c in range(2):
        assert np.percentile(Z[:, c], [1, 99]) == pytest.approx([-1.0, 1.0], abs=1e-5)
        assert not np.allclose(np.percentile(Z[0, c], [1, 99]), [-1.0, 1.0], atol=1e-3)


def test_inverse_recovers_intensities_exactly():
    s = lps_set()
    prep = ImagePreprocessor(orientation=None).fit(s)
    Z = prep.transform(s)
    assert Z.array.dtype == np.float32
    back = prep.inverse_transform(Z)
    np.testing.assert_allclose(back.array, s.array, rtol=1e-6, atol=1e-4)
    assert np.abs(Z.array).max() > 1  # outliers beyond the percentiles are kept, not clipped


def test_orientation_and_crop_pad_shapes_and_inverse_onto_the_input_grid():
    s = lps_set()
    prep = ImagePreprocessor(image_size=(8, 6, 5)).fit(s)  # pad x 6->8, crop y 7->6
    Z = prep.transform(s)
    assert Z.array.shape == (3, 2, 8, 6, 5) and Z.orientations == ["RAS"] * 3
    assert np.all(Z.array[:, :, 0] == -1.0) and np.all(Z.array[:, :, -1] == -1.0)  # padded with output low
    # the affine moved with the voxels: world position of every kept voxel is unchanged
    lps, ras = s.affines[0], Z.affines[0]
    i, j, k = 2, 3, 4  # a voxel of the input, inside the kept region
    world = lps @ [i, j, k, 1]
    z_idx = np.linalg.solve(ras, world)[:3]
    np.testing.assert_allclose(z_idx, np.round(z_idx), atol=1e-9)
    zi, zj, zk = np.round(z_idx).astype(int)
    np.testing.assert_allclose(prep.inverse_transform(Z).images[0][:, zi, zj, zk], s.images[0][:, i, j, k], rtol=1e-5)
    back = prep.inverse_transform(Z, like=s)
    assert back.array.shape == s.array.shape
    np.testing.assert_allclose(back.affines[0], s.affines[0])
    # y was cropped by one voxel on one side: that row is lost (0), every other voxel is exact
    err = np.abs(back.array - s.array).max(axis=(0, 1, 2, 4))
    assert (err > 1).sum() == 1 and np.sort(err)[:-1].max() < 1e-3


def test_spacing_resample_and_back():
    s = lps_set(n=1)
    prep = ImagePreprocessor(spacing=1.0).fit(s)
    Z = prep.transform(s)
    assert Z.spacings == [(1.0, 1.0, 1.0)] and Z.images[0].shape == (2, 11, 13, 13)
    back = prep.inverse_transform(Z, like=s)
    np.testing.assert_allclose(back.array, s.array, rtol=1e-5, atol=1e-3)


def test_masks_stay_integer_labels_on_the_image_grid():
    s = lps_set(n=2)
    rng = np.random.default_rng(3)
    masks = ImageSet([rng.integers(0, 3, (1, 6, 7, 5)).astype(np.uint8) for _ in range(2)], s.affines, s.paths)
    prep = ImagePreprocessor(spacing=(1.0, 1.5, 1.0), image_size=(12, 10, 14)).fit(s)  # 11 x 9 x 13, padded
    Zm, Z = prep.transform_masks(masks), prep.transform(s)
    assert Zm.images[0].dtype == np.uint8 and set(np.unique(Zm.array)) == {0, 1, 2}
    assert Zm.array.shape[2:] == Z.array.shape[2:]
    np.testing.assert_allclose(Zm.affines[0], Z.affines[0])
    back = prep.inverse_transform(Zm, like=masks, masks=True)
    assert back.images[0].dtype == np.uint8
    np.testing.assert_array_equal(back.array, masks.array)  # nearest there and back: every label returns


def test_generated_samples_get_the_model_grid_and_input_scale():
    s = lps_set()
    prep = ImagePreprocessor(spacing=(2.0, 2.0, 3.0), image_size=(8, 8, 4)).fit(s)
    samples = np.zeros((4, 2, 8, 8, 4), np.float32)  # what a generator would return: arrays
    out = prep.inverse_transform(samples)
    np.testing.assert_allclose(out.affines[0], np.diag([2.0, 2.0, 3.0, 1.0]))
    mid = [(lo + hi) / 2 for lo, hi in zip(prep.low_, prep.high_)]  # 0 is the middle of (-1, 1)
    np.testing.assert_allclose(out.array[:, :, 0, 0, 0], np.broadcast_to(mid, (4, 2)), rtol=1e-5)


def test_state_is_plain_json_and_reloads_to_the_same_transform():
    s = lps_set()
    prep = ImagePreprocessor(image_size=(8, 6, 5), percentiles=(2, 98)).fit(s)
    text = json.dumps(prep.get_config())  # fails on any numpy scalar or array in the state
    again = ImagePreprocessor.from_config(json.loads(text))
    np.testing.assert_array_equal(again.transform(s).array, prep.transform(s).array)
    np.testing.assert_array_equal(again.inverse_transform(prep.transform(s)).array,
                                  prep.inverse_transform(prep.transform(s)).array)
    with pytest.raises(ValueError, match="unknown state"):
        ImagePreprocessor.from_config({**json.loads(text), "state": {"evil_": 1}})


def test_constant_channel_and_bad_inputs():
    X = np.concatenate([np.full((2, 1, 4, 4), 7.0), np.random.default_rng(0).normal(size=(2, 1, 4, 4))], 1)
    prep = ImagePreprocessor().fit(X)
    Z = prep.transform(X).array
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(prep.inverse_transform(Z).array, X, atol=1e-5)
    with pytest.raises(ValueError, match="image 0: shape .* fitted on 2-D images with 2 channel"):
        prep.transform(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="percentiles"):
        ImagePreprocessor(percentiles=(50, 10)).fit(X)
