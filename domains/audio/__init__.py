"""Audio: read and write clips, turn them into arrays a backbone can learn, and back.

Example:
    >>> from synthkit.domains.audio import LogMel, MuLaw, make_words, log_spectral_distance
    >>> words = make_words(20, n_classes=4, duration=0.25, sample_rate=8000, random_state=0)
    >>> mel = LogMel(sample_rate=8000, n_fft=256, n_mels=40).fit(words)
    >>> images = mel.encode(words)
    >>> images.shape, mel.shape
    ((20, 40, 32), (40, 32))
    >>> heard = mel.decode(images)  # InverseMelScale + Griffin-Lim
    >>> heard.shape, bool(log_spectral_distance(words, heard, n_fft=256) < 15)
    ((20, 2000), True)
    >>> MuLaw(sample_rate=8000).fit(words).encode(words).shape
    (20, 2000)

Modules: ``io`` (:func:`load_audio`, :func:`write_wav`; soundfile, not FFmpeg),
``clips`` (:class:`AudioClips`), ``labels`` (file-name pattern, folder, CSV),
``resample``, ``base`` (:class:`Representation`), ``mel`` (:class:`LogMel`, inverted by
Griffin-Lim), ``mulaw`` (:class:`MuLaw` tokens), ``representations`` (the registry),
``metrics`` (spectral distances), ``networks`` (the ``"wavenet"`` sequence cell),
``synthesizer`` (:class:`AudioSynthesizer`), ``anomaly`` (:class:`AnomalousSoundDetector`,
DCASE AUC / pAUC), ``cli`` (the ``synthkit`` domain adapter), ``vocoder`` (:class:`MelVocoder`,
a learned log-mel inversion), ``refine`` (Griffin-Lim from a vocoder's phase), ``vocoding``
(``AudioSynthesizer(vocoder="griffin-lim" | "learned")``: the names, the time share, resume),
``perturb`` (waveform perturbations), ``classifier``
(:class:`LogMelCNNClassifier`, SpecAugment) and ``augment`` (:func:`evaluate_augmentation`:
with and without synthetic clips, scored on real held-out clips), ``folders``, ``evaluation``,
``quality`` (mIS, AM score, NDB/K, copying share) and ``report`` (what ``synthkit evaluate``
scores and writes), ``datasets`` with ``words`` and ``machines``
(procedural data), ``dsp`` (numpy STFT blocks), ``deps`` (the guarded imports).
torchaudio and soundfile come with ``pip install 'synthkit[audio]'``; they are imported
only when used, so the data sets need numpy alone.
"""

from synthkit.domains.audio.anomaly import AnomalousSoundDetector, auc_pauc
from synthkit.domains.audio.augment import evaluate_augmentation
from synthkit.domains.audio.classifier import LogMelCNNClassifier
from synthkit.domains.audio.base import Representation
from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.datasets import FAULTS, list_datasets, load_dataset, make_machine_sounds, make_words
from synthkit.domains.audio.io import load_audio, write_wav
from synthkit.domains.audio.mel import LogMel, context_frames
from synthkit.domains.audio.metrics import log_spectral_distance, multi_resolution_stft_distance, spectral_distances
from synthkit.domains.audio.mulaw import MuLaw
from synthkit.domains.audio.perturb import AddNoise, PitchShift, SpeedPerturb, TimeShift
from synthkit.domains.audio.quality import am_score, copying_share, modified_inception_score, ndb_k
from synthkit.domains.audio.synthesizer import AudioSynthesizer
from synthkit.domains.audio.vocoder import MelVocoder
from synthkit.domains.audio.vocoding import list_vocoders
from synthkit.domains.audio.representations import (
    get_representation,
    list_representations,
    representation_from_config,
)

__all__ = [
    "FAULTS", "AddNoise", "AnomalousSoundDetector", "AudioClips", "AudioSynthesizer", "auc_pauc", "LogMel",
    "LogMelCNNClassifier", "MelVocoder", "MuLaw", "PitchShift", "Representation", "SpeedPerturb", "TimeShift", "am_score",
    "context_frames", "copying_share", "evaluate_augmentation", "get_representation", "list_datasets",
    "list_representations", "list_vocoders", "load_audio", "load_dataset", "log_spectral_distance", "make_machine_sounds",
    "make_words", "modified_inception_score", "multi_resolution_stft_distance", "ndb_k",
    "representation_from_config", "spectral_distances", "write_wav",
]
