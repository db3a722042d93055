"""Griffin-Lim started from a learned vocoder's phase, toward the mel energies it was asked for.

:class:`~synthkit.domains.audio.vocoder.MelVocoder` and Griffin-Lim fail in opposite ways:
the network's waveform has a plausible phase and fine harmonic structure but its mel-band
energies drift from the image it decoded; Griffin-Lim from zero phase matches the magnitudes
it is given, but those come from the least-squares inverse of the mel filterbank, blurred
across each band. :func:`refine_phase` keeps the best of each: the target magnitude is the
vocoder's own linear spectrum, rescaled band by band so that its mel energies are the
image's (each frequency bin takes the filterbank-weighted mean of its bands' energy ratios),
and a few Griffin-Lim iterations (Griffin & Lim 1984) start from the vocoder's phase instead
of from zero, as Prusa et al. initialize phase retrieval from a better estimate.

References:
    Griffin & Lim, "Signal estimation from modified short-time Fourier transform",
    IEEE Trans. ASSP 32(2), 1984.
    Prusa, Balazs & Søndergaard, "A noniterative method for reconstruction of phase from
    STFT magnitude", IEEE/ACM TASLP 25(5), 2017 (a good initial phase for Griffin-Lim).
"""

from __future__ import annotations

import numpy as np
import torch

#: band energy ratios are clamped to this range (a silent band cannot be scaled from nothing)
RATIO_RANGE = (1e-4, 1e4)


def _stft(x: torch.Tensor, rep) -> torch.Tensor:
    window = torch.hann_window(rep.n_fft, dtype=x.dtype)
    return torch.stft(x, rep.n_fft, rep.hop, rep.n_fft, window, center=True, pad_mode="reflect", return_complex=True)


def _istft(spec: torch.Tensor, rep, length: int) -> torch.Tensor:
    window = torch.hann_window(rep.n_fft, dtype=spec.real.dtype)
    return torch.istft(spec, rep.n_fft, rep.hop, rep.n_fft, window, center=True, length=length)


def mel_matched_magnitude(spec: torch.Tensor, images: np.ndarray, rep) -> torch.Tensor:
    """``|spec|`` rescaled per bin so that its mel-band energies become those of ``images``.

    Args:
        spec: complex STFT ``(n, n_fft // 2 + 1, frames)`` at the representation's settings.
        images: the encoded log-mel images ``(n, n_mels, frames)`` that were decoded.
        rep: the fitted :class:`~synthkit.domains.audio.LogMel`.
    """
    fb = rep._modules()[0].mel_scale.fb.to(spec.real.dtype)  # (freqs, mels), as MelSpectrogram applies it
    power = spec.abs() ** 2
    have = torch.einsum("fm,nft->nmt", fb, power)
    want = torch.from_numpy(rep.to_power(images)).to(power.dtype)
    ratio = (want / have.clamp_min(1e-12)).clamp(*RATIO_RANGE)
    weight = fb.sum(dim=1, keepdim=True)  # (freqs, 1); 0 outside the filterbank's range
    per_bin = torch.einsum("fm,nmt->nft", fb, ratio) / weight.clamp_min(1e-12)
    per_bin = torch.where(weight[None] > 0, per_bin, torch.ones_like(per_bin))
    return spec.abs() * per_bin.sqrt()


def refine_phase(clips: np.ndarray, images: np.ndarray, rep, n_iter: int) -> np.ndarray:
    """``n_iter`` Griffin-Lim iterations from ``clips``' phase toward the mel-matched magnitude.

    Args:
        clips: ``(n, samples)`` waveforms from a vocoder (their phase is the start).
        images: the encoded log-mel images they were decoded from.
        rep: the fitted :class:`~synthkit.domains.audio.LogMel`.
        n_iter: iterations (each: inverse STFT with the target magnitude and the current
            phase, then STFT); 1 is a single magnitude correction.

    Returns:
        ``(n, samples)`` float32 waveforms.

    Example:
        >>> import numpy as np
        >>> from synthkit.domains.audio import LogMel, log_spectral_distance
        >>> x = (0.5 * np.sin(2 * np.pi * 440 * np.arange(2000) / 8000))[None].astype(np.float32)
        >>> rep = LogMel(sample_rate=8000, n_fft=256, n_mels=40).fit(x)
        >>> noisy = x + 0.05 * np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
        >>> out = refine_phase(noisy, rep.encode(x), rep, 4)  # toward the clean clip's mel energies
        >>> bool(log_spectral_distance(x, out, n_fft=256) < log_spectral_distance(x, noisy, n_fft=256))
        True
    """
    x = torch.from_numpy(np.ascontiguousarray(clips, dtype=np.float32)).double()
    with torch.inference_mode():
        spec = _stft(x, rep)
        target = mel_matched_magnitude(spec, images, rep)
        for _ in range(int(n_iter)):
            x = _istft(target * torch.exp(1j * spec.angle()), rep, x.shape[-1])
            spec = _stft(x, rep)
    return x.float().numpy()


__all__ = ["mel_matched_magnitude", "refine_phase"]
