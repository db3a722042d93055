"""Mixed-type tables: metadata, reversible encoding, constraints, conditional and private synthesis.

Example:
    >>> import palmerpenguins
    >>> from synthkit.domains.tabular import TabularSynthesizer
    >>> df = palmerpenguins.load_penguins()
    >>> synth = TabularSynthesizer("vae", condition_column="species",
    ...                            backbone_params={"max_epochs": 2}, random_state=0).fit(df)
    >>> synth.sample(3, conditions={"species": "Gentoo"})["species"].tolist()
    ['Gentoo', 'Gentoo', 'Gentoo']
"""

from synthkit.domains.tabular.constraints import Inequality, Range, parse_constraint
from synthkit.domains.tabular.encoding import TableEncoder
from synthkit.domains.tabular.io import read_table, write_table
from synthkit.domains.tabular.metadata import infer_metadata
from synthkit.domains.tabular.synthesizer import TabularSynthesizer

__all__ = ["Inequality", "Range", "TableEncoder", "TabularSynthesizer", "infer_metadata", "parse_constraint",
           "read_table", "write_table"]
