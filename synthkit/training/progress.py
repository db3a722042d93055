"""Progress bars: shown on a terminal, quiet in logs, CI and with ``verbose=0``."""

from __future__ import annotations

from tqdm.auto import tqdm


def progress_bar(*, total=None, initial=0, verbose=1, desc=None, unit="epoch"):
    """A tqdm bar; ``disable=None`` lets tqdm hide it when stderr is not a terminal."""
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        disable=True if not verbose else None,
        leave=False,
        dynamic_ncols=True,
    )
