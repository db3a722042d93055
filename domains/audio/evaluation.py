"""Scores of synthetic clips against real ones, on a classifier the project trains itself.

Fréchet Audio Distance packages download their embedding models, so this follows the
recipe of DiffWave (Kong et al. 2021) and SaShiMi (Goel et al. 2022) with a classifier
trained here, on the real clips only:

- features: per mel band the mean and standard deviation over time of a log-mel image
  (a fixed :class:`~synthkit.domains.audio.LogMel`, no normalization), standardized;
- classifier: a one-hidden-layer MLP (scikit-learn); its hidden activations are the
  embedding for the Fréchet distance (FID, Heusel et al. 2017), reported beside the same
  distance between two halves of the real clips (real-vs-real at equal n);
- intended-class accuracy: the share of synthetic clips the classifier puts in the class
  they were generated for (labels of the synthetic folder), beside its accuracy on the
  real holdout; and the inception score exp E[KL(p(y|x) || p(y))];
- from :mod:`~synthkit.domains.audio.quality`: the modified inception score and AM score of
  the synthetic clips (beside those of the real holdout), NDB/K on k-means bins of the
  embedding (beside real-vs-real at equal n) and the copying share (synthetic clips nearer
  to a training clip than to any held-out clip, beside what a generator that does not copy
  scores: ``n_train / (n_train + n_holdout)``);
- spectral: the log-spectral distance (dB) between the mean power spectra of the real and
  the synthetic clips, overall and per class.

References:
    Kong et al. (2021). DiffWave: a versatile diffusion model for audio synthesis. ICLR.
    Goel, Gu, Donahue & Ré (2022). It's raw! Audio generation with state-space models. ICML.
    Heusel et al. (2017). GANs trained by a two time-scale update rule converge to a local
    Nash equilibrium. NeurIPS (FID).
    Salimans et al. (2016). Improved techniques for training GANs. NeurIPS (inception score).
"""

from __future__ import annotations

import numpy as np

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.dsp import stft
from synthkit.domains.audio.quality import (
    am_score,
    copying_share,
    copying_share_expected,
    modified_inception_score,
    ndb_k,
)
from synthkit.metrics.frechet import frechet_distance


def clip_features(clips: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(n, 2 * n_mels)``: mean and standard deviation over time of each log-mel band."""
    from synthkit.domains.audio.mel import LogMel

    n_fft = 1 << max(6, int(round(np.log2(0.032 * sample_rate))))
    mel = LogMel(sample_rate=sample_rate, n_fft=n_fft, n_mels=32, normalize=None).fit(clips[:2])
    images = mel.encode(clips)
    return np.concatenate([images.mean(2), images.std(2)], axis=1)


class ClipClassifier:
    """A small MLP on :func:`clip_features`, trained on real clips; also the FID embedding."""

    def __init__(self, sample_rate: int, random_state: int = 0):
        self.sample_rate, self.random_state = sample_rate, random_state

    def fit(self, clips: np.ndarray, labels: np.ndarray) -> ClipClassifier:
        from sklearn.neural_network import MLPClassifier
        from sklearn.preprocessing import StandardScaler

        f = clip_features(clips, self.sample_rate)
        self.scaler_ = StandardScaler().fit(f)
        self.mlp_ = MLPClassifier((64,), max_iter=500, random_state=self.random_state).fit(self.scaler_.transform(f),
                                                                                          labels.astype(str))
        return self

    def proba(self, clips: np.ndarray) -> np.ndarray:
        return self.mlp_.predict_proba(self.scaler_.transform(clip_features(clips, self.sample_rate)))

    def predict(self, clips: np.ndarray) -> np.ndarray:
        return self.mlp_.classes_[self.proba(clips).argmax(1)]

    def embed(self, clips: np.ndarray) -> np.ndarray:
        h = self.scaler_.transform(clip_features(clips, self.sample_rate)) @ self.mlp_.coefs_[0]
        return np.maximum(h + self.mlp_.intercepts_[0], 0.0)


def inception_score(proba: np.ndarray) -> float:
    """``exp E_x KL(p(y|x) || p(y))`` (1 = no class information; at most the class count)."""
    p = np.clip(proba, 1e-12, 1)
    marginal = p.mean(0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(1).mean()))


def mean_spectrum_db(clips: np.ndarray, n_fft: int) -> np.ndarray:
    power = (np.abs(stft(clips.astype(np.float32), n_fft)) ** 2).mean(axis=(0, 1))
    return 10 * np.log10(power + 1e-10)


def spectrum_distance(real: np.ndarray, synthetic: np.ndarray, sample_rate: int) -> float:
    """RMS difference (dB) of the mean power spectra of two sets of clips."""
    n_fft = 1 << max(6, int(round(np.log2(0.032 * sample_rate))))
    d = mean_spectrum_db(real, n_fft) - mean_spectrum_db(synthetic, n_fft)
    return float(np.sqrt((d ** 2).mean()))


def _posterior_scores(clf: ClipClassifier, proba: np.ndarray, real: AudioClips, H: np.ndarray | None) -> dict:
    """mIS and AM score of the synthetic clips; with a holdout, the same of the real holdout clips
    (IS too), the reference a generator is read against."""
    prior = (real.labels.astype(str)[:, None] == clf.mlp_.classes_[None]).mean(0)  # real class frequencies
    out = {"modified_inception_score": modified_inception_score(proba), "am_score": am_score(proba, prior)}
    if H is not None and len(H) >= 2:
        real_proba = clf.proba(H)
        out.update(inception_score_real=inception_score(real_proba),
                   modified_inception_score_real=modified_inception_score(real_proba),
                   am_score_real=am_score(real_proba, prior))
    return out


def evaluate_clips(real: AudioClips, synthetic: AudioClips, holdout: AudioClips | None = None,
                   random_state: int = 0) -> dict:
    """Scores of ``synthetic`` against ``real`` (and the real ``holdout``); see the module docstring."""
    if synthetic.sample_rate != real.sample_rate:
        raise ValueError(f"the synthetic clips are at {synthetic.sample_rate} Hz, the real ones at "
                         f"{real.sample_rate} Hz; compare clips at one rate.")
    n = real.to_array().shape[1]
    R, S = real.to_array(n), synthetic.to_array(n)
    H = holdout.to_array(n) if holdout is not None else None
    sr = real.sample_rate
    out: dict = {"n_real": len(R), "n_synthetic": len(S), "sample_rate": sr,
                 "spectrum_lsd_db": spectrum_distance(R, S, sr)}
    if H is not None:
        out["spectrum_lsd_db_real_vs_holdout"] = spectrum_distance(R, H, sr)
    labelled = real.labels is not None and len(np.unique(real.labels)) >= 2
    if labelled:
        clf = ClipClassifier(sr, random_state).fit(R, real.labels)
        proba = clf.proba(S)
        out["inception_score"] = inception_score(proba)
        if H is not None and holdout.labels is not None:
            out["real_holdout_accuracy"] = float((clf.predict(H) == holdout.labels.astype(str)).mean())
        if synthetic.labels is not None:
            pred = clf.mlp_.classes_[proba.argmax(1)]
            out["intended_class_accuracy"] = float((pred == synthetic.labels.astype(str)).mean())
            out["per_class_spectrum_lsd_db"] = {
                str(c): spectrum_distance(R[real.labels.astype(str) == str(c)],
                                          S[synthetic.labels.astype(str) == str(c)], sr)
                for c in np.unique(synthetic.labels.astype(str)) if (real.labels.astype(str) == str(c)).any()}
        out.update(_posterior_scores(clf, proba, real, H))
        rng = np.random.default_rng(random_state)
        other = H if H is not None else R[rng.permutation(len(R))[: len(R) // 2]]
        m = min(len(S), len(other))
        if m >= 3:
            emb_r, emb_s, emb_o = clf.embed(R), clf.embed(S[:m]), clf.embed(other[:m])
            out["fid"] = frechet_distance(emb_r, emb_s)
            out["fid_real_vs_real"] = frechet_distance(emb_r, emb_o)
            out["ndb_k"] = ndb_k(emb_r, emb_s, random_state=random_state)
            out["ndb_k_real_vs_real"] = ndb_k(emb_r, emb_o, random_state=random_state)
            if H is not None:
                out["copying_share"] = copying_share(clf.embed(S), emb_r, clf.embed(H))
                out["copying_share_expected"] = copying_share_expected(len(R), len(H))
    summary_keys = ("intended_class_accuracy", "real_holdout_accuracy", "fid", "fid_real_vs_real",
                    "inception_score", "inception_score_real", "modified_inception_score",
                    "modified_inception_score_real", "am_score", "am_score_real", "ndb_k", "ndb_k_real_vs_real",
                    "copying_share", "copying_share_expected", "spectrum_lsd_db")
    out["summary"] = {k: out[k] for k in summary_keys if k in out}
    return out
