"""Log-mel "images" of clips, and Griffin-Lim to hear them again.

A clip becomes a ``(n_mels, n_frames)`` image: torchaudio's ``MelSpectrogram`` (power STFT
through a triangular mel filterbank), in dB with a floor, then standardized with a mean
and standard deviation fitted on the training clips (one pair, or one per mel band). This
is what a 2-D conv backbone (a GAN, a VAE, a diffusion U-Net) learns, and the input of the
DCASE 2020 Task 2 anomaly baseline (128 mel bands; :func:`context_frames` stacks its
5-frame vectors).

Decoding undoes the standardization and the dB, recovers a linear-frequency power
spectrogram with ``InverseMelScale`` (least squares through the filterbank, negatives
clipped) and a waveform with ``GriffinLim``, which iterates STFT / inverse STFT to find a
phase consistent with the magnitudes (with Perraudin's fast momentum). It is a vocoder
without training: intelligible, slightly phasey. The learned alternative is
:class:`~synthkit.domains.audio.vocoder.MelVocoder` (``AudioSynthesizer(vocoder="learned")``).

References:
    Griffin & Lim, "Signal estimation from modified short-time Fourier transform",
    IEEE Trans. ASSP 32(2), 1984.
    Perraudin, Balazs & Søndergaard, "A fast Griffin-Lim algorithm", WASPAA 2013.
    Koizumi et al., "Description and discussion on DCASE2020 Challenge Task2: unsupervised
    anomalous sound detection for machine condition monitoring", DCASE 2020 (arXiv:2006.05822).
"""

from __future__ import annotations

import numpy as np
import torch

from synthkit.domains.audio.base import Representation
from synthkit.domains.audio.deps import require_torchaudio
from synthkit.validation import check_count, check_fraction

NORMALIZATIONS = ("global", "per_band", None)


class LogMel(Representation):
    """Clips as standardized log-mel images, ``(n, n_mels, n_frames)`` float32.

    Args:
        sample_rate: the clips' rate.
        n_fft: STFT size (Hann window of the same length); DCASE 2020 uses 1024 at 16 kHz.
        hop_length: STFT step; default ``n_fft // 4`` (Griffin-Lim needs overlap of 75 %
            to recover phase well; DCASE's 512 is coarser).
        n_mels: mel bands (DCASE: 128; fewer at low rates, where narrow bands go empty).
        f_min, f_max: frequency range of the filterbank (``f_max`` defaults to Nyquist).
        top_db: floor of the dB image, this far below 0 dB (a power of 1); silence maps to it.
        normalize: ``"global"`` (one mean / std over all bins), ``"per_band"`` (one per mel
            band) or ``None`` (raw dB), fitted on the training clips.
        n_iter: Griffin-Lim iterations of :meth:`decode`.
        momentum: fast Griffin-Lim momentum (0 is the 1984 algorithm; 0.99 is Perraudin's).
            Griffin-Lim starts from zero phase, so :meth:`decode` is deterministic.

    At 16 kHz with the defaults (n_fft 1024, 128 bands, 32 iterations), 1-second clips of
    :func:`~synthkit.domains.audio.words.make_words` come back at a log-spectral distance
    of about 5.5 dB and a multi-resolution STFT distance of about 0.9 (random images: 17 dB,
    2.7); 100 iterations gain almost nothing, since the loss is the mel filterbank's.

    Example:
        >>> import numpy as np
        >>> t = np.arange(2000) / 8000
        >>> x = (0.5 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)
        >>> rep = LogMel(sample_rate=8000, n_fft=256, n_mels=40).fit(x)
        >>> rep.shape
        (40, 32)
        >>> rep.decode(rep.encode(x)).shape
        (1, 2000)
    """

    name = "log_mel"

    def __init__(self, sample_rate: int = 16000, n_fft: int = 1024, hop_length: int | None = None,
                 n_mels: int = 128, f_min: float = 0.0, f_max: float | None = None, top_db: float = 100.0,
                 normalize: str | None = "global", n_iter: int = 32, momentum: float = 0.99):
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.f_min = f_min
        self.f_max = f_max
        self.top_db = top_db
        self.normalize = normalize
        self.n_iter = n_iter
        self.momentum = momentum

    @property
    def hop(self) -> int:
        return self.hop_length or self.n_fft // 4

    def _check_params(self):
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {self.normalize!r}.")
        check_count("n_fft", self.n_fft, 16)
        check_count("hop_length", self.hop_length, none_ok=True)
        if self.hop > self.n_fft:
            raise ValueError(f"hop_length must be at most n_fft={self.n_fft}, got {self.hop_length!r}.")
        check_fraction("momentum", self.momentum, zero_ok=True)
        nyquist = self.sample_rate / 2
        if not 0 <= self.f_min < (self.f_max or nyquist) <= nyquist:
            raise ValueError(f"need 0 <= f_min < f_max <= {nyquist} Hz (Nyquist), got {self.f_min}, {self.f_max}.")

    # -- torchaudio modules, built once per instance ---------------------------------------
    def _modules(self):
        if getattr(self, "_cache", None) is None:
            T = require_torchaudio().transforms
            mel = T.MelSpectrogram(self.sample_rate, n_fft=self.n_fft, hop_length=self.hop, n_mels=self.n_mels,
                                   f_min=self.f_min, f_max=self.f_max, power=2.0)
            inv = T.InverseMelScale(self.n_fft // 2 + 1, n_mels=self.n_mels, sample_rate=self.sample_rate,
                                    f_min=self.f_min, f_max=self.f_max)
            gl = T.GriffinLim(n_fft=self.n_fft, n_iter=self.n_iter, hop_length=self.hop, power=2.0,
                              momentum=self.momentum, length=self.n_samples_, rand_init=False)
            self._cache = (mel, inv, gl)
        return self._cache

    def __getstate__(self):  # the modules are rebuilt on demand, never stored
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}

    def _db(self, x: np.ndarray) -> torch.Tensor:
        mel = self._modules()[0]
        with torch.inference_mode():
            power = mel(torch.from_numpy(x))
            return 10 * torch.log10(power.clamp_min(10 ** (-self.top_db / 10)))

    def _fit(self, x):
        if x.shape[1] <= self.n_fft // 2:
            raise ValueError(f"clips of {x.shape[1]} samples are shorter than half an STFT frame "
                             f"(n_fft={self.n_fft}); use a smaller n_fft or longer clips.")
        self._cache = None  # Griffin-Lim's output length follows the fitted clip length
        db = torch.cat([self._db(x[i:i + 256]) for i in range(0, len(x), 256)])
        axes = (0, 2) if self.normalize == "per_band" else (0, 1, 2)
        if self.normalize is None:
            mean, std = torch.zeros(1), torch.ones(1)
        else:
            mean, std = db.double().mean(dim=axes), db.double().std(dim=axes).clamp_min(1e-3)
        self.mean_ = [float(v) for v in mean.flatten()]
        self.std_ = [float(v) for v in std.flatten()]

    def _get_state(self):
        return {"mean": list(self.mean_), "std": list(self.std_)}

    def _set_state(self, state):
        self.mean_, self.std_ = [float(v) for v in state.pop("mean")], [float(v) for v in state.pop("std")]
        super()._set_state(state)

    def _stats(self):
        mean = torch.tensor(self.mean_, dtype=torch.float32).view(1, -1, 1)
        std = torch.tensor(self.std_, dtype=torch.float32).view(1, -1, 1)
        return mean, std

    def _shape(self):
        return (self.n_mels, self.n_samples_ // self.hop + 1)

    def _encode(self, x):
        mean, std = self._stats()
        return ((self._db(x) - mean) / std).numpy()

    def to_power(self, images) -> np.ndarray:
        """Encoded images -> mel power spectrograms (the inverse of the dB and standardization)."""
        mean, std = self._stats()
        db = torch.from_numpy(np.asarray(images, dtype=np.float32)) * std + mean
        return torch.pow(10.0, db.clamp(-self.top_db, 60.0) / 10).numpy()

    def _decode(self, a):
        _, inv, gl = self._modules()
        with torch.inference_mode():
            spec = inv(torch.from_numpy(self.to_power(a))).clamp_min(0.0)
            return gl(spec).numpy()


def context_frames(images: np.ndarray, n_frames: int = 5) -> np.ndarray:
    """DCASE 2020 Task 2 feature vectors: ``n_frames`` consecutive log-mel frames, concatenated.

    ``(n, n_mels, T)`` -> ``(n, T - n_frames + 1, n_frames * n_mels)``, frame-major (the
    baseline's 5 x 128 = 640-dimensional vectors, one per frame position).
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[2] < n_frames:
        raise ValueError(f"need (n, n_mels, frames) images with at least {n_frames} frames, got {images.shape}.")
    windows = np.lib.stride_tricks.sliding_window_view(images, n_frames, axis=2)  # (n, mels, T', k)
    return np.ascontiguousarray(windows.transpose(0, 2, 3, 1)).reshape(images.shape[0], -1, n_frames * images.shape[1])
