"""ROC analysis: the Mann–Whitney AUC with DeLong's variance, ROC points and cut-offs.

The AUC is the probability that a random positive case scores higher than a
random negative case, with ties counted one half. Higher scores always mean
"more likely positive". No function here flips a rater whose AUC is below 0.5,
because a backwards rater is a finding, not a coding error to hide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from readerstats._validation import scores_and_truth
from readerstats.errors import InputValidationError, InsufficientCasesError

__all__ = [
    "AUCEstimate",
    "DeLongComponents",
    "ROCCurve",
    "YoudenThreshold",
    "auc_delong",
    "delong_components",
    "roc_curve",
    "youden_threshold",
]


@dataclass(frozen=True)
class AUCEstimate:
    """Area under the ROC curve with its DeLong variance and Wald interval.

    Attributes
    ----------
    auc : float
        Mann–Whitney AUC in [0, 1].
    variance, se : float
        DeLong variance of the AUC and its square root.
    lower, upper : float
        ``auc ± z * se``, clipped to [0, 1].
    n_positive, n_negative : int
        Class sizes.
    perfect_separation : bool
        True when the AUC is exactly 1 or 0: the classes do not overlap, the
        DeLong variance is 0 and the interval collapses to a point, which
        understates the uncertainty of a small sample.
    alpha : float
        One minus the confidence level.
    """

    auc: float
    variance: float
    se: float
    lower: float
    upper: float
    n_positive: int
    n_negative: int
    perfect_separation: bool
    alpha: float = 0.05


@dataclass(frozen=True)
class DeLongComponents:
    """DeLong structural components (placement values) of one rater.

    Attributes
    ----------
    auc : float
        Mann–Whitney AUC.
    v10 : ndarray
        For each positive case, the fraction of negatives it outscores (ties 1/2).
    v01 : ndarray
        For each negative case, the fraction of positives that outscore it.
    """

    auc: float
    v10: NDArray[np.float64]
    v01: NDArray[np.float64]


def delong_components(scores: ArrayLike, truth: ArrayLike) -> DeLongComponents:
    """Compute the AUC and DeLong placement values by midranks in O(n log n).

    Parameters
    ----------
    scores : array_like of float
        Rater outputs; higher means more likely positive.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 or True for positive.

    Returns
    -------
    DeLongComponents

    Raises
    ------
    SingleClassError
        If all cases belong to one class.
    InputValidationError
        If the inputs differ in length or contain non-finite scores or labels
        other than 0 and 1.

    Notes
    -----
    With ``T_z`` the midranks in the pooled sample and ``T_x``, ``T_y`` the
    midranks within the positives and within the negatives, the placement
    values are ``V10_i = (T_z,i - T_x,i) / n`` and
    ``V01_j = 1 - (T_z,j - T_y,j) / m`` for ``m`` positives and ``n``
    negatives. Their means both equal the AUC [1]_.

    References
    ----------
    .. [1] Sun, X. and Xu, W. (2014). Fast implementation of DeLong's algorithm
       for comparing the areas under correlated receiver operating
       characteristic curves. IEEE Signal Processing Letters 21, 1389–1393.
    """
    score_values, truth_values = scores_and_truth(scores, truth)
    positives = score_values[truth_values]
    negatives = score_values[~truth_values]
    m, n = positives.size, negatives.size

    pooled_ranks = stats.rankdata(np.concatenate([positives, negatives]))
    positive_ranks = stats.rankdata(positives)
    negative_ranks = stats.rankdata(negatives)

    v10 = (pooled_ranks[:m] - positive_ranks) / n
    v01 = 1.0 - (pooled_ranks[m:] - negative_ranks) / m
    auc = float((pooled_ranks[:m].sum() - m * (m + 1) / 2) / (m * n))
    return DeLongComponents(auc=auc, v10=v10, v01=v01)


def _require_two_per_class(n_positive: int, n_negative: int) -> None:
    if n_positive < 2 or n_negative < 2:
        raise InsufficientCasesError(
            "The DeLong variance needs at least 2 positive and 2 negative cases, but got "
            f"{n_positive} positive and {n_negative} negative. Report the AUC without a "
            "confidence interval or add cases."
        )


def auc_delong(scores: ArrayLike, truth: ArrayLike, *, alpha: float = 0.05) -> AUCEstimate:
    """Estimate the AUC with DeLong's variance and a Wald confidence interval.

    Parameters
    ----------
    scores : array_like of float
        One output per case (a probability, a rating or a 0/1 call); higher
        means more likely positive. The direction is never flipped.
    truth : array_like of {0, 1} or bool
        Reference standard, 1 or True for positive.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    AUCEstimate

    Raises
    ------
    SingleClassError
        If all cases are positive or all are negative.
    InsufficientCasesError
        If a class has only one case, so its variance term is undefined.
    InputValidationError
        If the inputs differ in length or contain non-finite scores or labels
        other than 0 and 1.

    Notes
    -----
    ``Var(AUC) = S10 / m + S01 / n``, with ``S10`` and ``S01`` the sample
    variances (denominator ``m - 1`` and ``n - 1``) of the placement values
    from :func:`delong_components` [1]_, [2]_. The interval is
    ``auc ± z_{1-alpha/2} * se`` clipped to [0, 1], the same as pROC's
    ``ci.auc(method = "delong")``. For a 0/1 call the AUC equals
    ``(sensitivity + specificity) / 2``: the one-point ROC curve.

    References
    ----------
    .. [1] DeLong, E. R., DeLong, D. M. and Clarke-Pearson, D. L. (1988).
       Comparing the areas under two or more correlated receiver operating
       characteristic curves: a nonparametric approach. Biometrics 44, 837–845.
    .. [2] Sun, X. and Xu, W. (2014). Fast implementation of DeLong's algorithm
       for comparing the areas under correlated receiver operating
       characteristic curves. IEEE Signal Processing Letters 21, 1389–1393.
    """
    if not 0.0 < alpha < 1.0:
        raise InputValidationError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    components = delong_components(scores, truth)
    n_positive, n_negative = components.v10.size, components.v01.size
    _require_two_per_class(n_positive, n_negative)

    variance = float(
        np.var(components.v10, ddof=1) / n_positive + np.var(components.v01, ddof=1) / n_negative
    )
    # Rounding can leave a tiny negative or non-zero value when every placement is equal.
    if variance < 0.0 or components.auc in (0.0, 1.0):
        variance = 0.0
    se = float(np.sqrt(variance))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return AUCEstimate(
        auc=components.auc,
        variance=variance,
        se=se,
        lower=max(0.0, components.auc - z * se),
        upper=min(1.0, components.auc + z * se),
        n_positive=n_positive,
        n_negative=n_negative,
        perfect_separation=components.auc in (0.0, 1.0),
        alpha=alpha,
    )


@dataclass(frozen=True)
class ROCCurve:
    """Empirical ROC curve points, ready to plot.

    Attributes
    ----------
    thresholds : ndarray
        Distinct scores in decreasing order, preceded by ``+inf``. Point ``k``
        calls a case positive when ``score >= thresholds[k]``.
    fpr, tpr : ndarray
        False- and true-positive rates at each threshold, from (0, 0) to (1, 1).
    """

    thresholds: NDArray[np.float64]
    fpr: NDArray[np.float64]
    tpr: NDArray[np.float64]


def roc_curve(scores: ArrayLike, truth: ArrayLike) -> ROCCurve:
    """Compute the empirical ROC curve, one point per distinct score.

    Parameters
    ----------
    scores : array_like of float
        Higher means more likely positive.
    truth : array_like of {0, 1} or bool
        1 or True for positive.

    Returns
    -------
    ROCCurve
        The trapezoidal area under these points equals the Mann–Whitney AUC.

    Raises
    ------
    SingleClassError
        If all cases belong to one class.
    """
    score_values, truth_values = scores_and_truth(scores, truth, what="An ROC curve")
    order = np.argsort(-score_values, kind="mergesort")
    sorted_scores = score_values[order]
    sorted_truth = truth_values[order]

    # The last index of each run of equal scores closes one ROC point.
    run_ends = np.flatnonzero(np.diff(sorted_scores) != 0)
    run_ends = np.append(run_ends, sorted_scores.size - 1)
    true_positives = np.cumsum(sorted_truth)[run_ends]
    false_positives = (run_ends + 1) - true_positives

    n_positive = int(truth_values.sum())
    n_negative = truth_values.size - n_positive
    return ROCCurve(
        thresholds=np.concatenate([[np.inf], sorted_scores[run_ends]]),
        fpr=np.concatenate([[0.0], false_positives / n_negative]),
        tpr=np.concatenate([[0.0], true_positives / n_positive]),
    )


@dataclass(frozen=True)
class YoudenThreshold:
    """The cut-off that maximises Youden's J = sensitivity + specificity - 1.

    Attributes
    ----------
    threshold : float
        A case is called positive when ``score >= threshold``.
    youden_index : float
        J at that cut-off.
    sensitivity, specificity : float
        Point estimates at that cut-off.
    """

    threshold: float
    youden_index: float
    sensitivity: float
    specificity: float


def youden_threshold(scores: ArrayLike, truth: ArrayLike) -> YoudenThreshold:
    """Find the score cut-off that maximises Youden's index.

    Parameters
    ----------
    scores : array_like of float
        Higher means more likely positive.
    truth : array_like of {0, 1} or bool
        1 or True for positive.

    Returns
    -------
    YoudenThreshold

    Raises
    ------
    SingleClassError
        If all cases belong to one class.

    Notes
    -----
    The candidate cut-offs are the observed scores, so the returned threshold is
    a score some case really has. pROC's ``coords(x = "best")`` reports the
    midpoint between that score and the next lower one instead; both give the
    same calls on the data at hand. When several cut-offs reach the same
    maximum, the highest (most specific) one is returned.

    References
    ----------
    .. [1] Youden, W. J. (1950). Index for rating diagnostic tests. Cancer 3,
       32–35.
    """
    curve = roc_curve(scores, truth)
    # Skip the +inf point, which calls no case positive and is not a usable cut-off.
    youden = curve.tpr[1:] - curve.fpr[1:]
    best = int(np.argmax(youden)) + 1
    return YoudenThreshold(
        threshold=float(curve.thresholds[best]),
        youden_index=float(youden[best - 1]),
        sensitivity=float(curve.tpr[best]),
        specificity=float(1.0 - curve.fpr[best]),
    )
