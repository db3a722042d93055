"""Sharded sampling: any number of rows from a saved model, as a folder of parts and a manifest.

``sample_shards(model, out, n, workers=K)`` (and ``synthkit sample MODEL -n N --out FOLDER
--workers K``) splits an ``n``-row draw into parts of ``shard_rows`` rows. Part ``k`` holds
batches ``k * shard_rows / batch_size, ...`` of the one seeded draw that ``synthkit sample
--seed S`` writes to a single file (:func:`synthkit.synthesizer.batch_seeds`: batch ``i``
depends on the seed and ``i`` only), so:

- a part's bytes depend only on (seed, k) and the plan, never on how many workers ran or in
  which order: the parts read in order are the single-file draw, row for row;
- finished parts are kept: a killed run resumes where it stopped (each part appears
  atomically, complete or not at all), and ``shards=(a, b)`` (``--shards a:b``) writes only
  parts ``a`` to ``b - 1``, so a scheduler (Slurm, Ray, Dask, Spark: ``docs/sharding.md``)
  can run ranges on many machines over one shared folder;
- memory is bounded by one batch per worker.

The folder holds ``_plan.json`` (written first, once: rows, seed, part and batch sizes, the
model's SHA-256; every later call must agree with it, and an unseeded call takes its seed
from it), the parts ``part-00000<suffix>`` in the domain's part format (Parquet for tables
and arrays, ``.smi`` for molecules, a folder of files for images and audio) and, written
last, when every part exists, ``_manifest.json``: rows, seed, schema and each part's rows
and SHA-256.

Workers are ``spawn``-ed processes (``fork`` after torch has started threads can deadlock),
each loading the saved model once and running ``cores // K`` torch threads.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from synthkit.io import write_text
from synthkit.registry import DOMAINS
from synthkit.validation import check_count

PLAN, MANIFEST, FORMAT_VERSION = "_plan.json", "_manifest.json", 1  # "_": readers of Parquet folders skip them
#: batches per part unless ``shard_rows`` is given (100,000 rows at the CLI's batch of 10,000)
BATCHES_PER_PART = 10


@dataclass(frozen=True)
class ShardPlan:
    """What every part of one sharded draw agrees on (stored as ``_plan.json``)."""

    rows: int
    seed: int
    shard_rows: int
    batch_size: int
    domain: str
    part_suffix: str
    label: str | None
    model_sha256: str
    format_version: int = FORMAT_VERSION

    @property
    def n_shards(self) -> int:
        return max(1, math.ceil(self.rows / self.shard_rows))

    def part(self, k: int) -> tuple[str, int, int]:
        """``(file name, first batch, rows)`` of part ``k``."""
        rows = min(self.shard_rows, self.rows - k * self.shard_rows)
        return f"part-{k:05d}{self.part_suffix}", k * self.shard_rows // self.batch_size, rows


def sample_shards(model, out, n: int, *, seed=None, shard_rows: int | None = None, batch_size: int = 10_000,
                  workers: int = 1, shards=None, label=None, progress: bool = False) -> dict:
    """Write an ``n``-row draw of ``model`` to the folder ``out`` as parts plus a manifest.

    Args:
        model: the folder of a saved model (``synthkit fit`` / ``save``), or a fitted model
            (saved to a temporary folder for the workers).
        out: the output folder: new, empty, or one an earlier call with the same plan wrote.
        n: rows (molecules, images, clips) in the whole draw.
        seed: the draw's seed; ``None`` takes the folder's plan's seed, or draws a fresh one.
        shard_rows: rows per part (rounded up to a whole number of batches); default
            ``10 * batch_size``.
        batch_size: rows per batch (as the domain caps it): memory per worker.
        workers: processes writing parts side by side.
        shards: ``(a, b)``: write only parts ``a .. b-1`` (``None``: all).
        label: the class to draw (core generators), as ``synthkit sample --label``.
        progress: show a bar over the rows of the range.

    Returns:
        ``{"written": parts written now, "kept": parts already there, "rows": rows written
        now, "n_shards": ..., "complete": bool, "manifest": path or None}``.

    Example:
        >>> import numpy as np, synthkit, tempfile, pathlib
        >>> gen = synthkit.make_generator("vae", max_epochs=1, random_state=0)
        >>> gen = gen.fit(np.random.default_rng(0).normal(size=(64, 3)))
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "draw"
        >>> sample_shards(gen, out, 250, seed=1, shard_rows=100, batch_size=50)["n_shards"]
        3
        >>> sorted(p.name for p in out.iterdir())
        ['_manifest.json', '_plan.json', 'part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']
    """
    n, workers, batch_size = check_count("n", n), check_count("workers", workers), check_count("batch_size", batch_size)
    out = Path(out)
    with _model_folder(model) as folder:
        loaded = _load(folder)
        adapter = domain_adapter(loaded)
        batch = int(adapter.sample_batch_size(loaded, batch_size))
        rows = batch * BATCHES_PER_PART if shard_rows is None else check_count("shard_rows", shard_rows)
        plan = ShardPlan(rows=n, seed=0, shard_rows=math.ceil(rows / batch) * batch, batch_size=batch,
                         domain=adapter.name, part_suffix=adapter.part_suffix or adapter.suffix,
                         label=None if label is None else str(label), model_sha256=digest(folder))
        if label is not None:
            _check_label(adapter, loaded, plan)
        plan = _agree(out, plan, seed)
        a, b = _range(shards, plan.n_shards)
        todo = [k for k in range(a, b) if not (out / plan.part(k)[0]).exists()]
        for k in todo:
            _clear_temporaries(out, plan.part(k)[0])
        from synthkit.training.progress import progress_bar

        bar = progress_bar(total=sum(plan.part(k)[2] for k in todo), verbose=progress, desc="sampling parts",
                           unit="row")
        try:
            written = 0
            for rows_done in _run(folder, loaded, plan, out, todo, workers):
                written += rows_done
                bar.update(rows_done)
        finally:
            bar.close()
    manifest = write_manifest(out, plan) if all((out / plan.part(k)[0]).exists() for k in range(plan.n_shards)) \
        else None
    return {"written": len(todo), "kept": (b - a) - len(todo), "rows": written, "n_shards": plan.n_shards,
            "complete": manifest is not None, "manifest": None if manifest is None else str(manifest)}


def write_manifest(out, plan: ShardPlan) -> Path:
    """Write ``_manifest.json`` (atomically) for a folder whose parts all exist; returns its path."""
    out = Path(out)
    parts = []
    for k in range(plan.n_shards):
        name, _, rows = plan.part(k)
        parts.append({"index": k, "file": name, "rows": rows, "sha256": digest(out / name)})
    manifest = {**asdict(plan), "schema": _schema(out / plan.part(0)[0]), "parts": parts}
    path = out / MANIFEST
    write_text(path, json.dumps(manifest, indent=2))
    return path


def digest(path) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and contents, in sorted order)."""
    path = Path(path)
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if f != path:
            h.update(f.relative_to(path).as_posix().encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def parse_range(text: str) -> tuple[int | None, int | None]:
    """``"a:b"`` (either side may be empty) as ``(a, b)``, for ``--shards``."""
    lo, sep, hi = str(text).partition(":")
    try:
        if not sep:
            raise ValueError
        return (int(lo) if lo.strip() else None), (int(hi) if hi.strip() else None)
    except ValueError:
        raise ValueError(f"--shards must look like a:b (parts a to b-1, e.g. 0:10), got {text!r}.") from None


# ---------------------------------------------------------------------- the plan
def _agree(out: Path, plan: ShardPlan, seed) -> ShardPlan:
    """The folder's plan: created (atomically, once: the first process wins) or read and checked."""
    from synthkit.training.runtime import seed_from

    path = out / PLAN
    if out.exists() and not path.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and holds no {PLAN}; give a new or empty folder for a sharded draw.")
    out.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # a fresh 63-bit seed, the range seed_from keeps: --seed <it> repeats this draw exactly
        fresh = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1) if seed is None else seed_from(seed)
        tmp = out / f".{PLAN}.{os.getpid()}.tmp"
        write_text(tmp, json.dumps(asdict(plan) | {"seed": int(fresh)}, indent=2))
        try:
            os.link(tmp, path)  # atomic create-if-absent: a concurrent first call keeps the other's plan
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    try:
        theirs = ShardPlan(**json.loads(path.read_text()))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path} is not a sharded-draw plan ({err}).") from None
    mine = asdict(plan) | {"seed": theirs.seed if seed is None else seed_from(seed)}
    differ = [f"{k}: the folder has {v!r}, this call {mine[k]!r}" for k, v in asdict(theirs).items() if mine[k] != v]
    if differ:
        raise ValueError(f"{out} holds parts of another draw ({'; '.join(differ)}); use a new --out folder or "
                         "the same model, -n, --seed, --batch-size and --shard-size.")
    return theirs


def _range(shards, n_shards: int) -> tuple[int, int]:
    if shards is None:
        return 0, n_shards
    a, b = shards
    a, b = (0 if a is None else int(a)), (n_shards if b is None else int(b))
    if not 0 <= a < b <= n_shards:
        raise ValueError(f"shards {a}:{b} is not a range of parts of this draw, which has parts 0 to "
                         f"{n_shards - 1} (give a:b with 0 <= a < b <= {n_shards}).")
    return a, b


# ---------------------------------------------------------------------- the work
def _run(folder: Path, loaded, plan: ShardPlan, out: Path, todo: list[int], workers: int):
    """Rows of each part as it is written: in this process, or in ``workers`` spawned ones."""
    if workers == 1 or len(todo) <= 1:
        for k in todo:
            yield _write_part(loaded, plan, out, k)
        return
    workers = min(workers, len(todo))
    threads = max(1, (os.cpu_count() or 1) // workers)
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_start_worker, initargs=(str(folder), threads)) as pool:
        futures = [pool.submit(_worker_part, asdict(plan), str(out), k) for k in todo]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


_WORKER_MODEL = None


def _start_worker(folder: str, threads: int) -> None:
    global _WORKER_MODEL
    import torch

    torch.set_num_threads(threads)
    _WORKER_MODEL = _load(Path(folder))


def _worker_part(plan: dict, out: str, k: int) -> int:
    return _write_part(_WORKER_MODEL, ShardPlan(**plan), Path(out), k)


def _write_part(model, plan: ShardPlan, out: Path, k: int) -> int:
    name, first_batch, rows = plan.part(k)
    try:
        return int(DOMAINS.get(plan.domain).sample(model, out / name, rows, batch_size=plan.batch_size,
                                                   seed=np.random.SeedSequence(plan.seed), label=plan.label,
                                                   first_batch=first_batch))
    except ValueError as err:  # bad input (a label, a folder): the command line shows it as a message
        raise ValueError(f"part {k} ({out / name}): {err}") from err
    except Exception as err:
        raise RuntimeError(f"part {k} ({out / name}) failed: {err}") from err


# ---------------------------------------------------------------------- helpers
def _check_label(adapter, model, plan: ShardPlan) -> None:
    """Refuse a bad ``label`` before the plan is written: draw one row with it, into a temporary folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        adapter.sample(model, Path(tmp) / f"probe{plan.part_suffix}", 1, batch_size=1,
                       seed=np.random.SeedSequence(0), label=plan.label)


class _model_folder:
    """The saved model's folder: the path given, or a temporary save of a fitted model."""

    def __init__(self, model):
        self.model, self.tmp = model, None

    def __enter__(self) -> Path:
        if isinstance(self.model, (str, os.PathLike)):
            return Path(self.model)
        from synthkit.persistence import save

        self.tmp = tempfile.mkdtemp(prefix="synthkit-shards-")
        save(self.model, Path(self.tmp) / "model")
        return Path(self.tmp) / "model"

    def __exit__(self, *exc):
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _load(folder: Path):
    from synthkit.persistence import load

    return load(folder)


def domain_adapter(model):
    """The :class:`~synthkit.adapters.DomainAdapter` that writes a loaded model's draws: its
    synthesizer's domain, or ``array`` for a core generator."""
    from synthkit.synthesizer import Synthesizer

    return DOMAINS.get(model.domain if isinstance(model, Synthesizer) else "array")


def _clear_temporaries(out: Path, name: str) -> None:
    """Remove what a killed writer of part ``name`` left (its hidden temporary file or folder)."""
    for stale in out.glob(f".{name}.*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


def _schema(part: Path):
    if part.suffix == ".parquet":
        import pyarrow.parquet as pq

        return [{"name": f.name, "type": str(f.type)} for f in pq.read_schema(part)]
    return {"format": part.suffix.lstrip(".") or "folder"}
