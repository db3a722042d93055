"""Registries of pluggable parts, with one-line descriptions (MONAI ``ComponentStore`` style).

Entries name an import path, not an object, so listing is instant and heavy modules
(and domain dependencies) load only when an entry is used. The Python API and the CLI
read the same registries.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "package.module:Attribute", or "package.module" for a module
    description: str

    def load(self):
        module, _, attr = self.target.partition(":")
        try:
            loaded = importlib.import_module(module)
        except ImportError as err:
            raise ImportError(
                f"{self.name!r} needs a package that is not installed ({err.name}); "
                "install synthkit with the matching extra, e.g. pip install 'synthkit[all]'."
            ) from err
        return getattr(loaded, attr) if attr else loaded


class Registry:
    """Named entries of one kind (backbones, domains, data sets)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, target: str, description: str) -> None:
        if name in self._entries and self._entries[name].target != target:
            raise ValueError(f"{self.kind} {name!r} is already registered to {self._entries[name].target}.")
        self._entries[name] = Entry(name, target, description)

    def get(self, name: str):
        try:
            return self._entries[name].load()
        except KeyError:
            raise ValueError(f"unknown {self.kind} {name!r}; choose from {', '.join(self._entries)}.") from None

    def describe(self) -> dict[str, str]:
        return {name: e.description for name, e in self._entries.items()}

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries)


BACKBONES = Registry("backbone")
for _name, _target, _help in [
    ("autoregressive", "synthkit.backbones.autoregressive:MADE",
     "Masked autoregressive network (MADE) with mixture-of-Gaussians outputs; exact log-likelihood."),
    ("vae", "synthkit.backbones.vae:VAE",
     "Variational autoencoder (Kingma & Welling 2014); score = ELBO or IWAE bound."),
    ("gan", "synthkit.backbones.gan:GAN",
     "GAN: non-saturating loss with R1 penalty (Mescheder et al. 2018), or WGAN-GP / hinge; no likelihood."),
    ("flow", "synthkit.backbones.flow:NormalizingFlow",
     "Neural spline / masked autoregressive / continuous (flow matching) flow (zuko); exact log-likelihood."),
    ("diffusion", "synthkit.backbones.diffusion:DDPM",
     "Denoising diffusion (Ho et al. 2020) with DDIM sampling and classifier-free guidance; score = ELBO."),
    ("ebm", "synthkit.backbones.ebm:EBM",
     "Energy-based model trained with short-run Langevin MCMC and a replay buffer (Du & Mordatch 2019); score = -energy."),
    ("rbm", "synthkit.backbones.rbm:RBM",
     "Restricted Boltzmann machine (softmax units on quantile bins / Gaussian / Bernoulli; exact with few hidden "
     "units, else CD-k / PCD) or deep belief net; score = exact log p or -free energy."),
    ("sequence", "synthkit.backbones.sequence:SequenceModel",
     "Autoregressive GRU / causal transformer over token-id sequences (SMILES, SELFIES, codes); exact log-likelihood."),
]:
    BACKBONES.register(_name, _target, _help)


#: Domains the CLI serves. Each target is a :class:`synthkit.adapters.DomainAdapter`
#: instance (``fit``, ``evaluate``, ``example``, ``split``, ``read`` / ``write``, ``sample``
#: and the extra ``commands`` it declares); ``synthkit.testing.check_domain`` checks one.
DOMAINS = Registry("domain")
for _name, _target, _help in [
    ("array", "synthkit.cli.array_domain:ADAPTER",
     "Numeric matrices (.npy, or .csv with only numeric columns) fitted by a core backbone."),
    ("tabular", "synthkit.domains.tabular.cli:ADAPTER",
     "Mixed-type tables (CSV / Parquet): metadata, encoding, constraints, privacy."),
    ("molecules", "synthkit.domains.molecules.cli:ADAPTER",
     "Molecules (SMILES / SDF): token or graph backbones, validity, design."),
    ("medical", "synthkit.domains.medical.cli:ADAPTER",
     "Medical images (NIfTI / DICOM / PNG folders, 2-D or 3-D): MONAI networks in the core backbones."),
    ("audio", "synthkit.domains.audio.cli:ADAPTER",
     "Audio clips (folders of WAV / FLAC, a folder per class): log-mel or mu-law backbones, WAV out."),
]:
    DOMAINS.register(_name, _target, _help)


def make_generator(name: str, **params):
    """Create a registered backbone by name, e.g. ``make_generator("vae", max_epochs=50)``."""
    cls = BACKBONES.get(name)
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"backbone {name!r} has no parameter {unknown[0]!r}; its parameters are {', '.join(valid)}.")
    return cls(**params)


def list_backbones() -> dict[str, str]:
    """Registered backbone names with their one-line descriptions."""
    return BACKBONES.describe()


def make_backbone(backbone, params=None, *, defaults=None, per_backbone=None):
    """An unfitted backbone from a registered name or a :class:`synthkit.Generator` instance.

    The one way estimators that hold a backbone (domain synthesizers, the anomaly detector,
    the oversampler) build it, as scikit-learn meta-estimators take ``estimator=``: an
    instance is cloned (its own settings kept), a name is made with ``make_generator``.

    Args:
        backbone: a name from :func:`list_backbones` or an unfitted ``Generator`` instance.
        params: the user's ``backbone_params`` (a dict or ``None``); they win over defaults.
        defaults: parameters the holder sets unless ``params`` does (e.g. its seed and
            ``verbose``). A name gets all of them; an instance only those it leaves at
            ``None`` (a seed it lacks), so its explicit settings stay.
        per_backbone: ``{name: {param: value}}`` defaults that apply to a backbone given by
            name only (measured defaults of one family for one domain).

    Raises:
        ValueError: an unknown name, a non-Generator object, ``params`` not a dict, or a
            parameter the backbone does not take (the message lists those it takes).

    Example:
        >>> make_backbone("vae", {"max_epochs": 3}, defaults={"verbose": 0}).get_params()["verbose"]
        0
    """
    from sklearn.base import clone

    from synthkit.base import Generator

    if params is not None and not isinstance(params, dict):
        raise ValueError(f"backbone_params must be a dict or None, got {type(params).__name__}.")
    params = dict(params or {})
    by_name = isinstance(backbone, str)
    if by_name:
        gen = make_generator(backbone)
    elif isinstance(backbone, Generator):
        gen = clone(backbone)
    else:
        raise ValueError(f"backbone must be a registered name ({', '.join(BACKBONES)}) or a synthkit.Generator "
                         f"instance, got {type(backbone).__name__}.")
    accepted = gen.get_params(deep=False)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"backbone_params {unknown} are not parameters of {type(gen).__name__}; "
                         f"it takes {sorted(accepted)}.")
    merged = dict((per_backbone or {}).get(backbone, {})) if by_name else {}
    merged.update(defaults or {})
    for name, value in merged.items():
        if name in accepted and name not in params and (by_name or accepted[name] is None):
            params[name] = value
    return gen.set_params(**params)


def backbone_name(backbone) -> str | None:
    """The registered name of ``backbone`` (a name, an instance or a class), or ``None``."""
    if isinstance(backbone, str):
        return backbone if backbone in BACKBONES else None
    cls = backbone if isinstance(backbone, type) else type(backbone)
    for name in BACKBONES:
        if BACKBONES._entries[name].target == f"{cls.__module__}:{cls.__qualname__}":
            return name
    return None
