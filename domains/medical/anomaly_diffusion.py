"""AnoDDPM anomaly maps: partial diffusion of a test image, then denoising with the model of
healthy images (Wyatt et al. 2022).

A test image ``x_0`` is noised to step ``t0 = noise_level * T`` with the forward process the
model was trained with (white Gaussian noise, or AnoDDPM's simplex noise, whose low
frequencies hide whole lesions; :mod:`synthkit.domains.medical.noise`) and denoised back from
``t0`` with deterministic DDIM steps (Song et al. 2021). What the model of healthy anatomy
cannot explain is not restored, so ``|x_0 - x_hat|``, averaged over ``n_repeats`` noise draws,
is the anomaly map.

References:
    Wyatt, Leach, Schmon & Willcocks (2022). AnoDDPM: anomaly detection with denoising
    diffusion probabilistic models using simplex noise. CVPR Workshops.
    Song, Meng & Ermon (2021). Denoising diffusion implicit models. ICLR.
"""

from __future__ import annotations

import numpy as np
import torch

from synthkit.training.runtime import seeded

BACKBONES = ("diffusion",)
DEFAULT_BACKBONE = "diffusion"


def backbone_defaults(detector, image_shape: list[int]) -> dict:
    """Backbone parameters the method sets: the forward noise (``"simplex"``: AnoDDPM's, on the
    model's image shape; ``"gaussian"``: the DDPM default)."""
    if detector.noise == "simplex":
        return {"forward_noise": {"name": "simplex", "image_shape": list(image_shape)}}
    return {}


def pixel_maps(detector, backbone, Z: np.ndarray, random_state) -> np.ndarray:
    """``|x_0 - x_hat|`` per value of the model-grid images ``Z`` ``(n, C, *spatial)``, in the
    preprocessor's scale ([-1, 1] intensities), mean over ``n_repeats`` draws."""
    b = backbone
    X = torch.as_tensor((Z.reshape(len(Z), -1) - b.mean_) / b.scale_, dtype=torch.float32)
    T = int(b.n_timesteps)
    t0 = max(1, min(T - 1, int(round(detector.noise_level * T))))
    steps = sorted({int(s) for s in b.sampling_timesteps() if s < t0} | {t0})
    device = b._device()
    out = np.zeros(X.shape, dtype=np.float64)
    with seeded(random_state, device), torch.no_grad():
        for _ in range(int(detector.n_repeats)):
            for lo in range(0, len(X), b._inference_rows):
                x0 = X[lo:lo + b._inference_rows].to(device)
                x = b.q_sample(x0, torch.full((len(x0),), t0, device=device, dtype=torch.long))
                for t, tp in zip(reversed(steps), reversed([-1] + steps[:-1])):
                    tt = torch.full((1,), t, device=device, dtype=torch.long)
                    x = b.ddim_step(x, tt, torch.full((1,), tp, device=device, dtype=torch.long))
                out[lo:lo + len(x0)] += (x - x0).abs().cpu().numpy()
    return ((out / int(detector.n_repeats)) * b.scale_).reshape(Z.shape)  # back to the preprocessor's scale


def check(backbone) -> None:
    """Refuse a fitted backbone without the DDPM's reverse process."""
    from synthkit.backbones.diffusion import DDPM

    if not isinstance(backbone, DDPM):
        raise ValueError(f"method 'anoddpm' denoises with a diffusion model; use backbone='diffusion', "
                         f"not {type(backbone).__name__}.")
