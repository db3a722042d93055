"""``synthkit fit medical IMAGES --masks MASKS`` (issue 22): label maps read from NIfTI files
written here with nibabel, paired with the images by file name; a missing or misnamed mask is
a clear error naming it."""

import nibabel as nib
import numpy as np
import pytest

import synthkit
from synthkit.cli import main
from synthkit.domains.medical.cli import ADAPTER
from synthkit.domains.medical.pairs import pair_masks

PARAMS = ["max_epochs=1", "n_timesteps=20", "n_sampling_steps=2"]


def write_pairs(tmp_path, n=8, skip_mask=None):
    rng = np.random.default_rng(0)
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for i in range(n):
        yy, xx = np.mgrid[:16, :16]
        r = rng.uniform(3, 6)
        inside = (yy - 8) ** 2 + (xx - 8) ** 2 <= r * r
        mask = inside.astype(np.uint8)
        image = (100 + 400 * inside + rng.normal(0, 20, (16, 16))).astype(np.float32)
        nib.save(nib.Nifti1Image(image, np.eye(4)), images / f"case{i:02d}.nii.gz")
        if i != skip_mask:
            nib.save(nib.Nifti1Image(mask, np.eye(4)), masks / f"case{i:02d}.nii.gz")
    return images, masks


def test_fit_with_masks_learns_images_given_masks(tmp_path, capsys):
    images, masks = write_pairs(tmp_path)
    model = tmp_path / "model"
    assert main(["fit", "medical", str(images), "--masks", str(masks), "--out", str(model), "--quiet", "--seed",
                 "0", *[a for p in PARAMS for a in ("--param", p)]]) == 0
    synth = synthkit.load(model)
    assert synth.mask_mode == "condition" and synth.n_condition_channels_ == 1
    given = synthkit.domains.medical.io.load_images(masks).subset([0, 1])
    x = synth.sample(2, masks=given, random_state=0)
    assert x.shape == (2, 1, 16, 16) and np.isfinite(x).all()


def test_masks_are_paired_by_name_not_order(tmp_path):
    images, masks = write_pairs(tmp_path, n=3)
    I = ADAPTER.read(str(images))
    M = ADAPTER.read(str(masks))
    shuffled = M.subset([2, 0, 1])
    paired = pair_masks(I, shuffled, images_from=images, masks_from=masks)
    assert [p.split("/")[-1] for p in paired.paths] == [p.split("/")[-1] for p in I.paths]


def test_a_missing_mask_is_named(tmp_path, capsys):
    images, masks = write_pairs(tmp_path, n=4, skip_mask=2)
    with pytest.raises(ValueError, match=r"has no mask for image 'case02'"):
        ADAPTER.fit(str(images), params={"max_epochs": 1}, masks=str(masks))
    code = main(["fit", "medical", str(images), "--masks", str(masks), "--out", str(tmp_path / "m"), "--quiet"])
    assert code != 0 and "case02" in capsys.readouterr().err


def test_a_mask_without_an_image_is_named(tmp_path):
    images, masks = write_pairs(tmp_path, n=3)
    nib.save(nib.Nifti1Image(np.zeros((16, 16), np.uint8), np.eye(4)), masks / "other.nii.gz")
    with pytest.raises(ValueError, match=r"mask 'other' .* matches no image"):
        ADAPTER.fit(str(images), params={"max_epochs": 1}, masks=str(masks))


def test_masks_for_a_domain_without_them_is_an_error(tmp_path, capsys):
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n3,4\n5,6\n")
    code = main(["fit", "tabular", str(data), "--masks", str(tmp_path), "--out", str(tmp_path / "m"), "--quiet"])
    assert code != 0 and "takes no masks" in capsys.readouterr().err


def test_sample_with_masks_writes_one_image_beside_each_mask(tmp_path, capsys):
    images, masks = write_pairs(tmp_path, n=8)
    model, out = tmp_path / "model", tmp_path / "pairs"
    assert main(["fit", "medical", str(images), "--masks", str(masks), "--out", str(model), "--quiet", "--seed",
                 "0", *[a for p in PARAMS for a in ("--param", p)]]) == 0
    new_masks = tmp_path / "new_masks"
    new_masks.mkdir()
    drawn = []
    for i in range(3):  # masks the model never saw
        m = np.zeros((16, 16), np.uint8)
        m[2 + i : 8 + i, 3:12] = 1
        drawn.append(m)
        nib.save(nib.Nifti1Image(m, np.eye(4)), new_masks / f"new{i}.nii.gz")
    assert main(["sample", str(model), "-n", "3", "--masks", str(new_masks), "--out", str(out), "--batch-size",
                 "2", "--quiet"]) == 0
    names = sorted(f.name for f in out.iterdir())
    assert names == [f"{k}_{i:06d}.nii.gz" for k in ("mask", "sample") for i in range(3)]
    for i in range(3):
        image, mask = nib.load(out / f"sample_{i:06d}.nii.gz"), nib.load(out / f"mask_{i:06d}.nii.gz")
        assert image.shape[:2] == mask.shape[:2] == (16, 16) and np.isfinite(image.get_fdata()).all()
        np.testing.assert_array_equal(image.affine, mask.affine)
        np.testing.assert_array_equal(np.squeeze(mask.get_fdata()) > 0, drawn[i] > 0)  # its own mask, in order
    capsys.readouterr()
    assert main(["sample", str(model), "-n", "5", "--masks", str(new_masks), "--out", str(tmp_path / "o2"),
                 "--quiet"]) != 0
    assert "holds 3 masks" in capsys.readouterr().err
