"""Per-row gradients of a generator's networks, as DP-SGD needs them.

Every module that holds trainable parameters directly is served by one of three routes:

1. **Opacus hooks** (``GradSampleHooks``) for the layer types Opacus has a fast
   per-sample rule for (``Linear``, convolutions, ``Embedding``, ``LayerNorm``,
   ``GroupNorm``, ...) when they hold no buffers.
2. **Per-row parameters under vmap** for every other module with a batch input — masked
   layers with mask buffers (MADE, zuko's flows), layers called with extra or ``None``
   arguments, custom blocks. While the context is active the module runs as
   ``torch.func.vmap`` over rows of a ``functional_call`` in which each row gets its own
   copy of the module's parameters (a leaf tensor of shape ``(batch, *parameter)``); the
   gradient that reaches row ``i``'s copy is exactly row ``i``'s gradient. Buffers and
   non-tensor arguments are shared by all rows.
3. **Row copies of the output** for batch-free modules, whose ``forward()`` takes no input
   at all (the VAE's learned decoder scale ``_Scale``): each row gets its own copy of the
   module's output, and the rows' gradients with respect to those copies are mapped to
   per-row parameter gradients with one batched vector-Jacobian product
   (``torch.autograd.grad(..., is_grads_batched=True)``). The output must broadcast
   against per-row tensors along a leading batch dimension, as a per-feature scale does.

Parameters a step does not touch get zero per-row gradients, so clipping and noise cover
every parameter at every step. BatchNorm mixes the rows of a batch — per-row gradients do
not exist — and is refused.
"""

from __future__ import annotations

import inspect
import types

import torch
from torch.utils._pytree import tree_map


class PerSampleGradients:
    """Context manager that makes ``p.grad_sample`` available for every trainable parameter.

    Args:
        modules: the networks (e.g. a generator's ``modules_``).
        name: the generator's name, for error messages.

    Usage: inside ``with PerSampleGradients(modules, name) as psg``, call
    ``psg.start(batch_size)`` before the forward pass and ``psg.collect()`` after
    ``loss.backward()`` (the loss must be the mean over rows of per-row losses), then read
    ``p.grad_sample`` of shape ``(batch_size, *p.shape)``. Leaving the context removes every
    hook, override and attribute it added.

    Attributes:
        routes: ``{module name: "opacus" | "vmap" | "batch-free"}`` for every module that
            holds parameters directly (children of a ``"vmap"`` module are not listed).
    """

    def __init__(self, modules: torch.nn.Module, name: str = "generator"):
        self.modules = modules
        self.name = name
        self.params = [p for p in modules.parameters() if p.requires_grad]
        self.batch_size: int | None = None
        self.routes: dict[str, str] = {}
        self._records: list[tuple] = []
        self._hooks = None
        self._overridden: list[torch.nn.Module] = []
        self._handles: list = []
        self._calls: dict[int, int] = {}
        self._bypass = 0

    # ------------------------------------------------------------------ context
    def __enter__(self) -> PerSampleGradients:
        from opacus.grad_sample import GradSampleHooks

        for sub_name, m in self.modules.named_modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                raise ValueError(
                    f"{self.name} uses BatchNorm ({sub_name}), which mixes the rows of a batch, so per-row "
                    "gradients and DP-SGD are undefined; use LayerNorm or GroupNorm for private training."
                )
        opacus, vmapped, batch_free = self._plan(self.modules, "", GradSampleHooks.GRAD_SAMPLERS)
        hidden = [p for m in vmapped + batch_free for p in m.parameters() if p.requires_grad]
        for p in hidden:
            p.requires_grad_(False)  # Opacus hooks only the modules of route 1
        try:
            if opacus:
                self._hooks = GradSampleHooks(self.modules, batch_first=True, loss_reduction="mean", strict=False)
        finally:
            for p in hidden:
                p.requires_grad_(True)
        for m in vmapped:
            self._override(m, self._vmapped_forward(type(m).forward))
        for m in batch_free:
            self._override(m, self._row_copies_forward(type(m).forward))
        self._names = {id(m): n for n, m in self.modules.named_modules()}
        for m in opacus + vmapped + batch_free:
            self._handles.append(m.register_forward_pre_hook(self._check_call))
        return self

    def _check_call(self, module, args) -> None:
        """Each network runs once per step, on the batch's rows: otherwise a "row" would mix a
        data row with other inputs (MCMC chains, negative samples) and per-row clipping would
        not bound one row's influence."""
        if not self._active(module):
            return
        name = self._names.get(id(module), type(module).__name__)
        self._calls[id(module)] = self._calls.get(id(module), 0) + 1
        if self._calls[id(module)] > 1:
            raise ValueError(
                f"{self.name} runs its module {name!r} more than once per training step (e.g. on MCMC "
                "chains or negative samples as well as on the data); per-row gradients then mix data rows "
                "with other inputs, so DP-SGD does not support this backbone."
            )
        first = next((a for a in args if isinstance(a, torch.Tensor) and a.dim() > 0), None)
        if first is not None and first.shape[0] != self.batch_size and self.routes.get(name) == "opacus":
            raise ValueError(
                f"{self.name} runs its module {name!r} on {first.shape[0]} rows while the batch has "
                f"{self.batch_size}; DP-SGD needs every network to see exactly the batch's rows."
            )

    def _plan(self, module, prefix, samplers):
        opacus, vmapped, batch_free = [], [], []
        direct = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if direct:
            label = prefix or type(module).__name__
            if not inspect.signature(module.forward).parameters:
                batch_free.append(module)
                self.routes[label] = "batch-free"
                return opacus, vmapped, batch_free
            if type(module) in samplers and not list(module.buffers(recurse=False)):
                opacus.append(module)
                self.routes[label] = "opacus"
            else:
                vmapped.append(module)
                self.routes[label] = "vmap"
                return opacus, vmapped, batch_free
        for child_name, child in module.named_children():
            o, v, b = self._plan(child, f"{prefix}.{child_name}" if prefix else child_name, samplers)
            opacus += o
            vmapped += v
            batch_free += b
        return opacus, vmapped, batch_free

    def _override(self, module, forward) -> None:
        module.forward = types.MethodType(forward, module)
        self._overridden.append(module)

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for m in self._overridden:
            vars(m).pop("forward", None)
        self._overridden = []
        if self._hooks is not None:
            self._hooks.cleanup()
            self._hooks = None
        for p in self.params:
            for attr in ("grad_sample", "summed_grad", "_forward_counter", "_current_grad_sample", "_norm_sample"):
                if hasattr(p, attr):
                    delattr(p, attr)
        self._records = []
        self.batch_size = None

    # ------------------------------------------------------------------ steps
    def start(self, batch_size: int) -> None:
        """Announce the rows of the coming forward pass."""
        self.batch_size = int(batch_size)
        self._records = []
        self._calls = {}
        for p in self.params:
            p.grad_sample = None

    def collect(self) -> None:
        """After ``backward``: per-row gradients of routes 2 and 3, zeros for untouched parameters."""
        for kind, module, out, rows in self._records:
            if kind == "vmap":
                for name, leaf in rows.items():
                    if leaf.grad is not None:  # undo the batch mean: d loss_i / d parameter
                        self._add(module.get_parameter(name), leaf.grad.mul_(leaf.shape[0]))
                continue
            mine = [p for p in module.parameters(recurse=False) if p.requires_grad]
            if rows.grad is None or not mine:
                continue
            per_row = rows.grad * rows.shape[0]  # undo the batch mean: d loss_i / d output
            grads = torch.autograd.grad(out, mine, grad_outputs=per_row, is_grads_batched=True, allow_unused=True)
            for p, g in zip(mine, grads):
                if g is not None:
                    self._add(p, g)
        self._records = []
        untracked = [n for n, p in self.modules.named_parameters()
                     if p.requires_grad and p.grad is not None and getattr(p, "grad_sample", None) is None]
        if untracked:
            raise ValueError(
                f"{self.name} uses parameters outside a module call ({', '.join(untracked[:3])}: e.g. "
                "module.weight in a method other than forward), so their per-row gradients cannot be "
                "computed; DP-SGD does not support this backbone."
            )
        self.fill_missing()

    def fill_missing(self) -> None:
        """Zero per-row gradients for parameters the step did not touch (also for empty batches)."""
        n = self.batch_size or 0
        for p in self.params:
            if getattr(p, "grad_sample", None) is None:
                p.grad_sample = torch.zeros((n, *p.shape), dtype=p.dtype, device=p.device)

    @staticmethod
    def _add(p: torch.Tensor, g: torch.Tensor) -> None:
        p.grad_sample = g if getattr(p, "grad_sample", None) is None else p.grad_sample + g

    def _active(self, module) -> bool:
        return not self._bypass and self.batch_size is not None and module.training and torch.is_grad_enabled()

    # ------------------------------------------------------------------ route 2
    def _vmapped_forward(self, original):
        owner = self

        def forward(module, *args, **kwargs):
            if not owner._active(module):
                return original(module, *args, **kwargs)
            n = owner.batch_size
            batched = tuple(isinstance(a, torch.Tensor) and a.dim() > 0 and a.shape[0] == n for a in args)
            if not any(batched):
                raise ValueError(
                    f"{owner.name}: {type(module).__name__} is called without a batch of {n} rows during "
                    "training, so per-row gradients are undefined for it; DP-SGD does not support this backbone."
                )
            rows = {  # stride-0 views: one copy of the weights in memory, one gradient slot per row
                name: p.detach().unsqueeze(0).expand(n, *p.shape).requires_grad_(True)
                for name, p in module.named_parameters() if p.requires_grad
            }

            def one_row(params, *row_args):
                row_args = tuple(a.unsqueeze(0) if b else a for a, b in zip(row_args, batched))
                owner._bypass += 1
                try:
                    out = torch.func.functional_call(module, params, row_args, kwargs, strict=False)
                finally:
                    owner._bypass -= 1
                return tree_map(lambda t: t.squeeze(0) if isinstance(t, torch.Tensor) else t, out)

            in_dims = (0, *(0 if b else None for b in batched))
            out = torch.func.vmap(one_row, in_dims=in_dims, randomness="different")(rows, *args)
            owner._records.append(("vmap", module, None, rows))
            return out

        return forward

    # ------------------------------------------------------------------ route 3
    def _row_copies_forward(self, original):
        owner = self

        def forward(module, *args, **kwargs):
            out = original(module, *args, **kwargs)
            if not owner._active(module):
                return out
            rows = out.detach().unsqueeze(0).expand(owner.batch_size, *out.shape).clone().requires_grad_(True)
            owner._records.append(("rows", module, out, rows))
            return rows

        return forward
