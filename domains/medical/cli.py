"""The medical-image domain as the ``synthkit`` command sees it: :data:`ADAPTER` in
``synthkit.registry.DOMAINS`` (the :class:`synthkit.adapters.DomainAdapter` contract).

Data is a folder of images (NIfTI, DICOM series, PNG, ``.npy``; read with
:func:`~synthkit.domains.medical.io.load_images`); the adapter writes folders of NIfTI files
(float intensities and affines kept). Folders it creates end in ``.images`` (``suffix``)::

    synthkit fit medical scans/ --out model/ [--max-time S] [--param image_size=[64,64]]
    synthkit fit medical scans/ --masks labels/ --out model/   (images given masks, paired by name)
    synthkit sample model/ -n 100 --out synthetic.images
    synthkit sample model/ -n 20 --masks labels/ --out pairs.images   (one image per mask, beside it)
    synthkit evaluate --domain medical scans/ synthetic.images --holdout held/ --report r.html
    synthkit demo --domain medical --max-time 10
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synthkit.adapters import DomainAdapter, Example
from synthkit.domains.medical.synthesizer import ImageSynthesizer

#: ``--param`` keys that configure the synthesizer; every other key is a backbone parameter
#: (``latent=true``, ``autoencoder_params='{"max_epochs": 20}'``, ``mask_mode=condition``)
SYNTHESIZER_KEYS = ("spatial_dims", "image_size", "orientation", "spacing", "percentiles", "latent",
                    "autoencoder_params", "mask_mode", "random_state", "verbose")


class MedicalAdapter(DomainAdapter):
    name = "medical"
    suffix = ".images"
    quick_params = {"max_epochs": 1, "image_size": [16, 16], "n_timesteps": 20, "n_sampling_steps": 2}

    def read(self, path: str):
        """The images under ``path`` (a folder, or one file) as an :class:`ImageSet`."""
        from synthkit.domains.medical.io import load_images

        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"{path}: no such image file or folder.")
        if p.is_file() and p.stat().st_size == 0:
            raise ValueError(f"{path} is empty: expected a folder of NIfTI / DICOM / PNG / .npy images.")
        if p.is_dir() and not any(p.iterdir()):
            raise ValueError(f"{path} is an empty folder: expected NIfTI / DICOM / PNG / .npy images.")
        return load_images(p)

    def write(self, data, path) -> None:
        """Write an ImageSet or array ``(n, C, *spatial)`` to the new folder ``path`` as NIfTI."""
        from synthkit.domains.medical.save import save_images

        save_images(data, path, names=[f"image_{i:06d}" for i in range(len(data))], format="nii.gz")

    def example(self) -> Example:
        """48 healthy 2-D brain slices (32 x 32) from nilearn's MNI152 template, with
        subject-like deformation and intensity variation (no download)."""
        from synthkit.domains.medical.datasets import make_mni152_slices

        return Example(make_mni152_slices(48, image_size=32, random_state=0), None)

    def split(self, data, test_size: float = 0.25, seed: int = 0, *, target=None):
        """A seeded random split of an ImageSet (or array) by image."""
        n = len(data)
        order = np.random.default_rng(seed).permutation(n)
        k = max(1, int(round(n * test_size)))
        take = data.subset if hasattr(data, "subset") else (lambda idx: data[np.asarray(idx)])
        return take(sorted(order[k:])), take(sorted(order[:k]))

    def fit(self, data, *, backbone=None, params=None, target=None, resume=False, masks=None):
        """Read the images in ``data``, fit an :class:`ImageSynthesizer` and return it (unsaved).

        ``params``: backbone parameters plus the synthesizer's ``SYNTHESIZER_KEYS``
        (``image_size`` defaults to the images' own size, rounded up to even sides).
        ``masks``: a folder of label maps paired with the images by file name
        (:func:`~synthkit.domains.medical.pairs.pair_masks`); the fit learns images given
        masks (``mask_mode="condition"`` unless ``params`` says otherwise).
        ``target`` is not supported (class labels come from Python: ``fit(images, y)``).
        """
        if target is not None:
            raise ValueError("--target is for tables; give class labels to ImageSynthesizer.fit(images, y) in Python.")
        params = dict(params or {})
        images = self.read(data)
        own = {k: params.pop(k) for k in SYNTHESIZER_KEYS if k in params}
        own.setdefault("verbose", 1)
        own.setdefault("spatial_dims", images.spatial_dims)
        if "image_size" not in own:
            own["image_size"] = [s + s % 2 for s in images.spatial_shape(0)]
        if isinstance(own["image_size"], list):
            own["image_size"] = tuple(own["image_size"])
        kwargs = {} if backbone is None else {"backbone": backbone}
        paired = None
        if masks is not None:
            from synthkit.domains.medical.pairs import pair_masks

            paired = pair_masks(images, self.read(masks), images_from=data, masks_from=masks)
            own.setdefault("mask_mode", "condition")
        synth = ImageSynthesizer(**kwargs, backbone_params=params or None, **own)
        return synth.fit(images, masks=paired, resume=resume)

    def sample(self, model, path, n: int, *, batch_size: int = 10_000, seed=None, label=None,
               progress: bool = False, first_batch: int = 0, masks=None) -> int:
        """Write ``n`` images (NIfTI) into the new folder ``path``, in batches of at most
        2**24 values (bounded memory).

        ``masks``: a folder (or file) of label maps for a model fitted with
        ``mask_mode="condition"``: one image is drawn per mask (``n`` must be their number,
        in file-name order), written as ``sample_i`` beside ``mask_i``, the mask on the same
        model grid and affine, so that the pairs can train a segmentation network."""
        if not isinstance(model, ImageSynthesizer):
            raise ValueError(f"the medical domain samples ImageSynthesizer models, not {type(model).__name__}.")
        if masks is not None:
            given = self.read(masks)
            if len(given) != n:
                raise ValueError(f"-n is {n} but {masks} holds {len(given)} masks; one image is drawn per mask, "
                                 f"so give -n {len(given)}.")
            if label is not None:
                raise ValueError("--label is for core generators; a mask-conditioned model takes masks.")
            return model.sample_to_file(path, n, batch_size=self.sample_batch_size(model, batch_size),
                                        random_state=seed, progress=progress, first_batch=first_batch, masks=given)
        return super().sample(model, path, n, batch_size=batch_size, seed=seed, label=label, progress=progress,
                              first_batch=first_batch)

    def sample_batch_size(self, model, batch_size: int) -> int:
        """At most 2**24 values per batch (:meth:`ImageSynthesizer.sample_batch_size`)."""
        return model.sample_batch_size(batch_size)

    def evaluate(self, real, synthetic, *, holdout=None, target=None, reference=None, report=None) -> dict:
        """Image quality of the images in ``synthetic`` against ``real``
        (:func:`~synthkit.domains.medical.quality.image_quality`: FID beside real-vs-real FID
        at equal n and KID on an encoder trained here on ``real``, MS-SSIM diversity,
        precision / recall / density / coverage, two-sample AUCs, copying share with
        ``holdout``) and intensity statistics, on the synthetic images' grid with one
        intensity scale fitted on ``real``; an HTML report with image grids when ``report``."""
        from synthkit.domains.medical.metrics import intensity_stats, two_sample_auc
        from synthkit.domains.medical.preprocess import ImagePreprocessor
        from synthkit.domains.medical.quality import HEADLINE, MIN_REAL, image_quality

        R, S = self.read(real), self.read(synthetic)
        H = None if holdout is None else self.read(holdout)
        if len(R) < MIN_REAL or len(S) < 2:
            raise ValueError(f"evaluate needs at least {MIN_REAL} real and 2 synthetic images, got {len(R)} ({real}) "
                             f"and {len(S)} ({synthetic}).")
        prep = ImagePreprocessor(image_size=S.spatial_shape(0)).fit(R)
        r, s = prep.transform(R).array, prep.transform(S).array
        h = None if H is None else prep.transform(H).array
        results = {"n_real": len(r), "n_synthetic": len(s), "quality": image_quality(r, s, holdout=h),
                   "intensity": intensity_stats(r, s)}
        q = results["quality"]
        results["two_sample_auc"] = q["two_sample_auc"]
        if h is not None:
            results["copying_share"] = q["copying_share"]
            results["two_sample_auc_holdout"] = two_sample_auc(h, s) if min(len(h), len(s)) >= 2 else None
        results["summary"] = {"n_real": len(r), "n_synthetic": len(s)}
        results["summary"].update({k: q[k] for k in HEADLINE if k in q})
        results["summary"]["histogram_overlap"] = results["intensity"]["histogram_overlap"]
        results["summary"]["encoder"] = q["encoder"]
        if report is not None:
            from synthkit.domains.medical.report import write_image_report

            write_image_report(results, r, s, report)
        return json.loads(json.dumps(results))


ADAPTER = MedicalAdapter()
