"""Medical-image generation benchmark: every backbone family through ``ImageSynthesizer``.

Data: healthy 2-D axial brain slices from nilearn's MNI152 template with subject-like
deformation and intensity variation (``make_mni152_slices``, no download), split into
training and held-out slices. Each family fits the training slices under ``--max-time``
seconds with the per-family image networks of ``network_defaults`` (diffusion: MONAI's
``DiffusionModelUNet``), then draws as many slices as the held-out set holds. Scores, on
the model grid with one intensity scale fitted on the training slices
(:mod:`synthkit.domains.medical.metrics`):

* two-sample AUC (PCA + logistic regression on pixels, out of fold; 0.5 = indistinguishable),
  beside the real-vs-real AUC (training vs held-out slices) at the same n;
* copying share (synthetic slices nearer a training slice than any held-out one; 0.5 = none);
* histogram overlap of pixel intensities; fit seconds; images per second sampled.

The non-generative reference is "resample training": held-out-sized draws of training slices
themselves (copying share 1.0 by construction).

Measured figures: ``docs/benchmarks/medical.md``.

Not part of the tests. Usage:
    python benchmarks/medical.py [--max-time 600] [--size 48] [--n 200] [--backbones diffusion gan ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

FAMILIES = ["diffusion", "gan", "vae", "flow", "autoregressive", "ebm", "rbm"]


def main(argv=None) -> int:
    from synthkit.domains.medical import ImagePreprocessor, ImageSet, make_mni152_slices
    from synthkit.domains.medical.metrics import copying_share, intensity_stats, two_sample_auc
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
    rows = [("real vs real (train / held-out)", two_sample_auc(T[: len(H)], H), float("nan"),
             intensity_stats(H, T[: len(H)])["histogram_overlap"], 0.0, float("nan"))]
    pick = np.random.default_rng(0).choice(len(T), len(H), replace=False)
    rows.append(("resample training (reference)", two_sample_auc(H, T[pick]), copying_share(T, H, T[pick]),
                 intensity_stats(H, T[pick])["histogram_overlap"], 0.0, float("nan")))
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
        rows.append((name, two_sample_auc(H, S), copying_share(T, H, S), intensity_stats(H, S)["histogram_overlap"],
                     fit_s, per_s))
        print(f"{name}: done in {fit_s:.0f} s", flush=True)
    print(f"\nMNI152 axial slices {args.size}x{args.size}, {k} train / {args.n - k} held out, "
          f"budget {args.max_time:.0f} s per fit\n")
    print("| model | two-sample AUC | copying share | histogram overlap | fit s | images/s |")
    print("|---|---|---|---|---|---|")
    for name, auc, copy, overlap, fit_s, per_s in rows:
        print(f"| {name} | {auc:.3f} | {copy:.3f} | {overlap:.3f} | {fit_s:.0f} | {per_s:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
