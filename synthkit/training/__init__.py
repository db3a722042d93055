"""The shared training loop (one template with hooks), device choice, seeding and data-parallel ranks."""

from synthkit.training.loop import TrainingLoop
from synthkit.training.runtime import resolve_device, seeded

__all__ = ["TrainingLoop", "resolve_device", "seeded"]
