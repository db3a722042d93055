"""Denoising diffusion: the noise schedule (forward process) and the DDPM estimator."""

from synthkit.backbones.diffusion.ddpm import DDPM
from synthkit.backbones.diffusion.schedule import NoiseSchedule, make_betas

__all__ = ["DDPM", "NoiseSchedule", "make_betas"]
