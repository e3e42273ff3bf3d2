"""Exceptions raised by readerstats.

Every exception is a ``ValueError`` subclass, so callers that catch
``ValueError`` for bad input keep working. Callers that need to tell the cases
apart, such as a dashboard that greys out the AUC of a one-class subset, catch
the specific class.
"""

from __future__ import annotations


class ReaderStatsError(ValueError):
    """Base class of the input errors that readerstats raises."""


class EmptySampleError(ReaderStatsError):
    """A proportion or statistic was requested for zero cases."""


class SingleClassError(ReaderStatsError):
    """The cases contain only positives or only negatives.

    AUC, sensitivity-versus-specificity trade-offs and DeLong variances need at
    least one case of each class; the message names both counts.
    """

    def __init__(self, *, n_positive: int, n_negative: int, what: str = "AUC") -> None:
        self.n_positive = n_positive
        self.n_negative = n_negative
        super().__init__(
            f"{what} needs both positive and negative cases, but got {n_positive} positive "
            f"and {n_negative} negative. Add cases of the missing class or report "
            "sensitivity or specificity alone."
        )


class InsufficientCasesError(ReaderStatsError):
    """Too few cases of a class to estimate a variance."""


class InputValidationError(ReaderStatsError):
    """Scores, truth labels or a reads table are malformed (length, type or value)."""
