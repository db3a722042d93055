"""The audio domain as the ``synthkit`` command sees it: :data:`ADAPTER` in
``synthkit.registry.DOMAINS`` (the :class:`synthkit.adapters.DomainAdapter` contract).

Audio data is a folder of WAV / FLAC clips, one sub-folder per class when labelled (the
folder name is the label); ``write`` and ``sample`` produce such folders (``clip_00000.wav``
...), atomically::

    synthkit fit audio clips/ --target label --out model/ --max-time 600
    synthkit fit audio clips/ --target label --out model/ --max-time 600 --param vocoder=learned \
        --param 'vocoder_params={"max_epochs": 400}'
    synthkit sample model/ -n 100 --out synthetic/ [--label yes]
    synthkit evaluate --domain audio clips/ synthetic/ --holdout held/ --report report.html
    synthkit demo --domain audio
"""

from __future__ import annotations


import numpy as np

from synthkit.adapters import DomainAdapter, Example
from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.folders import read_clip_folder, write_clip_folder

#: ``--param`` keys that configure the synthesizer itself; every other key is a backbone parameter
SYNTHESIZER_KEYS = ("representation", "sample_rate", "clip_seconds", "representation_params", "vocoder",
                    "vocoder_params", "random_state", "verbose")
#: the demo's bundled data: word-like clips of 4 classes, half a second at 8 kHz
EXAMPLE = {"n_samples": 160, "n_classes": 4, "duration": 0.5, "sample_rate": 8000}


class AudioAdapter(DomainAdapter):
    name = "audio"
    suffix = ".wavs"  # a folder of WAV clips (class sub-folders when labelled)
    quick_params = {"max_epochs": 1, "max_time": 3.0, "n_sampling_steps": 4}

    def read(self, path: str) -> AudioClips:
        """The clips of a folder (labels from class sub-folders) at the files' own rate."""
        return read_clip_folder(path)

    def write(self, data, path) -> None:
        if not isinstance(data, AudioClips):
            raise ValueError(f"the audio domain writes AudioClips, not {type(data).__name__}.")
        write_clip_folder(data, path)

    def example(self) -> Example:
        """Procedural word-like clips (:func:`~synthkit.domains.audio.make_words`), labelled."""
        from synthkit.domains.audio.words import make_words

        return Example(make_words(**EXAMPLE, random_state=0), "label")

    def split(self, data, test_size: float = 0.25, seed: int = 0, *, target: str | None = None):
        """``(train, holdout)`` clips, stratified by label when labelled; each keeps its order."""
        from sklearn.model_selection import train_test_split

        idx = np.arange(len(data))
        strata = data.labels if data.labels is not None and target is not None else None
        train, hold = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strata)
        return data[np.sort(train)], data[np.sort(hold)]

    def fit(self, data, *, backbone=None, params=None, target=None, resume=False):
        """Read a folder of clips and fit an :class:`AudioSynthesizer` (unsaved).

        ``target`` (any name, e.g. ``label``) makes the model class-conditional on the
        class folders; ``sample_rate`` and ``clip_seconds`` default to the clips' rate and
        longest length.
        """
        from synthkit.domains.audio.synthesizer import AudioSynthesizer

        params = dict(params or {})
        clips = self.read(data)
        own = {k: params.pop(k) for k in SYNTHESIZER_KEYS if k in params}
        own.setdefault("verbose", 1)
        own.setdefault("sample_rate", clips.sample_rate)
        if own["sample_rate"] != clips.sample_rate:
            clips = read_clip_folder(data, sample_rate=int(own["sample_rate"]))
        own.setdefault("clip_seconds", max(len(c) for c in clips.clips) / clips.sample_rate)
        if target is not None and clips.labels is None:
            raise ValueError(f"{data}: --target needs labelled clips (one sub-folder per class), but the clips "
                             "are not in class folders.")
        synth = AudioSynthesizer(backbone=backbone, backbone_params=params or None, **own)
        return synth.fit(clips.clips, clips.labels if target is not None else None, resume=resume)

    def sample(self, model, path, n: int, *, batch_size: int = 10_000, seed=None, label=None,
               progress: bool = False, first_batch: int = 0) -> int:
        """WAV clips of a fitted model into the folder ``path`` (class sub-folders when
        conditional; ``label`` draws that class only), in seeded batches."""
        options = {}
        if label is not None:
            classes = getattr(model, "classes_", None)
            if classes is None:
                raise ValueError("this model is not class-conditional; drop --label.")
            match = [c for c in classes if str(c) == str(label)]
            if not match:
                raise ValueError(f"unknown label {label!r}; the model knows {[str(c) for c in classes]}.")
            options["y"] = match[0]
        return model.sample_to_file(path, n, batch_size=self.sample_batch_size(model, batch_size), random_state=seed,
                                    progress=progress, first_batch=first_batch, **options)

    def sample_batch_size(self, model, batch_size: int) -> int:
        """At most 256 clips per batch (bounded memory)."""
        return min(int(batch_size), 256)

    def evaluate(self, real, synthetic, *, holdout=None, target=None, reference=None, report=None) -> dict:
        """Classifier-based scores (intended-class accuracy, FID vs real-vs-real, inception
        score) and spectral distances of the synthetic folder against the real one; with
        ``report``, an HTML page with spectrograms and players, and its JSON."""
        from synthkit.domains.audio.evaluation import evaluate_clips

        R = self.read(real)
        S = read_clip_folder(synthetic, sample_rate=R.sample_rate)
        H = read_clip_folder(holdout, sample_rate=R.sample_rate) if holdout is not None else None
        results = evaluate_clips(R, S, H)
        if reference is not None:
            results.update(_reconstruction(reference, R))
        if report is not None:
            from synthkit.domains.audio.report import write_report

            write_report(results, R, S, report)
        return results


def _reconstruction(reference: str, real: AudioClips) -> dict:
    """The vocoder's ceiling: spectral distances of real clips through a saved model's representation."""
    import synthkit
    from synthkit.domains.audio.metrics import spectral_distances

    model = synthkit.load(reference)
    if not hasattr(model, "reconstruct"):
        raise ValueError(f"{reference}: not a saved AudioSynthesizer (no reconstruct).")
    x = real.to_array(model.n_samples)[:64]
    return {f"reconstruct_{k}": v for k, v in spectral_distances(x, model.reconstruct(x)).items()}


ADAPTER = AudioAdapter()


__all__ = ["ADAPTER", "AudioAdapter"]
