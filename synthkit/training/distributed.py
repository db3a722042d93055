"""Data-parallel training over ``torch.distributed``, written once for every backbone.

Launch any fit on N processes with ``torchrun`` (gloo on CPU, NCCL on GPU)::

    torchrun --standalone --nproc_per_node=2 -m synthkit.cli fit array moons --out model

Each process reads the same data and runs the same :class:`synthkit.training.TrainingLoop`;
:func:`ranks` finds the process group (one already initialized by the caller, or one it
initializes from torchrun's ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``/``MASTER_ADDR``
environment; ``device="auto"`` then means ``cuda:LOCAL_RANK``). What the ranks must agree
on, and how:

* the fit's seed: rank 0's is broadcast (with ``random_state=None`` each process would
  draw its own); the standardization statistics and the initial weights (every tensor of
  ``modules_``) are broadcast from rank 0 too;
* the data order: every rank draws the same permutation from the same seeded generator,
  so the *global* batches are those of one process with the same ``batch_size``; each
  rank trains on its slice of every global batch (``tensor_split``: sizes differ by at
  most one row) and weights its gradient by ``rows / global rows``, so the all-reduced
  sum is exactly the gradient of the global batch's mean loss, uneven batches included;
* gradients are all-reduced inside synthkit's own ``step(loss, name)``
  (:class:`synthkit.training.step.Step`), once per optimizer step, in one flat buffer;
* the noise drawn inside a step (reparameterization, the GAN's fakes, diffusion times,
  dropout) differs per rank: the global torch generator is re-seeded with
  ``(seed, rank)`` before training (so a critic never sees duplicate fakes), and with one
  common seed after it, so what a family does after the loop (GAN calibration, DDPM
  variances) is the same on every rank;
* one decision for all ranks: ``max_time`` (any rank out of time stops all), checkpoint
  timing (rank 0's clock), early stopping (on the all-reduced validation loss), the
  epoch's logged means (all-reduced, so divergence is detected on every rank at once);
* the weights and their EMA: updated with identical gradients, so identical (never
  re-broadcast, so a test of bitwise agreement checks the reduction); at the end the
  buffers of ``modules_`` (such as the EBM's replay buffer and step size, which each rank
  adapts from its own chains, or BatchNorm statistics) are broadcast from rank 0, so every
  rank holds the model rank 0 saves;
* output: only rank 0 shows progress bars, writes checkpoints (holding every rank's RNG
  state, so a 2-process run resumes exactly on 2 processes) and saves models.

Why not ``torch.nn.parallel.DistributedDataParallel``: DDP reduces gradients in hooks of
one wrapped module's ``forward``/``backward``, which assumes one loss and one optimizer per
step. Here the GAN steps two optimizers per batch on different losses, the gradient
penalty differentiates the critic twice (``create_graph``), the EBM runs its energy
network inside Langevin chains whose input gradients must *not* be reduced, and families
call ``forward`` on sub-modules directly. Reducing inside ``step(loss, name)`` is exact for
all of them and needs no wrapper; its cost is one all-reduce of the optimizer's
gradients per step, without DDP's overlap of communication and backward.

Caveats: each global batch must hold at least 2 rows per rank (smaller last batches are
skipped, as one-row batches already are on one process); a family whose loss is not a mean
over rows (batch statistics) gets a per-rank approximation of it. DP-SGD
(:class:`synthkit.privacy.DPTrainingLoop`) adds its noise once, on rank 0, through Opacus'
``DistributedDPOptimizer``.
"""

from __future__ import annotations

import datetime
import os

import numpy as np
import torch
import torch.distributed as dist

#: seconds a collective waits for the other ranks before failing (instead of hanging)
DEFAULT_TIMEOUT = 1800.0


def launched() -> bool:
    """Whether this process is one of several (torchrun's ``WORLD_SIZE`` > 1 or a group is up)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def ranks() -> Ranks:
    """The ranks of this fit: initialize the default process group from torchrun's
    environment when needed (gloo, plus NCCL for CUDA tensors when CUDA is present)."""
    if not launched():
        return Ranks(1, 0)
    if not dist.is_initialized():
        backend = "gloo"
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank())
            backend = "cpu:gloo,cuda:nccl"
        timeout = float(os.environ.get("SYNTHKIT_DIST_TIMEOUT", DEFAULT_TIMEOUT))
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout))
    return Ranks(dist.get_world_size(), dist.get_rank())


def is_main() -> bool:
    """Whether this process should print, save and report (rank 0, or not distributed)."""
    return not launched() or (dist.is_initialized() and dist.get_rank() == 0) or (
        not dist.is_initialized() and int(os.environ.get("RANK", "0")) == 0)


def agreed(flag: bool) -> bool:
    """``flag`` decided once for all ranks (true when true on any): for a family's own
    deadlines after the loop (GAN calibration, DDPM variances), so that every rank takes the
    same number of steps; ``flag`` itself on one process."""
    return ranks().any(flag)


class Ranks:
    """This process's place in the group and the few collectives the loop needs; with one
    process every method returns its input (nothing is communicated or changed)."""

    def __init__(self, world_size: int, rank: int):
        self.world_size = int(world_size)
        self.rank = int(rank)

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------------ data
    def slice(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's share of the rows of a global batch ``t``."""
        return t.tensor_split(self.world_size)[self.rank] if self.active else t

    # ------------------------------------------------------------------ agreement
    def broadcast_object(self, obj):
        """Rank 0's ``obj`` (any picklable value) on every rank."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def broadcast_modules(self, modules: torch.nn.Module, *, buffers_only: bool = False) -> None:
        """Every parameter and buffer (or only every buffer) of ``modules`` set to rank 0's, in place."""
        if not self.active:
            return
        tensors = modules.buffers() if buffers_only else modules.state_dict(keep_vars=True).values()
        with torch.no_grad():
            for t in tensors:
                if isinstance(t, torch.Tensor):
                    data = t.data
                    buf = data.contiguous()
                    dist.broadcast(buf, src=0)
                    if buf.data_ptr() != data.data_ptr():
                        data.copy_(buf)

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any rank."""
        if not self.active:
            return bool(flag)
        t = torch.tensor([1.0 if flag else 0.0], device=self._device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def first(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (one decision, e.g. whether a checkpoint is due)."""
        if not self.active:
            return bool(flag)
        t = torch.tensor([1.0 if flag else 0.0], device=self._device())
        dist.broadcast(t, src=0)
        return bool(t.item() > 0)

    def mean_logs(self, sums: dict, n_batches: int) -> tuple[dict, int]:
        """All-reduce the epoch's weighted log sums (each rank's share of each global
        batch mean), so every rank records the same numbers."""
        if not self.active:
            return sums, n_batches
        keys = sorted(self.broadcast_object(sorted(sums)))
        t = torch.tensor([float(sums.get(k, 0.0)) for k in keys] + [float(n_batches)], dtype=torch.float64,
                         device=self._device())
        dist.all_reduce(t)
        return dict(zip(keys, t[:-1].tolist())), round(t[-1].item() / self.world_size)

    def mean_of_rows(self, values: torch.Tensor) -> float:
        """The mean of per-row ``values`` held in shares across the ranks."""
        if not self.active:
            return float(values.mean())
        t = torch.tensor([float(values.double().sum()), float(len(values))], dtype=torch.float64,
                         device=self._device())
        dist.all_reduce(t)
        return float(t[0] / t[1])

    def reduce_gradients(self, params: list[torch.Tensor], weight: float) -> None:
        """Replace each parameter's gradient by the sum over ranks of ``weight * grad``.

        One flat buffer per call; a parameter without a gradient on every rank keeps none
        (so optimizers skip it as on one process), one with a gradient on some rank gets
        zeros where it had none."""
        if not self.active:
            return
        ref = params[0]
        present = torch.tensor([p.grad is not None for p in params], dtype=ref.dtype, device=ref.device)
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) * weight
                          for p in params] + [present])
        dist.all_reduce(flat)
        n = flat.numel() - len(params)
        present = flat[n:]
        offset = 0
        for p, seen in zip(params, present.tolist()):
            size = p.numel()
            if seen > 0:
                p.grad = flat[offset:offset + size].view_as(p).clone()
            offset += size

    # ------------------------------------------------------------------ randomness
    def fork_noise(self, seed: int) -> None:
        """Re-seed torch's global generator with ``(seed, rank)``: each rank its own noise."""
        if self.active:
            torch.manual_seed(_derive(seed, self.rank, 1))

    def join_noise(self, step: int) -> None:
        """Re-seed torch's global generator identically on every rank (after training)."""
        if self.active:
            seed = self.broadcast_object(int(torch.randint(0, 2**62, (1,))))
            torch.manual_seed(_derive(seed, step, 2))

    def gather_rng(self) -> list[torch.Tensor] | None:
        """Every rank's torch RNG state (for a checkpoint), on every rank."""
        if not self.active:
            return None
        states = [None] * self.world_size
        dist.all_gather_object(states, torch.get_rng_state())
        return states

    def _device(self) -> torch.device:
        backend = dist.get_backend()
        if "nccl" in str(backend) and "gloo" not in str(backend):
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")


def _derive(seed: int, k: int, purpose: int) -> int:
    return int(np.random.SeedSequence([int(seed) % 2**63, int(k), purpose]).generate_state(1, np.uint64)[0] % 2**63)
