"""Conversion of user arrays to checked numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from readerstats.errors import InputValidationError, SingleClassError


def show(value: Any) -> str:
    """Return the repr of a value as the user wrote it, without numpy's type wrapper."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def as_truth(truth: ArrayLike, *, name: str = "truth") -> NDArray[np.bool_]:
    """Return `truth` as a boolean array, accepting only 0/1 or False/True values."""
    values = np.asarray(truth)
    if values.ndim != 1:
        raise InputValidationError(f"{name} must be one-dimensional, got shape {values.shape}.")
    if values.dtype == np.bool_:
        return values
    try:
        numeric = values.astype(float)
    except (TypeError, ValueError):
        bad = _first_invalid(values, allowed={0, 1})
        raise InputValidationError(
            f"{name} must contain only 0 and 1 (or False and True), but position {bad[0]} "
            f"is {show(bad[1])}. Recode the reference standard as 1 = positive, 0 = negative."
        ) from None
    invalid = ~np.isin(numeric, (0.0, 1.0))
    if invalid.any():
        position = int(np.flatnonzero(invalid)[0])
        raise InputValidationError(
            f"{name} must contain only 0 and 1 (or False and True), but position {position} "
            f"is {show(values[position])}. Recode the reference standard as 1 = positive, "
            "0 = negative."
        )
    return numeric == 1.0


def _first_invalid(values: Sequence[Any] | NDArray[Any], *, allowed: set[int]) -> tuple[int, Any]:
    for position, value in enumerate(values):
        try:
            if float(value) not in allowed:
                return position, value
        except (TypeError, ValueError):
            return position, value
    return -1, None


def as_scores(scores: ArrayLike, *, name: str = "scores") -> NDArray[np.float64]:
    """Return `scores` as a finite float array."""
    values = np.asarray(scores)
    if values.ndim != 1:
        raise InputValidationError(f"{name} must be one-dimensional, got shape {values.shape}.")
    try:
        numeric = values.astype(float)
    except (TypeError, ValueError):
        for position, value in enumerate(values):
            try:
                float(value)
            except (TypeError, ValueError):
                raise InputValidationError(
                    f"{name} must be numeric, but position {position} is {show(value)}."
                ) from None
        raise
    not_finite = ~np.isfinite(numeric)
    if not_finite.any():
        position = int(np.flatnonzero(not_finite)[0])
        raise InputValidationError(
            f"{name} must be finite, but position {position} is {show(values[position])}. "
            "Drop cases without a score before computing the statistic "
            "(the comparison functions do this and report the count)."
        )
    return numeric


def scores_and_truth(
    scores: ArrayLike, truth: ArrayLike, *, what: str = "AUC"
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate a scores/truth pair of equal length with both classes present."""
    score_values = as_scores(scores)
    truth_values = as_truth(truth)
    if score_values.shape != truth_values.shape:
        raise InputValidationError(
            f"scores and truth must have the same length, got {score_values.size} scores "
            f"and {truth_values.size} truth labels."
        )
    n_positive = int(truth_values.sum())
    n_negative = int(truth_values.size - n_positive)
    if n_positive == 0 or n_negative == 0:
        raise SingleClassError(n_positive=n_positive, n_negative=n_negative, what=what)
    return score_values, truth_values
