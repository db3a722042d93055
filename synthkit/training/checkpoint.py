"""Periodic training checkpoints, written atomically, and resume.

A checkpoint holds the network, optimizer and EMA states, the data-order generator,
torch's RNG, the loop counters, the loss history and the seed the fit drew. It is
written with ``torch.save`` to a temporary file and renamed into place, so a kill
mid-write leaves the previous checkpoint intact; it is read with
``torch.load(weights_only=True)``, which loads tensors and plain containers only and
never runs code.

Resuming an unseeded fit works because nothing random is drawn twice: the fit's seed
(:func:`resolve_seed`) is drawn once, recorded in every checkpoint, and read back on
resume before anything random happens (the validation split, a random variable order,
a domain adapter's dequantization noise); the fingerprint then compares the data only.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import torch

from synthkit.io import atomic_path
from synthkit.training.distributed import Ranks
from synthkit.training.runtime import seed_from

FILENAME = "checkpoint.pt"
#: marks a file as a synthkit checkpoint and names its layout
FORMAT = "synthkit-checkpoint/2"


def read_checkpoint(directory) -> dict | None:
    """The checkpoint in ``directory`` as a dict, or ``None`` when the folder holds none.

    Raises:
        ValueError: the file is truncated, not a torch file, or not a synthkit checkpoint.
    """
    path = Path(directory) / FILENAME
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # truncated, corrupted or foreign file
        raise ValueError(f"cannot read checkpoint {path} ({type(err).__name__}: {str(err)[:200]}); it is "
                         "truncated or not a synthkit checkpoint: delete it or choose another checkpoint_dir.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path} is not a synthkit checkpoint of this version (format {found!r}, expected "
                         f"{FORMAT!r}): delete it or choose another checkpoint_dir.")
    return payload


def resolve_seed(random_state, checkpoint_dir=None, resume: bool = False) -> int:
    """The integer seed a fit runs with, drawn once and reused on resume.

    ``random_state`` wins when given. Otherwise a fit that resumes from a checkpoint takes
    the seed recorded in it, so that everything drawn before training (the validation
    split, a random order, encodings with noise) is drawn again identically; a fresh fit
    draws a seed from torch's global generator (so ``torch.manual_seed`` still makes an
    unseeded fit repeatable). A family that checkpoints in sub-folders of ``checkpoint_dir``
    (a deep belief net: one per layer, all with the fit's one seed) is resumed from the
    first of them in name order when the folder itself holds no checkpoint.
    """
    seed = seed_from(random_state)
    if seed is not None:
        return seed
    if resume and checkpoint_dir is not None:
        folders = [Path(checkpoint_dir)]
        if not (folders[0] / FILENAME).is_file() and folders[0].is_dir():
            folders = sorted(p.parent for p in folders[0].glob(f"*/{FILENAME}"))
        payload = read_checkpoint(folders[0]) if folders else None
        if payload is not None:
            return int(payload["seed"])
    return int(torch.randint(0, 2**62, (1,)))


def warn_if_missing(directory) -> bool:
    """Warn (naming the folder) that ``resume`` finds no checkpoint; ``True`` if one is there."""
    if (Path(directory) / FILENAME).is_file():
        return True
    warnings.warn(f"resume: no checkpoint in {directory} ({FILENAME} not found); training from scratch.",
                  UserWarning, stacklevel=3)
    return False


class Checkpointer:
    """Save every ``interval`` seconds into ``directory`` (no-op when it is ``None``).

    Under data-parallel training every rank calls :meth:`save` (the decision is rank 0's,
    see :class:`synthkit.training.TrainingLoop`): the ranks' RNG states are gathered and
    only rank 0 writes; every rank restores from the same file (a folder all can read).
    """

    def __init__(self, directory, interval: float, *, fingerprint: list[float], seed: int,
                 ranks: Ranks | None = None):
        self.directory = None if directory is None else Path(directory)
        self.interval = float(interval)
        self.fingerprint = fingerprint
        self.seed = int(seed)
        self.ranks = ranks if ranks is not None else Ranks(1, 0)
        #: whether :meth:`restore` set this rank's own RNG state (a run on as many ranks)
        self.restored_rank_rng = False
        self._last = time.perf_counter()

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / FILENAME

    def due(self) -> bool:
        return self.directory is not None and time.perf_counter() - self._last >= self.interval

    def save(self, modules, optimizers, ema, gen, state, history, best_weights) -> None:
        if self.directory is None:
            return
        rank_rng = self.ranks.gather_rng()
        self._last = time.perf_counter()
        if not self.ranks.is_main:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "seed": self.seed,
            "fingerprint": self.fingerprint,
            "modules": modules.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
            "ema": None if ema is None else {k: a.state_dict() for k, a in ema.items()},
            "data_rng": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "state": dict(state),
            "history": history,
            "best_weights": best_weights,
            "rank_rng": rank_rng,
        }
        with atomic_path(self.path) as tmp:
            torch.save(payload, tmp)
        self._last = time.perf_counter()

    def restore(self, modules, optimizers, ema, gen):
        """Load the latest checkpoint into the given objects; ``None`` (with a warning naming
        the folder) when there is none."""
        if self.directory is None:
            raise ValueError("resume=True needs checkpoint_dir to be set.")
        if not warn_if_missing(self.directory):
            return None
        payload = read_checkpoint(self.directory)
        if payload["fingerprint"] != self.fingerprint:
            raise ValueError(
                f"checkpoint {self.path} was written for different training data (or another model "
                "configuration); delete it or choose another checkpoint_dir."
            )
        if int(payload["seed"]) != self.seed:
            raise ValueError(
                f"checkpoint {self.path} was written by a fit with seed {int(payload['seed'])}, this fit has "
                f"random_state={self.seed}; resume with random_state=None (or that seed), or choose another "
                "checkpoint_dir."
            )
        try:
            modules.load_state_dict(payload["modules"])
            for k, o in optimizers.items():
                o.load_state_dict(payload["optimizers"][k])
        except (RuntimeError, KeyError, ValueError) as err:
            raise ValueError(f"checkpoint {self.path} does not match this model's networks ({str(err)[:200]}); "
                             "delete it or choose another checkpoint_dir.") from None
        if ema is not None and payload["ema"] is not None:
            for k, a in ema.items():
                a.load_state_dict(payload["ema"][k])
        gen.set_state(payload["data_rng"])
        rank_rng = payload.get("rank_rng")
        if self.ranks.active and rank_rng is not None and len(rank_rng) == self.ranks.world_size:
            torch.set_rng_state(rank_rng[self.ranks.rank])
            self.restored_rank_rng = True
        else:  # one process, or another number of ranks (which then fork their noise afresh)
            torch.set_rng_state(payload["torch_rng"])
        return payload
