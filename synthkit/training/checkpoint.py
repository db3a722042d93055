"""Periodic training checkpoints, written atomically, and resume.

A checkpoint holds the network, optimizer and EMA states, the data-order generator,
torch's RNG, the loop counters and the loss history. It is written with
``torch.save`` to a temporary file and renamed into place, so a kill mid-write leaves
the previous checkpoint intact; it is read with ``torch.load(weights_only=True)``, which
loads tensors and plain containers only and never runs code.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch

FILENAME = "checkpoint.pt"


class Checkpointer:
    """Save every ``interval`` seconds into ``directory`` (no-op when it is ``None``)."""

    def __init__(self, directory, interval: float, *, fingerprint: list[float]):
        self.directory = None if directory is None else Path(directory)
        self.interval = float(interval)
        self.fingerprint = fingerprint
        self._last = time.perf_counter()

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / FILENAME

    def due(self) -> bool:
        return self.directory is not None and time.perf_counter() - self._last >= self.interval

    def save(self, modules, optimizers, ema, gen, state, history, best_weights) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "fingerprint": self.fingerprint,
            "modules": modules.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
            "ema": None if ema is None else {k: a.state_dict() for k, a in ema.items()},
            "data_rng": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "state": dict(state),
            "history": history,
            "best_weights": best_weights,
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".checkpoint-", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(payload, tmp)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._last = time.perf_counter()

    def restore(self, modules, optimizers, ema, gen):
        """Load the latest checkpoint into the given objects; ``None`` when there is none."""
        if self.directory is None:
            raise ValueError("resume=True needs checkpoint_dir to be set.")
        if not self.path.exists():
            return None
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as err:  # corrupted or foreign file
            raise ValueError(f"cannot read checkpoint {self.path}: {err}") from err
        if payload.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"checkpoint {self.path} was written for different training data; "
                "delete it or choose another checkpoint_dir."
            )
        modules.load_state_dict(payload["modules"])
        for k, o in optimizers.items():
            o.load_state_dict(payload["optimizers"][k])
        if ema is not None and payload["ema"] is not None:
            for k, a in ema.items():
                a.load_state_dict(payload["ema"][k])
        gen.set_state(payload["data_rng"])
        torch.set_rng_state(payload["torch_rng"])
        return payload
