"""Latent diffusion for :class:`~synthkit.domains.medical.synthesizer.ImageSynthesizer`: the
autoencoder stage, the latent scale and the latent denoiser's defaults.

Latent diffusion (Rombach et al. 2022) fits a KL autoencoder
(:class:`~synthkit.domains.medical.autoencoder.LatentAutoencoder`, MONAI's ``AutoencoderKL``)
to the preprocessed images, then the diffusion backbone to the autoencoder's posterior means
multiplied by one scale factor, ``1 / std`` of the training latents, so that the diffusion sees
latents of unit variance as its noise schedule assumes (Rombach et al., sec. 4.3.2 and
appendix G). Sampling runs the chain in latent space, divides by the factor and decodes. The
latent denoiser is MONAI's ``DiffusionModelUNet`` (``"monai-unet"``) on the latent shape.

``latent="auto"`` uses latent space for 3-D volumes with the diffusion backbone (pixel-space
diffusion of a 32³ volume does not fit two CPU cores) and pixel space otherwise.

References:
    Rombach, Blattmann, Lorenz, Esser & Ommer (2022). High-resolution image synthesis with
    latent diffusion models. CVPR.
    Pinaya et al. (2022). Brain imaging generation with latent diffusion models. DGM4MICCAI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.domains.medical.autoencoder import LatentAutoencoder

LATENT_MODES = ("auto", True, False)
#: share of a ``max_time`` budget the autoencoder trains for (the diffusion gets the rest)
AUTOENCODER_TIME_SHARE = 0.3
#: sub-folder of the fit's ``checkpoint_dir`` the autoencoder checkpoints into
AUTOENCODER_FOLDER = "autoencoder"
#: sub-folder of the autoencoder's ``checkpoint_dir`` its finished fit is saved into
FITTED_FOLDER = "fitted"


def uses_latent(latent, spatial_dims: int, backbone_name: str | None) -> bool:
    """Whether a fit runs in latent space: ``latent`` itself, or for ``"auto"`` 3-D with diffusion."""
    if not (latent is True or latent is False or (isinstance(latent, str) and latent == "auto")):
        raise ValueError(f"latent must be 'auto', True or False, got {latent!r}.")
    if latent == "auto":
        return spatial_dims == 3 and backbone_name == "diffusion"
    if latent and backbone_name != "diffusion":
        raise ValueError(f"latent=True runs latent diffusion; use backbone='diffusion', not {backbone_name!r} "
                         "(or latent=False).")
    return bool(latent)


def autoencoder_defaults(image_shape: list[int]) -> dict:
    """CPU-sized ``AutoencoderKL`` settings: widths 16, 32, 32 (two downsamplings, 4**d fewer
    positions) when every spatial size is divisible by 4, else 16, 32 or 16; 3 latent channels."""
    spatial = image_shape[1:]
    if all(s % 4 == 0 for s in spatial):
        channels = [16, 32, 32]
    elif all(s % 2 == 0 for s in spatial):
        channels = [16, 32]
    else:
        channels = [16]
    return {"channels": channels, "latent_channels": 3, "batch_size": 16}


def split_budget(backbone_params: dict | None, autoencoder_params: dict | None, *, train_autoencoder: bool):
    """``(backbone_params, autoencoder_params)`` with a ``max_time`` budget shared out: when the
    backbone has ``max_time`` and the autoencoder no budget of its own, the autoencoder gets
    ``AUTOENCODER_TIME_SHARE`` of it and the backbone the rest."""
    bp, ap = dict(backbone_params or {}), dict(autoencoder_params or {})
    budget = bp.get("max_time")
    if train_autoencoder and budget is not None and "max_time" not in ap and "max_epochs" not in ap:
        ap["max_time"] = AUTOENCODER_TIME_SHARE * float(budget)
        bp["max_time"] = float(budget) - ap["max_time"]
    return bp, ap


def checkpoint_options(autoencoder_params: dict, backbone_params: dict, backbone) -> dict:
    """``autoencoder_params`` with a checkpoint folder of its own: when the fit checkpoints
    (``checkpoint_dir`` in ``backbone_params`` or on a backbone object) and the autoencoder has no
    folder given, it checkpoints into ``<checkpoint_dir>/autoencoder`` (with the backbone's
    ``checkpoint_interval``), so that a killed fit resumed on a new object continues the
    autoencoder stage rather than retraining it (which would change the latents the diffusion's
    checkpoint was written for)."""
    ap = dict(autoencoder_params)
    directory = backbone_params.get("checkpoint_dir", getattr(backbone, "checkpoint_dir", None))
    if directory is None or "checkpoint_dir" in ap:
        return ap
    ap["checkpoint_dir"] = str(Path(directory) / AUTOENCODER_FOLDER)
    interval = backbone_params.get("checkpoint_interval", getattr(backbone, "checkpoint_interval", None))
    if interval is not None and "checkpoint_interval" not in ap:
        ap["checkpoint_interval"] = interval
    return ap


def reusable(previous, image_shape: list[int], resume: bool) -> bool:
    """Whether a refit keeps the fitted autoencoder ``previous``: on ``resume``, when it fits the image shape."""
    return bool(resume) and previous is not None and list(previous.image_shape) == list(image_shape)


def fit_autoencoder(previous, rows: np.ndarray, image_shape: list[int], params: dict, *, seed: int, verbose: int,
                    resume: bool) -> tuple[LatentAutoencoder, bool]:
    """The fitted autoencoder for ``rows`` and whether it was trained now: ``previous`` (the
    synthesizer's ``autoencoder_``) when :func:`reusable`, else a new :class:`LatentAutoencoder`
    over ``autoencoder_defaults`` and ``params``, trained (on ``resume``, continued from its
    checkpoint when ``params`` has a ``checkpoint_dir``)."""
    if reusable(previous, image_shape, resume):
        return previous, False
    options = {**autoencoder_defaults(image_shape), "random_state": seed, "verbose": verbose, **params}
    if "image_shape" in options:
        raise ValueError("autoencoder_params must not set image_shape; it is the preprocessed images' shape.")
    try:
        ae = LatentAutoencoder(image_shape=list(image_shape), **options)
    except TypeError as err:
        raise ValueError(f"autoencoder_params: {err}; see LatentAutoencoder for the parameters.") from None
    if ae.checkpoint_dir is None:
        return ae.fit(rows), True
    finished = Path(ae.checkpoint_dir) / FITTED_FOLDER
    if resume and (done := _finished(finished, ae, rows)) is not None:
        return done, False
    ae.fit(rows, resume=bool(resume))
    ae.data_fingerprint_ = data_fingerprint(rows)
    from synthkit.persistence import save

    save(ae, finished)  # the stage is done: a resumed fit takes this instead of training on
    return ae, True


def training_latents(ae: LatentAutoencoder, rows: np.ndarray, *, restored: bool) -> np.ndarray:
    """``ae.encode(rows)``, kept in ``<checkpoint_dir>/latents.npy`` when the autoencoder
    checkpoints, and read back from there when the stage was ``restored``: re-encoding on
    another run can differ in the last bits (threaded reductions), which would void the
    diffusion's checkpoint (its fingerprint of the training latents)."""
    if ae.checkpoint_dir is None:
        return ae.encode(rows)
    path = Path(ae.checkpoint_dir) / "latents.npy"
    width = int(np.prod(ae.latent_shape_))
    if restored and path.is_file():
        latents = np.load(path, allow_pickle=False)
        if latents.shape == (len(rows), width):
            return latents
    latents = ae.encode(rows)
    from synthkit.io import atomic_path

    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, latents, allow_pickle=False)
    return latents


def data_fingerprint(rows: np.ndarray) -> list[float]:
    """A cheap summary of the autoencoder's training rows (count, width, sum, sum of squares)."""
    r = np.asarray(rows, dtype=np.float64)
    return [round(float(v), 4) for v in (len(r), r.shape[1] if r.ndim == 2 else 0, r.sum(), (r**2).sum())]


def _finished(folder: Path, ae: LatentAutoencoder, rows: np.ndarray):
    """The autoencoder a finished stage saved in ``folder`` when it was fitted with ``ae``'s
    parameters to ``rows``, else ``None``. Restoring the saved model rather than resuming the
    loop matters: a resumed loop whose time budget is spent still takes a step, which would
    change the latents and so void the diffusion's checkpoint."""
    if not (folder / "config.json").is_file():
        return None
    from synthkit.persistence import load

    saved = load(folder)
    ignore = ("verbose", "device", "checkpoint_dir", "checkpoint_interval")  # none changes the model
    same = isinstance(saved, LatentAutoencoder) and all(
        _plain(v) == _plain(ae.get_params()[k]) for k, v in saved.get_params().items() if k not in ignore)
    if not (same and getattr(saved, "data_fingerprint_", None) == data_fingerprint(rows)):
        return None  # another configuration or other data: resume the loop (which checks the data)
    saved.set_params(verbose=ae.verbose, device=ae.device)
    return saved


def latent_scale(latents: np.ndarray) -> float:
    """Rombach et al.'s scale factor: ``1 / std`` of the training latents (1 if they are constant)."""
    std = float(np.std(latents))
    return 1.0 / std if std > 1e-8 else 1.0


def latent_network_defaults(latent_shape: list[int], condition_channels: int = 0) -> dict:
    """Diffusion defaults over latents ``[C, *spatial]``: MONAI's U-Net (widths 32, 64 when every
    size is even, else 32), no per-value clipping, 50 DDIM steps (latents are small)."""
    even = all(s % 2 == 0 for s in latent_shape[1:])
    net = {"name": "monai-unet", "image_shape": list(latent_shape), "channels": [32, 64] if even else [32]}
    if condition_channels:
        net["condition_channels"] = int(condition_channels)
    return {"denoiser_network": net, "clip_denoised": "global", "batch_size": 32, "n_sampling_steps": 50}


def _plain(value):
    """Sequences as lists (a loaded model's tuples come back from JSON as lists)."""
    return list(value) if isinstance(value, (list, tuple)) else value
