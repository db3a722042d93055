"""Read molecules from a list or from the user's own ``.smi`` / ``.csv`` / ``.sdf`` files.

Bad entries never stop a load: each one is skipped and reported with its line (or SDF
record) number and the reason, so a chemist can fix the source file.
"""

from __future__ import annotations

import csv
import gzip
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from synthkit.domains.molecules.chem import canonical, mol_to_smiles, quiet, require_rdkit, to_mol
from synthkit.io import write_text

SMILES_SUFFIXES = (".smi", ".smiles", ".txt", ".ism", ".can")
CSV_SUFFIXES = (".csv", ".tsv")
SDF_SUFFIXES = (".sdf", ".sd", ".mol")
HEADER_WORDS = {"smiles", "smile", "canonical_smiles", "smiles_string", "molecule", "mol", "structure"}


@dataclass
class Molecules:
    """Molecules read from a source.

    Attributes:
        smiles: canonical SMILES of the valid entries, in source order.
        lines: the 1-based line (or SDF record) number of each valid entry.
        invalid: ``(line, text, reason)`` for each skipped entry.
        properties: other columns of a CSV or SDF fields, aligned with ``smiles``.
        source: where the molecules came from.
    """

    smiles: list[str]
    lines: list[int]
    invalid: list[tuple[int, str, str]] = field(default_factory=list)
    properties: pd.DataFrame | None = None
    source: str = "<list>"

    def __len__(self) -> int:
        return len(self.smiles)

    def summary(self, limit: int = 10) -> str:
        """A one-paragraph report of what was skipped, naming lines."""
        total = len(self.smiles) + len(self.invalid)
        if not self.invalid:
            return f"{self.source}: {total} molecules, all valid."
        unit = "record" if self.source.lower().endswith(SDF_SUFFIXES) else "line"
        shown = "; ".join(f"{unit} {ln}: {txt[:60]!r} ({why})" for ln, txt, why in self.invalid[:limit])
        more = f"; and {len(self.invalid) - limit} more" if len(self.invalid) > limit else ""
        return (
            f"{self.source}: skipped {len(self.invalid)} of {total} entries that are not valid "
            f"molecules — {shown}{more}."
        )


def read_molecules(
    source,
    *,
    smiles_column: str | None = None,
    largest_fragment: bool = False,
    warn: bool = True,
) -> Molecules:
    """Read and canonicalize molecules, skipping (and reporting) invalid entries.

    Args:
        source: a list of SMILES strings, or a path to a ``.smi``/``.txt`` file (SMILES
            first on each line, an optional name after whitespace, ``#`` comments), a
            ``.csv``/``.tsv`` file (the SMILES column is found by name, or by content),
            or an ``.sdf`` file; ``.gz`` versions of each are read too.
        smiles_column: the CSV column holding SMILES (default: detected).
        largest_fragment: keep only the largest fragment (strips salts and solvents).
        warn: emit a ``UserWarning`` naming the skipped lines.

    Returns:
        :class:`Molecules`.

    Example:
        >>> mols = read_molecules(["CCO", "C1CC", "c1ccccc1"], warn=False)
        >>> mols.smiles, mols.invalid
        (['CCO', 'c1ccccc1'], [(2, 'C1CC', 'RDKit cannot parse it')])
    """
    require_rdkit()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{path} does not exist or is not a file (pass a list for SMILES strings).")
        suffix = _suffix(path)
        if suffix in SDF_SUFFIXES:
            mols = _read_sdf(path, largest_fragment)
        elif suffix in CSV_SUFFIXES:
            mols = _read_csv(path, smiles_column, largest_fragment, sep="\t" if suffix == ".tsv" else ",")
        elif suffix in SMILES_SUFFIXES or suffix == "":
            mols = _read_smi(path, largest_fragment)
        else:
            raise ValueError(
                f"{path}: unknown molecule file type {suffix!r}; use .smi, .csv, .tsv or .sdf (optionally .gz)."
            )
    else:
        entries = list(source)
        mols = _from_entries(((i + 1, s) for i, s in enumerate(entries)), largest_fragment, "<list>")
    if warn and mols.invalid:
        warnings.warn(mols.summary(), UserWarning, stacklevel=2)
    return mols


def write_smiles(smiles, path) -> Path:
    """Write one SMILES per line."""
    path = Path(path)
    write_text(path, "".join(f"{s}\n" for s in smiles))
    return path


# ---------------------------------------------------------------------- readers
def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _from_entries(entries, largest_fragment: bool, source: str, rows=None) -> Molecules:
    smiles, lines, invalid, keep = [], [], [], []
    for k, (line, text) in enumerate(entries):
        if not isinstance(text, str) or not text.strip():
            invalid.append((line, "" if text is None else str(text), "empty entry"))
            continue
        can = canonical(text, largest_fragment=largest_fragment)
        if can is None:
            invalid.append((line, text, "RDKit cannot parse it"))
            continue
        smiles.append(can)
        lines.append(line)
        keep.append(k)
    props = None if rows is None else rows.iloc[keep].reset_index(drop=True)
    return Molecules(smiles, lines, invalid, props, source)


def _read_smi(path: Path, largest_fragment: bool) -> Molecules:
    entries = []
    for number, line in enumerate(_open_text(path).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        first = text.split()[0]
        if not entries and first.lower() in HEADER_WORDS:
            continue  # a header line
        entries.append((number, first))
    return _from_entries(entries, largest_fragment, str(path))


def _read_csv(path: Path, column: str | None, largest_fragment: bool, sep: str) -> Molecules:
    text = _open_text(path)
    first = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    names_lower = [f.strip().lower() for f in first]
    has_header = (column is not None and column in [f.strip() for f in first]) or any(
        n in HEADER_WORDS or "smiles" in n for n in names_lower
    )
    if not has_header:
        with quiet():
            has_header = not any(to_mol(f) is not None for f in first if f.strip())
    frame = pd.read_csv(io.StringIO(text), sep=sep, header=0 if has_header else None, dtype=str,
                        keep_default_na=False, skip_blank_lines=False)
    if not has_header:
        frame.columns = [f"column_{j}" for j in range(frame.shape[1])]
    if column is None:
        column = _find_smiles_column(frame)
    elif column not in frame.columns:
        raise ValueError(f"{path} has no column {column!r}; columns are {list(frame.columns)}.")
    offset = 2 if has_header else 1
    entries = [(i + offset, s) for i, s in enumerate(frame[column].tolist())]
    rows = frame.drop(columns=[column])
    mols = _from_entries(entries, largest_fragment, str(path), rows=rows)
    # blank CSV rows are not molecules the user meant; do not report them
    mols.invalid = [bad for bad in mols.invalid if bad[2] != "empty entry" or _row_has_data(frame, bad[0] - offset)]
    return mols


def _row_has_data(frame: pd.DataFrame, i: int) -> bool:
    return any(str(v).strip() for v in frame.iloc[i].tolist())


def _find_smiles_column(frame: pd.DataFrame) -> str:
    for name in frame.columns:
        if str(name).strip().lower() in HEADER_WORDS or "smiles" in str(name).lower():
            return name
    best, best_rate = None, 0.0
    for name in frame.columns:
        values = [v for v in frame[name].head(50).tolist() if v.strip()]
        if not values:
            continue
        rate = sum(to_mol(v) is not None for v in values) / len(values)
        if rate > best_rate:
            best, best_rate = name, rate
    if best is None or best_rate < 0.5:
        raise ValueError(
            f"could not find a SMILES column among {list(frame.columns)}; pass smiles_column=."
        )
    return best


def _read_sdf(path: Path, largest_fragment: bool) -> Molecules:
    Chem = require_rdkit()
    text = _open_text(path)
    blocks = text.split("$$$$")
    if blocks and not blocks[-1].strip():
        blocks = blocks[:-1]
    smiles, lines, invalid, props = [], [], [], []
    for number, block in enumerate(blocks, start=1):
        if number > 1:  # drop the line break that followed the previous "$$$$"
            block = block[2:] if block.startswith("\r\n") else block[1:] if block.startswith("\n") else block
        with quiet():
            suppl = Chem.SDMolSupplier()
            suppl.SetData(block + "$$$$\n")
            mol = next(iter(suppl), None) if len(suppl) else None
        title = block.splitlines()[0][:60] if block.strip() else ""
        if mol is None or mol.GetNumAtoms() == 0:
            invalid.append((number, title, "RDKit cannot read this record"))
            continue
        fields = mol.GetPropsAsDict()
        if largest_fragment:
            mol = to_mol(mol_to_smiles(mol), largest_fragment=True)
        can = None if mol is None else canonical(mol_to_smiles(mol))
        if can is None:
            invalid.append((number, title, "record does not give a valid molecule"))
            continue
        smiles.append(can)
        lines.append(number)
        props.append(fields)
    return Molecules(smiles, lines, invalid, pd.DataFrame(props), str(path))


def warn_unrepresentable(mols: Molecules, failures, origin, representation: str) -> list[tuple[int, str]]:
    """Warn (one line per molecule, the first ten by input line) about valid molecules the
    ``representation`` cannot hold; ``failures`` are ``(string index, reason)`` pairs and
    ``origin`` maps a training string to its molecule. Returns ``(molecule, reason)`` pairs."""
    first: dict[int, str] = {}
    for i, why in failures:  # one report per molecule, however many of its writings failed
        first.setdefault(int(origin[i]), why)
    failures = sorted(first.items())
    if failures:
        shown = "; ".join(f"line {mols.lines[i]}: {why}" for i, why in failures[:10])
        more = f"; and {len(failures) - 10} more" if len(failures) > 10 else ""
        warnings.warn(
            f"{mols.source}: skipped {len(failures)} valid molecules that the {representation} "
            f"representation cannot hold — {shown}{more}.",
            UserWarning,
            stacklevel=3,
        )
    return failures
