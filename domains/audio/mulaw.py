"""μ-law tokens: each sample companded and quantized to one of 256 levels (WaveNet's input).

Companding ``F(x) = sign(x) ln(1 + μ|x|) / ln(1 + μ)`` before uniform quantization spends
the levels where speech spends its time -- near zero -- so 8 bits cover the dynamic
range of 14-bit linear PCM (G.711). A clip becomes a sequence of integer tokens in
``[0, 255]`` that a token backbone (an autoregressive model with a dilated causal conv
stack) learns with a softmax over 256 classes; tokens decode back to samples with ``F^-1``.

Round-trip error: quantization moves ``F(x)`` by at most half a level, ``1/μ``, so
``|x - decode(encode(x))| <= (|x| + 1/μ)(e^{ln(1+μ)/μ} - 1)`` -- about 2.2 % of ``|x|``
plus 8.6e-5 for μ = 255 (:meth:`MuLaw.error_bound`).

References:
    ITU-T Recommendation G.711 (1972), the μ-law of telephony.
    van den Oord et al., "WaveNet: A Generative Model for Raw Audio", arXiv:1609.03499
    (2016), section 2.2: μ-law companding to 256 values and a softmax output.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from synthkit.domains.audio.base import Representation
from synthkit.domains.audio.deps import require_torchaudio


class MuLaw(Representation):
    """Clips as μ-law token sequences, ``(n, samples)`` int64 in ``[0, quantization_channels)``.

    Args:
        sample_rate: the clips' rate (checked against :class:`AudioClips`; tokens are per sample).
        quantization_channels: number of levels, μ + 1 (WaveNet: 256).

    Example:
        >>> import numpy as np
        >>> x = np.sin(np.linspace(0, 20, 800, dtype=np.float32))[None] * 0.5
        >>> rep = MuLaw(sample_rate=8000).fit(x)
        >>> tokens = rep.encode(x)
        >>> tokens.dtype, rep.shape, int(tokens.min()) >= 0, int(tokens.max()) <= 255
        (dtype('int64'), (800,), True, True)
        >>> bool(np.all(np.abs(rep.decode(tokens) - x) <= rep.error_bound(x)))
        True
    """

    name = "mu_law"

    def __init__(self, sample_rate: int = 16000, quantization_channels: int = 256):
        self.sample_rate = sample_rate
        self.quantization_channels = quantization_channels

    def _check_params(self):
        if not isinstance(self.quantization_channels, int) or not 2 <= self.quantization_channels <= 65536:
            raise ValueError("quantization_channels must be an integer in [2, 65536], "
                             f"got {self.quantization_channels!r}.")

    @property
    def n_tokens(self) -> int:
        """Vocabulary size of the tokens (the softmax width of a token backbone)."""
        return self.quantization_channels

    def error_bound(self, x) -> np.ndarray:
        """The largest ``|x - decode(encode(x))|`` that quantization allows, per sample.

        ``(|x| + 1/μ)(e^{ln(1+μ)/μ} - 1)``, plus 1e-6 for the float32 arithmetic of the codec.
        """
        mu = self.quantization_channels - 1
        x = np.minimum(np.abs(np.asarray(x, dtype=np.float64)), 1.0)
        return (x + 1 / mu) * math.expm1(math.log1p(mu) / mu) + 1e-6

    def _shape(self):
        return (self.n_samples_,)

    def _encode(self, x):
        F = require_torchaudio().functional
        with torch.inference_mode():
            return F.mu_law_encoding(torch.from_numpy(np.clip(x, -1.0, 1.0)), self.quantization_channels).numpy()

    def _decode(self, a):
        if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= self.quantization_channels:
            raise ValueError(f"μ-law tokens must be integers in [0, {self.quantization_channels}), got "
                             f"{a.dtype} in [{a.min()}, {a.max()}].")
        F = require_torchaudio().functional
        with torch.inference_mode():
            return F.mu_law_decoding(torch.from_numpy(a.astype(np.int64)), self.quantization_channels).numpy()
