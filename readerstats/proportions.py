"""Binomial proportions with confidence intervals.

Sensitivity, specificity and accuracy use the exact Clopper–Pearson interval;
predictive values use the logit interval. Both return a
:class:`ProportionEstimate`, so a caller formats every proportion the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from readerstats.errors import EmptySampleError, InputValidationError

__all__ = ["ProportionEstimate", "clopper_pearson", "logit_interval"]


@dataclass(frozen=True)
class ProportionEstimate:
    """A proportion ``successes / total`` with a two-sided confidence interval.

    Attributes
    ----------
    estimate : float
        ``successes / total``.
    lower, upper : float
        Confidence limits, always inside [0, 1].
    successes, total : int
        The counts behind the estimate.
    method : str
        ``"clopper-pearson"`` or ``"logit"``; a logit request at 0 or ``total``
        successes reports ``"clopper-pearson"`` because it falls back (see
        :func:`logit_interval`).
    alpha : float
        One minus the confidence level.
    """

    estimate: float
    lower: float
    upper: float
    successes: int
    total: int
    method: str = "clopper-pearson"
    alpha: float = 0.05


def _validate_counts(successes: int, total: int, alpha: float) -> None:
    for name, value in (("successes", successes), ("total", total)):
        if isinstance(value, bool) or int(value) != value:
            raise InputValidationError(f"{name} must be a whole number, got {value!r}.")
    if total == 0:
        raise EmptySampleError(
            "A proportion needs at least one case, but total is 0 (0 successes of 0). "
            "Report the proportion as not available for this subset."
        )
    if total < 0 or successes < 0 or successes > total:
        raise InputValidationError(
            f"successes must lie in [0, total], got successes={successes}, total={total}."
        )
    if not 0.0 < alpha < 1.0:
        raise InputValidationError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")


def clopper_pearson(successes: int, total: int, *, alpha: float = 0.05) -> ProportionEstimate:
    """Estimate a binomial proportion with the exact Clopper–Pearson interval.

    Parameters
    ----------
    successes : int
        Number of successes, from 0 to `total`.
    total : int
        Number of trials; must be positive.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    ProportionEstimate
        With ``method="clopper-pearson"``.

    Raises
    ------
    EmptySampleError
        If `total` is 0.
    InputValidationError
        If the counts are negative, not whole, or `successes` exceeds `total`.

    Notes
    -----
    The limits are beta quantiles, ``B(alpha/2; x, n-x+1)`` and
    ``B(1-alpha/2; x+1, n-x)``, with the lower limit 0 at ``x = 0`` and the
    upper limit 1 at ``x = n``. This equals R's ``binom.test`` interval and
    statsmodels' ``proportion_confint(method="beta")``. For 0 of 18 the 95%
    interval is [0, 0.1853].

    References
    ----------
    .. [1] Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or
       fiducial limits illustrated in the case of the binomial. Biometrika 26,
       404–413.
    """
    _validate_counts(successes, total, alpha)
    x, n = int(successes), int(total)

    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return ProportionEstimate(
        estimate=x / n,
        lower=lower,
        upper=upper,
        successes=x,
        total=n,
        method="clopper-pearson",
        alpha=alpha,
    )


def logit_interval(successes: int, total: int, *, alpha: float = 0.05) -> ProportionEstimate:
    """Estimate a proportion with the standard logit (log-odds Wald) interval.

    This is the interval usually reported for positive and negative predictive
    values.

    Parameters
    ----------
    successes : int
        Number of successes, from 0 to `total`.
    total : int
        Number of trials; must be positive.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    ProportionEstimate
        With ``method="logit"``, or ``"clopper-pearson"`` at 0 or `total` successes.

    Raises
    ------
    EmptySampleError
        If `total` is 0.
    InputValidationError
        If the counts are invalid.

    Notes
    -----
    The limits are ``expit(logit(p) ± z * sqrt(1/x + 1/(n-x)))``, where
    ``1/x + 1/(n-x) = 1/(n p (1-p))`` is the delta-method variance of the
    sample log-odds. The interval is undefined when ``x`` is 0 or ``n``
    because the log-odds is infinite; there the exact Clopper–Pearson interval
    is returned instead, and ``method`` records this.

    References
    ----------
    .. [1] Mercaldo, N. D., Lau, K. F. and Zhou, X. H. (2007). Confidence
       intervals for predictive values with an emphasis to case–control
       designs. Statistics in Medicine 26, 2170–2183.
    """
    _validate_counts(successes, total, alpha)
    x, n = int(successes), int(total)
    if x == 0 or x == n:
        return clopper_pearson(x, n, alpha=alpha)

    p = x / n
    log_odds = math.log(p / (1 - p))
    half_width = float(stats.norm.ppf(1 - alpha / 2)) * math.sqrt(1 / x + 1 / (n - x))
    lower = 1 / (1 + math.exp(-(log_odds - half_width)))
    upper = 1 / (1 + math.exp(-(log_odds + half_width)))
    return ProportionEstimate(
        estimate=p,
        lower=lower,
        upper=upper,
        successes=x,
        total=n,
        method="logit",
        alpha=alpha,
    )
