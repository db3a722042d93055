"""Medical anomaly-localization benchmark: every ``ImageAnomalyDetector`` method beside a voxel
z-score map and a conv autoencoder, on painted lesions of every kind.

Data (no download): healthy 2-D axial MNI152 slices with subject-like deformation and
intensity variation (``make_mni152_slices``): ``--n`` training slices, 32 healthy validation
slices (the Dice threshold: 99th percentile of their maps; the healthy side of image AUROC)
and, per lesion kind in ``LESION_KINDS``, 32 test slices with 1-3 lesions painted inside the
brain mask (``paint_lesions``, radius 2-6 px at 32 px scaled with ``--size``, ``--contrast``
of the robust range). Pixel metrics pool the voxels inside the test slices' brain masks
(Baur et al. 2021), on the model grid. Budgets are epochs (the machine is shared).

Methods: ``anoddpm`` with Gaussian and simplex noise (MONAI U-Net denoiser),
``reconstruction`` (MLP VAE), ``likelihood`` with MADE and with the same VAE's decoder;
baselines ``ZScoreMap`` and ``AutoencoderMap``. Prints a markdown table; ``--json`` writes the rows.

Figures: ``docs/benchmarks/medical_anomaly.md``. Not part of the tests. Usage:
    python benchmarks/medical_anomaly.py [--size 32] [--n 200] [--epochs 60] [--methods ...]
"""

from __future__ import annotations

import argparse
import json
import os
import time

METHODS = ("anoddpm-gaussian", "anoddpm-simplex", "reconstruction-vae", "likelihood-vae", "likelihood-made",
           "zscore", "autoencoder")


def build(name: str, args):
    """An unfitted detector / baseline for ``name`` at the benchmark's budget."""
    from synthkit.domains.medical.anomaly import ImageAnomalyDetector
    from synthkit.domains.medical.baselines import AutoencoderMap, ZScoreMap

    size, e = (args.size, args.size), args.epochs
    common = dict(image_size=size, random_state=args.seed)
    if name.startswith("anoddpm"):
        noise = name.split("-")[1]
        params = {"max_epochs": e, "n_timesteps": 200, "n_sampling_steps": 20, "learning_rate": 2e-3}
        return ImageAnomalyDetector("diffusion", method="anoddpm", noise=noise, noise_level=args.noise_level,
                                    n_repeats=2, backbone_params=params, **common)
    if name in ("reconstruction-vae", "likelihood-vae"):
        params = {"max_epochs": 4 * e, "hidden_dims": (256,), "latent_dim": 32, "prior": "standard"}
        return ImageAnomalyDetector("vae", method=name.split("-")[0], backbone_params=params, **common)
    if name == "likelihood-made":
        return ImageAnomalyDetector("autoregressive", method="likelihood", backbone_params={
            "max_epochs": e, "hidden_dim": 256, "n_blocks": 1, "n_components": 4}, **common)
    if name == "zscore":
        return ZScoreMap(image_size=size)
    if name == "autoencoder":
        return AutoencoderMap(image_size=size, max_epochs=2 * e, random_state=args.seed)
    raise ValueError(f"unknown method {name!r}; choose from {METHODS}.")


def main(argv=None) -> int:
    from synthkit.domains.medical import LESION_KINDS, make_mni152_slices, paint_lesions
    from synthkit.domains.medical.anomaly_metrics import (
        image_auroc,
        localization_scores,
    )

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--n", type=int, default=200, help="healthy training slices")
    p.add_argument("--epochs", type=int, default=60, help="diffusion and MADE epochs; VAE 4x, conv AE 2x")
    p.add_argument("--contrast", type=float, default=0.6)
    p.add_argument("--noise-level", type=float, default=0.3)
    p.add_argument("--methods", nargs="+", default=list(METHODS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    s = args.size
    train = make_mni152_slices(args.n, image_size=s, random_state=args.seed)
    val, val_brain = make_mni152_slices(32, image_size=s, with_masks=True, random_state=args.seed + 1)
    test, brain = make_mni152_slices(32, image_size=s, with_masks=True, random_state=args.seed + 2)
    r = (2.0 * s / 32, 6.0 * s / 32)
    sick = {k: paint_lesions(test, kind=k, contrast=args.contrast, radius=r, where=brain, random_state=args.seed + 3 + i)
            for i, k in enumerate(LESION_KINDS)}
    print(f"# load before: {os.getloadavg()}", flush=True)
    rows = []
    for name in args.methods:
        det = build(name, args)
        t0 = time.perf_counter()
        det.fit(train)
        fit_s = time.perf_counter() - t0
        inside, val_inside = det.transform_masks(brain), det.transform_masks(val_brain)
        healthy_maps = det.anomaly_map(val)
        healthy_scores = det.score_samples(val)
        for kind, (images, masks) in sick.items():
            maps = det.anomaly_map(images)
            truth = det.transform_masks(masks)
            m = localization_scores(maps[inside], truth[inside], healthy_maps[val_inside])
            m["image_auroc"] = image_auroc(healthy_scores, det.score_samples(images))
            rows.append({"method": name, "kind": kind, "fit_s": round(fit_s, 1), **m})
            print(f"{name:20s} {kind:10s} dice {m['best_dice']:.3f} auprc {m['pixel_auprc']:.3f} "
                  f"auroc {m['pixel_auroc']:.3f} img {m['image_auroc']:.3f} dice@thr {m['dice_at_healthy_threshold']:.3f} "
                  f"fit {fit_s:.0f}s load {os.getloadavg()[0]:.1f}", flush=True)
    print()
    print("| method | kind | best Dice | pixel AUPRC | pixel AUROC | image AUROC | Dice @ healthy p99 | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['method']} | {row['kind']} | {row['best_dice']:.3f} | {row['pixel_auprc']:.3f} | "
              f"{row['pixel_auroc']:.3f} | {row['image_auroc']:.3f} | {row['dice_at_healthy_threshold']:.3f} | {row['fit_s']:.0f} |")
    print(f"# load after: {os.getloadavg()}")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"args": vars(args), "rows": [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                                                     for r in rows]}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
