"""Folders of WAV clips, one sub-folder per class: what ``synthkit sample`` writes for audio.

:func:`write_clip_batches` streams batches of ``(clips, labels)`` into a folder that appears
only when complete (written beside the destination, then renamed into place), with a
progress bar; :func:`read_clip_folder` reads such a folder (or any folder of WAV / FLAC
files) back as :class:`~synthkit.domains.audio.clips.AudioClips`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.io import load_audio, write_wav
from synthkit.io import atomic_folder

UNLABELLED = None


def _safe_label(label) -> str:
    text = str(label)
    if not text or text.startswith(".") or "/" in text or "\\" in text or text in ("..",):
        raise ValueError(f"label {label!r} cannot name a class folder; use labels without slashes or a leading dot.")
    return text


def write_clip_batches(path, batches, *, sample_rate: int, total: int | None = None, progress: bool = False) -> int:
    """Write batches of ``(clips, labels)`` (labels ``None`` when unconditional) as WAVs under ``path``.

    Clip ``i`` of the whole stream is ``clip_{i:05d}.wav``, inside ``path/<label>/`` when
    labelled. An existing ``path`` must be a folder of WAV clips only (an earlier output),
    which is replaced; the new folder appears only when every batch is written. Returns
    the number of clips.
    """
    from synthkit.training.progress import counting

    path = Path(path)
    if path.exists() and not _replaceable(path):
        raise ValueError(f"{path} exists and holds files other than WAV clips; write into a new folder.")
    count = 0
    # an existing folder holds clips only (checked above), so it may be replaced
    with atomic_folder(path) as tmp:
        with counting(batches, total=total, verbose=progress, unit="clip", size=lambda b: len(b[0])) as counted:
            for clips, labels in counted:
                clips = np.asarray(clips)
                if labels is None:
                    write_wav(clips, tmp, sample_rate, names=[f"clip_{count + j:05d}" for j in range(len(clips))])
                else:
                    labels = np.asarray(labels)
                    for label in np.unique(labels.astype(str)):
                        idx = np.flatnonzero(labels.astype(str) == label)
                        write_wav(clips[idx], tmp / _safe_label(label), sample_rate,
                                  names=[f"clip_{count + j:05d}" for j in idx])
                count += len(clips)
    return count


def _replaceable(path: Path) -> bool:
    """An existing folder this module may replace: it holds WAV files (in class folders) only."""
    if not path.is_dir():
        return False
    return all(p.is_dir() or p.suffix.lower() == ".wav" for p in path.rglob("*"))


def read_clip_folder(path, *, sample_rate: int | None = None, seconds: float | None = None) -> AudioClips:
    """Clips of a folder (labels from class sub-folders when every file is in one), or of one file.

    Clips are in file-name order (``clip_00000.wav`` first, whatever its class folder), so a
    folder :func:`write_clip_batches` wrote reads back in the order it was written.
    """
    folder = Path(path)
    if not folder.exists():
        raise ValueError(f"{folder}: no such file or folder of audio clips.")
    if folder.is_file() and folder.stat().st_size == 0:
        raise ValueError(f"{folder}: the file is empty; give a folder of WAV / FLAC clips.")
    by_class = folder.is_dir() and any(p.is_dir() for p in folder.iterdir()) and not any(
        p.is_file() and not p.name.startswith(".") for p in folder.iterdir())
    clips = load_audio(folder, sample_rate=sample_rate, labels="folder" if by_class else None, duration=seconds)
    order = sorted(range(len(clips)), key=lambda i: (clips.paths[i].name, str(clips.paths[i])))
    return clips[np.asarray(order, dtype=int)] if order != list(range(len(clips))) else clips


def write_clip_folder(clips: AudioClips, path) -> None:
    """Write ``clips`` (with labels as sub-folders) to the new folder ``path`` atomically."""
    array = clips.to_array()
    write_clip_batches(path, [(array, clips.labels)], sample_rate=clips.sample_rate, total=len(array))
