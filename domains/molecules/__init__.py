"""Molecules: learn a chemical space from SMILES, sample valid novel molecules, and design
toward objectives under an oracle budget.

Example:
    >>> from synthkit.domains.molecules import MoleculeGenerator, load_dataset, metrics
    >>> smiles = load_dataset("nci")[:300]
    >>> gen = MoleculeGenerator(backbone_params={"hidden_dim": 32, "embedding_dim": 16,
    ...     "max_epochs": 1, "verbose": 0}, random_state=0).fit(smiles)
    >>> new = gen.sample(20, random_state=1)
    >>> metrics.validity(new)
    1.0

Modules: ``generator`` (:class:`MoleculeGenerator`), ``tokenizers`` (SMILES regex,
SELFIES), ``graphs`` (RDKit <-> torch-geometric), ``io`` (``.smi`` / ``.csv`` / ``.sdf``),
``data`` (bundled sets), ``objectives``, ``filters``, ``design`` (:func:`optimize`,
REINVENT), ``metrics`` (MOSES-style), ``properties``, ``cli`` (the ``synthkit`` adapter).
RDKit, selfies and torch-geometric come with ``pip install 'synthkit[molecules]'``.
"""

from synthkit.domains.molecules.chem import require_rdkit

require_rdkit()

from synthkit.domains.molecules import metrics  # noqa: E402
from synthkit.domains.molecules.data import list_datasets, load_dataset  # noqa: E402
from synthkit.domains.molecules.design import optimize  # noqa: E402
from synthkit.domains.molecules.filters import AllowedAtoms, CatalogFilter, RingSizes, get_filter  # noqa: E402
from synthkit.domains.molecules.generator import MoleculeGenerator  # noqa: E402
from synthkit.domains.molecules.io import read_molecules  # noqa: E402
from synthkit.domains.molecules.objectives import (  # noqa: E402
    MPO,
    QED,
    Desirable,
    FromCallable,
    Gaussian,
    Linear,
    LogP,
    PenalizedLogP,
    ReverseSigmoid,
    SAScore,
    Sigmoid,
    Similarity,
    Substructure,
    Window,
    get_objective,
    list_objectives,
)

__all__ = [
    "MPO", "QED", "AllowedAtoms", "CatalogFilter", "Desirable", "FromCallable", "Gaussian", "Linear", "LogP",
    "MoleculeGenerator", "PenalizedLogP", "ReverseSigmoid", "RingSizes", "SAScore", "Sigmoid", "Similarity",
    "Substructure", "Window", "get_filter", "get_objective", "list_datasets", "list_objectives", "load_dataset",
    "metrics", "optimize", "read_molecules",
]
