"""The tabular domain as the ``synthkit`` command sees it: :data:`ADAPTER` in
``synthkit.registry.DOMAINS`` (the :class:`synthkit.adapters.DomainAdapter` contract).

``synthkit fit tabular data.csv --out model/ [--target COL] [--max-time S] [--param k=v]``
calls :meth:`TabularAdapter.fit`; ``synthkit evaluate real.csv synth.parquet --holdout h.csv
--target COL --report report.html`` calls :meth:`TabularAdapter.evaluate`.
"""

from __future__ import annotations

import json
from pathlib import Path

from synthkit.adapters import DomainAdapter, Example
from synthkit.domains.tabular.io import read_table, write_table
from synthkit.domains.tabular.metadata import infer_metadata
from synthkit.domains.tabular.synthesizer import TabularSynthesizer

#: ``--param`` keys that configure the synthesizer itself; every other key is a backbone parameter
SYNTHESIZER_KEYS = ("metadata", "constraints", "dp", "categorical_encoding", "n_quantiles", "max_tries",
                    "random_state", "verbose")


class TabularAdapter(DomainAdapter):
    name = "tabular"
    suffix = ".csv"
    part_suffix = ".parquet"
    quick_params = {"max_epochs": 1, "hidden_dim": 16}

    def read(self, path: str):
        return read_table(path)

    def write(self, data, path) -> None:
        write_table(data, path)

    def example(self) -> Example:
        """Palmer penguins (344 rows, numbers, categories, gaps) and its class column."""
        from synthkit.domains.tabular.datasets import load_table

        return Example(*load_table("penguins"))

    def fit(self, data, *, backbone=None, params=None, target=None, resume=False):
        return fit(data, backbone=backbone, params=params or {}, target=target, resume=resume)

    def evaluate(self, real, synthetic, *, holdout=None, target=None, reference=None, report=None) -> dict:
        return evaluate(real, synthetic, holdout=holdout, target=target, reference=reference, report=report)


ADAPTER = TabularAdapter()


def fit(data: str, *, backbone=None, params: dict, target: str | None = None, resume: bool = False):
    """Read ``data`` (CSV / Parquet), fit a :class:`TabularSynthesizer` and return it (unsaved).

    A folder of Parquet/CSV files, a Parquet file of more than ``STREAM_ROWS`` rows or a CSV
    file of more than ``STREAM_CSV_BYTES`` is streamed (:meth:`TabularSynthesizer.fit_stream`,
    never held in memory); ``--param stream=true|false`` decides instead, and
    ``--param scratch_dir=DIR`` says where the encoded rows go.

    Args:
        data: path of the table (or of a folder of tables).
        backbone: registered backbone name; ``None`` uses the synthesizer's default.
        params: backbone parameters (``max_time``, ``max_epochs``, ``--param`` values), plus
            the synthesizer's own keys in ``SYNTHESIZER_KEYS`` (``metadata`` may be a path to
            a JSON file; ``random_state`` and ``verbose`` reach the backbone too).
        target: column to condition on (exact class-conditional sampling).
        resume: continue the backbone's training from its ``checkpoint_dir``.
    """
    from synthkit.domains.tabular.streaming import should_stream

    params = dict(params)
    stream, scratch_dir = params.pop("stream", "auto"), params.pop("scratch_dir", None)
    if stream not in ("auto", True, False):
        raise ValueError(f"stream must be true, false or auto, got {stream!r}.")
    stream = should_stream(data) if stream == "auto" else stream
    own = {k: params[k] for k in SYNTHESIZER_KEYS if k in params}
    backbone_params = {k: v for k, v in params.items() if k not in SYNTHESIZER_KEYS}
    own.setdefault("verbose", 1)  # a progress bar on the command line unless --quiet
    if isinstance(own.get("metadata"), str):
        own["metadata"] = _read_json(own["metadata"], "metadata")
    kwargs = {} if backbone is None else {"backbone": backbone}
    synth = TabularSynthesizer(**kwargs, backbone_params=backbone_params or None, condition_column=target, **own)
    if stream:
        return synth.fit_stream(data, resume=resume, scratch_dir=scratch_dir)
    df = read_table(data)
    if target is not None and target not in df.columns:
        raise ValueError(f"{data}: no column {target!r} to condition on (columns: {', '.join(map(str, df.columns))}).")
    return synth.fit(df, resume=resume)


def evaluate(real: str, synthetic: str, *, holdout: str | None = None, target: str | None = None,
             reference: str | None = None, report: str | None = None) -> dict:
    """Fidelity, utility and privacy scores of a synthetic table against the real one.

    Args:
        real: the real rows the model was trained on.
        synthetic: the generated rows.
        holdout: real rows the model never saw (privacy: distance to closest record,
            membership inference; utility tested on them).
        target: column to predict for train-synthetic-test-real utility.
        reference: for tables, an optional saved model folder; its metadata (column
            kinds) and spent privacy budget go into the scores and the report.
        report: path of an HTML report to write (a ``.json`` with the scores beside it).
    """
    from synthkit.metrics import evaluate as evaluate_tables
    from synthkit.metrics.report import write_report

    real_df, synth_df = read_table(real), read_table(synthetic)
    holdout_df = read_table(holdout) if holdout is not None else None
    metadata, privacy = None, None
    if reference is not None:
        from synthkit.persistence import load

        model = load(reference)
        metadata = getattr(model, "metadata_", None)
        privacy = getattr(model, "privacy_", None)
    if metadata is None:
        try:  # the column kinds the synthesizer would see (e.g. ISO date strings are dates)
            metadata = infer_metadata(real_df)
        except ValueError:
            metadata = None  # let the metrics infer kinds on their own
    results = evaluate_tables(real_df, synth_df, holdout=holdout_df, target=target, metadata=metadata, dp=privacy)
    if report is not None:
        write_report(results, real_df, synth_df, report)
    return results


def _read_json(path: str, what: str):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{what}: cannot read JSON from {path} ({err}).") from None
