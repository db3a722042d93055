"""Forward-process noise of a DDPM as a named, pluggable part.

A DDPM noises rows with ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) epsilon``. Ho et al. (2020)
draw ``epsilon`` as white Gaussian noise; AnoDDPM (Wyatt et al. 2022) trains and noises with
spatially correlated *simplex* noise instead, so that partial diffusion hides whole lesions
(white noise at the same variance leaves their low frequencies visible). The
``DDPM(forward_noise=...)`` argument chooses the noise:

* ``None`` or ``"gaussian"``: ``torch.randn_like`` (the default; samples and scores are the
  same as without the argument, bit for bit).
* A registered name, or a dict ``{"name": <name>, **options}``: built by the factory
  registered with :func:`register_noise` under that name (plain data, so the model saves and
  loads; loading needs the factory registered again, as for networks).
* A callable ``f(x) -> tensor like x``: used as given (a model holding one cannot be saved).

A noise draws from torch's global RNG (so ``random_state`` seeds it) and should have zero
mean and unit variance per value, like the Gaussian it replaces. The likelihood bound
(``DDPM.elbo``) and the reverse-variance measurement keep Gaussian noise: the bound is
derived for it.

References:
    Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020.
    Wyatt, Leach, Schmon & Willcocks, "AnoDDPM: Anomaly Detection with Denoising Diffusion
    Probabilistic Models using Simplex Noise", CVPR Workshops 2022.

Example:
    >>> import torch
    >>> @register_noise("flipped")
    ... def flipped(scale=1.0):
    ...     return lambda x: -scale * torch.randn_like(x)
    >>> build_noise({"name": "flipped", "scale": 1.0})(torch.zeros(2, 3)).shape
    torch.Size([2, 3])
    >>> build_noise("gaussian") is None
    True
"""

from __future__ import annotations

from collections.abc import Callable

import torch

_NOISES: dict[str, Callable[..., Callable[[torch.Tensor], torch.Tensor]]] = {}


def register_noise(name: str, factory: Callable | None = None):
    """Register ``factory(**options) -> f(x) -> noise like x`` under ``name`` (usable as a decorator)."""

    def add(f):
        if name == "gaussian":
            raise ValueError("'gaussian' is the built-in default noise; register another name.")
        _NOISES[name] = f
        return f

    return add(factory) if factory is not None else add


def list_noises() -> list[str]:
    """Names ``DDPM(forward_noise=...)`` accepts: ``"gaussian"`` and the registered ones."""
    return ["gaussian", *sorted(_NOISES)]


def build_noise(spec) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The noise function of a ``forward_noise`` argument, or ``None`` for Gaussian noise.

    Raises:
        ValueError: an unknown name, or a spec that is neither a name, a dict with a
            ``"name"``, a callable nor ``None``.
    """
    if spec is None or spec == "gaussian":
        return None
    if callable(spec):
        return spec
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
        name, options = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    else:
        raise ValueError(f"forward_noise must be None, a noise name, a dict with a 'name' or a callable, got {spec!r}.")
    if name == "gaussian":
        return None
    if name not in _NOISES:
        raise ValueError(f"forward_noise {name!r} is not registered; known: {list_noises()} "
                         "(image noises register when synthkit.domains.medical is imported).")
    return _NOISES[name](**options)
