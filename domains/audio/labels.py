"""Where a clip's label comes from: its file name, its folder, or a CSV beside the clips.

Three conventions cover the usual audio corpora: a pattern on the file name (the
Free Spoken Digit Dataset's ``7_jackson_32.wav`` -> ``r"^(\\d+)_"``), one folder per class
(``dog/001.wav``; torchvision's ``ImageFolder`` convention), or a CSV of ``file,label``
rows (ESC-50, UrbanSound8K metadata). A clip without a label is an error that names it.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np

HEADER_NAMES = {"file", "filename", "path", "name"}


def is_csv_spec(spec) -> bool:
    """A ``Path`` or a string ending in ``.csv`` names a label CSV (anything else is a pattern)."""
    return isinstance(spec, os.PathLike) or (isinstance(spec, str) and spec.lower().endswith(".csv"))


def resolve_labels(spec, paths: list[Path], root: Path | None) -> np.ndarray | None:
    """One label per path from ``spec``: ``None``, ``"folder"``, a CSV path or a regex pattern.

    Args:
        spec: ``None`` (unlabelled); ``"folder"`` (the name of the folder holding each file,
            which must sit below ``root``); a ``.csv`` path (rows ``file,label``, files
            relative to the CSV's folder, an optional header row); or a regular expression
            (string or compiled) searched in each file name, whose group ``label`` -- or
            else first group -- is the label.
        paths: the files, in load order.
        root: the folder that was loaded (``None`` when files were given one by one).
    """
    if spec is None:
        return None
    if isinstance(spec, str) and spec == "folder":
        return np.array([_folder_label(p, root) for p in paths])
    if is_csv_spec(spec):
        return _csv_labels(Path(spec), paths)
    return _pattern_labels(spec, paths)


def _folder_label(path: Path, root: Path | None) -> str:
    if root is not None and path.parent.resolve() == root.resolve():
        raise ValueError(f"{path}: labels='folder' needs every file inside a class folder under {root}, "
                         "but this one sits in the root itself.")
    return path.parent.name


def _pattern_labels(spec, paths: list[Path]) -> np.ndarray:
    try:
        pattern = re.compile(spec)
    except (re.error, TypeError) as err:
        raise ValueError(f"labels={spec!r} is not 'folder', a .csv path or a valid regular expression "
                         f"({err}).") from None
    if pattern.groups == 0:
        raise ValueError(f"labels pattern {pattern.pattern!r} has no group; put the label in parentheses, "
                         r"e.g. r'^(\d+)_' for '7_jackson_32.wav'.")
    group = "label" if "label" in pattern.groupindex else 1
    out = []
    for p in paths:
        m = pattern.search(p.name)
        if m is None or m.group(group) is None:
            raise ValueError(f"{p}: file name does not match the labels pattern {pattern.pattern!r}.")
        out.append(m.group(group))
    return np.array(out)


def _csv_labels(csv_path: Path, paths: list[Path]) -> np.ndarray:
    if not csv_path.is_file():
        raise ValueError(f"{csv_path}: labels CSV not found.")
    table: dict[Path, str] = {}
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.reader(fh), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if line == 1 and row[0].strip().lower() in HEADER_NAMES:
                continue
            if len(row) != 2:
                raise ValueError(f"{csv_path}: line {line} has {len(row)} fields; expected two, file and label.")
            file = (csv_path.parent / row[0].strip()).resolve()
            if not file.is_file():
                raise ValueError(f"{csv_path}: line {line} names {row[0].strip()!r}, which is not a file "
                                 f"(paths are relative to {csv_path.parent}).")
            table[file] = row[1].strip()
    missing = [p for p in paths if p.resolve() not in table]
    if missing:
        raise ValueError(f"{missing[0]}: no label for it in {csv_path}"
                         + (f" (nor for {len(missing) - 1} more files)." if len(missing) > 1 else "."))
    return np.array([table[p.resolve()] for p in paths])
