"""Progress bars: shown on a terminal, quiet in logs, CI and with ``verbose=0``."""

from __future__ import annotations

from contextlib import contextmanager

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


@contextmanager
def counting(batches, *, total: int, verbose=1, unit: str = "row", size=len, desc: str = "sampling"):
    """``batches`` passed through while a bar counts ``size(batch)`` items of each, closed on exit.

    The one wrapper the sample writers put around their batches::

        with counting(batches, total=n, verbose=progress, unit="molecule") as counted:
            write_batches(path, counted)
    """
    bar = progress_bar(total=total, verbose=verbose, desc=desc, unit=unit)

    def counted():
        for batch in batches:
            bar.update(size(batch))
            yield batch

    try:
        yield counted()
    finally:
        bar.close()
