"""Registry, bundled data sets, device choice."""

import numpy as np
import pytest
import torch

import synthkit
from synthkit.datasets import list_datasets, load_dataset
from synthkit.registry import BACKBONES, DOMAINS, make_generator
from synthkit.training.runtime import resolve_device


def test_every_backbone_resolves_and_describes_itself():
    names = synthkit.list_backbones()
    assert {"autoregressive", "vae", "gan", "flow", "diffusion", "ebm", "rbm"} <= set(names)
    for name, description in names.items():
        assert description and isinstance(synthkit.make_generator(name), synthkit.Generator)


def test_unknown_names_are_clear():
    with pytest.raises(ValueError, match="unknown backbone 'nope'"):
        synthkit.make_generator("nope")
    with pytest.raises(ValueError, match="no parameter 'bogus'"):
        synthkit.make_generator("vae", bogus=1)


def test_domains_are_registered_lazily():
    assert {"array", "tabular", "molecules"} <= set(DOMAINS)
    assert hasattr(DOMAINS.get("array"), "fit")


@pytest.mark.parametrize("name", list(list_datasets()))
def test_datasets_load_seeded(name):
    X, y = load_dataset(name, random_state=0)
    X2, _ = load_dataset(name, random_state=0)
    assert X.ndim == 2 and len(X) == len(y) and np.isfinite(X).all()
    np.testing.assert_array_equal(X, X2)


def test_device_choice():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_make_backbone_from_a_name_or_an_instance():
    from synthkit.registry import backbone_name, make_backbone

    by_name = make_backbone("vae", {"max_epochs": 3}, defaults={"verbose": 0, "random_state": 7},
                            per_backbone={"vae": {"latent_dim": 3}, "gan": {"rejection_sampling": False}})
    assert (by_name.max_epochs, by_name.verbose, by_name.random_state, by_name.latent_dim) == (3, 0, 7, 3)
    mine = make_generator("vae", latent_dim=5, verbose=1)
    inst = make_backbone(mine, None, defaults={"verbose": 0, "random_state": 7}, per_backbone={"vae": {"latent_dim": 3}})
    assert inst is not mine and (inst.latent_dim, inst.verbose, inst.random_state) == (5, 1, 7)
    assert backbone_name(mine) == backbone_name("vae") == "vae" and backbone_name("nope") is None
    with pytest.raises(ValueError, match=r"backbone_params \['colour'\]"):
        make_backbone("vae", {"colour": 1})
    with pytest.raises(ValueError, match="registered name .* or a synthkit.Generator"):
        make_backbone(object())
    with pytest.raises(ValueError, match="must be a dict"):
        make_backbone("vae", [1])
