"""Networks for audio, registered with :func:`synthkit.nn.register_network`.

``"wavenet"`` (role ``"sequence"``): a dilated causal convolution stack over μ-law tokens
(van den Oord et al. 2016), usable as ``SequenceModel(cell="wavenet")`` or
``SequenceModel(cell={"name": "wavenet", "channels": 32, "dilations": [1, 2, 4, 8]})``.
Each layer is a gated activation unit ``tanh(W_f * h + V_f c) . sigmoid(W_g * h + V_g c)``
over a kernel-2 causal convolution with dilation ``d``, a 1x1 residual and a 1x1 skip
output; the skips are summed, passed through ReLU-1x1-ReLU-1x1 to logits. A class
condition ``c`` is WaveNet's *global conditioning*: a linear map added to every gate.

The sequence role's state (``f(tokens, c, state) -> (logits, state)``) is the last
``receptive_field - 1`` input tokens: a call with ``state`` runs the stack on the window
``[state, tokens]`` and returns logits for ``tokens`` only. The window covers the whole
receptive field, so a token-by-token draw gives exactly the logits of one pass over the
whole sequence (the zero padding of a short history is the training's left padding), at a
cost per token that depends on the receptive field, not the length drawn so far.

The mel representation needs no network of its own: synthkit's ``"conv"`` networks
(:mod:`synthkit.nn.conv`, :mod:`synthkit.nn.unet`) reshape rows to ``image_shape``, so a
log-mel image is either a 2-D image ``[1, n_mels, frames]`` (SpecGAN, Donahue et al. 2019)
or a 1-D signal with mel bands as channels ``[n_mels, frames]``; see
:func:`mel_network` and ``AudioSynthesizer``.

References:
    van den Oord et al. (2016). WaveNet: a generative model for raw audio. arXiv:1609.03499.
    Donahue, McAuley & Puckette (2019). Adversarial audio synthesis. ICLR (SpecGAN).
    Kong, Ping, Huang, Zhao & Catanzaro (2021). DiffWave: a versatile diffusion model for
    audio synthesis. ICLR.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from synthkit.nn.networks import register_network
from synthkit.validation import check_count, check_counts

#: mel layouts: 2-D image with one channel, or 1-D signal with mel bands as channels
MEL_LAYOUTS = ("1d", "2d")


def mel_network(shape: Sequence[int], layout: str = "1d", channels: Sequence[int] = (64, 128)) -> dict:
    """The ``{"name": "conv", ...}`` network spec for log-mel rows of ``shape`` (n_mels, frames).

    Example:
        >>> mel_network((16, 32), "2d", channels=(8, 16))
        {'name': 'conv', 'image_shape': [1, 16, 32], 'channels': [8, 16]}
    """
    if layout not in MEL_LAYOUTS:
        raise ValueError(f"mel layout must be one of {MEL_LAYOUTS}, got {layout!r}.")
    n_mels, frames = (int(s) for s in shape)
    image = [n_mels, frames] if layout == "1d" else [1, n_mels, frames]
    return {"name": "conv", "image_shape": image, "channels": [int(c) for c in channels]}


class _GatedLayer(nn.Module):
    def __init__(self, channels: int, skip_channels: int, dilation: int, condition_dim: int):
        super().__init__()
        self.dilation = dilation
        self.conv = nn.Conv1d(channels, 2 * channels, 2, dilation=dilation)
        self.cond = nn.Linear(condition_dim, 2 * channels) if condition_dim else None
        self.res = nn.Conv1d(channels, channels, 1)
        self.skip = nn.Conv1d(channels, skip_channels, 1)

    def forward(self, h: torch.Tensor, c: torch.Tensor | None):
        z = self.conv(F.pad(h, (self.dilation, 0)))  # causal: pad on the left only
        if self.cond is not None and c is not None:
            z = z + self.cond(c)[:, :, None]
        filt, gate = z.chunk(2, dim=1)
        out = torch.tanh(filt) * torch.sigmoid(gate)
        return h + self.res(out), self.skip(out)


class WaveNet(nn.Module):
    """``f(tokens, c=None, state=None) -> (logits (n, T, vocab), state)``: dilated causal convs.

    Args:
        vocab_size: softmax width (the input takes ids ``0..vocab_size``, the last the begin token).
        condition_dim: width of the global condition ``c`` (0 for none).
        channels: residual channels.
        skip_channels: skip-connection channels.
        dilations: dilation per layer (kernel 2); receptive field ``1 + sum(dilations)``.

    Example:
        >>> net = WaveNet(vocab_size=9, condition_dim=2, channels=8, dilations=[1, 2, 4])
        >>> tokens = torch.randint(0, 10, (3, 12)); c = torch.eye(2)[[0, 1, 0]]
        >>> full, _ = net(tokens, c)  # one pass over the whole sequence
        >>> logits, state = net(tokens[:, :1], c)
        >>> steps = [logits] + [net(tokens[:, t:t + 1], c, state)[0] for t in range(1, 12)
        ...                     if (state := net(tokens[:, :t], c)[1]) is not None]
        >>> bool(torch.allclose(full, torch.cat(steps, 1), atol=1e-5)), net.receptive_field
        (True, 8)
    """

    def __init__(self, vocab_size: int, condition_dim: int = 0, *, channels: int = 32, skip_channels: int | None = None,
                 dilations: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128), **_shapes):
        super().__init__()
        check_count("wavenet channels", channels)
        dilations = list(check_counts("wavenet dilations", dilations))
        skip = int(skip_channels or channels)
        self.receptive_field = 1 + sum(dilations)
        self.embedding = nn.Embedding(vocab_size + 1, int(channels))
        self.layers = nn.ModuleList(_GatedLayer(int(channels), skip, d, condition_dim) for d in dilations)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(skip, skip, 1), nn.ReLU(), nn.Conv1d(skip, vocab_size, 1))

    def forward(self, tokens: torch.Tensor, c: torch.Tensor | None = None, state=None):
        window = tokens if state is None else torch.cat([state, tokens], dim=1)
        h = self.embedding(window).transpose(1, 2)  # (n, channels, T)
        skips = 0
        for layer in self.layers:
            h, s = layer(h, c)
            skips = skips + s
        logits = self.head(skips).transpose(1, 2)[:, window.shape[1] - tokens.shape[1]:]
        return logits, window[:, -(self.receptive_field - 1):] if self.receptive_field > 1 else window[:, :0]


def _wavenet(in_features: int, out_features: int, condition_dim: int = 0, vocab_size: int | None = None,
             max_positions: int | None = None, **options) -> WaveNet:
    return WaveNet(vocab_size or out_features, condition_dim, **options)


register_network("sequence", "wavenet", _wavenet)
