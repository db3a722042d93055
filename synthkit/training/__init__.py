"""The shared training loop, device choice and seeding."""

from synthkit.training.loop import TrainingLoop
from synthkit.training.runtime import resolve_device, seeded

__all__ = ["TrainingLoop", "resolve_device", "seeded"]
