"""``TabularSynthesizer``: a synthetic copy of a mixed-type table from any backbone.

The synthesizer composes three parts, each replaceable: column metadata
(:mod:`~synthkit.domains.tabular.metadata`), a reversible encoding
(:class:`~synthkit.domains.tabular.encoding.TableEncoder`) and a registered generative
backbone (``synthkit.make_generator``), plus constraints and conditional sampling on top.

References:
    Xu et al., "Modeling Tabular Data using Conditional GAN" (CTGAN / TVAE), NeurIPS 2019.
    Kotelnikov et al., "TabDDPM: Modelling Tabular Data with Diffusion Models", ICML 2023.
    Patki, Wedge & Veeramachaneni, "The Synthetic Data Vault", DSAA 2016.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted
from synthkit.domains.tabular.constraints import check_constraints
from synthkit.domains.tabular.encoding import TableEncoder
from synthkit.domains.tabular.metadata import (
    check_frame,
    check_public_metadata,
    infer_metadata,
)
from synthkit.domains.tabular.sampling import ConditionSampler

from synthkit.synthesizer import Synthesizer, batch_seed_sequence
from synthkit.validation import check_count, check_fraction, check_positive

#: The default backbone: the one that measured best in ``benchmarks/tabular.py``. MADE (exact
#: likelihood, mixture-of-Gaussians outputs for quantile-normalized numbers, softmax for
#: category codes) had the best fidelity among the backbones whose samples do not sit near
#: training rows (DCR share near 0.5) on every table tried: penguins, penguins_raw, diabetes,
#: stocks (60 s), diamonds (26,970 training rows, 60 s against every backbone; 600 s: shape
#: 0.991, trend 0.976, detection AUC 0.577, DCR share 0.519) and HI (11,136 rows, 600 s). On
#: penguins diffusion's shapes and trends are higher, at DCR share 0.79 (memorization).
DEFAULT_BACKBONE = "autoregressive"
#: backbone hyper-parameters used unless ``backbone_params`` says otherwise (not with ``dp``).
#: Early stopping on the held-out likelihood (10 % of the rows) ends training when the model
#: starts to fit the training rows better than new ones -- before it memorizes them. Measured
#: with MADE on HI (11,136 training rows, 600 s budget): without it the synthetic rows sat
#: closer to the training rows than to a holdout (DCR share 0.647, membership-inference AUC
#: 0.596); with it training stopped after 21 s at DCR share 0.520 and MIA 0.521, with the
#: same fidelity (shape 0.986, trend 0.975, detection AUC 0.546; see benchmarks/tabular.py).
BACKBONE_DEFAULTS: dict[str, dict] = {name: {"early_stopping": True} for name in ("autoregressive", "flow", "vae")}
#: backbone hyper-parameters for encoded tables, used unless ``backbone_params`` says otherwise.
#: The GAN's discriminator rejection sampling (its default on up to 3 columns) is off: on diamonds
#: (26,970 training rows, 60 s, one thread) it lowered column shapes / pair trends / TSTR AUC
#: from 0.977 / 0.940 / 0.833 without it to 0.833 / 0.842 / 0.688 (detection AUC 0.914 -> 0.933).
ENCODED_DEFAULTS: dict[str, dict] = {"gan": {"rejection_sampling": False}}
#: tables with fewer rows train without the ``BACKBONE_DEFAULTS`` (a validation split of a few rows)
MIN_ROWS_EARLY_STOPPING = 100
CATEGORICAL_ENCODINGS = ("auto", "onehot", "codes")
#: keys of the ``dp`` parameter (the last two are passed to ``synthkit.privacy.fit_private``)
DP_KEYS = ("epsilon", "delta", "max_grad_norm", "accountant")


class TabularSynthesizer(Synthesizer):
    """Learn a table and generate new rows with the same columns, dtypes and statistics.

    Args:
        backbone: name of a registered backbone (``synthkit.list_backbones()``) or an
            unfitted :class:`synthkit.Generator` (cloned at fit; it keeps its own settings and
            gets none of the per-backbone defaults below); default ``DEFAULT_BACKBONE`` (the
            one that measures best, see ``benchmarks/tabular.py``).
        metadata: column metadata overrides, e.g. ``{"columns": {"year": "numerical"}}``
            (see :mod:`synthkit.domains.tabular.metadata`); everything not given is inferred.
        backbone_params: hyper-parameters of the backbone, e.g. ``{"max_time": 60}``. Without
            ``dp`` and from 100 rows on, the likelihood backbones (``autoregressive``,
            ``flow``, ``vae``) stop early on a 10 % validation split unless this says
            ``{"early_stopping": False}`` (see ``BACKBONE_DEFAULTS``: it stops memorization).
        condition_column: a categorical column the backbone is conditioned on, so that
            ``sample(n, conditions={column: value})`` draws rows of that class exactly,
            without rejection.
        constraints: rules every row obeys, e.g. ``["0 <= age <= 120", "start <= end"]``
            (see :mod:`synthkit.domains.tabular.constraints`).
        dp: ``{"epsilon": 3.0, "delta": 1e-5}`` trains the backbone with DP-SGD (Opacus).
            Then nothing is read from the data outside the private training: every column's
            kind, bounds and categories must be given in ``metadata`` (a ValueError says
            which are missing), and numbers are scaled from those public bounds.
        categorical_encoding: ``"auto"`` gives integer codes to backbones with categorical
            outputs (``categorical_features``) and one-hot vectors to the others.
        n_quantiles: knots of the quantile transform of numbers and dates.
        max_tries: rounds of rejection sampling for conditions and constraints.
        random_state: seed of the encoding, the backbone (unless ``backbone_params`` sets
            one) and sampling.
        verbose: passed to the backbone (0 is silent).

    Attributes:
        metadata_: the metadata used (inferred and overridden), JSON-able.
        encoder_: the fitted :class:`TableEncoder`.
        generator_: the fitted backbone.
        privacy_: ``{"epsilon": ..., "delta": ...}`` actually spent with ``dp``, else None.
        fit_seed_: the seed the fit ran with (``random_state``, or drawn once and recorded in
            the backbone's checkpoints so that a resumed fit draws the same encoding noise).

    Example:
        >>> import palmerpenguins
        >>> df = palmerpenguins.load_penguins()
        >>> synth = TabularSynthesizer("vae", backbone_params={"max_epochs": 2}, random_state=0)
        >>> fake = synth.fit(df).sample(5)
        >>> list(fake.columns) == list(df.columns), (fake.dtypes == df.dtypes).all()
        (True, np.True_)
    """

    domain = "tabular"
    backbone_attribute = "generator_"

    def __init__(self, backbone=DEFAULT_BACKBONE, *, metadata=None, backbone_params=None, condition_column=None,
                 constraints=None, dp=None, categorical_encoding="auto", n_quantiles=1000, max_tries=20,
                 random_state=None, verbose=0):
        self.backbone = backbone
        self.metadata = metadata
        self.backbone_params = backbone_params
        self.condition_column = condition_column
        self.constraints = constraints
        self.dp = dp
        self.categorical_encoding = categorical_encoding
        self.n_quantiles = n_quantiles
        self.max_tries = max_tries
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, y=None, *, resume: bool = False):
        """Infer metadata, encode ``data`` and train the backbone; returns self.

        Args:
            data: the real table (at least 2 rows).
            y: ignored (the condition is a column of ``data``: ``condition_column``).
            resume: continue the backbone's training from its ``checkpoint_dir`` (with ``dp``
                too: the accountant's state is in the checkpoint). An unseeded fit resumes
                with the seed its checkpoint recorded (``fit_seed_``).
        """
        start = time.perf_counter()
        df = check_frame(data)
        dp = self._check_dp()
        self.metadata_ = check_public_metadata(self.metadata, df) if dp else infer_metadata(df, self.metadata)
        self._check_condition_column(df, dp)
        constraints = self._parse_constraints()
        check_rows(constraints, df, self.metadata_)
        cond = self.condition_column

        # one seed for the encoding's noise and the backbone, drawn once and read back from the
        # backbone's checkpoint on resume, so an unseeded fit resumes on the same encoded rows
        self._fit_seed(resume)
        backbone = self._fit_encoder(df, n_rows=len(df), private=bool(dp))
        X = self.encoder_.transform(df)
        y = None if cond is None else self.encoder_.codes(df[cond], cond)
        self.privacy_ = None
        if dp:
            self.privacy_ = _fit_private(backbone, X, y, dp, self.encoder_.model_bounds(), resume=resume)
        else:
            backbone.fit(X, y, resume=resume)
        self.n_rows_ = len(df)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def fit_stream(self, source, *, resume: bool = False, scratch_dir=None, progress: bool | None = None):
        """Fit on a table larger than memory: a Parquet/CSV file or a folder of them; returns self.

        The table is read twice as a stream of record batches and never held whole
        (:mod:`synthkit.domains.tabular.streaming`): a first pass for the metadata (exact
        categories, gaps and ranges) and a uniform reservoir sample the encoder is fitted on,
        a second that encodes every row into a float32 memory map in ``scratch_dir`` (default:
        the system's temporary folder; point it, or ``TMPDIR``, at a disk rather than a RAM
        file system), which the backbone trains on with exact shuffled epochs. The scratch
        files are removed when the fit ends. Constraints are checked on every row.

        Not yet with ``dp`` or ``condition_column`` (a ValueError says so): make the condition
        an ordinary column and sample with ``conditions=`` (rejection) instead.

        Args:
            source: path of a ``.parquet`` / ``.csv`` file or a folder of them.
            resume: continue the backbone's training from its ``checkpoint_dir``; the same
                seed gives the same reservoir and encoded rows, so the checkpoint matches.
            scratch_dir: folder for the encoded rows (about 8 bytes per row and model column).
            progress: progress bars for the two passes (default: when ``verbose``).
        """
        from synthkit.domains.tabular.streaming import fit_stream

        return fit_stream(self, source, resume=resume, scratch_dir=scratch_dir,
                          progress=bool(self.verbose) if progress is None else progress)

    def _fit_encoder(self, df: pd.DataFrame, *, n_rows: int, private: bool):
        """Fit ``encoder_`` on ``df`` (the table, or a sample of it, with ``metadata_`` set) and
        return the unfitted backbone, told which encoded columns are category codes."""
        backbone = self._make_backbone(private=private, n_rows=n_rows)
        mode = self.categorical_encoding
        if mode not in CATEGORICAL_ENCODINGS:
            raise ValueError(f"categorical_encoding must be one of {CATEGORICAL_ENCODINGS}, got {mode!r}.")
        supports_codes = "categorical_features" in backbone.get_params()
        if mode == "codes" and not supports_codes:
            raise ValueError(f"backbone {self.backbone!r} has no categorical outputs; use categorical_encoding='onehot'.")
        codes = mode == "codes" or (mode == "auto" and supports_codes)
        cond = self.condition_column
        self.encoder_ = TableEncoder(
            metadata=self.metadata_, categorical="codes" if codes else "onehot",
            numerical="minmax" if private else "quantile", n_quantiles=self.n_quantiles,
            exclude=[cond] if cond is not None else [], random_state=self.fit_seed_,
        ).fit(df)
        if self.encoder_.n_features_out_ == 0:
            raise ValueError("every column is constant or an identifier; there is nothing to learn.")
        if codes:
            backbone.set_params(categorical_features=list(self.encoder_.categorical_features_))
        self.generator_ = backbone
        return backbone

    def _check_condition_column(self, df: pd.DataFrame, dp) -> None:
        cond = self.condition_column
        if cond is None:
            return
        if dp:
            raise ValueError("condition_column cannot be combined with dp yet: the backbone would store the "
                             "class frequencies of the private data unprotected. Fit without condition_column "
                             "and sample with conditions= (rejection) instead.")
        if cond not in df.columns:
            raise ValueError(f"condition_column {cond!r} is not a column of the data.")
        kind = self.metadata_["columns"][cond]["kind"]
        if kind != "categorical":
            raise ValueError(f"condition_column {cond!r} must be categorical, not {kind}.")

    def _parse_constraints(self) -> list:
        """Parse the constraints (``constraints_`` keeps them as dicts); ``check_rows`` checks data."""
        constraints = check_constraints(self.constraints, self.metadata_)
        self.constraints_ = [c.to_dict() for c in constraints]
        return constraints

    def _check_dp(self) -> dict | None:
        if self.dp is None:
            return None
        if not isinstance(self.dp, dict) or "epsilon" not in self.dp:
            raise ValueError(f"dp must be a dict like {{'epsilon': 3.0, 'delta': 1e-5}}, got {self.dp!r}.")
        unknown = sorted(set(self.dp) - set(DP_KEYS))
        if unknown:
            raise ValueError(f"dp has unknown keys {unknown}; it takes {list(DP_KEYS)}.")
        eps, delta = self.dp["epsilon"], self.dp.get("delta", 1e-5)
        check_positive("dp epsilon", eps, finite=True)
        check_fraction("dp delta", delta)
        return dict(self.dp, epsilon=float(eps), delta=float(delta))

    def _make_backbone(self, private: bool = False, n_rows: int | None = None):
        # with dp, a data-dependent stopping decision would be an unaccounted look at the data;
        # under MIN_ROWS_EARLY_STOPPING rows a validation split is too small to decide on
        use_defaults = not private and (n_rows is None or n_rows >= MIN_ROWS_EARLY_STOPPING)
        per_backbone = {name: {**(BACKBONE_DEFAULTS.get(name, {}) if use_defaults else {}),
                               **ENCODED_DEFAULTS.get(name, {})}
                        for name in set(BACKBONE_DEFAULTS) | set(ENCODED_DEFAULTS)}
        return super()._make_backbone(per_backbone=per_backbone)

    # ------------------------------------------------------------------ sample
    def sample(self, n: int, *, conditions: dict | None = None, random_state=None, max_tries=None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows as a DataFrame with the training columns and dtypes.

        Args:
            n: number of rows.
            conditions: ``{column: value}`` that every row must have. The
                ``condition_column`` is sampled exactly (the backbone is conditioned on it);
                other columns by bounded rejection sampling: batches are drawn and matching
                rows kept, for at most ``max_tries`` rounds. Numbers and dates match within
                1% of the column's range and are then set to the value exactly. If no row
                matches, a ValueError is raised; if too few, the rows found are returned with
                a warning. ``None`` (or NaN) as a value asks for missing cells.
            random_state: seed of this call (default: the synthesizer's ``random_state``).
            max_tries: overrides the ``max_tries`` parameter.

        Returns:
            DataFrame with ``n`` rows (fewer only as described under ``conditions``).
        """
        check_is_fitted(self, "generator_")
        check_count("n", n, 0)
        seed = self.random_state if random_state is None else random_state
        rng = np.random.default_rng(seed)
        return self._sampler(conditions, max_tries).sample(int(n), rng, id_start=int(rng.integers(2**48)))

    def _sampler(self, conditions, max_tries) -> ConditionSampler:
        tries = self.max_tries if max_tries is None else max_tries
        check_count("max_tries", tries)
        return ConditionSampler(self, conditions, int(tries))

    def sample_to_file(self, path, n: int, *, batch_size: int = 50_000, conditions=None, random_state=None,
                       progress: bool = False, first_batch: int = 0) -> int:
        """Generate ``n`` rows in batches of ``batch_size`` straight to ``.csv`` or ``.parquet``.

        Memory stays bounded by one batch; the file appears (atomically) only when complete.
        Batch ``i`` depends only on the seed and ``i`` (see ``Synthesizer.sample_to_file``);
        identifier columns are numbered across the whole file (and across the parts of a
        sharded draw: ``first_batch`` as in ``Synthesizer.sample_to_file``). Returns the rows written.
        """
        check_is_fitted(self, "generator_")
        root = batch_seed_sequence(self.random_state if random_state is None else random_state)
        sampler = self._sampler(conditions, None)  # bad conditions are refused before any file is opened
        id_base = int(np.random.default_rng(root).integers(2**48))
        return super().sample_to_file(path, n, batch_size=batch_size, random_state=root, progress=progress,
                                      first_batch=first_batch, sampler=sampler, id_base=id_base)

    def _sample_batch(self, n: int, seed: int, start: int, *, sampler: ConditionSampler,
                      id_base: int) -> pd.DataFrame:
        batch = sampler.sample(n, np.random.default_rng(seed), id_start=id_base + start)
        batch.index = pd.RangeIndex(start, start + len(batch))
        return batch

    def _write_samples(self, path, batches, *, total: int, progress: bool) -> int:
        from synthkit.domains.tabular.io import write_table_batches

        return write_table_batches(path, batches, total=total, progress=progress)


def check_rows(constraints: list, df: pd.DataFrame, metadata: dict) -> None:
    """Raise if a row of ``df`` breaks a constraint (the training rows must satisfy them)."""
    for c in constraints:
        bad = ~c.is_valid(df, metadata)
        if bad.any():
            raise ValueError(f"{bad.sum()} training rows break the constraint '{c}' (first at index "
                             f"{df.index[bad][0]!r}); fix the data or the constraint.")


def _fit_private(backbone, X, y, dp: dict, bounds, *, resume: bool = False) -> dict:
    """Train ``backbone`` with DP-SGD (``synthkit.privacy.fit_private``); returns the spent budget."""
    try:
        from synthkit.privacy import fit_private
    except ImportError as err:
        raise ValueError(f"dp needs synthkit.privacy.fit_private (DP-SGD via Opacus), which this "
                         f"installation lacks ({err}); install synthkit[privacy].") from None
    options = {k: v for k, v in dp.items() if k not in ("epsilon", "delta")}
    gen = fit_private(backbone, X, y, epsilon=dp["epsilon"], delta=dp["delta"], bounds=bounds, resume=resume,
                      **options)
    return {"epsilon": float(gen.dp_epsilon_), "delta": float(gen.dp_delta_), "target_epsilon": dp["epsilon"],
            "noise_multiplier": float(gen.dp_noise_multiplier_), "max_grad_norm": float(gen.dp_max_grad_norm_),
            "steps": int(gen.dp_steps_), "accountant": str(gen.dp_accountant_), "mechanism": "DP-SGD (Opacus)"}
