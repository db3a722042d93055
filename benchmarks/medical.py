"""Medical-image generation benchmark: every backbone family through ``ImageSynthesizer``.

Data: healthy 2-D axial brain slices from nilearn's MNI152 template with subject-like
deformation and intensity variation (``make_mni152_slices``, no download), split into
training and held-out slices. Each family fits the training slices under ``--max-time``
seconds with the per-family image networks of ``network_defaults`` (diffusion: MONAI's
``DiffusionModelUNet``), then draws as many slices as the held-out set holds. Scores, on
the model grid with one intensity scale fitted on the training slices
(:func:`synthkit.domains.medical.quality.image_quality`, one encoder for every row):

* FID on the features of a rotation-prediction encoder trained here on the training slices,
  beside the real-vs-real FID at the same n (two random halves of the training slices, each
  compared with as many images), and KID (unbiased; about 0 for one distribution);
* MS-SSIM diversity of the samples (the training slices' own is printed above the table);
* precision / recall on the encoder's features;
* two-sample AUC (PCA + logistic regression on pixels, out of fold; 0.5 = indistinguishable);
* copying share (synthetic slices nearer a training slice than any held-out one; 0.5 = none);
* fit seconds; images per second sampled.

The references: "held-out real slices" scored as if they were samples (what a perfect
generator scores at this n), and "resample training" (held-out-sized draws of training
slices themselves; copying share 1.0 by construction). Each row is printed as soon as it is
measured.

Measured figures: ``docs/benchmarks/medical.md``.

Not part of the tests. Usage:
    python benchmarks/medical.py [--max-time 600] [--size 48] [--n 200] [--backbones diffusion gan ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

FAMILIES = ["diffusion", "gan", "vae", "flow", "autoregressive", "ebm", "rbm"]


HEADER = ("| model | FID | FID real-vs-real (n) | KID | MS-SSIM | precision | recall | two-sample AUC | "
          "copying share | fit s | images/s |")


def _row(name: str, q: dict, fit_s: float, per_s: float) -> str:
    return (f"| {name} | {q['fid']:.2f} | {q['fid_real_vs_real']:.2f} ({q['fid_n']}) | {q['kid']:.3f} | "
            f"{q['ms_ssim']:.3f} | {q['precision']:.2f} | {q['recall']:.2f} | {q['two_sample_auc']:.3f} | "
            f"{q['copying_share']:.3f} | {fit_s:.0f} | {per_s:.1f} |")


def main(argv=None) -> int:
    from synthkit.domains.medical import ImagePreprocessor, ImageSet, make_mni152_slices
    from synthkit.domains.medical.encoder import RotationEncoder
    from synthkit.domains.medical.quality import image_quality
    from synthkit.domains.medical.synthesizer import ImageSynthesizer

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--max-time", type=float, default=600.0)
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--n", type=int, default=200, help="slices in all (3/4 train, 1/4 held out)")
    p.add_argument("--backbones", nargs="*", default=FAMILIES)
    args = p.parse_args(argv)

    slices = make_mni152_slices(args.n, image_size=args.size, random_state=0)
    k = args.n * 3 // 4
    train, held = slices.subset(range(k)), slices.subset(range(k, args.n))
    prep = ImagePreprocessor(image_size=(args.size, args.size)).fit(train)
    T, H = prep.transform(train).array, prep.transform(held).array
    start = time.perf_counter()
    encoder = RotationEncoder(random_state=0).fit(T)
    print(f"MNI152 axial slices {args.size}x{args.size}, {k} train / {args.n - k} held out, "
          f"budget {args.max_time:.0f} s per fit; encoder: {encoder.name}, trained in "
          f"{time.perf_counter() - start:.0f} s, rotation accuracy {encoder.accuracy(T):.2f} (train), "
          f"{encoder.accuracy(H):.2f} (held out)", flush=True)

    def quality(S):
        return image_quality(T, S, holdout=H, encoder=encoder)

    ref = quality(H)
    print(f"MS-SSIM of the training slices: {ref['ms_ssim_real']:.3f}\n\n{HEADER}\n|{'---|' * 11}", flush=True)
    print(_row("held-out real slices (reference)", ref, 0.0, float("nan")), flush=True)
    pick = np.random.default_rng(0).choice(len(T), len(H), replace=False)
    print(_row("resample training (reference)", quality(T[pick]), 0.0, float("nan")), flush=True)
    for name in args.backbones:
        start = time.perf_counter()
        synth = ImageSynthesizer(name, image_size=(args.size, args.size), random_state=0,
                                 backbone_params={"max_time": args.max_time}).fit(train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        S = synth.sample(len(H), random_state=1)
        per_s = len(H) / (time.perf_counter() - start)
        S = prep.transform(ImageSet.from_array(S, affines=synth.preprocessor_.model_affine())).array
        S = np.nan_to_num(S, nan=0.0, posinf=0.0, neginf=0.0)
        print(_row(name, quality(S), fit_s, per_s), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
