"""``AnomalousSoundDetector``: flag faulty machine sounds from recordings of healthy ones.

DCASE 2020 Task 2 style (Koizumi et al. 2020): every clip becomes log-mel frames (128 bands
at 16 kHz), five consecutive frames are concatenated into one vector
(:func:`~synthkit.domains.audio.mel.context_frames`), a generative backbone learns the
vectors of normal clips through :class:`synthkit.anomaly.GenerativeDetector`, and a clip's
score is the mean of its frames' scores. scikit-learn's outlier API: higher
``score_samples`` = more normal, ``decision_function`` = score - ``offset_``, ``predict``
gives +1 (normal) / -1 (anomalous), ``offset_`` from ``contamination`` over the training clips.

:func:`auc_pauc` computes the DCASE metrics: the ROC AUC and the partial AUC over false
positive rates up to ``max_fpr`` (0.1), normalized to [0, 1] as DCASE does (not McClish's
standardization).

References:
    Koizumi et al. (2020). Description and discussion on DCASE2020 Challenge Task2:
    unsupervised anomalous sound detection for machine condition monitoring. arXiv:2006.05822.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

from synthkit.domains.audio.clips import AudioClips, fit_length


class AnomalousSoundDetector(OutlierMixin, BaseEstimator):
    """Clip-level anomaly scores from any synthkit backbone over DCASE 5-frame log-mel features.

    Args:
        backbone: a registered backbone name or an unfitted :class:`synthkit.Generator`.
        sample_rate: rate of the clips (Hz).
        n_mels, n_fft, hop_length: the log-mel features (DCASE: 128, 1024, 512 at 16 kHz);
            ``n_fft`` defaults to a 64 ms window, ``hop_length`` to half of it.
        n_frames: frames concatenated per vector (DCASE: 5).
        contamination: share of anomalous training clips assumed; sets ``offset_``.
        score_rule, backbone_params, random_state: as in :class:`synthkit.anomaly.GenerativeDetector`.

    Example:
        >>> from synthkit.domains.audio import make_machine_sounds
        >>> normal = make_machine_sounds(16, n_machines=1, duration=0.25, sample_rate=8000, random_state=0)
        >>> det = AnomalousSoundDetector("vae", sample_rate=8000, n_mels=16, random_state=0,
        ...                              backbone_params={"max_epochs": 1, "hidden_dims": [8]}).fit(normal)
        >>> det.predict(normal).shape
        (16,)
    """

    def __init__(self, backbone="vae", *, sample_rate=16000, n_mels=128, n_fft=None, hop_length=None, n_frames=5,
                 contamination=0.1, score_rule="auto", backbone_params=None, random_state=None):
        self.backbone = backbone
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_frames = n_frames
        self.contamination = contamination
        self.score_rule = score_rule
        self.backbone_params = backbone_params
        self.random_state = random_state

    def _clips(self, clips) -> np.ndarray:
        if isinstance(clips, AudioClips):
            if clips.sample_rate != self.sample_rate:
                raise ValueError(f"the clips are at {clips.sample_rate} Hz, the detector at sample_rate="
                                 f"{self.sample_rate}; resample them (load_audio(..., sample_rate=...)).")
            clips = clips.clips
        n = getattr(self, "n_samples_", None)
        x = fit_length(clips, n)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"expected mono clips as a list or an (n, samples) array, got shape {x.shape}.")
        if not np.isfinite(x).all():
            raise ValueError(f"clip {int(np.flatnonzero(~np.isfinite(x).all(1))[0])} contains NaN or infinite samples.")
        return x

    def _features(self, x: np.ndarray) -> np.ndarray:
        """``(n, frames', n_frames * n_mels)`` DCASE vectors."""
        from synthkit.domains.audio.mel import LogMel, context_frames

        if not hasattr(self, "mel_"):
            n_fft = self.n_fft or 1 << max(6, int(round(np.log2(0.064 * self.sample_rate))))
            self.mel_ = LogMel(sample_rate=int(self.sample_rate), n_fft=int(n_fft),
                               hop_length=int(self.hop_length or n_fft // 2), n_mels=int(self.n_mels),
                               normalize=None).fit(x[:2])
        return context_frames(self.mel_.encode(x), int(self.n_frames))

    def fit(self, clips, y=None):
        """Learn the frames of normal ``clips`` (``y`` ignored); returns ``self``."""
        from synthkit.anomaly import GenerativeDetector

        x = self._clips(clips)
        if len(x) < 2:
            raise ValueError(f"fit needs at least 2 normal clips, got {len(x)}.")
        self.n_samples_ = int(x.shape[1])
        f = self._features(x)
        self.detector_ = GenerativeDetector(self.backbone, contamination=self.contamination,
                                            score_rule=self.score_rule, backbone_params=self.backbone_params,
                                            random_state=self.random_state).fit(f.reshape(-1, f.shape[2]))
        self.offset_ = float(np.quantile(self.score_samples(x), self.contamination))
        return self

    def score_samples(self, clips) -> np.ndarray:
        """Per clip the mean frame score (higher = more normal)."""
        check_is_fitted(self, "detector_")
        x = self._clips(clips)
        f = self._features(x)
        return self.detector_.score_samples(f.reshape(-1, f.shape[2])).reshape(len(x), -1).mean(1)

    def decision_function(self, clips) -> np.ndarray:
        """``score_samples - offset_``: negative for clips flagged anomalous."""
        return self.score_samples(clips) - self.offset_

    def predict(self, clips) -> np.ndarray:
        """+1 for normal clips, -1 for anomalous ones."""
        return np.where(self.decision_function(clips) < 0, -1, 1)


def auc_pauc(is_anomalous, scores, max_fpr: float = 0.1) -> tuple[float, float]:
    """DCASE's ``(AUC, pAUC)`` of anomaly ``scores`` (higher = more anomalous, e.g. minus
    ``score_samples``); pAUC is the area under the ROC up to ``max_fpr`` divided by ``max_fpr``."""
    from sklearn.metrics import roc_curve

    y = np.asarray(is_anomalous).astype(bool)
    if y.all() or not y.any():
        raise ValueError("AUC needs both normal and anomalous clips.")
    fpr, tpr, _ = roc_curve(y, scores)
    auc = float(np.trapezoid(tpr, fpr))
    stop = np.searchsorted(fpr, max_fpr, side="right")
    x = np.concatenate([fpr[:stop], [max_fpr]])
    t = np.concatenate([tpr[:stop], [np.interp(max_fpr, fpr, tpr)]])
    return auc, float(np.trapezoid(t, x) / max_fpr)
