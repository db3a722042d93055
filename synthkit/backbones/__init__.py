"""Generative families, one per module; see ``synthkit.list_backbones()``."""
