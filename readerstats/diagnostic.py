"""Per-rater accuracy: sensitivity, specificity, predictive values and AUC.

A rater is anything that reads cases: a radiologist's positive/negative calls
or a model's continuous output. Binary calls get one ROC point; continuous
outputs get the whole curve, a Youden cut-off and the metrics at any cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from readerstats._validation import as_scores, as_truth, show
from readerstats.errors import InputValidationError, InsufficientCasesError, SingleClassError
from readerstats.proportions import ProportionEstimate, clopper_pearson, logit_interval
from readerstats.roc import (
    AUCEstimate,
    ROCCurve,
    YoudenThreshold,
    auc_delong,
    roc_curve,
    youden_threshold,
)

__all__ = [
    "BinaryMetrics",
    "ConfusionCounts",
    "ContinuousMetrics",
    "binary_metrics",
    "continuous_metrics",
    "metrics_at_threshold",
]


@dataclass(frozen=True)
class ConfusionCounts:
    """The 2x2 table of calls against the reference standard."""

    true_positive: int
    false_negative: int
    false_positive: int
    true_negative: int

    @property
    def n_positive(self) -> int:
        """Cases positive by the reference standard."""
        return self.true_positive + self.false_negative

    @property
    def n_negative(self) -> int:
        """Cases negative by the reference standard."""
        return self.false_positive + self.true_negative

    @property
    def total(self) -> int:
        """All cases."""
        return self.n_positive + self.n_negative


@dataclass(frozen=True)
class BinaryMetrics:
    """Accuracy of positive/negative calls, each with a 95% (1 - alpha) interval.

    A metric is None where its denominator is zero: sensitivity without
    positive cases, PPV when the rater called no case positive, and the AUC
    unless both classes have at least 2 cases.

    Attributes
    ----------
    counts : ConfusionCounts
    sensitivity, specificity, accuracy : ProportionEstimate or None
        Clopper–Pearson intervals.
    ppv, npv : ProportionEstimate or None
        Logit intervals (Clopper–Pearson at 0% or 100%).
    auc : AUCEstimate or None
        One-point ROC AUC, ``(sensitivity + specificity) / 2``, with DeLong CI.
    threshold : float or None
        The cut-off that produced the calls, when they came from scores.
    """

    counts: ConfusionCounts
    sensitivity: ProportionEstimate | None
    specificity: ProportionEstimate | None
    accuracy: ProportionEstimate
    ppv: ProportionEstimate | None
    npv: ProportionEstimate | None
    auc: AUCEstimate | None
    threshold: float | None = None


def _as_calls(calls: ArrayLike) -> np.ndarray:
    values = as_scores(calls, name="calls")
    invalid = ~np.isin(values, (0.0, 1.0))
    if invalid.any():
        position = int(np.flatnonzero(invalid)[0])
        raise InputValidationError(
            f"calls must be 0 or 1, but position {position} is {show(values[position])}. "
            "Pass continuous outputs to metrics_at_threshold instead."
        )
    return values == 1.0


def _proportion_or_none(
    successes: int, total: int, *, alpha: float, logit: bool = False
) -> ProportionEstimate | None:
    if total == 0:
        return None
    if logit:
        return logit_interval(successes, total, alpha=alpha)
    return clopper_pearson(successes, total, alpha=alpha)


def binary_metrics(
    calls: ArrayLike, truth: ArrayLike, *, alpha: float = 0.05, threshold: float | None = None
) -> BinaryMetrics:
    """Compute sensitivity, specificity, accuracy, PPV, NPV and one-point AUC.

    Parameters
    ----------
    calls : array_like of {0, 1} or bool
        The rater's calls, 1 for positive.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 for positive.
    alpha : float, default 0.05
        One minus the confidence level.
    threshold : float, optional
        Stored in the result when the calls came from a cut-off.

    Returns
    -------
    BinaryMetrics

    Raises
    ------
    EmptySampleError
        If there are no cases.
    InputValidationError
        If the lengths differ or a call or label is not 0/1.

    Notes
    -----
    Sensitivity, specificity and accuracy use exact Clopper–Pearson intervals;
    PPV and NPV use the logit interval of Mercaldo et al. (2007), see
    :func:`readerstats.proportions.logit_interval`. The predictive values are
    those of the sample, so they carry the sample's prevalence.
    """
    call_values = _as_calls(calls)
    truth_values = as_truth(truth)
    if call_values.shape != truth_values.shape:
        raise InputValidationError(
            f"calls and truth must have the same length, got {call_values.size} calls and "
            f"{truth_values.size} truth labels."
        )

    counts = ConfusionCounts(
        true_positive=int(np.sum(call_values & truth_values)),
        false_negative=int(np.sum(~call_values & truth_values)),
        false_positive=int(np.sum(call_values & ~truth_values)),
        true_negative=int(np.sum(~call_values & ~truth_values)),
    )
    called_positive = counts.true_positive + counts.false_positive
    called_negative = counts.true_negative + counts.false_negative

    auc: AUCEstimate | None
    try:
        auc = auc_delong(call_values.astype(float), truth_values, alpha=alpha)
    except (SingleClassError, InsufficientCasesError):
        auc = None

    return BinaryMetrics(
        counts=counts,
        sensitivity=_proportion_or_none(counts.true_positive, counts.n_positive, alpha=alpha),
        specificity=_proportion_or_none(counts.true_negative, counts.n_negative, alpha=alpha),
        accuracy=clopper_pearson(
            counts.true_positive + counts.true_negative, counts.total, alpha=alpha
        ),
        ppv=_proportion_or_none(counts.true_positive, called_positive, alpha=alpha, logit=True),
        npv=_proportion_or_none(counts.true_negative, called_negative, alpha=alpha, logit=True),
        auc=auc,
        threshold=threshold,
    )


def metrics_at_threshold(
    scores: ArrayLike, truth: ArrayLike, *, threshold: float, alpha: float = 0.05
) -> BinaryMetrics:
    """Compute :func:`binary_metrics` for the calls ``score >= threshold``.

    Parameters
    ----------
    scores : array_like of float
        Continuous outputs; higher means more likely positive.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 for positive.
    threshold : float
        A case is called positive when its score is at least this value.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    BinaryMetrics
        With ``threshold`` set.
    """
    score_values = as_scores(scores)
    calls = (score_values >= threshold).astype(float)
    return binary_metrics(calls, truth, alpha=alpha, threshold=float(threshold))


@dataclass(frozen=True)
class ContinuousMetrics:
    """Accuracy of a continuous output: full-curve AUC, ROC points and a cut-off.

    Attributes
    ----------
    auc : AUCEstimate
    roc : ROCCurve
    youden : YoudenThreshold
    at_youden : BinaryMetrics
        Metrics with intervals at the Youden-optimal cut-off.
    at_threshold : BinaryMetrics or None
        Metrics at a caller-chosen cut-off, such as a pre-registered operating point.
    """

    auc: AUCEstimate
    roc: ROCCurve
    youden: YoudenThreshold
    at_youden: BinaryMetrics
    at_threshold: BinaryMetrics | None


def continuous_metrics(
    scores: ArrayLike,
    truth: ArrayLike,
    *,
    threshold: float | None = None,
    alpha: float = 0.05,
) -> ContinuousMetrics:
    """Summarise a continuous output: AUC with DeLong CI, ROC points, Youden cut-off.

    Parameters
    ----------
    scores : array_like of float
        Higher means more likely positive.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 for positive.
    threshold : float, optional
        An extra cut-off at which to report the metrics.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    ContinuousMetrics

    Raises
    ------
    SingleClassError
        If all cases belong to one class.
    InsufficientCasesError
        If a class has fewer than 2 cases.

    Notes
    -----
    The Youden cut-off is chosen on the same cases it is evaluated on, so the
    metrics at that cut-off are optimistic. For an unbiased estimate, fix the
    operating point on a separate tuning set and pass it as `threshold`.
    """
    auc = auc_delong(scores, truth, alpha=alpha)
    youden = youden_threshold(scores, truth)
    return ContinuousMetrics(
        auc=auc,
        roc=roc_curve(scores, truth),
        youden=youden,
        at_youden=metrics_at_threshold(scores, truth, threshold=youden.threshold, alpha=alpha),
        at_threshold=(
            None
            if threshold is None
            else metrics_at_threshold(scores, truth, threshold=threshold, alpha=alpha)
        ),
    )
