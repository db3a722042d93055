"""Shared network blocks for flat vectors."""

from synthkit.nn.embeddings import SinusoidalEmbedding
from synthkit.nn.mlp import MLP, ResidualMLP, make_activation

__all__ = ["MLP", "ResidualMLP", "SinusoidalEmbedding", "make_activation"]
