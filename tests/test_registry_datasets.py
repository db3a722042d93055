"""Registry, bundled data sets, device choice."""

import numpy as np
import pytest
import torch

import synthkit
from synthkit.datasets import list_datasets, load_dataset
from synthkit.registry import BACKBONES, DOMAINS
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
