"""The molecules domain as the ``synthkit`` command sees it: :data:`ADAPTER` in
``synthkit.registry.DOMAINS`` (the :class:`synthkit.adapters.DomainAdapter` contract).

``synthkit fit molecules mols.smi --out model/ [--param representation=smiles]`` calls
:func:`fit`; ``synthkit evaluate --domain molecules train.smi gen.smi --reference ref.smi
--report report.html`` calls :func:`evaluate`; ``synthkit design model/ --objective qed
--budget 5000 --out best.csv`` calls :func:`design` (declared in ``commands``);
``synthkit sample`` calls the saved :class:`MoleculeGenerator`'s ``sample_to_file``.
"""

from __future__ import annotations

from pathlib import Path

from synthkit.adapters import DomainAdapter, Example
from synthkit.domains.molecules.data import list_datasets, load_dataset
from synthkit.domains.molecules.generator import MoleculeGenerator
from synthkit.domains.molecules.io import read_molecules

#: ``--param`` keys that configure the generator itself; every other key goes to the backbone
GENERATOR_KEYS = tuple(k for k in MoleculeGenerator().get_params() if k not in ("backbone", "backbone_params"))


#: molecules in the demo: the first of RDKit's NCI set (a minute's prior on 2 cores)
EXAMPLE_SIZE = 1500


class MoleculesAdapter(DomainAdapter):
    name = "molecules"
    suffix = ".smi"
    commands = ("design",)
    quick_params = {"max_epochs": 1, "hidden_dim": 16, "embedding_dim": 8}

    def read(self, path: str) -> list[str]:
        """The valid molecules of a file or bundled set, canonical SMILES (invalid lines skipped
        with a warning naming them)."""
        return list(_read(path).smiles)

    def write(self, data, path) -> None:
        from synthkit.io import write_batches

        write_batches(path, [list(data)])

    def example(self) -> Example:
        """The first molecules of RDKit's NCI set (shipped in RDKit's data folder)."""
        return Example(load_dataset("nci")[:EXAMPLE_SIZE])

    def fit(self, data, *, backbone=None, params=None, target=None, resume=False):
        return fit(data, backbone=backbone, params=params or {}, target=target, resume=resume)

    def evaluate(self, real, synthetic, *, holdout=None, target=None, reference=None, report=None) -> dict:
        results = evaluate(real, synthetic, holdout=holdout, target=target, reference=reference, report=report)
        headline = ("validity", "uniqueness", "novelty", "fcd", "fcd_real_vs_real", "fragment_similarity",
                    "scaffold_similarity", "internal_diversity")
        return {"summary": {k: results[k] for k in headline if k in results}, **results}

    def design(self, model, objectives, **options) -> dict:
        return design(model, objectives, **options)


ADAPTER = MoleculesAdapter()


def fit(data: str, *, backbone=None, params: dict, target: str | None = None, resume: bool = False):
    """Read molecules and fit a :class:`MoleculeGenerator` (returned unsaved).

    Args:
        data: a ``.smi`` / ``.csv`` / ``.sdf`` file, or a bundled set name
            (``drug_like``, ``nci``, ``wehi``, ``chembl``).
        backbone: ``"sequence"`` (default) or ``"vae"``.
        params: backbone parameters (``max_time``, ``hidden_dim``, ...) plus the generator's
            own keys in ``GENERATOR_KEYS``; ``random_state`` reaches the backbone too.
        target: a CSV column / SDF field, or a property (``qed``, ``logp``, ``sa``,
            ``weight``), to condition on.
        resume: continue the backbone's training from its ``checkpoint_dir``.
    """
    own = {k: params[k] for k in GENERATOR_KEYS if k in params}
    backbone_params = {k: v for k, v in params.items() if k not in GENERATOR_KEYS}
    kwargs = {} if backbone is None else {"backbone": backbone}
    gen = MoleculeGenerator(**kwargs, backbone_params=backbone_params or None, **own)
    return gen.fit(_source(data), y=target, resume=resume)


def evaluate(real: str, synthetic: str, *, holdout=None, target=None, reference: str | None = None,
             report: str | None = None) -> dict:
    """Metrics of generated molecules (MOSES-style) against real ones.

    Args:
        real: the molecules the model was trained on (novelty; default reference).
        synthetic: the generated molecules (``.smi``; invalid lines count against validity).
        holdout: real molecules the model never saw; the distribution reference if
            ``reference`` is not given.
        target: unused for molecules (accepted for the common CLI).
        reference: the set to compare distributions with (SNN, Frag, Scaf, property
            distances, FCD).
        report: path of an HTML report with property histograms (a ``.json`` beside it).
    """
    from synthkit.domains.molecules.metrics import evaluate as evaluate_molecules

    train = _read(real).smiles
    generated = _read_raw(synthetic)
    ref = _read(reference).smiles if reference is not None else _read(holdout).smiles if holdout is not None else train
    results = evaluate_molecules(generated, training=train, reference=ref)
    if report is not None:
        from synthkit.domains.molecules.report import write_report

        write_report(results, [s for s in generated if s], ref, report)
    return results


def design(model: str, objectives, *, budget: int, out: str, filters=None, batch_size: int = 64,
           sigma: float = 120.0, learning_rate: float = 5e-4, diversity_filter: bool = True,
           top: int | None = None, save_agent: str | None = None, random_state=None, verbose: int = 1) -> dict:
    """Run REINVENT (:func:`~synthkit.domains.molecules.optimize`) on a saved prior and write
    the ranked molecules to ``out`` (CSV: rank, smiles, score, call, step, scaffold).

    Args:
        model: folder of a saved :class:`MoleculeGenerator` (``backbone="sequence"``).
        objectives: objective names (see ``list_objectives()``); several make a
            geometric-mean MPO.
        budget, filters, batch_size, sigma, learning_rate, random_state, verbose: as in
            :func:`~synthkit.domains.molecules.optimize`.
        diversity_filter: use the scaffold diversity filter.
        top: write only the best ``top`` molecules.
        save_agent: also save the fine-tuned generator to this folder.

    Returns:
        a summary: ``oracle_calls``, ``best``, ``top10_mean``, ``written``.
    """
    from synthkit.domains.molecules.design import optimize, top_k_mean
    from synthkit.persistence import load

    prior = load(model)
    if not isinstance(prior, MoleculeGenerator):
        raise ValueError(f"{model} holds a {type(prior).__name__}; design needs a model from 'synthkit fit molecules'.")
    table, agent = optimize(
        prior, list(objectives), budget=budget, batch_size=batch_size, sigma=sigma, learning_rate=learning_rate,
        diversity_filter="scaffold" if diversity_filter else None, filters=filters, random_state=random_state,
        verbose=verbose, return_agent=True,
    )
    written = table.head(top) if top else table
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    written.to_csv(out, index_label="rank")
    if save_agent:
        agent.save(save_agent)
    return {
        "oracle_calls": int(table.attrs["oracle_calls"]),
        "best": float(table["score"].max()) if len(table) else float("nan"),
        "top10_mean": top_k_mean(table, 10),
        "written": len(written),
    }


def _source(data: str):
    if not Path(data).exists() and data in list_datasets():
        return load_dataset(data)
    return data


def _read(path: str):
    source = _source(path)
    return read_molecules(source, warn=False) if isinstance(source, list) else read_molecules(source, warn=True)


def _read_raw(path: str) -> list[str]:
    """Generated molecules as written, one per entry (invalid ones kept, for validity)."""
    source = _source(path)
    mols = read_molecules(source, warn=False)
    entries = {line: s for line, s in zip(mols.lines, mols.smiles)}
    entries.update({line: text for line, text, _ in mols.invalid})
    return [entries[k] if entries[k] else "" for k in sorted(entries)]
