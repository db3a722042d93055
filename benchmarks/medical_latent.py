"""Latent diffusion of 3-D volumes and mask-conditioned 2-D generation through ``ImageSynthesizer``.

Part 1, 3-D latent diffusion (the default for volumes): healthy 32³ brain volumes from nilearn's
MNI152 template with small random 3-D affine deformations and intensity variation
(``make_mni152_volumes``, no download), 3/4 train, 1/4 held out. ``ImageSynthesizer(spatial_dims=3)``
fits MONAI's ``AutoencoderKL`` (30% of ``--max-time``) and a ``DiffusionModelUNet`` on its
3 x 8³ latents (the rest), then draws as many volumes as are held out. Scores on the model grid
with the training volumes' intensity scale (:mod:`synthkit.domains.medical.metrics`): two-sample
AUC (0.5 = indistinguishable) beside real-vs-real, copying share (0.5 = no copying), the
autoencoder's reconstruction error on held-out volumes, fit seconds, volumes per second sampled.

Part 2, mask-conditioned 2-D (``mask_mode="condition"``): MNI152 axial slices with their brain
masks; the model learns p(slice | brain mask) and draws one slice for each held-out mask. How well
samples follow the given masks: the Dice of ``sample > t`` with the given mask, ``t`` the intensity
threshold that best reproduces the masks on the training pairs, beside the same for real held-out
slices (the ceiling) and for the samples against shuffled masks (what ignoring the mask scores);
and the inside-minus-outside mean intensity contrast, beside the real one.

Measured figures: ``docs/benchmarks/medical_latent.md``. Not part of the tests. Usage:
    python benchmarks/medical_latent.py [--max-time 600] [--n3d 64] [--n2d 160] [--size2d 32] [--ae-channels 8 16 16]
        [--parts 3d 2d]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return float(np.mean(2 * (a & b).sum(1) / np.maximum(a.sum(1) + b.sum(1), 1)))


def _contrast(x: np.ndarray, m: np.ndarray) -> float:
    k = m[:, 0] > 0
    return float(np.mean([x[i, 0][k[i]].mean() - x[i, 0][~k[i]].mean() for i in range(len(x))]))


def volumes(args) -> None:
    from synthkit.domains.medical import ImagePreprocessor, ImageSet, make_mni152_volumes
    from synthkit.domains.medical.metrics import copying_share, two_sample_auc
    from synthkit.domains.medical.synthesizer import ImageSynthesizer

    vols = make_mni152_volumes(args.n3d, image_size=32, random_state=0)
    k = args.n3d * 3 // 4
    train, held = vols.subset(range(k)), vols.subset(range(k, args.n3d))
    prep = ImagePreprocessor(image_size=(32, 32, 32)).fit(train)
    T, H = prep.transform(train).array, prep.transform(held).array
    load = os.getloadavg()
    start = time.perf_counter()
    ae_params = None if args.ae_channels is None else {"channels": args.ae_channels}
    synth = ImageSynthesizer(spatial_dims=3, image_size=(32, 32, 32), random_state=0, verbose=0,
                             backbone_params={"max_time": args.max_time}, autoencoder_params=ae_params).fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    S = synth.sample(len(H), random_state=1)
    per_s = len(H) / (time.perf_counter() - start)
    S = prep.transform(ImageSet.from_array(S, affines=synth.preprocessor_.model_affine())).array
    Hm = synth.preprocessor_.transform(held).array.reshape(len(H), -1)
    ae = synth.autoencoder_
    print(f"\n3-D: MNI152 volumes 32^3, {k} train / {args.n3d - k} held out, budget {args.max_time:.0f} s "
          f"(autoencoder {ae.max_time:.0f} s, {len(ae.history_)} epochs; diffusion {synth.backbone_.max_time:.0f} s), "
          f"autoencoder widths {list(ae.channels)}, latent {synth.model_shape_}, scale factor {synth.latent_scale_:.3f}, load average at start "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at end {os.getloadavg()[0]:.2f}\n")
    print("| model | two-sample AUC | copying share | AE held-out L1 | fit s | volumes/s |")
    print("|---|---|---|---|---|---|")
    print(f"| real vs real (train / held-out) | {two_sample_auc(T[: len(H)], H):.3f} | n/a | n/a | 0 | n/a |")
    pick = np.random.default_rng(0).choice(len(T), len(H), replace=False)
    print(f"| resample training (reference) | {two_sample_auc(H, T[pick]):.3f} | "
          f"{copying_share(T, H, T[pick]):.3f} | n/a | 0 | n/a |")
    print(f"| latent diffusion (default) | {two_sample_auc(H, S):.3f} | {copying_share(T, H, S):.3f} | "
          f"{ae.reconstruction_error(Hm).mean():.4f} | {fit_s:.0f} | {per_s:.2f} |", flush=True)


def conditioned(args) -> None:
    from synthkit.domains.medical import ImagePreprocessor, make_mni152_slices
    from synthkit.domains.medical.synthesizer import ImageSynthesizer

    size = args.size2d
    slices, masks = make_mni152_slices(args.n2d, image_size=size, with_masks=True, random_state=0)
    k = args.n2d * 3 // 4
    prep = ImagePreprocessor(image_size=(size, size)).fit(slices.subset(range(k)))
    X, M = prep.transform(slices).array, masks.array
    Xt, Mt, Xh, Mh = X[:k], M[:k], X[k:], M[k:]
    grid = np.linspace(-1, 1, 81)
    t = grid[int(np.argmax([_dice(Xt > g, Mt > 0) for g in grid]))]
    load = os.getloadavg()
    start = time.perf_counter()
    synth = ImageSynthesizer(image_size=(size, size), mask_mode="condition", random_state=0, verbose=0,
                             backbone_params={"max_time": args.max_time}).fit(slices.subset(range(k)), masks=masks.subset(range(k)))
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    S = synth.sample(len(Mh), masks=Mh, random_state=1)
    per_s = len(Mh) / (time.perf_counter() - start)
    S = prep.transform(_as_set(S, synth)).array
    shuffled = Mh[np.random.default_rng(0).permutation(len(Mh))]
    print(f"\n2-D mask-conditioned: MNI152 axial slices {size}x{size} with brain masks, {k} train / "
          f"{args.n2d - k} held-out masks, budget {args.max_time:.0f} s ({len(synth.backbone_.history_)} epochs), "
          f"threshold t={t:.3f} (model scale), load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"at end {os.getloadavg()[0]:.2f}\n")
    print("| images | Dice(image > t, given mask) | inside - outside intensity | fit s | images/s |")
    print("|---|---|---|---|---|")
    print(f"| real held-out slices (ceiling) | {_dice(Xh > t, Mh > 0):.3f} | {_contrast(Xh, Mh):.3f} | n/a | n/a |")
    print(f"| samples for their masks | {_dice(S > t, Mh > 0):.3f} | {_contrast(S, Mh):.3f} | {fit_s:.0f} | {per_s:.1f} |")
    print(f"| samples vs shuffled masks (ignoring the mask) | {_dice(S > t, shuffled > 0):.3f} | "
          f"{_contrast(S, shuffled):.3f} | n/a | n/a |", flush=True)


def _as_set(S, synth):
    from synthkit.domains.medical import ImageSet

    return ImageSet.from_array(S, affines=synth.preprocessor_.model_affine())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--max-time", type=float, default=600.0)
    p.add_argument("--n3d", type=int, default=64, help="volumes in all (3/4 train, 1/4 held out)")
    p.add_argument("--n2d", type=int, default=160, help="slices in all (3/4 train, 1/4 held out)")
    p.add_argument("--size2d", type=int, default=32)
    p.add_argument("--ae-channels", type=int, nargs="*", default=None,
                   help="3-D autoencoder widths (default: the synthesizer's, 16 32 32)")
    p.add_argument("--parts", nargs="*", default=["3d", "2d"], choices=["3d", "2d"])
    args = p.parse_args(argv)
    if "3d" in args.parts:
        volumes(args)
    if "2d" in args.parts:
        conditioned(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
