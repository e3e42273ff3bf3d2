"""Paired comparisons of two raters who read the same cases.

AUCs are compared with DeLong's test; sensitivities (on the positive cases)
and specificities (on the negative cases) with the exact McNemar test. A case
that lacks a score from either rater is left out of that comparison for both,
and the count of such cases is part of every result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from readerstats._validation import as_truth, show
from readerstats.errors import InputValidationError, SingleClassError
from readerstats.proportions import ProportionEstimate, clopper_pearson
from readerstats.roc import _require_two_per_class, delong_components

__all__ = [
    "AgreementTable",
    "McNemarResult",
    "PairedAUCComparison",
    "PairedBinaryComparison",
    "SubgroupCalls",
    "compare_binary",
    "mcnemar_exact",
    "paired_delong",
    "subgroup_positive_calls",
]


def _as_optional_scores(values: ArrayLike, *, name: str) -> NDArray[np.float64]:
    """Return floats with NaN for missing values; reject anything non-numeric."""
    array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    try:
        numeric = np.asarray([np.nan if value is None else value for value in array], dtype=float)
    except (TypeError, ValueError):
        for position, value in enumerate(array):
            try:
                float(value) if value is not None else None
            except (TypeError, ValueError):
                raise InputValidationError(
                    f"{name} must be numeric or missing, but position {position} is {value!r}."
                ) from None
        raise
    if np.isinf(numeric).any():
        position = int(np.flatnonzero(np.isinf(numeric))[0])
        raise InputValidationError(f"{name} must be finite, but position {position} is inf.")
    return numeric


def _paired_inputs(
    first: ArrayLike, second: ArrayLike, truth: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], int]:
    first_values = _as_optional_scores(first, name="first")
    second_values = _as_optional_scores(second, name="second")
    truth_values = as_truth(truth)
    if not first_values.size == second_values.size == truth_values.size:
        raise InputValidationError(
            "Both raters and truth must cover the same cases, got "
            f"{first_values.size}, {second_values.size} and {truth_values.size} values."
        )
    complete = ~(np.isnan(first_values) | np.isnan(second_values))
    n_excluded = int(np.sum(~complete))
    return first_values[complete], second_values[complete], truth_values[complete], n_excluded


@dataclass(frozen=True)
class PairedAUCComparison:
    """DeLong test of two correlated AUCs.

    Attributes
    ----------
    auc_first, auc_second : float
        AUCs on the cases both raters scored.
    difference : float
        ``auc_first - auc_second``.
    se : float
        DeLong standard error of the difference.
    z : float
        ``difference / se``; 0 when both are 0. It is ``±inf`` when the
        standard error is 0 but the difference is not, which needs every
        placement value of each rater to be constant.
    pvalue : float
        Two-sided normal p-value.
    lower, upper : float
        Wald interval of the difference, clipped to [-1, 1].
    n_positive, n_negative : int
        Cases used.
    n_excluded_missing : int
        Cases left out because either rater had no score.
    """

    auc_first: float
    auc_second: float
    difference: float
    se: float
    z: float
    pvalue: float
    lower: float
    upper: float
    n_positive: int
    n_negative: int
    n_excluded_missing: int
    alpha: float = 0.05


def paired_delong(
    first: ArrayLike, second: ArrayLike, truth: ArrayLike, *, alpha: float = 0.05
) -> PairedAUCComparison:
    """Compare the AUCs of two raters on the same cases with DeLong's test.

    Parameters
    ----------
    first, second : array_like of float
        The two raters' outputs, case by case; NaN or None marks a missing score.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 for positive.
    alpha : float, default 0.05
        One minus the confidence level of the interval of the difference.

    Returns
    -------
    PairedAUCComparison

    Raises
    ------
    SingleClassError
        If the complete cases contain one class only.
    InsufficientCasesError
        If a class has fewer than 2 complete cases.

    Notes
    -----
    ``Var(A1 - A2) = [S10_11 + S10_22 - 2 S10_12] / m + [S01_11 + S01_22 - 2 S01_12] / n``
    where ``S10`` and ``S01`` are the sample covariance matrices of the two
    raters' placement values over the ``m`` positive and ``n`` negative cases
    [1]_; the placements come from the midrank algorithm of [2]_. This is
    pROC's ``roc.test(method = "delong", paired = TRUE)``.

    References
    ----------
    .. [1] DeLong, E. R., DeLong, D. M. and Clarke-Pearson, D. L. (1988).
       Comparing the areas under two or more correlated receiver operating
       characteristic curves: a nonparametric approach. Biometrics 44, 837–845.
    .. [2] Sun, X. and Xu, W. (2014). Fast implementation of DeLong's algorithm
       for comparing the areas under correlated receiver operating
       characteristic curves. IEEE Signal Processing Letters 21, 1389–1393.
    """
    first_values, second_values, truth_values, n_excluded = _paired_inputs(first, second, truth)
    n_positive = int(truth_values.sum())
    n_negative = int(truth_values.size - n_positive)
    if n_positive == 0 or n_negative == 0:
        raise SingleClassError(
            n_positive=n_positive, n_negative=n_negative, what="An AUC comparison"
        )
    _require_two_per_class(n_positive, n_negative)

    components = [
        delong_components(values, truth_values) for values in (first_values, second_values)
    ]
    v10 = np.vstack([c.v10 for c in components])
    v01 = np.vstack([c.v01 for c in components])
    s10 = np.cov(v10, ddof=1)
    s01 = np.cov(v01, ddof=1)
    contrast = np.array([1.0, -1.0])
    variance = float(
        contrast @ s10 @ contrast / n_positive + contrast @ s01 @ contrast / n_negative
    )
    variance = max(variance, 0.0)
    se = math.sqrt(variance)

    difference = components[0].auc - components[1].auc
    if se > 0.0:
        z = difference / se
    elif difference == 0.0:
        z = 0.0
    else:
        z = math.copysign(math.inf, difference)
    pvalue = float(2.0 * stats.norm.sf(abs(z)))
    half_width = float(stats.norm.ppf(1 - alpha / 2)) * se
    return PairedAUCComparison(
        auc_first=components[0].auc,
        auc_second=components[1].auc,
        difference=difference,
        se=se,
        z=z,
        pvalue=pvalue,
        lower=max(-1.0, difference - half_width),
        upper=min(1.0, difference + half_width),
        n_positive=n_positive,
        n_negative=n_negative,
        n_excluded_missing=n_excluded,
        alpha=alpha,
    )


@dataclass(frozen=True)
class AgreementTable:
    """Counts of cases by which of two raters called them correctly.

    Attributes
    ----------
    both_right, first_right_only, second_right_only, both_wrong : int
        Case counts; the two middle cells are the discordant pairs.
    """

    both_right: int
    first_right_only: int
    second_right_only: int
    both_wrong: int

    @property
    def total(self) -> int:
        """All cases in the table."""
        return self.both_right + self.first_right_only + self.second_right_only + self.both_wrong


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test of two paired proportions.

    Attributes
    ----------
    table : AgreementTable
    first, second : ProportionEstimate or None
        Each rater's proportion correct on these cases (sensitivity on
        positives, specificity on negatives); None when there are no cases.
    statistic : int
        The smaller discordant count, the binomial test's statistic.
    pvalue : float
        Two-sided exact p-value, at most 1.
    """

    table: AgreementTable
    first: ProportionEstimate | None
    second: ProportionEstimate | None
    statistic: int
    pvalue: float


def mcnemar_exact(first_right_only: int, second_right_only: int) -> float:
    """Return the two-sided exact McNemar p-value for two discordant counts.

    Parameters
    ----------
    first_right_only, second_right_only : int
        Discordant pair counts ``b`` and ``c``.

    Returns
    -------
    float
        ``min(1, 2 * P(X <= min(b, c)))`` for ``X ~ Binomial(b + c, 1/2)``,
        and 1 when there are no discordant pairs.

    Notes
    -----
    Doubling the smaller tail is exact for the symmetric null binomial and
    equals R's ``binom.test`` and statsmodels' ``mcnemar(exact=True)``. The
    cap at 1 matters when ``b == c`` (1 vs 1 doubles 0.75 to 1.5).

    References
    ----------
    .. [1] McNemar, Q. (1947). Note on the sampling error of the difference
       between correlated proportions or percentages. Psychometrika 12, 153–157.
    """
    for name, value in (
        ("first_right_only", first_right_only),
        ("second_right_only", second_right_only),
    ):
        if value < 0 or int(value) != value:
            raise InputValidationError(
                f"{name} must be a count (a whole number >= 0), got {value!r}."
            )
    n_discordant = int(first_right_only) + int(second_right_only)
    if n_discordant == 0:
        return 1.0
    smaller = min(int(first_right_only), int(second_right_only))
    return float(min(1.0, 2.0 * stats.binom.cdf(smaller, n_discordant, 0.5)))


def _mcnemar_on(
    first_right: NDArray[np.bool_], second_right: NDArray[np.bool_], *, alpha: float
) -> McNemarResult:
    table = AgreementTable(
        both_right=int(np.sum(first_right & second_right)),
        first_right_only=int(np.sum(first_right & ~second_right)),
        second_right_only=int(np.sum(~first_right & second_right)),
        both_wrong=int(np.sum(~first_right & ~second_right)),
    )
    total = table.total
    return McNemarResult(
        table=table,
        first=clopper_pearson(int(first_right.sum()), total, alpha=alpha) if total else None,
        second=clopper_pearson(int(second_right.sum()), total, alpha=alpha) if total else None,
        statistic=min(table.first_right_only, table.second_right_only),
        pvalue=mcnemar_exact(table.first_right_only, table.second_right_only),
    )


@dataclass(frozen=True)
class PairedBinaryComparison:
    """Sensitivity and specificity of two raters compared by exact McNemar tests.

    Attributes
    ----------
    sensitivity : McNemarResult
        On the positive cases: "right" means called positive.
    specificity : McNemarResult
        On the negative cases: "right" means called negative.
    n_excluded_missing : int
        Cases left out because either rater had no call.
    """

    sensitivity: McNemarResult
    specificity: McNemarResult
    n_excluded_missing: int


def compare_binary(
    first: ArrayLike, second: ArrayLike, truth: ArrayLike, *, alpha: float = 0.05
) -> PairedBinaryComparison:
    """Compare two raters' sensitivity and specificity with exact McNemar tests.

    Parameters
    ----------
    first, second : array_like of {0, 1}
        Calls of the two raters, case by case; NaN or None marks a missing call.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 for positive.
    alpha : float, default 0.05
        One minus the confidence level of each rater's proportion.

    Returns
    -------
    PairedBinaryComparison
        A class with no cases gives a table of zeros and p = 1.

    Raises
    ------
    InputValidationError
        If the lengths differ or a call is not 0, 1 or missing.

    Notes
    -----
    Sensitivities are compared on the positive cases and specificities on the
    negative cases, each by the exact McNemar test of :func:`mcnemar_exact`.
    """
    first_values, second_values, truth_values, n_excluded = _paired_inputs(first, second, truth)
    for name, values in (("first", first_values), ("second", second_values)):
        invalid = ~np.isin(values, (0.0, 1.0))
        if invalid.any():
            raise InputValidationError(
                f"{name} calls must be 0 or 1, but got {show(values[np.flatnonzero(invalid)[0]])}. "
                "Threshold continuous outputs first (metrics_at_threshold)."
            )
    first_calls = first_values == 1.0
    second_calls = second_values == 1.0
    positives = truth_values
    negatives = ~truth_values
    return PairedBinaryComparison(
        sensitivity=_mcnemar_on(first_calls[positives], second_calls[positives], alpha=alpha),
        specificity=_mcnemar_on(~first_calls[negatives], ~second_calls[negatives], alpha=alpha),
        n_excluded_missing=n_excluded,
    )


@dataclass(frozen=True)
class SubgroupCalls:
    """Positive calls of one rater among the positive cases of a subgroup.

    Attributes
    ----------
    called_positive : ProportionEstimate or None
        Clopper–Pearson estimate of the rater's sensitivity in the subgroup;
        None when the subgroup has no positive case with a call.
    n_excluded_missing : int
        Positive subgroup cases without a call from this rater.
    """

    called_positive: ProportionEstimate | None
    n_excluded_missing: int


def subgroup_positive_calls(
    calls: Mapping[str, ArrayLike],
    truth: ArrayLike,
    flag: ArrayLike,
    *,
    alpha: float = 0.05,
) -> dict[str, SubgroupCalls]:
    """Count, per rater, the positive calls among the positive cases of a subgroup.

    Parameters
    ----------
    calls : mapping of str to array_like of {0, 1}
        Each rater's calls, case by case; NaN or None marks a missing call.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 for positive.
    flag : array_like of {0, 1} or bool
        Subgroup membership, for example "the radiologists read the CT as normal".
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    dict of str to SubgroupCalls
        In the order of `calls`.
    """
    truth_values = as_truth(truth)
    flag_values = as_truth(flag, name="flag")
    if flag_values.size != truth_values.size:
        raise InputValidationError(
            f"flag and truth must have the same length, got {flag_values.size} and {truth_values.size}."
        )
    in_subgroup = truth_values & flag_values
    results: dict[str, SubgroupCalls] = {}
    for rater, rater_calls in calls.items():
        values = _as_optional_scores(rater_calls, name=f"calls of {rater!r}")
        if values.size != truth_values.size:
            raise InputValidationError(
                f"calls of {rater!r} must cover {truth_values.size} cases, got {values.size}."
            )
        selected = values[in_subgroup]
        present = selected[~np.isnan(selected)]
        invalid = ~np.isin(present, (0.0, 1.0))
        if invalid.any():
            raise InputValidationError(
                f"calls of {rater!r} must be 0 or 1, but got {show(present[np.flatnonzero(invalid)[0]])}."
            )
        results[rater] = SubgroupCalls(
            called_positive=(
                clopper_pearson(int(np.sum(present == 1.0)), present.size, alpha=alpha)
                if present.size
                else None
            ),
            n_excluded_missing=int(selected.size - present.size),
        )
    return results
