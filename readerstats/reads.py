"""Reading and validating a table of reads from any reader-study platform.

Two layouts are accepted. A wide table has one row per case, the columns
``case`` and ``truth``, and one column per rater. A long table has one row per
read, with the columns ``reader``, ``case``, ``truth``, ``score`` and,
optionally, ``modality``. Either may carry extra per-case columns (subgroup
flags, clinical features) that the caller names. Every error names the CSV
line, the column and the value, and states the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from readerstats.errors import InputValidationError, SingleClassError

__all__ = ["Reads", "load_reads", "reads_from_frame"]

LONG_COLUMNS = ("reader", "case", "truth", "score")


@dataclass(frozen=True)
class Reads:
    """Validated reads in long form.

    Attributes
    ----------
    reads : pandas.DataFrame
        Columns ``rater``, ``reader``, ``modality``, ``case``, ``score`` (NaN when
        missing); one row per rater and case.
    cases : pandas.DataFrame
        One row per case, indexed by ``case``, with ``truth`` (bool) and the
        extra per-case columns.
    layout : {"wide", "long"}
    """

    reads: pd.DataFrame
    cases: pd.DataFrame
    layout: str

    @property
    def raters(self) -> list[str]:
        """Rater labels in file order."""
        return list(dict.fromkeys(self.reads["rater"]))

    @property
    def modalities(self) -> list[str]:
        """Modality labels in file order."""
        return list(dict.fromkeys(self.reads["modality"]))

    def score_table(self) -> pd.DataFrame:
        """Return scores as a case x rater table aligned with :attr:`cases`."""
        table = self.reads.pivot(index="case", columns="rater", values="score")
        return table.reindex(index=self.cases.index, columns=self.raters)


def _line(index: int) -> int:
    """CSV line number of a zero-based data row (line 1 is the header)."""
    return int(index) + 2


def _numeric(frame: pd.DataFrame, column: str, *, allow_missing: bool) -> pd.Series:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        index = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputValidationError(
            f"Line {_line(index)}, column {column!r}: {raw.iloc[index]!r} is not a number. "
            "Scores must be numeric (a probability, a rating or 0/1); leave the cell empty "
            "for a missing read."
        )
    if not allow_missing and values.isna().any():
        index = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputValidationError(f"Line {_line(index)}, column {column!r}: the value is missing.")
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():
        index = int(np.flatnonzero(infinite)[0])
        raise InputValidationError(
            f"Line {_line(index)}, column {column!r}: {raw.iloc[index]!r} is not a finite number."
        )
    return values.astype(float)


def _truth(frame: pd.DataFrame) -> pd.Series:
    values = _numeric(frame, "truth", allow_missing=False)
    invalid = ~values.isin((0.0, 1.0))
    if invalid.any():
        index = int(np.flatnonzero(invalid.to_numpy())[0])
        raise InputValidationError(
            f"Line {_line(index)}, column 'truth': {frame['truth'].iloc[index]!r} is not 0 or 1. "
            "Code the reference standard as 1 = positive, 0 = negative."
        )
    return values == 1.0


def reads_from_frame(frame: pd.DataFrame, *, case_columns: Sequence[str] = ()) -> Reads:
    """Validate a wide or long table of reads.

    Parameters
    ----------
    frame : pandas.DataFrame
        As read from the CSV, one row per case (wide) or per read (long).
    case_columns : sequence of str
        Per-case columns that are not raters, such as subgroup flags and
        clinical features.

    Returns
    -------
    Reads

    Raises
    ------
    InputValidationError
        If a required column is missing, a score is not numeric, truth is not
        0/1, a case has two different truths, or a read is duplicated.
    SingleClassError
        If every case has the same truth.
    """
    frame = frame.rename(columns=lambda name: str(name).strip())
    for column in ("case", "truth"):
        if column not in frame.columns:
            raise InputValidationError(
                f"Missing column {column!r}; found {list(frame.columns)}. A wide table needs "
                "'case', 'truth' and one column per rater; a long table needs "
                "'reader', 'case', 'truth' and 'score' (and optionally 'modality')."
            )
    missing_extra = [column for column in case_columns if column not in frame.columns]
    if missing_extra:
        raise InputValidationError(
            f"Missing column(s) {missing_extra}; found {list(frame.columns)}."
        )

    frame = frame.reset_index(drop=True)
    frame["case"] = frame["case"].astype(str).str.strip()
    truth = _truth(frame)
    is_long = "reader" in frame.columns and "score" in frame.columns
    if "reader" in frame.columns and "score" not in frame.columns:
        raise InputValidationError(
            f"The table has a 'reader' column but no 'score' column; found {list(frame.columns)}. "
            "A long table needs 'reader', 'case', 'truth' and 'score'."
        )

    if is_long:
        reads = pd.DataFrame(
            {
                "reader": frame["reader"].astype(str).str.strip(),
                "modality": (
                    frame["modality"].astype(str).str.strip()
                    if "modality" in frame.columns
                    else "0"
                ),
                "case": frame["case"],
                "score": _numeric(frame, "score", allow_missing=True),
            }
        )
        single_modality = reads["modality"].nunique() == 1
        reads["rater"] = (
            reads["reader"] if single_modality else reads["reader"] + "@" + reads["modality"]
        )
        duplicated = reads.duplicated(["reader", "modality", "case"])
        if duplicated.any():
            index = int(np.flatnonzero(duplicated.to_numpy())[0])
            row = reads.iloc[index]
            raise InputValidationError(
                f"Line {_line(index)}: reader {row['reader']!r} read case {row['case']!r} in "
                f"modality {row['modality']!r} more than once. Keep one read per case."
            )
        layout = "long"
    else:
        rater_columns = [c for c in frame.columns if c not in ("case", "truth", *case_columns)]
        if not rater_columns:
            raise InputValidationError(
                "The wide table has no rater columns besides 'case', 'truth' and the case "
                f"columns {list(case_columns)}; add one column of scores per rater."
            )
        duplicated = frame["case"].duplicated()
        if duplicated.any():
            index = int(np.flatnonzero(duplicated.to_numpy())[0])
            raise InputValidationError(
                f"Line {_line(index)}: case {frame['case'].iloc[index]!r} appears twice. A wide "
                "table has one row per case."
            )
        parts = []
        for column in rater_columns:
            parts.append(
                pd.DataFrame(
                    {
                        "reader": column,
                        "modality": "0",
                        "case": frame["case"],
                        "score": _numeric(frame, column, allow_missing=True),
                        "rater": column,
                    }
                )
            )
        reads = pd.concat(parts, ignore_index=True)
        layout = "wide"

    cases = pd.DataFrame({"case": frame["case"], "truth": truth})
    for column in case_columns:
        cases[column] = frame[column]
    conflicting = cases.groupby("case")["truth"].nunique() > 1
    if conflicting.any():
        case = conflicting.index[conflicting.to_numpy()][0]
        raise InputValidationError(
            f"Case {case!r} has both truth 0 and truth 1 on different lines. Each case has one "
            "reference standard."
        )
    cases = cases.drop_duplicates("case").set_index("case")

    n_positive = int(cases["truth"].sum())
    n_negative = int(len(cases) - n_positive)
    if n_positive == 0 or n_negative == 0:
        raise SingleClassError(
            n_positive=n_positive, n_negative=n_negative, what="A reader study analysis"
        )
    return Reads(
        reads=reads[["rater", "reader", "modality", "case", "score"]], cases=cases, layout=layout
    )


def load_reads(path: str | Path, *, case_columns: Sequence[str] = ()) -> Reads:
    """Read and validate a CSV of reads; see :func:`reads_from_frame`.

    Raises
    ------
    InputValidationError
        If the file cannot be read as CSV, or on any error of
        :func:`reads_from_frame`.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputValidationError(f"Cannot read {str(path)!r} as CSV: {error}") from error
    return reads_from_frame(frame, case_columns=case_columns)
