"""The clinical characteristics table of a diagnostic study (its "Table 1").

Each feature is summarised within the positive and the negative cases, and
tested by logistic regression of the reference standard on the feature. The
multivariable model's calibration is checked by the Hosmer–Lemeshow test.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from readerstats._validation import as_truth
from readerstats.errors import InputValidationError, SingleClassError

__all__ = [
    "CharacteristicsTable",
    "FeatureSummary",
    "GroupSummary",
    "HosmerLemeshowResult",
    "characteristics_table",
    "hosmer_lemeshow",
]


@dataclass(frozen=True)
class GroupSummary:
    """A feature within one class: n (%) for binary features, mean ± s.d. and IQR otherwise.

    Attributes
    ----------
    n : int
        Cases with a value.
    n_missing : int
    count, percent : int or None, float or None
        Cases with the value 1, binary features only.
    mean, sd, median, q1, q3 : float or None
        Continuous features only; ``sd`` uses the n - 1 denominator and is None
        for a single value.
    """

    n: int
    n_missing: int
    count: int | None = None
    percent: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None


@dataclass(frozen=True)
class FeatureSummary:
    """One row of the characteristics table.

    Attributes
    ----------
    feature : str
    kind : {"binary", "continuous"}
    positive, negative : GroupSummary
    pvalue_univariable : float or None
        Wald p of the feature in a logistic regression on it alone.
    pvalue_multivariable : float or None
        Wald p of the feature in the logistic regression on all features.
    note : str or None
        Why a p-value is missing (perfect separation, a constant feature).
    """

    feature: str
    kind: str
    positive: GroupSummary
    negative: GroupSummary
    pvalue_univariable: float | None
    pvalue_multivariable: float | None
    note: str | None = None


@dataclass(frozen=True)
class HosmerLemeshowResult:
    """Hosmer–Lemeshow goodness-of-fit test.

    Attributes
    ----------
    statistic : float
    df : int
        Number of groups minus 2.
    pvalue : float
    groups : pandas.DataFrame
        Per risk group: n, observed and expected positives.
    """

    statistic: float
    df: int
    pvalue: float
    groups: pd.DataFrame


@dataclass(frozen=True)
class CharacteristicsTable:
    """Result of :func:`characteristics_table`.

    Attributes
    ----------
    rows : list of FeatureSummary
    n_positive, n_negative : int
    n_complete : int
        Cases with every feature, used by the multivariable model.
    hosmer_lemeshow : HosmerLemeshowResult or None
        Of the multivariable model; None when it could not be fitted.
    """

    rows: list[FeatureSummary]
    n_positive: int
    n_negative: int
    n_complete: int
    hosmer_lemeshow: HosmerLemeshowResult | None

    def to_frame(self) -> pd.DataFrame:
        """Return the table as one row per feature with formatted summaries."""
        records = []
        for row in self.rows:
            records.append(
                {
                    "feature": row.feature,
                    "positive": _format_group(row.positive, row.kind),
                    "negative": _format_group(row.negative, row.kind),
                    "p_univariable": row.pvalue_univariable,
                    "p_multivariable": row.pvalue_multivariable,
                    "note": row.note,
                }
            )
        return pd.DataFrame.from_records(records)


def _format_group(group: GroupSummary, kind: str) -> str:
    if kind == "binary":
        return f"{group.count} ({group.percent:.1f})" if group.n else "n/a"
    if group.mean is None:
        return "n/a"
    sd = "n/a" if group.sd is None else f"{group.sd:.1f}"
    return f"{group.mean:.1f} ± {sd} (IQR {group.q1:.1f}–{group.q3:.1f})"


def _summarise(values: pd.Series, kind: str) -> GroupSummary:
    present = values.dropna().astype(float)
    n, n_missing = int(present.size), int(values.size - present.size)
    if kind == "binary":
        count = int(present.sum())
        return GroupSummary(
            n=n, n_missing=n_missing, count=count, percent=100.0 * count / n if n else None
        )
    if n == 0:
        return GroupSummary(n=0, n_missing=n_missing)
    q1, median, q3 = np.percentile(present, [25, 50, 75])
    return GroupSummary(
        n=n,
        n_missing=n_missing,
        mean=float(present.mean()),
        sd=float(present.std(ddof=1)) if n > 1 else None,
        median=float(median),
        q1=float(q1),
        q3=float(q3),
    )


def _fit_logit(
    outcome: np.ndarray, design: pd.DataFrame
) -> tuple[pd.Series | None, np.ndarray | None, str | None]:
    """Fit a logistic regression; return (Wald p-values, fitted probabilities, failure note)."""
    if design.shape[0] <= design.shape[1] + 1:
        return None, None, "too few complete cases for a logistic regression"
    constant = [c for c in design.columns if design[c].nunique() < 2]
    if constant:
        return None, None, f"constant feature(s) {', '.join(constant)}"
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.Logit(outcome, sm.add_constant(design, has_constant="add")).fit(
                disp=0, maxiter=200
            )
        except (PerfectSeparationError, PerfectSeparationWarning):
            return None, None, "perfect separation: the Wald p-value is undefined"
        except np.linalg.LinAlgError:
            return None, None, "singular design (collinear features)"
    return fit.pvalues, fit.predict(), None


def characteristics_table(
    data: pd.DataFrame,
    *,
    truth: str,
    features: Sequence[str] | None = None,
    hosmer_lemeshow_groups: int = 10,
) -> CharacteristicsTable:
    """Summarise features by reference standard, with logistic-regression p-values.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case.
    truth : str
        Column with the reference standard, 1 for positive.
    features : sequence of str, optional
        Numeric columns to summarise; default every column except `truth`.
        Columns with only the values 0 and 1 are reported as n (%) of 1.
    hosmer_lemeshow_groups : int, default 10
        Risk groups for the goodness-of-fit test of the multivariable model.

    Returns
    -------
    CharacteristicsTable

    Raises
    ------
    InputValidationError
        If a column is missing or not numeric.
    SingleClassError
        If the truth column has one class.

    Notes
    -----
    The univariable p-value tests the feature's coefficient in
    ``logit P(positive) = b0 + b1 x``; the multivariable p-value tests it in
    the model with every feature, fitted on the complete cases. Both are Wald
    tests from statsmodels' ``Logit``, the same as R's
    ``summary(glm(..., family = binomial))``. A table in which the
    multivariable p-values are printed can show a large unadjusted difference
    with a large p, because the adjusted test checks whether the feature adds
    information to the others.
    """
    if truth not in data.columns:
        raise InputValidationError(
            f"Truth column {truth!r} not found; the columns are {list(data.columns)}."
        )
    feature_names = (
        list(features) if features is not None else [c for c in data.columns if c != truth]
    )
    missing = [name for name in feature_names if name not in data.columns]
    if missing:
        raise InputValidationError(
            f"Feature column(s) {missing} not found; the columns are {list(data.columns)}."
        )
    for name in feature_names:
        if not pd.api.types.is_numeric_dtype(data[name]):
            raise InputValidationError(
                f"Feature {name!r} must be numeric, got dtype {data[name].dtype}. Encode "
                "categories as 0/1 indicator columns first."
            )
    outcome = as_truth(data[truth].to_numpy(), name=truth)
    n_positive = int(outcome.sum())
    n_negative = int(outcome.size - n_positive)
    if n_positive == 0 or n_negative == 0:
        raise SingleClassError(
            n_positive=n_positive, n_negative=n_negative, what="A characteristics table"
        )

    complete = data[feature_names].notna().all(axis=1).to_numpy()
    multivariable_p, fitted, multivariable_note = _fit_logit(
        outcome[complete].astype(float), data.loc[complete, feature_names].astype(float)
    )

    rows = []
    for name in feature_names:
        column = data[name]
        kind = "binary" if set(column.dropna().unique()) <= {0, 1} else "continuous"
        present = column.notna().to_numpy()
        univariable_p, _, note = _fit_logit(
            outcome[present].astype(float), data.loc[present, [name]].astype(float)
        )
        rows.append(
            FeatureSummary(
                feature=name,
                kind=kind,
                positive=_summarise(column[outcome], kind),
                negative=_summarise(column[~outcome], kind),
                pvalue_univariable=None if univariable_p is None else float(univariable_p[name]),
                pvalue_multivariable=None
                if multivariable_p is None
                else float(multivariable_p[name]),
                note=note or multivariable_note,
            )
        )

    goodness = None
    if fitted is not None:
        goodness = hosmer_lemeshow(fitted, outcome[complete], groups=hosmer_lemeshow_groups)
    return CharacteristicsTable(
        rows=rows,
        n_positive=n_positive,
        n_negative=n_negative,
        n_complete=int(complete.sum()),
        hosmer_lemeshow=goodness,
    )


def hosmer_lemeshow(
    predicted: ArrayLike, observed: ArrayLike, *, groups: int = 10
) -> HosmerLemeshowResult:
    """Test the calibration of predicted probabilities by the Hosmer–Lemeshow statistic.

    Parameters
    ----------
    predicted : array_like of float
        Fitted probabilities in [0, 1].
    observed : array_like of {0, 1} or bool
        Outcomes, 1 for positive.
    groups : int, default 10
        Number of risk groups (deciles of risk by default).

    Returns
    -------
    HosmerLemeshowResult

    Raises
    ------
    InputValidationError
        If the probabilities are outside [0, 1], the lengths differ, or fewer
        than 3 distinct risk groups can be formed.

    Notes
    -----
    Groups are cut at the quantiles ``0, 1/g, …, 1`` of the predicted
    probabilities (closed on both ends of the first group, duplicate cut
    points merged), as in R's ``ResourceSelection::hoslem.test``. The
    statistic is ``sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))`` over the
    groups, equal to the chi-square over both outcome columns, referred to
    chi-square on (number of groups - 2) df. ``hoslem.test`` uses ``g - 2``
    even when tied cut points merge groups; this function uses the groups
    actually formed.

    References
    ----------
    .. [1] Hosmer, D. W. and Lemeshow, S. (1980). Goodness of fit tests for the
       multiple logistic regression model. Communications in Statistics –
       Theory and Methods 9, 1043–1069.
    """
    probabilities = np.asarray(predicted, dtype=float)
    outcome = as_truth(observed, name="observed").astype(float)
    if probabilities.shape != outcome.shape:
        raise InputValidationError(
            f"predicted and observed must have the same length, got {probabilities.size} and {outcome.size}."
        )
    if not np.all((probabilities >= 0) & (probabilities <= 1)):
        raise InputValidationError("predicted must contain probabilities in [0, 1].")

    breaks = np.unique(np.quantile(probabilities, np.linspace(0, 1, groups + 1)))
    labels = pd.cut(probabilities, bins=breaks, include_lowest=True, labels=False)
    frame = pd.DataFrame({"group": labels, "observed": outcome, "expected": probabilities})
    table = frame.groupby("group").agg(
        n=("observed", "size"), observed=("observed", "sum"), expected=("expected", "sum")
    )
    if len(table) < 3:
        raise InputValidationError(
            f"The Hosmer–Lemeshow test needs at least 3 risk groups, but the predicted "
            f"probabilities form {len(table)} (too few distinct values)."
        )
    expected_negative = table["n"] - table["expected"]
    statistic = float(
        np.sum((table["observed"] - table["expected"]) ** 2 / table["expected"])
        + np.sum((table["observed"] - table["expected"]) ** 2 / expected_negative)
    )
    df = len(table) - 2
    return HosmerLemeshowResult(
        statistic=statistic,
        df=df,
        pvalue=float(stats.chi2.sf(statistic, df)),
        groups=table.reset_index(),
    )
