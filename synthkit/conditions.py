"""How a generator encodes its condition ``y``: 1-D class labels become one-hot vectors (with
the training class frequencies for unconditional draws), a 2-D numeric array is a continuous
condition, standardized per column unless the network declares otherwise
(:func:`synthkit.nn.networks.condition_standardization`).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_array


class ConditionEncoding:
    """The condition half of :class:`synthkit.Generator` (a mixin: it records
    ``condition_kind_``, ``condition_dim_``, ``classes_`` / ``class_prior_`` or
    ``condition_mean_`` / ``condition_scale_``)."""

    def _encode_condition(self, y, n: int, *, fit: bool) -> torch.Tensor | None:
        """Turn ``y`` into a float condition tensor ``c`` (one-hot classes or standardized
        continuous conditions) and, in ``fit``, record how."""
        if fit:
            if y is None:
                self.condition_kind_ = None
                self.condition_dim_ = 0
                return None
            y_arr = np.asarray(y)
            if y_arr.ndim == 2 and y_arr.shape[1] >= 1 and y_arr.dtype.kind in "fiub":
                self.condition_kind_ = "continuous"
                y_arr = check_array(y_arr, dtype=np.float64, input_name="y")
                self.condition_mean_, self.condition_scale_ = self._condition_standardization(y_arr)
                self.condition_dim_ = y_arr.shape[1]
            elif y_arr.ndim == 1:
                if y_arr.dtype.kind == "f" and not np.isfinite(y_arr).all():
                    raise ValueError("y contains NaN or infinity.")
                self.condition_kind_ = "classes"
                classes, counts = np.unique(y_arr, return_counts=True)
                self.classes_ = classes
                self.class_prior_ = counts / counts.sum()
                self.condition_dim_ = len(classes)
            else:
                raise ValueError(
                    "y must be 1-D class labels or a 2-D numeric condition array, "
                    f"got shape {y_arr.shape} and dtype {y_arr.dtype}."
                )
            if len(y_arr) != n:
                raise ValueError(f"y has {len(y_arr)} rows but X has {n}.")
        if self.condition_kind_ is None:
            if y is not None:
                raise ValueError(f"{type(self).__name__} was fitted without y; pass y=None.")
            return None
        if y is None:
            raise ValueError(f"{type(self).__name__} was fitted with y; pass y.")
        if self.condition_kind_ == "classes":
            idx = self._class_index(np.asarray(y).reshape(-1))
            if len(idx) != n:
                raise ValueError(f"y has {len(idx)} rows, expected {n}.")
            return torch.nn.functional.one_hot(
                torch.as_tensor(idx), num_classes=self.condition_dim_
            ).float()
        y_arr = np.asarray(y, dtype=np.float64)
        if y_arr.ndim != 2:  # one condition per row as a 1-D array, or one row's conditions
            if y_arr.size != n * self.condition_dim_:
                raise ValueError(
                    f"y has shape {y_arr.shape}; expected ({n}, {self.condition_dim_}): "
                    f"{self.condition_dim_} continuous condition(s) for each of {n} rows."
                )
            y_arr = y_arr.reshape(n, self.condition_dim_)
        if len(y_arr) != n:
            raise ValueError(f"y has {len(y_arr)} rows, expected {n}.")
        if y_arr.shape[1] != self.condition_dim_:
            raise ValueError(f"y has {y_arr.shape[1]} columns, expected {self.condition_dim_}.")
        y_arr = check_array(y_arr, input_name="y", ensure_min_samples=0)
        return torch.as_tensor((y_arr - self.condition_mean_) / self.condition_scale_).float()

    def _condition_standardization(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-column ``(mean, scale)`` of a continuous condition (``(y - mean) / scale``): each
        column on its own, unless a network argument declares ``condition_standardization =
        "none"`` (:func:`synthkit.nn.networks.condition_standardization`: a label map read as
        an image), which passes the condition through unchanged."""
        from synthkit.nn.networks import condition_standardization

        if condition_standardization(self) == "none":
            return np.zeros(y.shape[1]), np.ones(y.shape[1])
        scale = y.std(0)
        return y.mean(0), np.where(scale > 0, scale, 1.0)

    def _class_index(self, labels: np.ndarray) -> np.ndarray:
        classes = np.asarray(self.classes_)
        idx = np.searchsorted(classes, labels)
        idx = np.clip(idx, 0, len(classes) - 1)
        bad = classes[idx] != labels
        if bad.any():
            raise ValueError(
                f"unknown class label {labels[bad][0]!r}; the model knows {list(classes)}."
            )
        return idx

    def _sampling_labels(self, y, n: int, seed):
        """The labels ``sample`` draws for: for a class-conditional model ``None`` becomes ``n``
        labels drawn (seeded by ``seed``) from the training class frequencies and one label is
        repeated ``n`` times; anything else is returned as given."""
        if self.condition_kind_ == "classes":
            if y is None:
                return np.random.default_rng(seed).choice(np.asarray(self.classes_), size=n, p=self.class_prior_)
            if np.ndim(y) == 0:
                return np.full(n, y, dtype=np.asarray(self.classes_).dtype)
        return y
