"""Multi-reader multi-case (MRMC) analysis by the Obuchowski–Rockette method.

Every reader reads every case in every modality (a fully crossed design). The
figure of merit (AUC, sensitivity or specificity) of each reader–modality pair
is computed, and its case-sampling covariance is estimated by the jackknife or
by DeLong's method. The Obuchowski–Rockette model then tests whether the
modalities differ, generalising to new readers and new cases (RRRC), to new
cases for these readers (FRRC), or to new readers for these cases (RRFC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from readerstats._validation import as_truth
from readerstats.errors import InputValidationError, InsufficientCasesError, SingleClassError
from readerstats.roc import delong_components

__all__ = [
    "Analysis",
    "CovarianceMethod",
    "FigureOfMerit",
    "FigureOfMeritCovariance",
    "ModalityDifference",
    "ModalityEstimate",
    "ORResult",
    "ORTest",
    "ORVarianceComponents",
    "StandaloneResult",
    "figure_of_merit_covariance",
    "obuchowski_rockette",
    "standalone_vs_readers",
]

FigureOfMerit = Literal["auc", "sensitivity", "specificity"]
CovarianceMethod = Literal["jackknife", "delong"]
Analysis = Literal["RRRC", "FRRC", "RRFC"]
ANALYSES: tuple[Analysis, ...] = ("RRRC", "FRRC", "RRFC")


@dataclass(frozen=True)
class FigureOfMeritCovariance:
    """Figures of merit of several tests on the same cases and their covariance.

    Attributes
    ----------
    values : ndarray, shape (k,)
        Figure of merit of each test (a test is one reader in one modality).
    covariance : ndarray, shape (k, k)
        Case-sampling covariance of `values`.
    """

    values: NDArray[np.float64]
    covariance: NDArray[np.float64]


def _check_scores(
    scores: ArrayLike, truth: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    score_values = np.asarray(scores, dtype=float)
    truth_values = as_truth(truth)
    if score_values.ndim != 2 or score_values.shape[1] != truth_values.size:
        raise InputValidationError(
            f"scores must have shape (tests, cases) with {truth_values.size} cases, "
            f"got shape {score_values.shape}."
        )
    if not np.isfinite(score_values).all():
        raise InputValidationError(
            "scores must be finite: an MRMC analysis needs every reader's score for every case. "
            "Drop incomplete cases first (reads_to_array does this and reports the count)."
        )
    n_positive = int(truth_values.sum())
    n_negative = truth_values.size - n_positive
    if n_positive == 0 or n_negative == 0:
        raise SingleClassError(
            n_positive=n_positive, n_negative=n_negative, what="An MRMC analysis"
        )
    if n_positive < 2 or n_negative < 2:
        raise InsufficientCasesError(
            "An MRMC analysis needs at least 2 positive and 2 negative cases, but got "
            f"{n_positive} positive and {n_negative} negative."
        )
    return score_values, truth_values


def _jackknife_covariance(pseudo: NDArray[np.float64]) -> NDArray[np.float64]:
    """Covariance of leave-one-out values, shape (tests, cases): (c-1)/c * sum of products."""
    n_cases = pseudo.shape[1]
    centred = pseudo - pseudo.mean(axis=1, keepdims=True)
    return (n_cases - 1) / n_cases * (centred @ centred.T)


def figure_of_merit_covariance(
    scores: ArrayLike,
    truth: ArrayLike,
    *,
    figure_of_merit: FigureOfMerit = "auc",
    covariance: CovarianceMethod = "jackknife",
    threshold: float | None = None,
) -> FigureOfMeritCovariance:
    """Compute each test's figure of merit and their case-sampling covariance.

    Parameters
    ----------
    scores : array_like, shape (tests, cases)
        Outputs of each test on the same cases; higher means more likely positive.
    truth : array_like of {0, 1} or bool, shape (cases,)
        Reference standard, 1 for positive.
    figure_of_merit : {"auc", "sensitivity", "specificity"}
        Mann–Whitney AUC, or the proportion of positives (negatives) called
        positive (negative) at ``score >= threshold``.
    covariance : {"jackknife", "delong"}
        Leave-one-case-out jackknife, or DeLong's structural-component
        covariance. For sensitivity and specificity the "delong" option is the
        sample covariance of the per-case correct/incorrect indicators divided
        by the class size, the U-statistic analogue.
    threshold : float, optional
        Cut-off for sensitivity and specificity; required for them unless the
        scores are 0/1 calls, in which case it defaults to 1.

    Returns
    -------
    FigureOfMeritCovariance

    Notes
    -----
    The jackknife leaves out one case at a time, positive or negative, and
    uses ``(c - 1) / c * sum_k (theta_(k) - mean)(theta_(k) - mean)'`` over the
    ``c`` cases, as OR-DBM MRMC and MRMCaov do. The leave-one-out AUCs come from
    the DeLong placement values in closed form, so the jackknife costs
    O(c log c) per test rather than O(c^2 log c).
    """
    score_values, truth_values = _check_scores(scores, truth)
    if covariance not in ("jackknife", "delong"):
        raise InputValidationError(
            f"covariance must be 'jackknife' or 'delong', got {covariance!r}."
        )
    n_tests, n_cases = score_values.shape
    m = int(truth_values.sum())
    n = n_cases - m

    if figure_of_merit == "auc":
        components = [delong_components(row, truth_values) for row in score_values]
        values = np.array([c.auc for c in components])
        placements_pos = np.vstack([c.v10 for c in components])
        placements_neg = np.vstack([c.v01 for c in components])
    elif figure_of_merit in ("sensitivity", "specificity"):
        if threshold is None:
            if not np.isin(score_values, (0.0, 1.0)).all():
                raise InputValidationError(
                    f"A {figure_of_merit} analysis of continuous scores needs a threshold; "
                    "pass threshold= (a case is positive when score >= threshold)."
                )
            threshold = 1.0
        calls = score_values >= threshold
        # Only one class carries information, the other has constant placements.
        placements_pos = calls[:, truth_values].astype(float)
        placements_neg = (~calls[:, ~truth_values]).astype(float)
        if figure_of_merit == "sensitivity":
            placements_neg = np.zeros_like(placements_neg)
            values = placements_pos.mean(axis=1)
        else:
            placements_pos = np.zeros_like(placements_pos)
            values = placements_neg.mean(axis=1)
    else:
        raise InputValidationError(
            "figure_of_merit must be 'auc', 'sensitivity' or 'specificity', "
            f"got {figure_of_merit!r}."
        )

    # The sensitivity's negative placements are zero, so they add no variance;
    # its values are the positive placements' mean (and the reverse for specificity).
    if covariance == "delong":
        cov = np.cov(placements_pos, ddof=1).reshape(n_tests, n_tests) / m
        cov = cov + np.cov(placements_neg, ddof=1).reshape(n_tests, n_tests) / n
        return FigureOfMeritCovariance(values=values, covariance=cov)

    pseudo = np.empty((n_tests, n_cases))
    pos_sum = placements_pos.sum(axis=1, keepdims=True)
    neg_sum = placements_neg.sum(axis=1, keepdims=True)
    if figure_of_merit == "specificity":
        pseudo[:, truth_values] = values[:, None]
        pseudo[:, ~truth_values] = (neg_sum - placements_neg) / (n - 1)
    elif figure_of_merit == "sensitivity":
        pseudo[:, truth_values] = (pos_sum - placements_pos) / (m - 1)
        pseudo[:, ~truth_values] = values[:, None]
    else:
        pseudo[:, truth_values] = (pos_sum - placements_pos) / (m - 1)
        pseudo[:, ~truth_values] = (neg_sum - placements_neg) / (n - 1)
    return FigureOfMeritCovariance(values=values, covariance=_jackknife_covariance(pseudo))


@dataclass(frozen=True)
class ORVarianceComponents:
    """Mean squares and error covariances of the Obuchowski–Rockette model.

    Attributes
    ----------
    ms_t, ms_r, ms_tr : float
        Mean squares for modality, reader and modality x reader (``ms_t`` is 0
        with a single modality).
    var : float
        Mean error variance of a reader–modality figure of merit.
    cov1, cov2, cov3 : float
        Mean error covariance between the same reader in different modalities,
        different readers in the same modality, and different readers in
        different modalities.
    """

    ms_t: float
    ms_r: float
    ms_tr: float
    var: float
    cov1: float
    cov2: float
    cov3: float


@dataclass(frozen=True)
class ModalityEstimate:
    """Reader-averaged figure of merit of one modality with its interval.

    Attributes
    ----------
    modality : str
    estimate : float
    se : float
    df : float
        Degrees of freedom of the t interval; ``inf`` for a normal interval.
    lower, upper : float
    """

    modality: str
    estimate: float
    se: float
    df: float
    lower: float
    upper: float


@dataclass(frozen=True)
class ModalityDifference:
    """Difference of two reader-averaged figures of merit with its interval and test."""

    first: str
    second: str
    estimate: float
    se: float
    df: float
    lower: float
    upper: float
    statistic: float
    pvalue: float


@dataclass(frozen=True)
class ORTest:
    """One Obuchowski–Rockette analysis: the global test and its intervals.

    Attributes
    ----------
    analysis : {"RRRC", "FRRC", "RRFC"}
        Which factors are random: readers and cases, cases only, readers only.
    statistic : float
        F for RRRC and RRFC, chi-square for FRRC. With a zero denominator it
        is 0 (p = 1) when the modality means are equal and ``inf`` (p = 0)
        otherwise, never NaN.
    df_numerator : float
    df_denominator : float
        Hillis's denominator df for RRRC, ``(t-1)(r-1)`` for RRFC and ``inf``
        for FRRC (a chi-square test).
    pvalue : float
    differences : list of ModalityDifference
        Every pair of modalities, first minus second.
    modalities : list of ModalityEstimate
        Reader-averaged figure of merit of each modality under this analysis.
    """

    analysis: Analysis
    statistic: float
    df_numerator: float
    df_denominator: float
    pvalue: float
    differences: list[ModalityDifference]
    modalities: list[ModalityEstimate]


@dataclass(frozen=True)
class ORResult:
    """Result of :func:`obuchowski_rockette`.

    Attributes
    ----------
    figure_of_merit : str
    covariance_method : str
    modalities, readers : list of str
    values : ndarray, shape (modalities, readers)
        Figure of merit of each reader in each modality.
    components : ORVarianceComponents
    tests : dict of str to ORTest
        Keyed by "RRRC", "FRRC" and "RRFC".
    n_cases, n_positive : int
    """

    figure_of_merit: str
    covariance_method: str
    modalities: list[str]
    readers: list[str]
    values: NDArray[np.float64]
    components: ORVarianceComponents
    tests: dict[str, ORTest]
    n_cases: int
    n_positive: int
    alpha: float = 0.05


def _mean_covariances(
    covariance: NDArray[np.float64], n_modalities: int, n_readers: int
) -> tuple[float, float, float, float]:
    """Average the (t*r, t*r) covariance into Var, Cov1, Cov2 and Cov3; index = i*r + j."""
    modality = np.repeat(np.arange(n_modalities), n_readers)
    reader = np.tile(np.arange(n_readers), n_modalities)
    same_modality = modality[:, None] == modality[None, :]
    same_reader = reader[:, None] == reader[None, :]

    def mean_where(mask: NDArray[np.bool_]) -> float:
        return float(covariance[mask].mean()) if mask.any() else 0.0

    return (
        mean_where(same_modality & same_reader),
        mean_where(~same_modality & same_reader),
        mean_where(same_modality & ~same_reader),
        mean_where(~same_modality & ~same_reader),
    )


def _t_interval(
    estimate: float, se: float, df: float, alpha: float
) -> tuple[float, float, float, float]:
    """Return (lower, upper, statistic, two-sided p) for a t (or normal when df = inf) test of 0."""
    quantile = float(
        stats.norm.ppf(1 - alpha / 2) if math.isinf(df) else stats.t.ppf(1 - alpha / 2, df)
    )
    if se > 0.0:
        statistic = estimate / se
    elif estimate == 0.0:
        statistic = 0.0
    else:
        statistic = math.copysign(math.inf, estimate)
    distribution = stats.norm if math.isinf(df) else stats.t(df)
    pvalue = float(2 * distribution.sf(abs(statistic)))
    return estimate - quantile * se, estimate + quantile * se, statistic, pvalue


def _hillis_df(numerator: float, ms: float, df_ms: int) -> float:
    """Satterthwaite-type df ``numerator^2 / (ms^2 / df_ms)``; inf when ms is 0."""
    if ms <= 0.0:
        return math.inf
    return numerator**2 / (ms**2 / df_ms)


def _single_modality(
    values: NDArray[np.float64],
    covariance: NDArray[np.float64],
    *,
    analysis: Analysis,
    alpha: float,
) -> tuple[float, float, float, float, float]:
    """Mean of one modality's reader figures with (se, df, lower, upper), Hillis (2007)."""
    n_readers = values.size
    estimate = float(values.mean())
    var, _, cov2, _ = _mean_covariances(covariance, 1, n_readers)
    ms_r = float(np.var(values, ddof=1)) if n_readers > 1 else 0.0

    if analysis == "RRRC":
        variance_term = ms_r + n_readers * max(cov2, 0.0)
        df = _hillis_df(variance_term, ms_r, n_readers - 1) if n_readers > 1 else math.inf
    elif analysis == "FRRC":
        variance_term = var + (n_readers - 1) * cov2
        df = math.inf
    else:
        variance_term = ms_r
        df = float(n_readers - 1) if n_readers > 1 else math.inf
    se = math.sqrt(max(variance_term, 0.0) / n_readers)
    lower, upper, _, _ = _t_interval(estimate, se, df, alpha)
    return estimate, se, df, lower, upper


def obuchowski_rockette(
    scores: ArrayLike,
    truth: ArrayLike,
    *,
    modalities: list[str] | None = None,
    readers: list[str] | None = None,
    figure_of_merit: FigureOfMerit = "auc",
    covariance: CovarianceMethod = "jackknife",
    threshold: float | None = None,
    alpha: float = 0.05,
) -> ORResult:
    """Compare modalities read by the same readers on the same cases (OR method).

    Parameters
    ----------
    scores : array_like, shape (modalities, readers, cases)
        Each reader's output for each case in each modality; higher means more
        likely positive. No value may be missing.
    truth : array_like of {0, 1} or bool, shape (cases,)
        Reference standard, 1 for positive.
    modalities, readers : list of str, optional
        Labels; default "0", "1", ….
    figure_of_merit : {"auc", "sensitivity", "specificity"}
    covariance : {"jackknife", "delong"}
        How the case-sampling covariance of the figures of merit is estimated,
        see :func:`figure_of_merit_covariance`.
    threshold : float, optional
        Cut-off for sensitivity and specificity (``score >= threshold``).
    alpha : float, default 0.05
        Significance level and one minus the confidence level.

    Returns
    -------
    ORResult

    Raises
    ------
    InputValidationError
        If the scores are not a complete 3-D array matching `truth`, or fewer
        than 2 readers are given.

    Notes
    -----
    With ``t`` modalities, ``r`` readers and mean squares ``MS(T)``,
    ``MS(T*R)`` of the figures of merit [1]_:

    * RRRC: ``F = MS(T) / [MS(T*R) + r max(Cov2 - Cov3, 0)]`` with Hillis's
      denominator df ``[MS(T*R) + r max(Cov2 - Cov3, 0)]^2 / [MS(T*R)^2 / ((t-1)(r-1))]`` [2]_.
    * FRRC: ``X^2 = (t-1) MS(T) / [Var - Cov1 + (r-1) max(Cov2 - Cov3, 0)]``
      on ``t - 1`` df.
    * RRFC: ``F = MS(T) / MS(T*R)`` on ``(t-1, (t-1)(r-1))`` df.

    The interval of a difference of two modality means uses
    ``2/r`` times the same denominator as the variance. The per-modality
    intervals use that modality's data alone [2]_. The Van Dyke et al. (1993)
    data reproduce the published OR-DBM MRMC 2.5 and MRMCaov results with
    the jackknife covariance.

    References
    ----------
    .. [1] Obuchowski, N. A. and Rockette, H. E. (1995). Hypothesis testing of
       diagnostic accuracy for multiple readers and multiple tests: an ANOVA
       approach with dependent observations. Communications in Statistics –
       Simulation and Computation 24, 285–308.
    .. [2] Hillis, S. L. (2007). A comparison of denominator degrees of freedom
       methods for multiple observer ROC analysis. Statistics in Medicine 26,
       596–619.
    """
    score_values = np.asarray(scores, dtype=float)
    if score_values.ndim != 3:
        raise InputValidationError(
            f"scores must have shape (modalities, readers, cases), got shape {score_values.shape}."
        )
    n_modalities, n_readers, n_cases = score_values.shape
    if n_readers < 2:
        raise InputValidationError(
            f"An Obuchowski–Rockette analysis needs at least 2 readers, got {n_readers}. "
            "Use paired_delong for a single reader."
        )
    modality_names = (
        list(modalities) if modalities is not None else [str(i) for i in range(n_modalities)]
    )
    reader_names = list(readers) if readers is not None else [str(j) for j in range(n_readers)]
    if len(modality_names) != n_modalities or len(reader_names) != n_readers:
        raise InputValidationError(
            f"Got {len(modality_names)} modality and {len(reader_names)} reader labels for "
            f"scores of shape {score_values.shape}."
        )

    truth_values = as_truth(truth)
    fom = figure_of_merit_covariance(
        score_values.reshape(n_modalities * n_readers, n_cases),
        truth_values,
        figure_of_merit=figure_of_merit,
        covariance=covariance,
        threshold=threshold,
    )
    values = fom.values.reshape(n_modalities, n_readers)
    var, cov1, cov2, cov3 = _mean_covariances(fom.covariance, n_modalities, n_readers)

    grand = values.mean()
    modality_means = values.mean(axis=1)
    reader_means = values.mean(axis=0)
    ms_t = (
        n_readers * float(np.sum((modality_means - grand) ** 2)) / (n_modalities - 1)
        if n_modalities > 1
        else 0.0
    )
    ms_r = n_modalities * float(np.sum((reader_means - grand) ** 2)) / (n_readers - 1)
    interaction = values - modality_means[:, None] - reader_means[None, :] + grand
    df_tr = (n_modalities - 1) * (n_readers - 1)
    ms_tr = float(np.sum(interaction**2)) / df_tr if df_tr > 0 else 0.0
    components = ORVarianceComponents(
        ms_t=ms_t, ms_r=ms_r, ms_tr=ms_tr, var=var, cov1=cov1, cov2=cov2, cov3=cov3
    )

    tests: dict[str, ORTest] = {}
    for analysis in ANALYSES:
        tests[analysis] = _or_test(
            analysis,
            values=values,
            covariance=fom.covariance,
            components=components,
            modality_names=modality_names,
            alpha=alpha,
        )
    return ORResult(
        figure_of_merit=figure_of_merit,
        covariance_method=covariance,
        modalities=modality_names,
        readers=reader_names,
        values=values,
        components=components,
        tests=tests,
        n_cases=n_cases,
        n_positive=int(truth_values.sum()),
        alpha=alpha,
    )


def _or_test(
    analysis: Analysis,
    *,
    values: NDArray[np.float64],
    covariance: NDArray[np.float64],
    components: ORVarianceComponents,
    modality_names: list[str],
    alpha: float,
) -> ORTest:
    n_modalities, n_readers = values.shape
    df_tr = (n_modalities - 1) * (n_readers - 1)
    reader_covariance_excess = max(components.cov2 - components.cov3, 0.0)

    if analysis == "RRRC":
        denominator = components.ms_tr + n_readers * reader_covariance_excess
        df_denominator = _hillis_df(denominator, components.ms_tr, df_tr) if df_tr else math.inf
    elif analysis == "FRRC":
        denominator = components.var - components.cov1 + (n_readers - 1) * reader_covariance_excess
        df_denominator = math.inf
    else:
        denominator = components.ms_tr
        df_denominator = float(df_tr) if df_tr else math.inf

    df_numerator = float(n_modalities - 1)
    if n_modalities < 2:
        statistic, pvalue = 0.0, 1.0
    elif denominator > 0.0:
        if analysis == "FRRC":
            statistic = df_numerator * components.ms_t / denominator
            pvalue = float(stats.chi2.sf(statistic, df_numerator))
        else:
            statistic = components.ms_t / denominator
            pvalue = float(
                stats.chi2.sf(statistic * df_numerator, df_numerator)
                if math.isinf(df_denominator)
                else stats.f.sf(statistic, df_numerator, df_denominator)
            )
    else:
        statistic = 0.0 if components.ms_t == 0.0 else math.inf
        pvalue = 1.0 if components.ms_t == 0.0 else 0.0

    modality_means = values.mean(axis=1)
    difference_se = math.sqrt(2.0 / n_readers * max(denominator, 0.0))
    differences = []
    for first in range(n_modalities):
        for second in range(first + 1, n_modalities):
            estimate = float(modality_means[first] - modality_means[second])
            lower, upper, t_statistic, t_pvalue = _t_interval(
                estimate, difference_se, df_denominator, alpha
            )
            differences.append(
                ModalityDifference(
                    first=modality_names[first],
                    second=modality_names[second],
                    estimate=estimate,
                    se=difference_se,
                    df=df_denominator,
                    lower=lower,
                    upper=upper,
                    statistic=t_statistic,
                    pvalue=t_pvalue,
                )
            )

    per_modality = []
    for index, name in enumerate(modality_names):
        block = slice(index * n_readers, (index + 1) * n_readers)
        estimate, se, df, lower, upper = _single_modality(
            values[index], covariance[block, block], analysis=analysis, alpha=alpha
        )
        per_modality.append(
            ModalityEstimate(
                modality=name, estimate=estimate, se=se, df=df, lower=lower, upper=upper
            )
        )
    return ORTest(
        analysis=analysis,
        statistic=statistic,
        df_numerator=df_numerator,
        df_denominator=df_denominator,
        pvalue=pvalue,
        differences=differences,
        modalities=per_modality,
    )


@dataclass(frozen=True)
class StandaloneResult:
    """A standalone algorithm compared with the mean of a reader panel.

    Attributes
    ----------
    algorithm : float
        The algorithm's figure of merit.
    readers : ndarray
        Each reader's figure of merit.
    reader_mean : float
    differences : dict of str to ModalityDifference
        Reader mean minus algorithm, keyed by "RRRC", "FRRC" and "RRFC".
    """

    figure_of_merit: str
    covariance_method: str
    algorithm: float
    readers: NDArray[np.float64]
    reader_mean: float
    differences: dict[str, ModalityDifference]
    n_cases: int
    n_positive: int


def standalone_vs_readers(
    algorithm_scores: ArrayLike,
    reader_scores: ArrayLike,
    truth: ArrayLike,
    *,
    figure_of_merit: FigureOfMerit = "auc",
    covariance: CovarianceMethod = "jackknife",
    threshold: float | None = None,
    alpha: float = 0.05,
) -> StandaloneResult:
    """Compare a standalone algorithm with a panel of readers on the same cases.

    Parameters
    ----------
    algorithm_scores : array_like, shape (cases,)
        The algorithm's output, a single fixed "reader".
    reader_scores : array_like, shape (readers, cases)
        Each reader's output on the same cases.
    truth : array_like of {0, 1} or bool, shape (cases,)
    figure_of_merit : {"auc", "sensitivity", "specificity"}
    covariance : {"jackknife", "delong"}
    threshold : float, optional
        Cut-off for sensitivity and specificity.
    alpha : float, default 0.05

    Returns
    -------
    StandaloneResult
        Differences reader mean minus algorithm for "RRRC", "FRRC" and "RRFC".

    Notes
    -----
    The algorithm has no reader variability, so the two "modalities" are not
    exchangeable and the two-modality OR model does not apply. The standard
    approach analyses the per-reader differences ``D_j = theta_j - theta_alg``
    as a single-modality OR model [1]_, [2]_. Let ``MS(R)`` be the variance of
    the ``D_j`` across readers. Let ``Var`` and ``Cov2`` be the mean
    case-sampling variance and between-reader covariance of the ``D_j``, taken
    from the joint covariance of all readers and the algorithm. Then:

    * RRRC: ``se^2 = [MS(R) + r max(Cov2, 0)] / r`` with Hillis df
      ``[MS(R) + r max(Cov2, 0)]^2 / [MS(R)^2 / (r-1)]``;
    * FRRC: ``se^2 = [Var + (r-1) Cov2] / r``, normal;
    * RRFC: ``se^2 = MS(R) / r`` on ``r - 1`` df, a paired t-test.

    This is the 1T-RRRC method of [2]_, which RJafroc implements as
    ``StSignificanceTestingCadVsRad(method = "1T-RRRC")``. Its RRRC test equals
    a two-modality OR analysis in which every reader's second-modality reads
    are copies of the algorithm's reads.

    References
    ----------
    .. [1] Hillis, S. L. (2007). A comparison of denominator degrees of freedom
       methods for multiple observer ROC analysis. Statistics in Medicine 26,
       596–619.
    .. [2] Chakraborty, D. P. (2017). Observer Performance Methods for
       Diagnostic Imaging, chapter "Standalone CAD vs. radiologists". CRC Press.
    """
    algorithm_values = np.asarray(algorithm_scores, dtype=float)
    reader_values = np.asarray(reader_scores, dtype=float)
    if (
        reader_values.ndim != 2
        or algorithm_values.ndim != 1
        or reader_values.shape[1] != algorithm_values.size
    ):
        raise InputValidationError(
            "reader_scores must have shape (readers, cases) and algorithm_scores shape (cases,), "
            f"got {reader_values.shape} and {algorithm_values.shape}."
        )
    n_readers = reader_values.shape[0]
    if n_readers < 2:
        raise InputValidationError(
            f"A reader panel needs at least 2 readers, got {n_readers}. Use paired_delong or "
            "compare_binary for one reader."
        )
    fom = figure_of_merit_covariance(
        np.vstack([reader_values, algorithm_values]),
        truth,
        figure_of_merit=figure_of_merit,
        covariance=covariance,
        threshold=threshold,
    )
    # Contrast matrix mapping (readers..., algorithm) to the differences D_j.
    contrast = np.hstack([np.eye(n_readers), -np.ones((n_readers, 1))])
    differences_values = contrast @ fom.values
    difference_covariance = contrast @ fom.covariance @ contrast.T

    results: dict[str, ModalityDifference] = {}
    for analysis in ANALYSES:
        estimate, se, df, lower, upper = _single_modality(
            differences_values, difference_covariance, analysis=analysis, alpha=alpha
        )
        _, _, statistic, pvalue = _t_interval(estimate, se, df, alpha)
        results[analysis] = ModalityDifference(
            first="reader mean",
            second="algorithm",
            estimate=estimate,
            se=se,
            df=df,
            lower=lower,
            upper=upper,
            statistic=statistic,
            pvalue=pvalue,
        )
    truth_values = as_truth(truth)
    return StandaloneResult(
        figure_of_merit=figure_of_merit,
        covariance_method=covariance,
        algorithm=float(fom.values[-1]),
        readers=fom.values[:-1],
        reader_mean=float(fom.values[:-1].mean()),
        differences=results,
        n_cases=int(truth_values.size),
        n_positive=int(truth_values.sum()),
    )
