"""Does augmentation help an audio classifier? Trained several ways, scored on real held-out clips only.

The audio counterpart of :func:`synthkit.augment.evaluate_augmentation` (same table: a row
per method, the mean of each metric, its spread ``<metric>_std`` and ``<metric>_gain`` over
a reference method, ``fit_seconds``; per-run scores in ``table.attrs["runs"]``). Audio has
fixed train / test sets rather than folds -- to test on unseen speakers, the split is by
speaker -- so each method is repeated over ``seeds`` (initialization, batches, masks,
perturbations and synthetic draws) and the spread is over seeds.

The methods, all on the same :class:`~synthkit.domains.audio.classifier.LogMelCNNClassifier`:

- ``"real"``: real clips, no augmentation;
- ``"specaugment"``: SpecAugment masks (the usual baseline of audio classification);
- ``"perturbations"``: SpecAugment and waveform perturbations (time shift, noise, pitch,
  speed; :func:`~synthkit.domains.audio.perturb.default_perturbations`);
- ``"synthetic"``: SpecAugment, trained on the real clips plus clips drawn from a
  class-conditional :class:`~synthkit.domains.audio.AudioSynthesizer`;
- ``"all"``: SpecAugment, perturbations and synthetic clips.

The synthesizer must have been fitted on ``train`` alone (pass it fitted, or unfitted and it is
fitted here on ``train``): nothing of ``test`` may reach the classifier or the generator.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score

from synthkit.domains.audio.classifier import LogMelCNNClassifier
from synthkit.domains.audio.clips import AudioClips, fit_length
from synthkit.domains.audio.perturb import default_perturbations
from synthkit.validation import check_positive

METHOD_NAMES = {"real": "real only", "specaugment": "SpecAugment", "perturbations": "SpecAugment + perturbations",
                "synthetic": "SpecAugment + synthetic", "all": "SpecAugment + perturbations + synthetic"}
USES_SYNTHETIC = {"synthetic", "all"}


def evaluate_augmentation(train: AudioClips, test: AudioClips, synthesizer=None, *, classifier=None,
                          methods=("real", "specaugment", "perturbations", "synthetic"), synthetic_ratio: float = 1.0,
                          perturbations=None, seeds=(0, 1, 2), reference: str = "specaugment") -> pd.DataFrame:
    """Accuracy and macro-F1 on the real ``test`` clips of a classifier trained each way.

    Args:
        train, test: labelled :class:`AudioClips` at one sample rate (the test clips are only
            ever predicted).
        synthesizer: a class-conditional :class:`~synthkit.domains.audio.AudioSynthesizer`,
            fitted on ``train`` or unfitted (then fitted on ``train`` here, with the first seed);
            needed by ``"synthetic"`` and ``"all"``.
        classifier: a :class:`LogMelCNNClassifier` (cloned for every run; its
            ``spec_augment``, ``perturbations`` and ``random_state`` are set per method and seed);
            default ``LogMelCNNClassifier(train.sample_rate)``.
        methods: any of ``"real"``, ``"specaugment"``, ``"perturbations"``, ``"synthetic"``, ``"all"``.
        synthetic_ratio: synthetic clips per real training clip, in every class (the
            synthetic set has the real set's class balance).
        perturbations: the waveform perturbations of ``"perturbations"`` and ``"all"``
            (default :func:`~synthkit.domains.audio.perturb.default_perturbations` for the
            clips' length).
        seeds: one run per seed; spreads are the standard deviation over runs.
        reference: the method the ``_gain`` columns are measured against (if run).

    Returns:
        A DataFrame indexed by method name: ``accuracy``, ``accuracy_std``, ``accuracy_gain``,
        ``macro_f1``, ``macro_f1_std``, ``macro_f1_gain``, ``n_train`` (clips per run) and
        ``fit_seconds`` (mean per run). ``table.attrs["runs"]`` holds the per-seed scores.

    Example:
        >>> from synthkit.domains.audio import make_words
        >>> train = make_words(16, n_classes=2, duration=0.25, sample_rate=8000, random_state=0)
        >>> test = make_words(8, n_classes=2, duration=0.25, sample_rate=8000, random_state=1)
        >>> table = evaluate_augmentation(train, test, methods=("real", "specaugment"), seeds=(0,),
        ...                               classifier=LogMelCNNClassifier(8000, max_epochs=1))
        >>> list(table.index), "accuracy_gain" in table
        (['real only', 'SpecAugment'], True)
    """
    _check_clips(train, "train")
    _check_clips(test, "test")
    if test.sample_rate != train.sample_rate:
        raise ValueError(f"train clips are at {train.sample_rate} Hz and test clips at {test.sample_rate} Hz.")
    unknown = set(methods) - set(METHOD_NAMES)
    if unknown or not methods:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {list(METHOD_NAMES)}.")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed.")
    check_positive("synthetic_ratio", synthetic_ratio)
    unseen = sorted(set(test.labels.astype(str)) - set(train.labels.astype(str)))
    if unseen:
        raise ValueError(f"test clips have classes the training clips lack: {unseen[:5]}.")
    base = LogMelCNNClassifier(train.sample_rate) if classifier is None else classifier
    if not isinstance(base, LogMelCNNClassifier):
        raise ValueError(f"classifier must be a LogMelCNNClassifier, got {type(base).__name__}.")
    seconds = train.to_array().shape[1] / train.sample_rate
    perturbations = default_perturbations(seconds) if perturbations is None else list(perturbations)
    synthesizer = _fitted(synthesizer, train, seeds[0]) if USES_SYNTHETIC & set(methods) else None

    x_train = train.to_array()
    x_test = test.to_array(x_train.shape[1])
    truth = test.labels.astype(str)
    rows, runs = {}, {}
    for method in methods:
        scores = {"accuracy": [], "macro_f1": []}
        seconds, n_train = [], 0
        for seed in seeds:
            x, y = x_train, train.labels.astype(str)
            if method in USES_SYNTHETIC:
                fake, fake_y = _synthetic(synthesizer, train, synthetic_ratio, seed)
                x, y = np.concatenate([x, fake]), np.concatenate([y, fake_y])
            clf = clone(base).set_params(spec_augment=method != "real", random_state=seed,
                                         perturbations=perturbations if method in ("perturbations", "all") else None)
            start = time.perf_counter()
            clf.fit(x, y)
            seconds.append(time.perf_counter() - start)
            pred = clf.predict(x_test)
            scores["accuracy"].append(float(accuracy_score(truth, pred)))
            scores["macro_f1"].append(float(f1_score(truth, pred, average="macro", zero_division=0)))
            n_train = len(x)
        name = METHOD_NAMES[method]
        runs[name] = scores
        rows[name] = {**{k: v for m, s in scores.items() for k, v in ((m, float(np.mean(s))), (f"{m}_std", float(np.std(s))))},
                      "n_train": n_train, "fit_seconds": float(np.mean(seconds))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    ref = METHOD_NAMES.get(reference)
    if ref in table.index:
        for metric in ("accuracy", "macro_f1"):
            table.insert(table.columns.get_loc(f"{metric}_std") + 1, f"{metric}_gain", table[metric] - table.loc[ref, metric])
    table.index.name = "method"
    table.attrs["runs"] = runs
    table.attrs["reference"] = ref
    return table


def _check_clips(clips, name: str):
    if not isinstance(clips, AudioClips):
        raise ValueError(f"{name} must be AudioClips (e.g. from load_audio or make_words), got {type(clips).__name__}.")
    if clips.labels is None or len(clips) == 0:
        raise ValueError(f"{name} clips must be labelled and non-empty.")


def _fitted(synthesizer, train: AudioClips, seed):
    if synthesizer is None:
        raise ValueError("the 'synthetic' and 'all' methods need a synthesizer (an AudioSynthesizer fitted on train).")
    if not hasattr(synthesizer, "backbone_"):
        synthesizer = clone(synthesizer).set_params(random_state=seed).fit(train)
    if getattr(synthesizer, "classes_", None) is None:
        raise ValueError("the synthesizer was fitted without labels; augmentation needs a class-conditional one.")
    missing = sorted(set(train.labels.astype(str)) - {str(c) for c in synthesizer.classes_})
    if missing:
        raise ValueError(f"the synthesizer cannot generate classes {missing[:5]} of the training clips.")
    return synthesizer


def _synthetic(synthesizer, train: AudioClips, ratio: float, seed) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic clips in the real training set's class proportions, ``ratio`` per real clip."""
    classes, counts = np.unique(train.labels, return_counts=True)
    labels = np.repeat(classes, np.maximum(1, np.round(counts * ratio).astype(int)))
    clips = synthesizer.sample(len(labels), y=labels, random_state=seed)
    return fit_length(clips, train.to_array().shape[1]), labels.astype(str)


__all__ = ["METHOD_NAMES", "evaluate_augmentation"]
