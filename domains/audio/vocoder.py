"""A small learned vocoder: log-mel images back to waveforms, trained on the real clips.

Griffin-Lim (:class:`~synthkit.domains.audio.LogMel`'s ``decode``) needs no training but loses
twice: the least-squares inversion of the mel filterbank blurs the spectrum, and the phase it
iterates to is only consistent, not right. :class:`MelVocoder` learns the way back instead: a
MelGAN-style generator (Kumar et al. 2019) -- a convolution over frames with the mel bands as
channels, transposed convolutions upsampling by the STFT hop in steps of 8, 4 or 2, each
followed by a residual block of dilated convolutions, and ``tanh`` -- trained on the real clips'
own log-mel images with the multi-resolution STFT loss of Parallel WaveGAN (Yamamoto et al.
2020: spectral convergence plus log-magnitude L1 at three STFT sizes) and no adversary, which
keeps it small enough to train on a CPU in minutes; optionally (``refine_iter``) a few
Griffin-Lim iterations from its output's phase then pull the spectrum back to the mel
energies asked for (:mod:`~synthkit.domains.audio.refine`). It is judged as Griffin-Lim is, by the
log-spectral distance of held-out clips through ``reconstruct``
(``benchmarks/audio.py``, ``docs/benchmarks/audio.md``).

References:
    Kumar et al., "MelGAN: generative adversarial networks for conditional waveform
    synthesis", NeurIPS 2019.
    Yamamoto, Song & Kim, "Parallel WaveGAN", ICASSP 2020.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from synthkit.domains.audio.clips import AudioClips, as_batch, fit_length
from torch import nn

from synthkit.training import seeded
from synthkit.training.runtime import resolve_device
from synthkit.training.progress import progress_bar
from synthkit.validation import check_count, check_counts, check_positive


def upsampling_factors(hop: int) -> list[int]:
    """``hop`` as a product of 8s, 4s and 2s (largest first); it must be a power of two."""
    if hop < 2 or hop & (hop - 1):
        raise ValueError(f"the vocoder upsamples by the STFT hop, which must be a power of two >= 2, got {hop}.")
    factors = []
    while hop > 1:
        f = 8 if hop % 8 == 0 else 4 if hop % 4 == 0 else 2
        factors.append(f)
        hop //= f
    return factors


class ResidualStack(nn.Module):
    """Dilated 3-tap convolutions (dilations 1, 3, 9) with skip connections (MelGAN's residual stack)."""

    def __init__(self, channels: int):
        super().__init__()
        self.layers = nn.ModuleList(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv1d(channels, channels, 3, dilation=d, padding=d),
                                                  nn.LeakyReLU(0.2), nn.Conv1d(channels, channels, 1)) for d in (1, 3, 9))

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


class MelGANGenerator(nn.Module):
    """``(n, n_mels, frames)`` -> ``(n, frames * hop)`` waveforms in (-1, 1)."""

    def __init__(self, n_mels: int, hop: int, channels=(64, 32, 16, 8)):
        super().__init__()
        factors = upsampling_factors(hop)
        widths = [channels[min(i, len(channels) - 1)] for i in range(len(factors) + 1)]
        layers: list[nn.Module] = [nn.Conv1d(n_mels, widths[0], 7, padding=3)]
        for f, a, b in zip(factors, widths[:-1], widths[1:]):
            layers += [nn.LeakyReLU(0.2), nn.ConvTranspose1d(a, b, 2 * f, stride=f, padding=f // 2), ResidualStack(b)]
        layers += [nn.LeakyReLU(0.2), nn.Conv1d(widths[-1], 1, 7, padding=3), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, mel):
        return self.net(mel).squeeze(1)


def stft_loss(reference: torch.Tensor, estimate: torch.Tensor, resolutions, eps: float = 1e-5) -> torch.Tensor:
    """Parallel WaveGAN's multi-resolution STFT loss (mean over resolutions), differentiable."""
    total = reference.new_zeros(())
    for n_fft, hop, win in resolutions:
        window = torch.hann_window(win, device=reference.device)
        s_ref, s_est = (torch.stft(x, n_fft, hop, win, window, return_complex=True).abs().clamp_min(eps)
                        for x in (reference, estimate))
        sc = torch.linalg.norm(s_ref - s_est) / torch.linalg.norm(s_ref)
        total = total + sc + (s_ref.log() - s_est.log()).abs().mean()
    return total / len(resolutions)


class MelVocoder(BaseEstimator):
    """Learn to turn a fitted :class:`~synthkit.domains.audio.LogMel`'s images back into clips.

    Args:
        representation: the fitted ``LogMel`` whose images are decoded, or its
            ``get_config()`` dict (how a saved :class:`AudioSynthesizer` stores it: as JSON).
        channels: widths of the generator's stages (first is the input convolution's).
        max_epochs, batch_size, learning_rate: training budget and Adam's step size.
        max_time: seconds of training at most (checked after every step; ``None``: no cap).
        stft_sizes: FFT sizes of the loss's resolutions (hop a quarter of each); ``None``:
            the representation's ``n_fft``, half and a quarter of it.
        refine_iter: Griffin-Lim iterations run on the network's output at decode time,
            starting from its phase, toward its own spectrum rescaled to the image's mel
            energies (:func:`~synthkit.domains.audio.refine.refine_phase`); 0 decodes by the
            network alone (the default). 4 iterations lower both spectral distances of
            held-out clips through ``reconstruct``, but on a backbone's generated images they
            follow the image more faithfully than the network, whose output sits nearer real
            clips: FID and intended-class accuracy of generated clips are better without
            (``docs/benchmarks/audio.md``). Use it where the inversion must be faithful.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``: where it trains and decodes.
        random_state: seed of the initialization and batches; ``verbose``: a progress bar.

    Attributes:
        modules_: ``{"generator": MelGANGenerator}``, the trained network (saved as
        safetensors by :func:`synthkit.save`); ``resolutions_``: the STFT settings of the loss
        (from ``stft_sizes``); ``loss_``: the last
        epoch's mean training loss; ``n_steps_``, ``fit_seconds_``: the training done.

    Example:
        >>> from synthkit.domains.audio import LogMel, make_words
        >>> words = make_words(8, n_classes=2, duration=0.25, sample_rate=8000, random_state=0)
        >>> mel = LogMel(sample_rate=8000, n_fft=256, n_mels=32).fit(words)
        >>> MelVocoder(mel, max_epochs=1, random_state=0).fit(words).reconstruct(words.clips[:2]).shape
        (2, 2000)
    """

    def __init__(self, representation, *, channels=(64, 32, 16, 8), max_epochs: int = 200, batch_size: int = 16,
                 learning_rate: float = 2e-3, max_time: float | None = None, stft_sizes=None,
                 refine_iter: int = 0, device="auto", random_state=None, verbose: int = 0):
        self.representation = representation
        self.channels = channels
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_time = max_time
        self.stft_sizes = stft_sizes
        self.refine_iter = refine_iter
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def representation_(self):
        """The fitted ``LogMel`` (rebuilt once from a config dict)."""
        if isinstance(self.representation, dict):
            if getattr(self, "_rep", None) is None:
                from synthkit.domains.audio.representations import (
                    representation_from_config,
                )

                self._rep = representation_from_config(self.representation)
            return self._rep
        return self.representation

    def _check_params(self):
        rep = self.representation_
        if not hasattr(rep, "n_samples_") or not hasattr(rep, "hop"):
            raise ValueError("representation must be a fitted LogMel (call .fit(clips) on it first) or its "
                             "get_config() dict.")
        for name in ("max_epochs", "refine_iter"):
            check_count(name, getattr(self, name), 0)
        check_positive("max_time", self.max_time, none_ok=True, unit="seconds")
        return rep

    def fit(self, clips):
        """Train on real clips (``(n, samples)``, a list, or :class:`AudioClips`) of the representation's length."""
        start = time.perf_counter()
        rep = self._check_params()
        x = fit_length(clips.clips if isinstance(clips, AudioClips) else as_batch(clips), rep.n_samples_)
        images = torch.from_numpy(rep.encode(x))
        wave = torch.from_numpy(x)
        sizes = self.stft_sizes or (rep.n_fft, rep.n_fft // 2, rep.n_fft // 4)
        check_counts("stft_sizes", sizes, 16)
        self.resolutions_ = [(int(n), int(n) // 4, int(n)) for n in sizes]
        self.n_mels_, self.hop_ = int(images.shape[1]), int(rep.hop)
        rng = np.random.default_rng(self.random_state)
        with seeded(int(rng.integers(2**31)), torch.device("cpu")):
            self.modules_ = nn.ModuleDict(self._build())  # initialized on the CPU: the same weights anywhere
        device = self._device()
        net = self.modules_["generator"].to(device)
        images, wave = images.to(device), wave.to(device)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate), betas=(0.5, 0.9))
        bar = progress_bar(total=self.max_epochs, verbose=self.verbose, desc="vocoder")
        self.loss_, self.n_steps_, out_of_time = float("nan"), 0, False
        for _ in range(int(self.max_epochs)):
            order, losses = rng.permutation(len(x)), []
            for first in range(0, len(x), int(self.batch_size)):
                idx = torch.from_numpy(order[first:first + int(self.batch_size)]).to(device)
                loss = stft_loss(wave[idx], net(images[idx])[:, : x.shape[1]], self.resolutions_)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
                self.n_steps_ += 1
                out_of_time = self.max_time is not None and time.perf_counter() - start > self.max_time
                if out_of_time:
                    break
            self.loss_ = float(np.mean(losses))
            bar.update(1)
            bar.set_postfix(loss=f"{self.loss_:.3f}")
            if out_of_time:
                break
        bar.close()
        net.eval()
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _build(self) -> dict:
        """The untrained network (how :func:`synthkit.load` rebuilds it before loading the weights)."""
        return {"generator": MelGANGenerator(self.n_mels_, self.hop_, tuple(self.channels))}

    def _device(self) -> torch.device:
        return resolve_device(getattr(self, "device", "cpu"))

    def decode(self, images) -> np.ndarray:
        """Encoded log-mel images ``(n, n_mels, frames)`` -> ``(n, samples)`` float32 clips in [-1, 1]."""
        check_is_fitted(self, "modules_")
        rep = self.representation_
        a = np.ascontiguousarray(images, dtype=np.float32)  # one memory layout, one rounding
        expected = tuple(rep.shape)
        if a.ndim != 3 or a.shape[1:] != expected:
            raise ValueError(f"expected (n, {expected[0]}, {expected[1]}) log-mel images, got shape {a.shape}.")
        net = self.modules_["generator"]
        with torch.inference_mode():
            device = next(net.parameters()).device
            out = torch.cat([net(torch.from_numpy(a[i:i + 64]).to(device)).cpu() for i in range(0, len(a), 64)])
        out = out[:, : rep.n_samples_].numpy()
        if self.refine_iter:
            from synthkit.domains.audio.refine import refine_phase

            out = refine_phase(out, a, rep, int(self.refine_iter))
        return np.clip(out, -1.0, 1.0).astype(np.float32, copy=False)

    def reconstruct(self, clips) -> np.ndarray:
        """Clips through the representation and this vocoder: its ceiling, to set beside Griffin-Lim's."""
        rep = self.representation_
        x = fit_length(clips.clips if isinstance(clips, AudioClips) else as_batch(clips), rep.n_samples_)
        return self.decode(rep.encode(x))


__all__ = ["MelGANGenerator", "MelVocoder", "ResidualStack", "stft_loss", "upsampling_factors"]
