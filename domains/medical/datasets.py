"""Small medical training sets that need no download, built from what installed packages ship.

* :func:`make_mni152_slices`: 2-D slices of the MNI152 ICBM 2009a (symmetric) T1 template
  that nilearn ships in its wheel (``nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz``,
  the file ``nilearn.datasets.load_mni152_template`` reads), each with a small random
  affine + elastic deformation and intensity variation (gain, gamma, a smooth bias field,
  noise), so the set looks like many healthy subjects rather than one. The file is read
  directly with nibabel (located with ``importlib.util.find_spec``, no ``import nilearn``:
  importing nilearn takes seconds and its ``load_mni152_template`` resamples in float64);
  the values are scaled to 0..1 and the brain mask is ``template > 0.2``, both as nilearn does.
* :func:`make_mni152_volumes`: whole 3-D volumes of the same template, each with a small random
  3-D affine deformation and the same intensity variation (for 3-D latent diffusion).
* :func:`make_synthetic_shapes`: MONAI's ``create_test_image_2d`` / ``create_test_image_3d``
  (bright circles / spheres on noise, with their label masks).

Synthetic lesions for anomaly ground truth are painted by :func:`synthkit.domains.medical.paint_lesions`.
Everything is seeded by ``random_state`` and fast (64 slices of 64 x 64 in a few tens of ms
once the template is cached).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from synthkit.domains.medical.deps import INSTALL_HINT
from synthkit.domains.medical.imageset import ImageSet
from synthkit.validation import check_count

MNI152_FILE = "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
_AXES = {"sagittal": 0, "coronal": 1, "axial": 2}


def mni152_path() -> Path:
    """The MNI152 T1 template file inside the installed nilearn package."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the MNI152 template comes with nilearn; {INSTALL_HINT}.")
    path = Path(list(spec.submodule_search_locations)[0]) / MNI152_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the MNI152 template is missing from this nilearn install.")
    return path


@functools.lru_cache(maxsize=2)
def load_mni152(resolution: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The template as float32 in 0..1 and its RAS+ affine, at 1 mm or 2 mm (2 x 2 x 2 block mean).

    Cached: later calls in the process cost nothing. The arrays are read-only.
    """
    import nibabel as nib

    if resolution not in (1, 2):
        raise ValueError(f"resolution must be 1 or 2 (mm), got {resolution!r}.")
    img = nib.load(mni152_path())
    data = np.asarray(img.dataobj).astype(np.float32)
    data /= data.max()
    affine = np.asarray(img.affine, dtype=np.float64)
    if resolution == 2:
        s = [n // 2 * 2 for n in data.shape]
        data = data[: s[0], : s[1], : s[2]].reshape(s[0] // 2, 2, s[1] // 2, 2, s[2] // 2, 2).mean((1, 3, 5))
        affine = affine @ np.diag([2.0, 2.0, 2.0, 1.0])
        affine[:3, 3] += affine[:3, :3] @ np.full(3, 0.25)  # block centre: half a fine voxel in
    data.setflags(write=False)
    return data, affine


def make_mni152_slices(n_images: int = 64, *, image_size: int = 64, axis: str = "axial", resolution: int = 2,
                       band: tuple[float, float] = (0.35, 0.75), deformation: float = 0.05,
                       intensity: float = 0.1, noise: float = 0.01, with_masks: bool = False,
                       random_state=None):
    """Healthy 2-D brain slices from the MNI152 template with subject-like variation.

    Args:
        n_images: number of slices.
        image_size: side of the square output (the slice is padded to a square, then resized).
        axis: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        resolution: template resolution in mm (1 or 2) before resizing.
        band: the fraction of the brain's extent along ``axis`` slices are drawn from
            (``(0.35, 0.75)``: mid-brain axial slices with ventricles and cortex).
        deformation: size of the random deformation (rotation in radians, scale and shift
            as fractions of the image, elastic displacement); 0 disables it.
        intensity: size of the intensity variation (log-gain, log-gamma, bias field); 0 disables it.
        noise: standard deviation of added Gaussian noise (the template range is 0..1).
        with_masks: also return the brain masks, deformed the same way.
        random_state: seed (int) or ``numpy.random.Generator``.

    Returns:
        :class:`ImageSet` of ``(1, image_size, image_size)`` float32 images (axes in the
        template's voxel order, e.g. axial ``(x, y)``; RAS+ affines in mm), and with
        ``with_masks`` a second ImageSet of uint8 brain masks.
    """
    import torch
    import torch.nn.functional as F

    if axis not in _AXES:
        raise ValueError(f"axis must be one of {tuple(_AXES)}, got {axis!r}.")
    check_count("n_images", n_images, 0)
    rng = np.random.default_rng(random_state)
    vol, affine = load_mni152(resolution)
    ax = _AXES[axis]
    brain = vol > 0.2
    area = brain.sum(axis=tuple(i for i in range(3) if i != ax))
    inside = np.flatnonzero(area > 0)
    lo, hi = inside[0] + band[0] * (inside[-1] - inside[0]), inside[0] + band[1] * (inside[-1] - inside[0])
    picks = rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, size=n_images)
    slices = np.moveaxis(vol, ax, 0)[picks]  # (n, a, b)
    masks = np.moveaxis(brain, ax, 0)[picks].astype(np.float32)
    side = max(slices.shape[1:])
    pad = [((side - s) // 2, side - s - (side - s) // 2) for s in slices.shape[1:]]
    slices = np.pad(slices, [(0, 0), *pad])
    masks = np.pad(masks, [(0, 0), *pad])

    grid = _random_grid(n_images, image_size, deformation, rng)
    src = torch.from_numpy(np.stack([slices, masks], 1))  # (n, 2, side, side)
    # grid_sample indexes (x, y) = (last axis, first axis); the grid is built on that convention
    warped = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False).numpy()
    images, brain_masks = warped[:, :1], (warped[:, 1:] > 0.5).astype(np.uint8)
    images = _vary_intensity(images, intensity, noise, rng)

    out_aff = [_slice_affine(affine, ax, int(k), side / image_size, [p[0] for p in pad]) for k in picks]
    meta = [{"source": "MNI152 ICBM 2009a symmetric T1 (nilearn)", "axis": axis, "slice": int(k)} for k in picks]
    result = ImageSet(list(images.astype(np.float32)), out_aff, [], meta)
    if with_masks:
        return result, ImageSet(list(brain_masks), out_aff, [], [dict(m) for m in meta])
    return result


def make_mni152_volumes(n_images: int = 32, *, image_size: int = 32, resolution: int = 2,
                        deformation: float = 0.05, intensity: float = 0.1, noise: float = 0.01,
                        random_state=None) -> ImageSet:
    """Healthy 3-D brain volumes from the MNI152 template with subject-like variation.

    The template is padded to a cube and resampled to ``image_size``³ through a random 3-D
    affine map per volume (rotation about each axis, scale and shift of size ``deformation``),
    then given a gain, a gamma, a smooth bias field (``intensity``) and Gaussian ``noise``.

    Args:
        n_images: number of volumes.
        image_size: side of the output cube.
        resolution: template resolution in mm (1 or 2) before resampling.
        deformation, intensity, noise: as :func:`make_mni152_slices`.
        random_state: seed (int) or ``numpy.random.Generator``.

    Returns:
        :class:`ImageSet` of ``(1, image_size, image_size, image_size)`` float32 volumes (RAS+
        affines in mm of the unperturbed cube).
    """
    import torch
    import torch.nn.functional as F
    from scipy.spatial.transform import Rotation

    check_count("n_images", n_images, 0)
    rng = np.random.default_rng(random_state)
    vol, affine = load_mni152(resolution)
    side = max(vol.shape)
    pad = [((side - s) // 2, side - s - (side - s) // 2) for s in vol.shape]
    cube = torch.from_numpy(np.pad(vol, pad))[None, None].expand(max(n_images, 1), -1, -1, -1, -1)
    rot = Rotation.from_rotvec(rng.normal(0, deformation, (n_images, 3))).as_matrix() if n_images else np.zeros((0, 3, 3))
    scale = np.exp(rng.normal(0, deformation, (n_images, 1, 1)))
    shift = rng.normal(0, deformation, (n_images, 3, 1))
    theta = torch.from_numpy(np.concatenate([rot / scale, shift], axis=2)).float()
    grid = F.affine_grid(theta, [n_images, 1, image_size, image_size, image_size], align_corners=False)
    warped = F.grid_sample(cube[:n_images], grid, mode="bilinear", padding_mode="zeros", align_corners=False).numpy()
    gain = np.exp(rng.normal(0, intensity, (n_images, 1, 1, 1, 1)))
    gamma = np.exp(rng.normal(0, intensity, (n_images, 1, 1, 1, 1)))
    coarse = torch.from_numpy(rng.normal(0, intensity / 2, (n_images, 1, 3, 3, 3))).float()
    bias = np.exp(F.interpolate(coarse, size=(image_size,) * 3, mode="trilinear", align_corners=True).numpy())
    out = gain * np.clip(warped, 0, None) ** gamma * bias
    if noise > 0:
        out = out + rng.normal(0, noise, out.shape)
    ratio = side / image_size
    cube_affine = affine @ np.diag([ratio, ratio, ratio, 1.0])
    cube_affine[:3, 3] = affine[:3, :3] @ (np.array([-p[0] for p in pad]) + 0.5 * ratio - 0.5) + affine[:3, 3]
    meta = [{"source": "MNI152 ICBM 2009a symmetric T1 (nilearn)"} for _ in range(n_images)]
    return ImageSet(list(out.astype(np.float32)), [cube_affine.copy() for _ in range(n_images)], [], meta)


def make_synthetic_shapes(n_images: int = 64, *, image_size: int = 64, spatial_dims: int = 2, num_objs: int = 8,
                          num_seg_classes: int = 1, noise_max: float = 0.1, random_state=None):
    """MONAI's synthetic test images (bright discs or spheres on noise) with their label masks.

    Args:
        n_images: number of images.
        image_size: side of the square (2-D) or cube (3-D).
        spatial_dims: 2 (``create_test_image_2d``) or 3 (``create_test_image_3d``).
        num_objs: objects per image; radii run from ``image_size // 16`` to ``image_size // 5``
            (MONAI needs the largest radius under half the size).
        num_seg_classes: label classes in the masks (1: binary).
        noise_max: uniform noise amplitude MONAI adds.
        random_state: seed (int) or ``numpy.random.Generator``.

    Returns:
        ``(images, masks)``: ImageSets of ``(1, *spatial)`` float32 images and uint8 label maps
        (1 mm voxels).
    """
    from monai.data.synthetic import create_test_image_2d, create_test_image_3d

    if spatial_dims not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims!r}.")
    check_count("image_size", image_size, 8)
    rng = np.random.default_rng(random_state)
    rad_min, rad_max = max(1, image_size // 16), max(2, image_size // 5)
    images, masks = [], []
    for _ in range(n_images):
        rs = np.random.RandomState(int(rng.integers(2**31 - 1)))
        if spatial_dims == 2:
            im, seg = create_test_image_2d(image_size, image_size, num_objs=num_objs, rad_max=rad_max,
                                           rad_min=rad_min, noise_max=noise_max,
                                           num_seg_classes=num_seg_classes, random_state=rs)
        else:
            im, seg = create_test_image_3d(image_size, image_size, image_size, num_objs=num_objs, rad_max=rad_max,
                                           rad_min=rad_min, noise_max=noise_max,
                                           num_seg_classes=num_seg_classes, random_state=rs)
        images.append(im[None].astype(np.float32))
        masks.append(seg[None].astype(np.uint8))
    return ImageSet.from_array(images), ImageSet.from_array(masks)


def _slice_affine(affine: np.ndarray, ax: int, k: int, ratio: float, pad_before) -> np.ndarray:
    """2-D affine of output pixels of slice ``k`` (undeformed grid), in MONAI's 2-D convention:
    the two in-plane world axes in rows 0-1 (the template is axis-aligned), the slice's world
    position along the normal in row 2. ``grid_sample`` (``align_corners=False``) puts output
    pixel ``u`` at padded input coordinate ``(u + 0.5) ratio - 0.5``."""
    keep = [i for i in range(3) if i != ax]
    voxel0 = np.zeros(3)
    voxel0[ax] = k
    for i, p in zip(keep, pad_before):
        voxel0[i] = 0.5 * ratio - 0.5 - p
    world0 = affine[:3, :3] @ voxel0 + affine[:3, 3]
    out = np.eye(4)
    for row, i in enumerate(keep):
        out[row, row] = affine[i, i] * ratio
        out[row, 3] = world0[i]
    out[2, 3] = world0[ax]
    return out


def _random_grid(n: int, size: int, amount: float, rng):
    """Sampling grids ``(n, size, size, 2)`` of a random affine map plus a smooth displacement."""
    import torch
    import torch.nn.functional as F

    angle = rng.normal(0, amount, n)
    scale = np.exp(rng.normal(0, amount, n))
    shift = rng.normal(0, amount, (n, 2))
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    theta = np.stack([np.stack([cos, -sin, shift[:, 0]], 1), np.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(torch.from_numpy(theta).float(), [n, 1, size, size], align_corners=False)
    if amount > 0:
        coarse = torch.from_numpy(rng.normal(0, amount / 2, (n, 2, 4, 4))).float()
        grid = grid + F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    return grid


def _vary_intensity(images: np.ndarray, amount: float, noise: float, rng) -> np.ndarray:
    """Per image: gain and gamma (log-normal), a smooth multiplicative bias field, additive noise."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = images.shape
    gain = np.exp(rng.normal(0, amount, (n, 1, 1, 1)))
    gamma = np.exp(rng.normal(0, amount, (n, 1, 1, 1)))
    coarse = torch.from_numpy(rng.normal(0, amount / 2, (n, 1, 3, 3))).float()
    bias = np.exp(F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).numpy())
    out = gain * np.clip(images, 0, None) ** gamma * bias
    if noise > 0:
        out = out + rng.normal(0, noise, out.shape)
    return out.astype(np.float32)
