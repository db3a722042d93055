"""The token-sequence family: an autoregressive model over token ids (``model``) and its
batched decoding with temperature, top-k / top-p and constraints (``decoding``); the networks
it is built on live in :mod:`synthkit.nn.sequence`."""

from synthkit.backbones.sequence.decoding import (
           DecodingConstraint,
           DecodingState,
           decode,
           draw_token,
)
from synthkit.backbones.sequence.model import CELLS, SequenceModel
from synthkit.nn.sequence import CausalBlock, CausalTransformerNetwork, GRUNetwork

__all__ = ["CELLS", "CausalBlock", "CausalTransformerNetwork", "DecodingConstraint", "DecodingState", "GRUNetwork",
           "SequenceModel", "decode", "draw_token"]
