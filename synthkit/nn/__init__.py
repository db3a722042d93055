"""Shared network blocks for flat vectors and for small images given as flat rows, and the
registry of networks backbones take as arguments."""

from synthkit.nn.conv import ConvCritic, ConvGenerator
from synthkit.nn.embeddings import SinusoidalEmbedding
from synthkit.nn.mlp import MLP, ResidualMLP, make_activation
from synthkit.nn.networks import ROLES, build_network, list_networks, register_network
from synthkit.nn.sequence import CausalTransformerNetwork, GRUNetwork
from synthkit.nn.unet import UNetDenoiser

__all__ = ["MLP", "ROLES", "CausalTransformerNetwork", "ConvCritic", "ConvGenerator", "GRUNetwork", "ResidualMLP", "SinusoidalEmbedding", "UNetDenoiser",
           "build_network", "list_networks", "make_activation", "register_network"]
