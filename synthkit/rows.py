"""What a generator's rows must be and how the base standardizes them: validation of ``X``
(finite real numbers, a fixed column count, the family's own checks) and the per-column,
pooled or absent standardization (:func:`synthkit.nn.networks.row_standardization`).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_is_fitted

from synthkit.memmap import mapped_file, moments


class RowContract:
    """The row half of :class:`synthkit.Generator` (a mixin: it reads ``standardize`` and
    records ``n_features_in_`` / ``feature_names_in_``)."""

    # ------------------------------------------------------------------ validation
    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        what = "X"
        if reset and hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        X = np.asarray(X) if not hasattr(X, "iloc") else X
        if getattr(X, "dtype", None) is not None and X.dtype.kind in "OUSMmcb":
            if X.dtype.kind != "O" or not _all_numbers(X):
                raise ValueError(
                    f"{what} must hold real numbers, got dtype {X.dtype}; encode "
                    "categories and dates first (synthkit.domains.tabular does this)."
                )
        X = check_array(
            X,
            dtype=[np.float64, np.float32],
            ensure_all_finite=True,
            ensure_2d=True,
            ensure_min_samples=2 if reset else 1,
            input_name=what,
        )
        if reset:
            self.n_features_in_ = X.shape[1]
        else:
            check_is_fitted(self, "n_features_in_")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} columns but {type(self).__name__} was fitted "
                    f"with {self.n_features_in_}."
                )
        self._check_data(X, fitting=reset)
        return X

    def _check_data(self, X: np.ndarray, *, fitting: bool) -> None:
        """Family-specific checks on validated data (e.g. binary units need [0, 1])."""

    def _learn_data(self, X: np.ndarray) -> None:
        """Fit-only hook to record facts about the raw training data (e.g. category counts)."""

    def _standardize_mask(self) -> np.ndarray:
        """Columns the base maps to zero mean and unit variance (default: all if ``standardize``)."""
        return np.full(self.n_features_in_, bool(self.standardize))

    def _standardization(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-column ``(mean, scale)`` the base maps rows with (``(X - mean) / scale``).

        Default: each ``_standardize_mask`` column on its own (:func:`standardization`). When a
        network argument names a registered factory declaring ``row_standardization``
        (:func:`synthkit.nn.networks.row_standardization`), ``"global"`` uses one mean and
        scale pooled over all masked columns (an image's pixels share one intensity scale) and
        ``"none"`` leaves the rows as they are (data already scaled, e.g. to [-1, 1]).
        """
        from synthkit.nn.networks import row_standardization

        how = row_standardization(self)
        mask = self._standardize_mask()
        if how in (None, "column"):
            return standardization(X, mask)
        d = X.shape[1]
        if how == "none" or not mask.any():
            return np.zeros(d), np.ones(d)
        if mapped_file(X) is not None:  # rows on disk: chunked, never a full copy
            mean, scale = (float(v[0]) for v in moments(X, pooled=mask))
        else:
            mean, scale = float(X[:, mask].mean()), float(X[:, mask].std())
        scale = scale if scale > 1e-12 else 1.0
        return np.where(mask, mean, 0.0), np.where(mask, scale, 1.0)


def standardization(X: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ``(mean, scale)`` that map the ``mask`` columns of ``X`` to zero mean and unit
    variance (constant columns keep scale 1) and leave the others as they are. A memory-mapped
    ``X`` is read in chunks (:func:`synthkit.memmap.moments`), never copied whole."""
    mean, scale = moments(X) if mapped_file(X) is not None else (X.mean(0), X.std(0))
    return np.where(mask, mean, 0.0), np.where(mask & (scale > 1e-12), scale, 1.0)


def _all_numbers(X: np.ndarray) -> bool:
    flat = X.ravel()
    return all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in flat[:1000])
