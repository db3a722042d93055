"""A small log-mel CNN clip classifier, trained with SpecAugment and waveform perturbations.

The classifier an audio ML engineer would train on a few hundred labelled clips, used by
:func:`~synthkit.domains.audio.augment.evaluate_augmentation` to measure what extra
(synthetic or perturbed) training clips buy on real held-out clips.

Features: torchaudio ``MelSpectrogram`` (~32 ms Hann window, half overlap) in dB,
standardized per mel band with statistics of the real training clips. Network: three
3x3 convolution blocks (batch norm, ReLU; max-pooling after the first two), global average
pooling, dropout and a linear layer -- a scaled-down version of the CNNs of Salamon & Bello
(2017) and of the Speech Commands baselines. Training: Adam, cross-entropy, a fixed number
of epochs (``max_epochs``); in every batch the waveform ``perturbations`` are applied
first, then SpecAugment (Park et al. 2019) masks ``n_masks`` random bands of at most
``freq_mask_param`` mel bins and ``n_masks`` random spans of at most ``time_mask_param``
frames (torchaudio ``FrequencyMasking`` / ``TimeMasking``, a mask per clip), set to 0,
the standardized mean. Time warping, the third SpecAugment policy, is left out, as Park et
al. found it the least useful.

References:
    Park et al., "SpecAugment: a simple data augmentation method for automatic speech
    recognition", Interspeech 2019.
    Salamon & Bello, "Deep convolutional neural networks and data augmentation for
    environmental sound classification", IEEE SPL 24 (2017).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from synthkit.domains.audio.clips import AudioClips, as_batch, fit_length
from synthkit.domains.audio.deps import require_torchaudio
from synthkit.domains.audio.dsp import frame_size
from synthkit.domains.audio.perturb import perturb
from synthkit.training import seeded
from synthkit.training.progress import progress_bar
from synthkit.validation import check_count, check_positive


class LogMelCNN(nn.Module):
    """``(n, 1, n_mels, frames)`` -> ``(n, n_classes)`` logits; ``features`` is the pooled embedding."""

    def __init__(self, n_classes: int, channels=(16, 32), dropout: float = 0.2):
        super().__init__()
        c1, c2 = channels
        def block(a, b):
            return [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
        self.body = nn.Sequential(*block(1, c1), nn.MaxPool2d(2), *block(c1, c2), nn.MaxPool2d(2), *block(c2, c2),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(c2, n_classes))

    def forward(self, x):
        return self.head(self.body(x))


class LogMelCNNClassifier(ClassifierMixin, BaseEstimator):
    """Classify clips from their log-mel image with a small CNN (see the module docstring).

    Args:
        sample_rate: rate of the clips (Hz).
        n_mels: mel bands (default 32 below 16 kHz, else 40).
        spec_augment: apply SpecAugment masks to training batches.
        freq_mask_param, time_mask_param: largest masked band (mel bins) and span (frames);
            ``None``: a sixth of the bands, an eighth of the frames.
        n_masks: masks of each kind per clip (Park et al.'s LD policy uses 2).
        perturbations: waveform perturbations applied to every training batch
            (:mod:`~synthkit.domains.audio.perturb`), or ``None``.
        channels: widths of the two convolution stages.
        max_epochs, batch_size, learning_rate: the training budget and Adam's step size.
        random_state: seed of the initialization, batches, masks and perturbations.
        verbose: show a progress bar over epochs.

    Attributes:
        classes_: the labels; ``n_samples_``: the clip length (clips are cut or padded to it);
        mean_, std_: per-band dB statistics of the training clips; ``network_``: the CNN.

    Example:
        >>> from synthkit.domains.audio import make_words
        >>> words = make_words(16, n_classes=2, duration=0.25, sample_rate=8000, random_state=0)
        >>> clf = LogMelCNNClassifier(8000, max_epochs=2, random_state=0).fit(words)
        >>> clf.predict(words.clips[:3]).shape, clf.predict_proba(words.clips[:3]).shape
        ((3,), (3, 2))
    """

    def __init__(self, sample_rate: int = 16000, *, n_mels=None, spec_augment: bool = True, freq_mask_param=None,
                 time_mask_param=None, n_masks: int = 2, perturbations=None, channels=(16, 32), max_epochs: int = 30,
                 batch_size: int = 32, learning_rate: float = 3e-3, random_state=None, verbose: int = 0):
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.spec_augment = spec_augment
        self.freq_mask_param = freq_mask_param
        self.time_mask_param = time_mask_param
        self.n_masks = n_masks
        self.perturbations = perturbations
        self.channels = channels
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ features
    def _mel(self):
        if getattr(self, "_mel_cache", None) is None:
            n_fft = frame_size(int(self.sample_rate))
            n_mels = self.n_mels or (40 if self.sample_rate >= 16000 else 32)
            self._mel_cache = require_torchaudio().transforms.MelSpectrogram(
                int(self.sample_rate), n_fft=n_fft, hop_length=n_fft // 2, n_mels=n_mels, power=2.0)
        return self._mel_cache

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_mel_cache"}

    def _db(self, x: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            return 10 * torch.log10(self._mel()(torch.from_numpy(x)).clamp_min(1e-10))

    def _images(self, x: np.ndarray) -> torch.Tensor:
        """Standardized log-mel images ``(n, 1, n_mels, frames)``."""
        return ((self._db(x) - self.mean_[:, None]) / self.std_[:, None]).unsqueeze(1)

    def _clips(self, X, y=None, *, fitting=False):
        if isinstance(X, AudioClips):
            if X.sample_rate != self.sample_rate:
                raise ValueError(f"clips are at {X.sample_rate} Hz, the classifier at {self.sample_rate} Hz.")
            y = X.labels if y is None else y
            X = X.clips
        if not isinstance(X, np.ndarray):
            X = fit_length(X, None if fitting else self.n_samples_)
        x = as_batch(X)
        if not fitting:
            x = fit_length(x, self.n_samples_)
        return x, y

    def _check_params(self):
        check_count("sample_rate", self.sample_rate, 4000, unit="Hz")
        for name in ("max_epochs", "n_masks"):
            check_count(name, getattr(self, name), 0)
        check_count("batch_size", self.batch_size)
        check_positive("learning_rate", self.learning_rate)

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X, y=None):
        """Train on clips ``X`` (an ``(n, samples)`` array, a list, or :class:`AudioClips`) with labels ``y``."""
        self._check_params()
        x, y = self._clips(X, y, fitting=True)
        if y is None:
            raise ValueError("fit needs labels: pass y, or AudioClips with labels.")
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(f"y must hold one label per clip ({len(x)}), got shape {y.shape}.")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need clips of at least 2 classes, got only {self.classes_.tolist()}.")
        self.n_samples_ = x.shape[1]
        self._mel_cache = None
        db = self._db(x).double()
        self.mean_, self.std_ = db.mean(dim=(0, 2)).float(), db.std(dim=(0, 2)).clamp_min(1e-3).float()
        n_mels, n_frames = db.shape[1:]
        rng = np.random.default_rng(self.random_state)
        device = torch.device("cpu")
        with seeded(int(rng.integers(2**31)), device):
            self.network_ = LogMelCNN(len(self.classes_), tuple(self.channels))
        masks = self._maskers(n_mels, n_frames)
        opt = torch.optim.Adam(self.network_.parameters(), lr=float(self.learning_rate))
        targets = torch.from_numpy(codes.astype(np.int64))
        bar = progress_bar(total=self.max_epochs, verbose=self.verbose, desc="classifier")
        self.network_.train()
        for _ in range(int(self.max_epochs)):
            order = rng.permutation(len(x))
            for start in range(0, len(x), int(self.batch_size)):
                idx = order[start:start + int(self.batch_size)]
                if len(idx) < 2:  # batch norm needs two clips
                    continue
                batch = x[idx]
                if self.perturbations:
                    batch = perturb(batch, self.perturbations, int(self.sample_rate), rng)
                images = self._images(batch).clone()
                with seeded(int(rng.integers(2**31)), device):
                    for mask in masks:
                        images = mask(images)
                    loss = nn.functional.cross_entropy(self.network_(images), targets[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            bar.update(1)
        bar.close()
        self.network_.eval()
        return self

    def _maskers(self, n_mels: int, n_frames: int) -> list:
        if not self.spec_augment or self.n_masks == 0:
            return []
        T = require_torchaudio().transforms
        f = self.freq_mask_param if self.freq_mask_param is not None else max(1, n_mels // 6)
        t = self.time_mask_param if self.time_mask_param is not None else max(1, n_frames // 8)
        if not (0 < f <= n_mels and 0 < t <= n_frames):
            raise ValueError(f"freq_mask_param must be in [1, {n_mels}] and time_mask_param in [1, {n_frames}] "
                             f"(the image's bands and frames), got {f!r} and {t!r}.")
        return [T.FrequencyMasking(int(f), iid_masks=True), T.TimeMasking(int(t), iid_masks=True)] * int(self.n_masks)

    def _forward(self, X, part: str) -> np.ndarray:
        check_is_fitted(self, "network_")
        x, _ = self._clips(X)
        outs = []
        with torch.inference_mode():
            for start in range(0, len(x), 256):
                images = self._images(x[start:start + 256])
                h = self.network_.body(images)
                outs.append(h if part == "features" else torch.softmax(self.network_.head(h), dim=1))
        return torch.cat(outs).numpy()

    def predict_proba(self, X) -> np.ndarray:
        """``(n, n_classes)`` class probabilities, columns in the order of ``classes_``."""
        return self._forward(X, "proba")

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]

    def transform(self, X) -> np.ndarray:
        """The pooled CNN features ``(n, channels[-1])``, an embedding of each clip."""
        return self._forward(X, "features")


__all__ = ["LogMelCNN", "LogMelCNNClassifier"]
