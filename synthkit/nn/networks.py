"""Networks as arguments: the roles a backbone's networks play, and named network factories.

A backbone is the *process* (the objective, the sampler); the networks it trains are
arguments (``GAN(critic_network=...)``, ``DDPM(denoiser_network=...)``). A network
argument is one of:

* ``None``: the backbone's default for flat vectors (an MLP sized by its ``*_dims``).
* A registered name, or a dict ``{"name": <name>, **options}``: built by the factory
  registered for that role under that name (:func:`register_network`), with the options
  as keyword arguments. Plain data, so the fitted model saves and loads; loading needs the
  factory registered again (as a saved model needs its class importable).
* A ``torch.nn.Module``: deep-copied at every ``fit`` (the argument itself is never
  trained, and refitting starts from the same weights). A model holding one cannot be
  saved (register a factory instead).
* A callable ``factory(**shapes) -> nn.Module``, called at every ``fit``; not saveable either.

Every factory receives the shapes as keywords: ``in_features``, ``out_features``,
``condition_dim`` (0 without a condition), plus the role's extras below. The backbone calls
the network as its role says, checks the output shape once on two zero rows, and raises a
``ValueError`` naming the argument when it does not fit:

================  ==============================  ==========================================
role              call                            factory extras / notes
================  ==============================  ==========================================
``generator``     ``f(z, c) -> x`` (n, d)         ``in_features`` is the latent size
``critic``        ``f(x, c) -> (n,)``             ``projection``: ``c`` holds one-hot classes
``energy``        ``f(x, c) -> (n,)``             ``projection`` as for the critic
``denoiser``      ``f(x_t, t, c) -> (n, d)``      ``n_timesteps``; ``t`` is (n,) int steps
``encoder``       ``f(x, c) -> (n, 2 * latent)``  posterior means, then log-variances
``decoder``       ``f(z, c) -> (n, m)``           ``m`` = the likelihood's parameters
``flow``          ``f(c) -> Distribution``        a zuko ``LazyDistribution`` (``f()``
                                                  without a condition); d in and out
``sequence``      ``f(tokens, c, state)``         ``-> (logits (n, T, vocab), state)``;
                                                  ``vocab_size``, ``max_positions``; ids
                                                  ``0..vocab`` (``vocab`` = begin token);
                                                  with ``state``, continue from it
================  ==============================  ==========================================

synthkit registers ``"conv"`` for the critic, energy, generator and denoiser roles: networks
for rows that hold small images, signals or volumes (``{"name": "conv", "image_shape": [1, 8, 8]}``;
:mod:`synthkit.nn.conv`, :mod:`synthkit.nn.unet`).

The masked autoregressive network (MADE) and the RBM have no network argument: their
structure *is* the model (the masks, the bilinear energy).

Rows ``x`` reach the networks in the backbone's model space (columns standardized by
:class:`synthkit.Generator`); rows a network outputs are mapped back the same way.
``c`` is ``None`` for an unconditional model, else a float tensor (n, ``condition_dim``):
one-hot class labels, or continuous conditions, standardized per column unless the network
declares ``condition_standardization = "none"`` (:func:`condition_standardization`; the
denoiser's carries one extra column flagging a dropped condition, for classifier-free guidance).

Example:
    >>> import torch
    >>> from torch import nn
    >>> @register_network("critic", "small-critic")
    ... class Critic(nn.Module):
    ...     def __init__(self, in_features, out_features, condition_dim, projection, width=32):
    ...         super().__init__()
    ...         self.net = nn.Sequential(nn.Linear(in_features, width), nn.ReLU(), nn.Linear(width, 1))
    ...     def forward(self, x, c=None):
    ...         return self.net(x).squeeze(1)
    >>> net = build_network({"name": "small-critic", "width": 8}, "critic", "critic_network",
    ...                     in_features=3, out_features=1, condition_dim=0, projection=False)
    >>> net(torch.zeros(4, 3)).shape
    torch.Size([4])
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

ROLES = ("generator", "critic", "energy", "denoiser", "encoder", "decoder", "flow", "sequence")

_FACTORIES: dict[str, dict[str, Callable[..., nn.Module]]] = {role: {} for role in ROLES}


def register_network(role: str, name: str, factory: Callable[..., nn.Module] | None = None):
    """Register ``factory`` as network ``name`` for ``role`` (usable as a decorator).

    Registering a name again replaces the factory (so a script can be re-run).
    """
    if role not in ROLES:
        raise ValueError(f"unknown network role {role!r}; roles: {', '.join(ROLES)}.")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a network name must be a non-empty string, got {name!r}.")

    def add(f):
        if not callable(f):
            raise TypeError(f"the factory for network {name!r} must be callable, got {type(f).__name__}.")
        _FACTORIES[role][name] = f
        return f

    return add if factory is None else add(factory)


def list_networks(role: str) -> list[str]:
    """Names registered for ``role``."""
    if role not in ROLES:
        raise ValueError(f"unknown network role {role!r}; roles: {', '.join(ROLES)}.")
    return sorted(_FACTORIES[role])


def build_network(spec, role: str, argument: str, *, default: Callable[[], nn.Module] | None = None,
                  **shapes) -> nn.Module:
    """The network for ``role`` described by ``spec`` (see the module docstring).

    Args:
        spec: ``None``, a registered name, a ``{"name": ..., **options}`` dict, a module or a factory.
        role: one of :data:`ROLES`.
        argument: the backbone parameter that held ``spec`` (named in errors).
        default: builds the backbone's default network when ``spec`` is ``None``.
        **shapes: ``in_features``, ``out_features``, ``condition_dim`` and the role's extras.
    """
    if spec is None:
        if default is None:
            raise ValueError(f"{argument}=None but there is no default {role} network here.")
        return default()
    if isinstance(spec, nn.Module):
        return copy.deepcopy(spec)
    if isinstance(spec, str):
        spec = {"name": spec}
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
        if name not in _FACTORIES[role]:
            known = ", ".join(repr(n) for n in list_networks(role)) or "none"
            raise ValueError(f"{argument}: no {role} network named {name!r} is registered (registered: {known}); "
                             f"register one with synthkit.nn.register_network({role!r}, name, factory).")
        factory, where = _FACTORIES[role][name], f"{argument}={name!r}"
    elif callable(spec):
        factory, options, where = spec, {}, argument
    else:
        raise TypeError(f"{argument} must be None, a registered name, a dict with a 'name', a torch.nn.Module "
                        f"or a factory; got {type(spec).__name__}.")
    try:
        net = factory(**shapes, **options)
    except TypeError as e:
        raise TypeError(f"{where}: the factory could not be called with {sorted({**shapes, **options})}: {e}") from e
    except ValueError as e:  # the factory refused its options or the shapes: say which argument
        raise ValueError(f"{where}: {e}") from e
    if not isinstance(net, nn.Module):
        raise TypeError(f"{where}: the factory returned {type(net).__name__}, not a torch.nn.Module.")
    return net


#: how the base may standardize rows for a network (see :func:`row_standardization`)
ROW_STANDARDIZATIONS = ("column", "global", "none")


def row_standardization(generator) -> str | None:
    """The row standardization the registered networks of ``generator`` declare, or ``None``.

    A factory registered with :func:`register_network` may carry a class (or function)
    attribute ``row_standardization``: ``"column"`` (each column on its own, the default for
    flat vectors), ``"global"`` (one mean and scale for all columns: pixels of an image) or
    ``"none"`` (rows used as given, e.g. images already scaled to [-1, 1]). Network
    arguments are the parameters named ``*_network`` holding a registered name or
    ``{"name": ...}`` dict; the first that declares a value decides, and two that disagree
    are an error (a GAN's generator and critic see the same rows).
    """
    return _declared(generator, "row_standardization", ROW_STANDARDIZATIONS)


#: how the base may standardize a continuous condition for a network (see :func:`condition_standardization`)
CONDITION_STANDARDIZATIONS = ("column", "none")


def condition_standardization(generator) -> str | None:
    """The continuous-condition standardization the registered networks of ``generator``
    declare (a factory attribute ``condition_standardization``), or ``None``.

    ``"column"`` (the default) maps each condition column to zero mean and unit variance;
    ``"none"`` passes the condition through unchanged, for a network that reads its
    condition as an image (a label map concatenated to the noisy image as input channels,
    as MONAI's conditioning by concatenation) and needs the map's own values, not a
    per-pixel z-score. Found as :func:`row_standardization` is.
    """
    return _declared(generator, "condition_standardization", CONDITION_STANDARDIZATIONS)


def _declared(generator, attribute: str, allowed: tuple[str, ...]) -> str | None:
    """The value of ``attribute`` declared by the factories named in the ``*_network``
    parameters of ``generator`` (``None`` if none declares it; disagreeing ones raise)."""
    found: dict[str, str] = {}
    for param, spec in generator.get_params(deep=False).items():
        if not param.endswith("_network"):
            continue
        name = spec if isinstance(spec, str) else spec.get("name") if isinstance(spec, dict) else None
        if name is None:
            continue
        for role in ROLES:
            how = getattr(_FACTORIES[role].get(name), attribute, None)
            if how is not None and param.startswith(role):
                if how not in allowed:
                    raise ValueError(f"network {name!r} declares {attribute}={how!r}; expected one of {allowed}.")
                found[param] = how
    if len(set(found.values())) > 1:
        kind = attribute.replace("_", " ").replace("standardization", "standardizations")
        raise ValueError(f"the network arguments declare different {kind} {found}; give networks that agree.")
    return next(iter(found.values()), None)


def check_output(net: nn.Module, argument: str, args: tuple, expected: tuple[int, ...], what: str) -> None:
    """Call ``net(*args)`` without gradients and raise a ``ValueError`` naming ``argument``
    unless the output is a tensor of shape ``expected`` (``what`` says what it should be)."""
    training = net.training
    net.eval()  # no batch-statistics updates from the probe rows
    try:
        with torch.no_grad():
            out = net(*args)
    except Exception as e:  # a user network: say which argument failed, keep the cause
        shapes = [None if a is None else tuple(a.shape) for a in args]
        raise ValueError(f"{argument} failed on inputs of shapes {shapes}: {type(e).__name__}: {e}") from e
    finally:
        net.train(training)
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if shape != tuple(expected):
        raise ValueError(f"{argument} returned {shape} for {len(args[0])} rows; expected {what}: shape {tuple(expected)}.")


def spectral_normalize(net: nn.Module) -> nn.Module:
    """Wrap every linear and convolution layer of ``net`` in spectral normalization
    (Miyato et al. 2018) that is not normalized already; returns ``net``."""
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import spectral_norm

    layers = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
    for module in list(net.modules()):
        if isinstance(module, layers) and not parametrize.is_parametrized(module, "weight"):
            spectral_norm(module)
    return net
