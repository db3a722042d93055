"""Offline training sets (MNI152 slices, MONAI shapes) and the lesion painter's ground truth."""

import socket
import time

import numpy as np
import pytest

from synthkit.domains.medical import LESION_KINDS, make_mni152_slices, make_synthetic_shapes, paint_lesions
from synthkit.domains.medical import datasets


def test_mni152_slices_need_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    datasets.load_mni152.cache_clear()  # read the file again, with the network cut
    s = make_mni152_slices(4, image_size=32, random_state=0)
    assert s.array.shape == (4, 1, 32, 32)


def test_mni152_slices_are_brains_seeded_varied_and_fast():
    make_mni152_slices(1, random_state=0)  # warm the template cache
    start = time.perf_counter()
    s, masks = make_mni152_slices(64, image_size=64, random_state=0, with_masks=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"64 slices took {elapsed:.2f} s"
    X, M = s.array, masks.array.astype(bool)
    assert X.shape == M.shape == (64, 1, 64, 64) and X.dtype == np.float32
    assert 0.2 < M.mean() < 0.7  # a brain fills a good part of each mid-brain slice
    assert X[M].mean() > 5 * np.abs(X[~M]).mean()  # bright brain on dark background
    np.testing.assert_array_equal(make_mni152_slices(64, image_size=64, random_state=0).array, X)
    assert not np.allclose(make_mni152_slices(64, image_size=64, random_state=1).array, X)
    # subject-like variation: no two slices are the same image
    flat = X.reshape(64, -1)
    dist = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    assert dist[~np.eye(64, dtype=bool)].min() > 0.5
    # geometry: 98 x 116 voxels of 2 mm (the 1 mm template in 2 x 2 x 2 blocks) padded to 116
    # and resized to 64 -> 116 * 2 / 64 mm pixels
    assert datasets.load_mni152(2)[0].shape == (98, 116, 94)
    np.testing.assert_allclose(s.spacings[0], (116 * 2 / 64,) * 2)
    assert s.orientations[0] == "RA"


def test_mni152_without_variation_is_the_template_slice():
    vol, _ = datasets.load_mni152(2)
    s = make_mni152_slices(3, image_size=116, deformation=0, intensity=0, noise=0, random_state=0)
    for x, meta in zip(s.images, s.meta):
        expected = np.pad(vol[:, :, meta["slice"]], [(9, 9), (0, 0)])  # 98 -> 116 wide, centred
        np.testing.assert_allclose(x[0], expected, atol=1e-5)


def test_synthetic_shapes_have_matching_masks():
    for dims, size in ((2, 32), (3, 16)):
        images, masks = make_synthetic_shapes(4, image_size=size, spatial_dims=dims, noise_max=0.0, random_state=0)
        assert images.array.shape == masks.array.shape == (4, 1) + (size,) * dims
        X, M = images.array, masks.array.astype(bool)
        assert M.any() and (X[M] > 0).all() and (X[~M] == 0).all()  # objects are exactly the masks


@pytest.mark.parametrize("kind", [*LESION_KINDS, "mixed"])
def test_lesion_masks_are_exactly_the_painted_pixels(kind):
    healthy, brain = make_mni152_slices(16, image_size=48, random_state=0, with_masks=True)
    sick, masks = paint_lesions(healthy, kind=kind, where=brain, random_state=1)
    X, Y, M = healthy.array, sick.array, masks.array
    assert M.dtype == np.uint8 and set(np.unique(M)) <= {0, 1} and M.any()
    np.testing.assert_array_equal((Y != X).any(axis=1, keepdims=True), M.astype(bool))
    assert not (M.astype(bool) & ~brain.array.astype(bool)).any()  # only inside the brain
    change = (Y - X)[M.astype(bool)]
    span = np.percentile(X, 99) - np.percentile(X, 1)
    assert np.abs(change).min() > 0.1 * span  # visible, not a rounding-level change
    if kind in ("bright", "ring"):
        assert (change > 0).all()
    if kind == "dark":
        assert (change < 0).all()


def test_ring_lesions_have_a_hollow_centre_and_3d_works():
    X = np.ones((1, 1, 40, 40, 40), np.float32)
    for seed in range(20):  # a ring whose centre lies well inside, so its bounding box is whole
        Y, M = paint_lesions(X, kind="ring", n_lesions=1, radius=(8, 8), random_state=seed)
        c = np.argwhere(M[0, 0])
        if c.min() > 0 and c.max() < 39:
            break
    assert np.ptp(c, axis=0).min() >= 15  # the whole ring: 2 R across
    centre = np.round((c.min(0) + c.max(0)) / 2).astype(int)
    assert M[0, 0][tuple(centre)] == 0 and M.sum() > 100
    np.testing.assert_array_equal(Y != X, M.astype(bool))


def test_lesion_arguments_are_checked():
    X = np.ones((2, 1, 8, 8), np.float32)
    with pytest.raises(ValueError, match="kind"):
        paint_lesions(X, kind="tumour")
    with pytest.raises(ValueError, match="where has 1 masks for 2 images"):
        paint_lesions(X, where=np.ones((1, 1, 8, 8)))
