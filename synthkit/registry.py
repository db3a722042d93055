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


#: Domains the CLI can fit. Each target is a module with
#: ``fit(data, *, backbone, params, target) -> fitted model`` (the CLI saves it) and
#: ``evaluate(real, synthetic, *, holdout, target, reference, report) -> dict`` (metrics;
#: writes an HTML report with plots and a JSON next to it when ``report`` is a path).
DOMAINS = Registry("domain")
for _name, _target, _help in [
    ("array", "synthkit.cli.array_domain", "Numeric matrices (.npy, or .csv with only numeric columns) fitted by a core backbone."),
    ("tabular", "synthkit.domains.tabular.cli", "Mixed-type tables (CSV / Parquet): metadata, encoding, constraints, privacy."),
    ("molecules", "synthkit.domains.molecules.cli", "Molecules (SMILES / SDF): token or graph backbones, validity, design."),
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
