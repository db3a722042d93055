"""What a :class:`~synthkit.domains.molecules.MoleculeGenerator` conditions on, and the
per-row conditions of a draw.

A fit's ``y`` is a property computed here (``"qed"``, ``"logp"``, ``"sa"``, ``"weight"``:
continuous), a column or SDF field of the input file (numbers: continuous; text: class
labels), 1-D class labels, or a 2-D array of continuous values, one per input entry; rows
of entries that were skipped as invalid are dropped with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from synthkit.domains.molecules import properties as props
from synthkit.domains.molecules.chem import to_mol
from synthkit.domains.molecules.io import Molecules


def condition_values(mols: Molecules, y):
    """``(values, kind)``: the condition aligned with ``mols.smiles`` (``None`` without ``y``)
    and its kind: ``"labels"``, ``"values"`` or a property name."""
    if y is None:
        return None, None
    if isinstance(y, str):
        if mols.properties is not None and y in mols.properties.columns:
            column = mols.properties[y]
            numeric = np.asarray(pd.to_numeric(column, errors="coerce"), dtype=float)
            if np.isfinite(numeric).all():
                return numeric.reshape(-1, 1), "values"
            return column.astype(str).to_numpy(), "labels"
        if y in props.PROPERTIES:
            values = props.compute([to_mol(s) for s in mols.smiles], y)
            if not np.isfinite(values).all():
                raise ValueError(f"property {y!r} could not be computed for every molecule.")
            return values.reshape(-1, 1), y
        raise ValueError(
            f"y={y!r} is neither a column of {mols.source} nor a property ({', '.join(props.PROPERTIES)})."
        )
    y = np.asarray(y)
    n_entries = len(mols.smiles) + len(mols.invalid)
    if len(y) != n_entries:
        raise ValueError(f"y has {len(y)} entries but smiles has {n_entries}.")
    every = sorted(mols.lines + [line for line, _, _ in mols.invalid])
    position = {line: i for i, line in enumerate(every)}
    y = y[[position[line] for line in mols.lines]]
    return y, ("labels" if y.ndim == 1 else "values")


def condition_rows(kind, y, n: int, width: int):
    """Per-row condition of ``n`` draws from a model conditioned on ``kind`` (``None``:
    unconditional) with ``width`` continuous condition columns."""
    if kind is None:
        if y is not None:
            raise ValueError("this MoleculeGenerator was fitted without y; pass y=None.")
        return None
    if kind == "labels":
        if y is None:
            return None  # the backbone draws labels from the training frequencies
        y = np.asarray(y)
        return np.full(n, y.item(), dtype=y.dtype) if y.ndim == 0 else y
    if y is None:
        raise ValueError(f"this MoleculeGenerator is conditioned on {kind}; pass y (a value or one per row).")
    y = np.asarray(y, dtype=float)
    if y.ndim == 0 or y.size == width:
        return np.tile(y.reshape(1, width), (n, 1))
    return y.reshape(n, width)
