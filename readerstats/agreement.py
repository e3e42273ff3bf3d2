"""Chance-corrected agreement between raters: Cohen's and Fleiss' kappa."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from readerstats.errors import EmptySampleError, InputValidationError

__all__ = ["KappaEstimate", "cohens_kappa", "fleiss_kappa"]


@dataclass(frozen=True)
class KappaEstimate:
    """A kappa statistic with its confidence interval and test of no agreement.

    Attributes
    ----------
    kappa : float
    se : float
        Standard error used for the interval.
    lower, upper : float
        Wald interval ``kappa ± z * se``, clipped to [-1, 1].
    se_null : float
        Standard error under the hypothesis of chance agreement.
    z, pvalue : float
        ``kappa / se_null`` and its two-sided normal p-value; 0 and 1 when
        ``se_null`` is 0.
    observed_agreement, expected_agreement : float
    n_subjects : int
    n_raters : int
    """

    kappa: float
    se: float
    lower: float
    upper: float
    se_null: float
    z: float
    pvalue: float
    observed_agreement: float
    expected_agreement: float
    n_subjects: int
    n_raters: int
    alpha: float = 0.05


def _finish(
    kappa: float,
    se: float,
    se_null: float,
    *,
    observed: float,
    expected: float,
    n_subjects: int,
    n_raters: int,
    alpha: float,
) -> KappaEstimate:
    z_quantile = float(stats.norm.ppf(1 - alpha / 2))
    z = kappa / se_null if se_null > 0 else 0.0
    return KappaEstimate(
        kappa=kappa,
        se=se,
        lower=max(-1.0, kappa - z_quantile * se),
        upper=min(1.0, kappa + z_quantile * se),
        se_null=se_null,
        z=z,
        pvalue=float(2 * stats.norm.sf(abs(z))) if se_null > 0 else 1.0,
        observed_agreement=observed,
        expected_agreement=expected,
        n_subjects=n_subjects,
        n_raters=n_raters,
        alpha=alpha,
    )


def cohens_kappa(first: ArrayLike, second: ArrayLike, *, alpha: float = 0.05) -> KappaEstimate:
    """Estimate Cohen's (unweighted) kappa of two raters with a large-sample interval.

    Parameters
    ----------
    first, second : array_like
        Category labels the two raters gave to the same subjects (any
        hashable labels; 0/1 calls for a diagnostic reading).
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    KappaEstimate

    Raises
    ------
    EmptySampleError
        If there are no subjects.
    InputValidationError
        If the lengths differ.

    Notes
    -----
    The interval uses the large-sample standard error of Fleiss, Cohen and
    Everitt (1969) [1]_, the same as statsmodels' ``cohens_kappa``
    (``std_kappa``). The test uses the standard error under chance agreement
    (``std_kappa0``). When both raters use one and the same category for
    every subject, the expected agreement is 1 and kappa is undefined; kappa
    is then reported as 1 (perfect observed agreement) with zero standard
    errors.

    References
    ----------
    .. [1] Fleiss, J. L., Cohen, J. and Everitt, B. S. (1969). Large sample
       standard errors of kappa and weighted kappa. Psychological Bulletin 72,
       323–327.
    """
    first_values = np.asarray(first)
    second_values = np.asarray(second)
    if first_values.shape != second_values.shape or first_values.ndim != 1:
        raise InputValidationError(
            f"Both raters must rate the same subjects, got {first_values.shape} and {second_values.shape}."
        )
    n_subjects = first_values.size
    if n_subjects == 0:
        raise EmptySampleError("Cohen's kappa needs at least one subject, got 0.")

    categories, codes = np.unique(
        np.concatenate([first_values, second_values]), return_inverse=True
    )
    k = categories.size
    table = np.zeros((k, k))
    np.add.at(table, (codes[:n_subjects], codes[n_subjects:]), 1)
    p = table / n_subjects
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    observed = float(np.trace(p))
    expected = float(rows @ cols)
    if expected >= 1.0:
        return _finish(
            1.0,
            0.0,
            0.0,
            observed=observed,
            expected=expected,
            n_subjects=n_subjects,
            n_raters=2,
            alpha=alpha,
        )

    kappa = (observed - expected) / (1 - expected)
    diagonal = np.diag(p)
    term_diagonal = float(np.sum(diagonal * (1 - (rows + cols) * (1 - kappa)) ** 2))
    off_diagonal = ~np.eye(k, dtype=bool)
    weights = (cols[:, None] + rows[None, :]) ** 2
    term_off = (1 - kappa) ** 2 * float(np.sum(p[off_diagonal] * weights[off_diagonal]))
    term_correction = (kappa - expected * (1 - kappa)) ** 2
    variance = (term_diagonal + term_off - term_correction) / (n_subjects * (1 - expected) ** 2)

    variance_null = (expected + expected**2 - float(np.sum(rows * cols * (rows + cols)))) / (
        n_subjects * (1 - expected) ** 2
    )
    return _finish(
        kappa,
        math.sqrt(max(variance, 0.0)),
        math.sqrt(max(variance_null, 0.0)),
        observed=observed,
        expected=expected,
        n_subjects=n_subjects,
        n_raters=2,
        alpha=alpha,
    )


def _fleiss_point(counts: NDArray[np.float64]) -> tuple[float, float, float]:
    n_raters = counts[0].sum()
    proportions = counts.sum(axis=0) / counts.sum()
    per_subject = (np.sum(counts**2, axis=1) - n_raters) / (n_raters * (n_raters - 1))
    observed = float(per_subject.mean())
    expected = float(np.sum(proportions**2))
    if expected >= 1.0:
        return 1.0, observed, expected
    return (observed - expected) / (1 - expected), observed, expected


def fleiss_kappa(ratings: ArrayLike, *, alpha: float = 0.05) -> KappaEstimate:
    """Estimate Fleiss' kappa of a panel in which every rater rates every subject.

    Parameters
    ----------
    ratings : array_like, shape (subjects, raters)
        Category label of each subject from each rater.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    KappaEstimate

    Raises
    ------
    EmptySampleError
        If there are no subjects.
    InputValidationError
        If fewer than 2 raters are given or a rating is missing.

    Notes
    -----
    The point estimate is Fleiss (1971) [1]_ and equals statsmodels'
    ``fleiss_kappa(method="fleiss")``. The test of chance agreement uses the
    null standard error of Fleiss, Nee and Landis (1979) [2]_. Fleiss' kappa has
    no standard closed-form non-null standard error, so the interval uses the
    leave-one-subject-out jackknife standard error. Like the Wald interval of
    Cohen's kappa it is a large-sample approximation. When every rating is the same
    category kappa is reported as 1 with zero standard errors.

    References
    ----------
    .. [1] Fleiss, J. L. (1971). Measuring nominal scale agreement among many
       raters. Psychological Bulletin 76, 378–382.
    .. [2] Fleiss, J. L., Nee, J. C. M. and Landis, J. R. (1979). Large sample
       variance of kappa in the case of different sets of raters.
       Psychological Bulletin 86, 974–977.
    """
    values = np.asarray(ratings, dtype=object)
    if values.ndim != 2 or values.shape[1] < 2:
        raise InputValidationError(
            f"ratings must have shape (subjects, raters) with at least 2 raters, got {values.shape}."
        )
    n_subjects, n_raters = values.shape
    if n_subjects == 0:
        raise EmptySampleError("Fleiss' kappa needs at least one subject, got 0.")
    missing = np.array(
        [[v is None or (isinstance(v, float) and math.isnan(v)) for v in row] for row in values]
    )
    if missing.any():
        row, column = (int(i) for i in np.argwhere(missing)[0])
        raise InputValidationError(
            f"Fleiss' kappa needs every rater to rate every subject, but subject {row} has no "
            f"rating from rater {column}. Drop that subject first."
        )

    _, codes = np.unique(values.astype(str), return_inverse=True)
    codes = codes.reshape(n_subjects, n_raters)
    n_categories = int(codes.max()) + 1
    counts = np.zeros((n_subjects, n_categories))
    for column in range(n_raters):
        np.add.at(counts, (np.arange(n_subjects), codes[:, column]), 1)

    kappa, observed, expected = _fleiss_point(counts)
    if expected >= 1.0:
        return _finish(
            1.0,
            0.0,
            0.0,
            observed=observed,
            expected=expected,
            n_subjects=n_subjects,
            n_raters=n_raters,
            alpha=alpha,
        )

    proportions = counts.sum(axis=0) / counts.sum()
    pq = proportions * (1 - proportions)
    sum_pq = float(pq.sum())
    variance_null = (
        2.0
        / (n_subjects * n_raters * (n_raters - 1))
        * (sum_pq**2 - float(np.sum(pq * (1 - 2 * proportions))))
        / sum_pq**2
    )

    if n_subjects > 2:
        leave_one_out = np.array(
            [_fleiss_point(np.delete(counts, i, axis=0))[0] for i in range(n_subjects)]
        )
        se = math.sqrt(
            (n_subjects - 1)
            / n_subjects
            * float(np.sum((leave_one_out - leave_one_out.mean()) ** 2))
        )
    else:
        se = 0.0
    return _finish(
        kappa,
        se,
        math.sqrt(max(variance_null, 0.0)),
        observed=observed,
        expected=expected,
        n_subjects=n_subjects,
        n_raters=n_raters,
        alpha=alpha,
    )
