"""Reading and writing audio files: WAV, FLAC and OGG in, WAV out, written atomically.

Files are decoded with soundfile (libsndfile), not ``torchaudio.load``: since torchaudio
2.9 that goes through torchcodec and FFmpeg, which a plain ``pip install`` does not bring.
Resampling (:mod:`~synthkit.domains.audio.resample`) and channel mixing happen on the way
in, so every clip of one :class:`~synthkit.domains.audio.clips.AudioClips` shares one rate.
A file that cannot be used is rejected with a ``ValueError`` naming it and what is wrong.

:func:`write_wav` writes every clip to a temporary file beside its destination and renames
them into place only when all are written (``os.replace``), so an error midway -- a bad
clip, a generator of clips that raises -- leaves the folder as it was, without temp files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from synthkit.domains.audio.clips import AudioClips, fit_length
from synthkit.domains.audio.deps import require_soundfile
from synthkit.domains.audio.labels import resolve_labels
from synthkit.domains.audio.resample import mix_to_mono, resample
from synthkit.io import atomic_path
from synthkit.validation import check_count

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def list_audio_files(source, *, extensions: Sequence[str] = AUDIO_SUFFIXES, recursive: bool = True):
    """The audio files of ``source`` (a file, a folder or a list of files) and the folder root.

    Folders are searched (recursively by default) for the given extensions, in sorted
    order; hidden files (``.name``, e.g. another writer's temp files) are skipped.
    """
    exts = tuple(e.lower() for e in extensions)
    if isinstance(source, (str, os.PathLike)):
        source = Path(source)
        if source.is_dir():
            found = source.rglob("*") if recursive else source.iterdir()
            files = sorted(p for p in found if p.is_file() and p.suffix.lower() in exts
                           and not any(part.startswith(".") for part in p.relative_to(source).parts))
            if not files:
                raise ValueError(f"{source}: no audio files ({', '.join(exts)}) in this folder.")
            return files, source
        files = [source]
    else:
        files = [Path(p) for p in source]
        if not files:
            raise ValueError("no audio files given.")
    for p in files:
        if not p.is_file():
            raise ValueError(f"{p}: no such file.")
        if p.suffix.lower() not in exts:
            raise ValueError(f"{p}: unsupported audio file type {p.suffix!r}; use one of {exts}.")
    return files, None


def read_file(path: Path) -> tuple[np.ndarray, int]:
    """One file as a ``(channels, samples)`` float32 array and its sample rate, checked."""
    sf = require_soundfile()
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise ValueError(f"{path}: not a readable WAV, FLAC or OGG file ({err}).") from None
    if data.shape[0] == 0:
        raise ValueError(f"{path}: the file holds no samples (empty audio).")
    finite = np.isfinite(data)
    if not finite.all():
        first = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise ValueError(f"{path}: contains NaN or infinite samples (first at sample {first}); "
                         "the file is corrupt or was written from a diverged model.")
    return np.ascontiguousarray(data.T), int(rate)


def load_audio(source, *, sample_rate: int | None = 16000, labels=None, mono: bool = True,
               duration: float | None = None, min_duration: float = 0.025,
               extensions: Sequence[str] = AUDIO_SUFFIXES, recursive: bool = True) -> AudioClips:
    """Read audio files into clips at one sample rate, with labels.

    Args:
        source: a file, a folder (searched for ``extensions``) or a list of files.
        sample_rate: the rate every clip is resampled to (torchaudio ``Resample``);
            ``None`` keeps the files' own rate, which must then be the same for all.
        labels: ``None``; ``"folder"`` (one folder per class); a ``.csv`` path of
            ``file,label`` rows; or a regex with a group, searched in each file name
            (see :func:`~synthkit.domains.audio.labels.resolve_labels`).
        mono: average the channels of every file to one; with ``False`` all files must
            have the same channel count and clips are ``(channels, samples)``.
        duration: when given (seconds), cut or zero-pad every clip to this length and
            return them as one ``(n, samples)`` array instead of a list.
        min_duration: clips shorter than this (seconds, after resampling; default one
            25 ms analysis frame) are rejected: no spectral frame can be taken of them.
        extensions: file types a folder is searched for.
        recursive: search sub-folders too (needed for ``labels="folder"``).

    Returns:
        :class:`~synthkit.domains.audio.clips.AudioClips` with ``clips``, ``labels``,
        ``paths`` and ``sample_rate``.

    Raises:
        ValueError: naming the file, when it is not audio, is empty, holds NaN samples, is
            shorter than ``min_duration``, has another channel count (``mono=False``) or
            rate (``sample_rate=None``) than the first file, or has no label.
    """
    files, root = list_audio_files(source, extensions=extensions, recursive=recursive)
    label_array = resolve_labels(labels, files, root)  # label errors before any decoding
    check_count("sample_rate", sample_rate, none_ok=True, unit="Hz")
    clips, first = [], None
    for path in files:
        wave, rate = read_file(path)
        if first is None:
            first = (path, wave.shape[0], rate)
        elif not mono and wave.shape[0] != first[1]:
            raise ValueError(f"{path}: {wave.shape[0]} channel(s), but {first[0]} has {first[1]}; "
                             "pass mono=True to mix every file down, or load them separately.")
        elif sample_rate is None and rate != first[2]:
            raise ValueError(f"{path}: {rate} Hz, but {first[0]} is at {first[2]} Hz; "
                             "pass sample_rate=... to resample them to one rate.")
        target = rate if sample_rate is None else int(sample_rate)
        wave = resample(wave, rate, target)
        min_samples = max(1, int(round(min_duration * target)))
        if wave.shape[-1] < min_samples:
            raise ValueError(f"{path}: {wave.shape[-1]} samples at {target} Hz is shorter than one analysis frame "
                             f"(min_duration={min_duration} s = {min_samples} samples).")
        clips.append(mix_to_mono(wave) if mono else wave)
    out_rate = first[2] if sample_rate is None else int(sample_rate)
    if duration is not None:
        clips = fit_length(clips, int(round(duration * out_rate)))
    return AudioClips(clips=clips, sample_rate=out_rate, labels=label_array, paths=list(files))


def _wav_names(names, n: int | None) -> list[str] | None:
    if names is None:
        return None
    names = [str(x) for x in names]
    if n is not None and len(names) != n:
        raise ValueError(f"{len(names)} names for {n} clips.")
    out = []
    for name in names:
        if not name or name != Path(name).name or name.startswith("."):
            raise ValueError(f"{name!r}: a file name, without folders and not hidden, is needed for each clip.")
        name = name if Path(name).suffix else name + ".wav"
        if Path(name).suffix.lower() != ".wav":
            raise ValueError(f"{name!r}: write_wav writes .wav files only.")
        out.append(name)
    if len(set(out)) != len(out):
        dup = next(x for x in out if out.count(x) > 1)
        raise ValueError(f"{dup!r}: the same file name is given to more than one clip.")
    return out


def write_wav(clips, folder, sample_rate: int, names: Sequence[str] | None = None, *,
              subtype: str = "PCM_16") -> list[Path]:
    """Write clips as WAV files into ``folder``, all or nothing; returns the paths written.

    Args:
        clips: an :class:`AudioClips`, a ``(n, samples)`` array, or an iterable of
            ``(samples,)`` / ``(channels, samples)`` arrays (a generator is consumed once).
        folder: created if missing.
        sample_rate: samples per second of the clips.
        names: one file name per clip (``.wav`` added when there is no suffix); defaults
            to ``clip_00000.wav``, ``clip_00001.wav``, ...
        subtype: libsndfile sample format, ``"PCM_16"`` (default), ``"PCM_24"``, ``"FLOAT"``.
            Samples outside [-1, 1] are clipped (PCM cannot hold them).

    Every clip goes to a temporary file beside its destination first; only when all are
    written are they renamed into place. If anything fails, the temporary files are removed
    and files already in ``folder`` are left untouched.
    """
    sf = require_soundfile()
    check_count("sample_rate", sample_rate, unit="Hz")
    if isinstance(clips, AudioClips):
        if clips.sample_rate != int(sample_rate):
            raise ValueError(f"the clips are at {clips.sample_rate} Hz, not sample_rate={sample_rate}; "
                             "resample them first (load_audio(..., sample_rate=...)) or pass their own rate.")
        clips = clips.clips
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = clips[None]  # one mono clip
    n = len(clips) if hasattr(clips, "__len__") else None
    names = _wav_names(names, n)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or ():
        if (folder / name).is_dir():
            raise ValueError(f"{folder / name}: a folder is in the way of this clip's file; nothing was written.")
    written: list[Path] = []
    # each clip goes to its own atomic_path; they are renamed into place together, only when all are written
    with ExitStack() as staged:
        for i, clip in enumerate(clips):
            if names is not None and i >= len(names):
                raise ValueError(f"more clips than the {len(names)} names given. Nothing was written.")
            name = f"clip_{i:05d}.wav" if names is None else names[i]
            data = np.asarray(clip, dtype=np.float32)
            if data.ndim not in (1, 2) or data.shape[-1] == 0:
                raise ValueError(f"{folder / name}: clip {i} has shape {data.shape}; expected (samples,) or "
                                 "(channels, samples) with at least one sample. Nothing was written.")
            if not np.isfinite(data).all():
                raise ValueError(f"{folder / name}: clip {i} contains NaN or infinite samples. Nothing was written.")
            tmp = staged.enter_context(atomic_path(folder / name))
            sf.write(tmp, np.clip(data, -1.0, 1.0).T, int(sample_rate), subtype=subtype, format="WAV")
            written.append(folder / name)
        if names is not None and len(written) != len(names):
            raise ValueError(f"{len(names)} names for {len(written)} clips. Nothing was written.")
    return written
