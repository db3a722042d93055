"""Device choice and seeding shared by training and sampling."""

from __future__ import annotations

import contextlib
import os
import zlib

import numpy as np
import torch


def resolve_device(device) -> torch.device:
    """Map ``"auto"`` to CUDA when it is available, else CPU; pass others through.

    Under ``torchrun`` (``LOCAL_RANK`` set) ``"auto"`` is ``cuda:LOCAL_RANK``: one GPU per process.

    Raises:
        ValueError: an unknown device string, or CUDA asked for on a machine without it.
    """
    if isinstance(device, torch.device):
        return device
    if device in (None, "auto"):
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local = os.environ.get("LOCAL_RANK")
        return torch.device("cuda", int(local)) if local is not None else torch.device("cuda")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}.") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available on this machine; use 'auto'.")
    return dev


def seed_from(random_state) -> int | None:
    """An integer seed from ``None``, an int, or a ``numpy`` generator / RandomState."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)):
        return int(random_state) % (2**63)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, str):
        return zlib.crc32(random_state.encode())
    raise ValueError(f"random_state must be None, an int or a numpy generator, got {random_state!r}.")


@contextlib.contextmanager
def seeded(random_state, device: torch.device):
    """Run a block with torch's global RNG seeded, restoring the caller's RNG afterwards.

    With ``random_state=None`` the block draws fresh randomness and nothing is restored.
    """
    seed = seed_from(random_state)
    if seed is None:
        yield
        return
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type=device.type if devices else "cuda"):
        torch.manual_seed(seed)
        yield
