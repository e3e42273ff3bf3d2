"""Parsing of the clinical CSV that accompanies a DICOM import.

One row per patient: ``patient_id`` (the DICOM Patient ID of the series), the
twelve clinical features, the RT-PCR result, the data split, optional subgroup
flags and an optional ``illustrative`` mark. Headers are matched leniently
(case, spaces, underscores, common synonyms, units in brackets), values
strictly: a cell that cannot be read without guessing is an error that names
its row, column and value, and explains how to fix it.

A file with any error yields no rows, because importing part of a cohort would
bias every statistic computed on it. The result still lists every error, so
that the file can be fixed in one pass.

Decisions
---------
- Rows are numbered as a spreadsheet numbers them: the header is row 1.
- Counts (WBC, neutrophils, lymphocytes) are stored in 10^9/L. The unit comes
  from the header, e.g. ``WBC (/uL)``, or from a ``<feature>_unit`` column. A
  count without a unit must lie in :data:`COUNT_RANGES`; otherwise it is
  rejected, never rescaled by guess.
- Temperature is in °C. °F is converted only when the header or unit column
  says °F.
- ``split`` accepts train/tune/test; "training", "tuning", "validation",
  "valid" and "val" are read as the matching split, because the held-out set
  that picks hyper-parameters goes by all of these names.
- Missing markers (:data:`MISSING_MARKERS`) become ``None``, never 0.
- Encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252,
  else Latin-1. Delimiter: ``,``, ``;`` or tab, found by :class:`csv.Sniffer`
  with a count of the header line as fallback. With ``;`` a decimal comma
  (``37,8``) is accepted.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "COUNT_RANGES",
    "FEATURES",
    "MISSING_MARKERS",
    "CellError",
    "ClinicalParseResult",
    "ClinicalRow",
    "parse_clinical_csv",
]

FEATURES: Final = (
    "age",
    "sex",
    "exposure",
    "fever",
    "cough",
    "sputum",
    "temperature",
    "wbc",
    "neutrophils",
    "neutrophil_pct",
    "lymphocytes",
    "lymphocyte_pct",
)

MISSING_MARKERS: Final = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a.",
        "nan",
        "null",
        "none",
        "-",
        "--",
        "\u2013",
        "\u2014",
        "?",
        "unknown",
        "unk",
        "missing",
        "not available",
        "not done",
        "nd",
    }
)

# Plausible values in 10^9/L. Counts above 100 x 10^9/L are rare outside
# haematological malignancy, and a WBC written in cells/µL is at least 100, so
# a WBC whose unit was left out is rejected.
# NOTE: a neutrophil or lymphocyte count under 100 cells/µL without a unit
# passes this range. The comparison with the WBC of the same row catches it
# only when the WBC is given.
COUNT_RANGES: Final[dict[str, tuple[float, float]]] = {
    "wbc": (0.1, 100.0),
    "neutrophils": (0.0, 100.0),
    "lymphocytes": (0.0, 100.0),
}
# Body temperature that a living patient can have, hypothermia to hyperpyrexia.
TEMPERATURE_RANGE_C: Final = (30.0, 45.0)
AGE_RANGE: Final = (0.0, 120.0)
# Tolerance for rounding when a differential is compared with its total.
_CONSISTENCY_SLACK: Final = 1.01

_COUNT_FEATURES: Final = frozenset(COUNT_RANGES)
_BOOLEAN_FEATURES: Final = frozenset({"exposure", "fever", "cough", "sputum"})
_PERCENT_FEATURES: Final = frozenset({"neutrophil_pct", "lymphocyte_pct"})

_TRUE: Final = frozenset({"yes", "y", "true", "t", "1", "present", "positive", "pos"})
_FALSE: Final = frozenset({"no", "n", "false", "f", "0", "absent", "negative", "neg"})
_RT_PCR: Final = {
    "positive": True,
    "pos": True,
    "1": True,
    "negative": False,
    "neg": False,
    "0": False,
}
_SPLITS: Final = {
    "train": "train",
    "training": "train",
    "tune": "tune",
    "tuning": "tune",
    "validation": "tune",
    "valid": "tune",
    "val": "tune",
    "test": "test",
    "testing": "test",
}
_SEXES: Final = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F"}

# Normalised header name (lower case, words split by single spaces) -> key.
_ALIASES: Final[dict[str, str]] = {
    **dict.fromkeys(
        ["patient id", "patientid", "patient", "patient identifier", "pid"], "patient_id"
    ),
    **dict.fromkeys(["age", "patient age", "age years"], "age"),
    **dict.fromkeys(["sex", "gender", "patient sex"], "sex"),
    **dict.fromkeys(
        ["exposure", "exposure history", "epidemiological exposure", "contact history"], "exposure"
    ),
    "fever": "fever",
    "cough": "cough",
    **dict.fromkeys(
        ["sputum", "cough with sputum", "productive cough", "sputum production"], "sputum"
    ),
    **dict.fromkeys(["temperature", "temp", "body temperature"], "temperature"),
    **dict.fromkeys(
        [
            "wbc",
            "wbc count",
            "white blood cells",
            "white blood cell",
            "white blood cell count",
            "white cell count",
            "leukocytes",
            "leukocyte count",
            "leucocytes",
            "leucocyte count",
        ],
        "wbc",
    ),
    **dict.fromkeys(
        [
            "neutrophils",
            "neutrophil",
            "neutrophil count",
            "neu",
            "anc",
            "absolute neutrophil count",
        ],
        "neutrophils",
    ),
    **dict.fromkeys(
        [
            "lymphocytes",
            "lymphocyte",
            "lymphocyte count",
            "lym",
            "lymph",
            "alc",
            "absolute lymphocyte count",
        ],
        "lymphocytes",
    ),
    **dict.fromkeys(
        ["rt pcr", "rtpcr", "rt pcr result", "pcr", "pcr result", "rt pcr truth"], "rt_pcr"
    ),
    **dict.fromkeys(["split", "set", "subset", "partition"], "split"),
    "illustrative": "illustrative",
}
_PERCENT_OF: Final = {"neutrophils": "neutrophil_pct", "lymphocytes": "lymphocyte_pct"}
_PERCENT_WORDS: Final = frozenset({"%", "pct", "percent", "percentage"})

# Normalised unit -> factor to 10^9/L.
_COUNT_UNITS: Final[dict[str, float]] = {
    "10^9/l": 1.0,
    "g/l": 1.0,
    "10^3/ul": 1.0,
    "10^3/mm3": 1.0,
    "k/ul": 1.0,
    "thousand/ul": 1.0,
    "1000/ul": 1.0,
    "/ul": 1e-3,
    "/mm3": 1e-3,
    "10^6/l": 1e-3,
    "/l": 1e-9,
}
_CELSIUS: Final = frozenset({"°c", "c", "degc", "celsius", "deg c"})
_FAHRENHEIT: Final = frozenset({"°f", "f", "degf", "fahrenheit", "deg f"})
_PERCENT_UNITS: Final = frozenset({"%", "percent", "pct"})
_AGE_UNITS: Final = frozenset({"years", "year", "y", "yr", "yrs"})


@dataclass(frozen=True)
class CellError:
    """One problem in the file, with a stable ``code`` for programs and a sentence for people."""

    code: str
    message: str
    row: int | None = None
    """Spreadsheet row number (header = 1); ``None`` for a column or the whole file."""
    column: str | None = None
    """The header as written in the file."""
    value: str | None = None

    def __str__(self) -> str:
        if self.row is not None and self.column is not None:
            return f"row {self.row}, column {self.column!r}: {self.message}"
        if self.row is not None:
            return f"row {self.row}: {self.message}"
        if self.column is not None:
            return f"column {self.column!r}: {self.message}"
        return self.message


@dataclass(frozen=True)
class ClinicalRow:
    row: int
    patient_id: str
    values: dict[str, object]
    """The twelve features by key; ``None`` where missing. Counts in 10^9/L, temperature in °C."""
    rt_pcr: bool | None
    split: str | None
    flags: dict[str, bool] = field(default_factory=dict)
    illustrative: bool = False


@dataclass
class ClinicalParseResult:
    filename: str
    rows: list[ClinicalRow] = field(default_factory=list)
    """Empty whenever :attr:`errors` is not."""
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """Header as written -> key it was read as."""
    delimiter: str = ","
    encoding: str = "utf-8"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    key: str
    """A feature, ``patient_id``, ``rt_pcr``, ``split``, ``illustrative``, ``flag:<name>`` or ``unit:<feature>``."""
    unit: str | None = None
    """Normalised unit from the header."""


def parse_clinical_csv(data: bytes, *, filename: str) -> ClinicalParseResult:
    """Parse a clinical CSV into rows keyed by patient id, or a list of every error.

    Parameters
    ----------
    data
        The file's raw bytes.
    filename
        Used in file-level messages only.

    Returns
    -------
    ClinicalParseResult
        Rows when the file has no error; otherwise no rows and every error.
    """
    result = ClinicalParseResult(filename=filename)

    text, result.encoding = _decode(data)
    if not text.strip():
        result.errors.append(
            CellError(
                "empty_file",
                f"File {filename!r} is empty; it needs a header row and one row per patient.",
            )
        )
        return result

    result.delimiter = _detect_delimiter(text)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=result.delimiter))
    header, *body = records
    columns = _map_columns(header, result)
    if not any(column.key == "patient_id" for column in columns):
        return result

    decimal_comma = result.delimiter == ";"
    id_column = next(column for column in columns if column.key == "patient_id")
    column_order = {raw: index for index, raw in enumerate(header)}
    rows = []
    seen_ids: dict[str, int] = {}
    for offset, cells in enumerate(body):
        row_number = offset + 2
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            if extra:
                result.errors.append(
                    CellError(
                        "extra_cells",
                        f"has {len(cells)} cells but the header has {len(header)} columns; extra values "
                        f"{extra[:3]!r}. Check for an unquoted delimiter inside a value.",
                        row=row_number,
                    )
                )
                continue
        error_count = len(result.errors)
        row = _parse_row(
            cells, columns, row_number=row_number, decimal_comma=decimal_comma, errors=result.errors
        )
        patient_id = _cell_text(cells, id_column).strip()
        if patient_id in seen_ids:
            result.errors.append(
                CellError(
                    "duplicate_patient_id",
                    f"patient id {patient_id!r} already appears in row {seen_ids[patient_id]}; "
                    "keep one row per patient.",
                    row=row_number,
                    column=id_column.header,
                    value=patient_id,
                )
            )
        elif not _is_missing(patient_id):
            seen_ids[patient_id] = row_number
        # Within a row, errors read left to right as the columns do.
        result.errors[error_count:] = sorted(
            result.errors[error_count:], key=lambda error: column_order.get(error.column or "", -1)
        )
        if row is not None and len(result.errors) == error_count:
            rows.append(row)

    if not rows and not result.errors:
        result.warnings.append(f"File {filename!r} has a header but no patient rows.")
    if not result.errors:
        result.rows = rows
    return result


# ---------------------------------------------------------------------------
# Encoding, delimiter and header
# ---------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _detect_delimiter(text: str) -> str:
    lines = text.splitlines()
    header_line = lines[0] if lines else ""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t").delimiter
    except csv.Error:
        sniffed = None
    # The sniffer can pick a delimiter that only appears in values (a decimal
    # comma). The header has no numbers, so its counts settle a disagreement.
    if sniffed is not None and counts.get(sniffed, 0) >= max(counts.values()):
        return sniffed
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _normalise(text: str) -> str:
    text = text.strip().lstrip("\ufeff").lower()
    text = re.sub(r"[^\w%°^/µμ]+", " ", text)
    return " ".join(text.replace("_", " ").split())


def _split_unit(header: str) -> tuple[str, str | None]:
    """Separate a header into its name and the unit in brackets or in a ``per ...`` suffix."""
    stripped = header.strip().lstrip("\ufeff")
    match = re.match(r"^(.*?)\s*[\(\[]\s*(.+?)\s*[\)\]]\s*$", stripped)
    if match:
        return match.group(1), _normalise_unit(match.group(2))
    name = _normalise(stripped)
    per = re.match(r"^(.*?)\s+per\s+(ul|µl|μl|mm3|l)$", name)
    if per:
        return per.group(1), _normalise_unit("/" + per.group(2))
    words = name.split(" ")
    if len(words) > 1 and words[-1] in _CELSIUS | _FAHRENHEIT and words[0].startswith("temp"):
        return " ".join(words[:-1]), _normalise_unit(words[-1])
    if name.endswith("%"):
        return name[:-1], "%"
    return name, None


def _normalise_unit(unit: str) -> str:
    text = unit.strip().lower()
    for old, new in (
        ("µ", "u"),
        ("μ", "u"),
        ("×", "x"),
        ("⁹", "^9"),
        ("³", "^3"),
        ("⁶", "^6"),
        ("10e", "10^"),
        ("10*", "10^"),
        ("cells", ""),
        ("cell", ""),
        ("per", "/"),
        (" ", ""),
    ):
        text = text.replace(old, new)
    text = text.lstrip("x*").replace("mm^3", "mm3")
    return text.replace("//", "/")


def _map_columns(header: list[str], result: ClinicalParseResult) -> list[_Column]:
    columns: list[_Column] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        column = _classify(index, raw, result)
        if column is None:
            continue
        if column.key in seen:
            result.errors.append(
                CellError(
                    "duplicate_column",
                    f"is read as {column.key!r}, like column {seen[column.key]!r}; keep one of them.",
                    column=raw,
                )
            )
            continue
        seen[column.key] = raw
        result.columns[raw] = column.key
        columns.append(column)

    if "patient_id" not in seen:
        result.errors.append(
            CellError(
                "missing_column",
                f"File {result.filename!r} has no 'patient_id' column; add one holding the DICOM "
                f"Patient ID of each series. Columns found: {header!r}.",
            )
        )
    for column in columns:
        if column.key.startswith("unit:") and column.key[5:] not in seen:
            result.warnings.append(
                f"Unit column {column.header!r} has no matching value column and was ignored."
            )
    return columns


def _classify(index: int, raw: str, result: ClinicalParseResult) -> _Column | None:
    normalised = _normalise(raw)
    if not normalised:
        result.warnings.append(f"Column {index + 1} has no header and was ignored.")
        return None
    if normalised.startswith("flag "):
        name = normalised[5:].replace(" ", "_")
        return _Column(index, raw, f"flag:{name}")
    unit_match = re.match(r"^(.*?)\s+unit[s]?$", normalised)
    if unit_match:
        target = _ALIASES.get(unit_match.group(1))
        if target in _COUNT_FEATURES or target == "temperature":
            return _Column(index, raw, f"unit:{target}")

    name, unit = _split_unit(raw)
    words = _normalise(name).split(" ")
    percent = unit in _PERCENT_UNITS or bool(_PERCENT_WORDS & set(words))
    base = " ".join(word for word in words if word not in _PERCENT_WORDS)
    key = _ALIASES.get(base)
    if key is None:
        result.warnings.append(f"Column {raw!r} is not a known clinical column and was ignored.")
        return None
    if percent:
        if key not in _PERCENT_OF:
            result.errors.append(
                CellError(
                    "unknown_unit",
                    f"a percentage is only defined for neutrophils and lymphocytes, not {key!r}.",
                    column=raw,
                )
            )
            return None
        return _Column(index, raw, _PERCENT_OF[key], unit="%")

    if unit is not None and not _unit_fits(key, unit):
        result.errors.append(CellError("unknown_unit", _unit_advice(key, unit), column=raw))
        return None
    return _Column(index, raw, key, unit=unit)


def _unit_fits(key: str, unit: str) -> bool:
    if key in _COUNT_FEATURES:
        return unit in _COUNT_UNITS
    if key == "temperature":
        return unit in _CELSIUS | _FAHRENHEIT
    if key == "age":
        return unit in _AGE_UNITS
    return False


def _unit_advice(key: str, unit: str) -> str:
    if key in _COUNT_FEATURES:
        return (
            f"unit {unit!r} is not a known count unit; use 10^9/L (same as G/L or 10^3/uL) "
            "or /uL (same as cells/mm3)."
        )
    if key == "temperature":
        return f"unit {unit!r} is not a temperature unit; use °C or °F."
    if key == "age":
        return f"unit {unit!r} is not supported for age; give age in years."
    return f"unit {unit!r} is not expected for {key!r}; remove it from the header."


def _cell_text(cells: list[str], column: _Column) -> str:
    # Spreadsheets may drop trailing empty cells, so a short row reads them as blank.
    return cells[column.index] if column.index < len(cells) else ""


# ---------------------------------------------------------------------------
# Rows and cells
# ---------------------------------------------------------------------------


class _CellProblem(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_row(
    cells: list[str],
    columns: list[_Column],
    *,
    row_number: int,
    decimal_comma: bool,
    errors: list[CellError],
) -> ClinicalRow | None:
    raw = {column.key: _cell_text(cells, column) for column in columns}
    by_key = {column.key: column for column in columns}
    error_count = len(errors)

    def cell(key: str, parse: Callable[[str], object]) -> object:
        column = by_key.get(key)
        if column is None:
            return None
        value = raw[key]
        try:
            return parse(value)
        except _CellProblem as problem:
            errors.append(
                CellError(
                    problem.code, problem.message, row=row_number, column=column.header, value=value
                )
            )
            return None

    patient_id = raw["patient_id"].strip()
    if _is_missing(patient_id):
        errors.append(
            CellError(
                "missing_patient_id",
                "the patient id is empty; every row needs the DICOM Patient ID of its series.",
                row=row_number,
                column=by_key["patient_id"].header,
                value=raw["patient_id"],
            )
        )

    values: dict[str, object] = dict.fromkeys(FEATURES)
    for key in FEATURES:
        column = by_key.get(key)
        if column is None:
            continue
        unit = column.unit
        if key in _COUNT_FEATURES or key == "temperature":
            errors_before = len(errors)
            unit = _row_unit(key, raw, by_key, row_number=row_number, errors=errors) or unit
            if len(errors) > errors_before:
                continue  # the value cannot be read without a valid unit
        parse = functools.partial(
            _parse_feature, key=key, unit=unit, header=column.header, decimal_comma=decimal_comma
        )
        values[key] = cell(key, parse)

    rt_pcr = cell("rt_pcr", _parse_rt_pcr)
    split = cell("split", _parse_split)
    illustrative = cell("illustrative", _parse_boolean)
    flags = {}
    for column in columns:
        if column.key.startswith("flag:"):
            flag = cell(column.key, _parse_boolean)
            if flag is not None:
                flags[column.key[5:]] = bool(flag)

    _check_consistency(values, by_key, row_number=row_number, errors=errors)
    if len(errors) > error_count:
        return None
    return ClinicalRow(
        row=row_number,
        patient_id=patient_id,
        values=values,
        rt_pcr=rt_pcr,  # type: ignore[arg-type]
        split=split,  # type: ignore[arg-type]
        flags=flags,
        illustrative=bool(illustrative),
    )


def _parse_feature(
    text: str, *, key: str, unit: str | None, header: str, decimal_comma: bool
) -> object:
    if key in _COUNT_FEATURES:
        return _parse_count(text, key=key, unit=unit, header=header, decimal_comma=decimal_comma)
    if key == "temperature":
        return _parse_temperature(text, unit=unit, decimal_comma=decimal_comma)
    if key in _PERCENT_FEATURES:
        return _parse_range(
            text, low=0.0, high=100.0, what="a percentage", decimal_comma=decimal_comma
        )
    if key == "age":
        low, high = AGE_RANGE
        return _parse_range(
            text, low=low, high=high, what="an age in years", decimal_comma=decimal_comma
        )
    if key == "sex":
        return _parse_sex(text)
    if key in _BOOLEAN_FEATURES:
        return _parse_boolean(text)
    raise KeyError(f"No parser for clinical feature {key!r}.")


def _row_unit(
    key: str,
    raw: dict[str, str],
    by_key: dict[str, _Column],
    *,
    row_number: int,
    errors: list[CellError],
) -> str | None:
    column = by_key.get(f"unit:{key}")
    if column is None or _is_missing(raw[column.key].strip()):
        return None
    unit = _normalise_unit(raw[column.key])
    if not _unit_fits(key, unit):
        errors.append(
            CellError(
                "unknown_unit",
                _unit_advice(key, unit),
                row=row_number,
                column=column.header,
                value=raw[column.key],
            )
        )
        return None
    return unit


def _is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING_MARKERS


def _parse_number(text: str, *, decimal_comma: bool) -> float | None:
    stripped = text.strip()
    if _is_missing(stripped):
        return None
    if "," in stripped:
        if not decimal_comma or "." in stripped or stripped.count(",") > 1:
            advice = (
                "use a point as decimal separator and no thousands separator"
                if not decimal_comma
                else "use one decimal comma and no thousands separator"
            )
            raise _CellProblem("invalid_number", f"{text!r} is not a number; {advice}.")
        stripped = stripped.replace(",", ".")
    try:
        number = float(stripped)
    except ValueError:
        raise _CellProblem(
            "invalid_number",
            f"{text!r} is not a number. Put units in the header, not in the cell, and mark a missing value with NA.",
        ) from None
    if not math.isfinite(number):
        raise _CellProblem("invalid_number", f"{text!r} is not a finite number.")
    return number


def _parse_range(
    text: str, *, low: float, high: float, what: str, decimal_comma: bool
) -> float | None:
    number = _parse_number(text, decimal_comma=decimal_comma)
    if number is not None and not low <= number <= high:
        raise _CellProblem("out_of_range", f"{text!r} is not {what} (expected {low:g}–{high:g}).")
    return number


def _parse_count(
    text: str, *, key: str, unit: str | None, header: str, decimal_comma: bool
) -> float | None:
    number = _parse_number(text, decimal_comma=decimal_comma)
    if number is None:
        return None
    low, high = COUNT_RANGES[key]
    if unit is None:
        if not low <= number <= high:
            raise _CellProblem(
                "count_without_unit",
                f"{text!r} has no unit and is not a plausible count in 10^9/L (expected {low:g}–{high:g}). "
                f"Add the unit to the header, e.g. '{_name_only(header)} (/uL)', or convert the value.",
            )
        return number
    converted = number * _COUNT_UNITS[unit]
    if not low <= converted <= high:
        raise _CellProblem(
            "out_of_range",
            f"{text!r} in {unit} is {converted:g} x 10^9/L, outside the plausible {low:g}–{high:g}. "
            "Check the value and the unit.",
        )
    return round(converted, 6)


def _parse_temperature(text: str, *, unit: str | None, decimal_comma: bool) -> float | None:
    number = _parse_number(text, decimal_comma=decimal_comma)
    if number is None:
        return None
    fahrenheit = unit in _FAHRENHEIT
    celsius = (number - 32) * 5 / 9 if fahrenheit else number
    low, high = TEMPERATURE_RANGE_C
    if low <= celsius <= high:
        return round(celsius, 2)
    if not fahrenheit and low * 9 / 5 + 32 <= number <= high * 9 / 5 + 32:
        raise _CellProblem(
            "out_of_range",
            f"{text!r} is not a body temperature in °C (expected {low:g}–{high:g}); it looks like °F. "
            "Write the unit in the header, e.g. 'temperature (°F)', or convert the value.",
        )
    scale = "°F" if fahrenheit else "°C"
    raise _CellProblem(
        "out_of_range",
        f"{text!r} {scale} is not a body temperature (expected {low:g}–{high:g} °C).",
    )


def _parse_boolean(text: str) -> bool | None:
    value = text.strip().lower()
    if value in MISSING_MARKERS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _CellProblem(
        "invalid_boolean",
        f"{text!r} is not yes/no; use yes, no, 1, 0, true or false (or NA if unknown).",
    )


def _parse_sex(text: str) -> str | None:
    value = text.strip().lower()
    if value in MISSING_MARKERS:
        return None
    if value in _SEXES:
        return _SEXES[value]
    raise _CellProblem("invalid_sex", f"{text!r} is not a sex; use M or F (or NA if unknown).")


def _parse_rt_pcr(text: str) -> bool | None:
    value = text.strip().lower()
    # "-" is not read as missing here, because in a result column it may mean negative.
    if value in ("", "na", "n/a", "unknown"):
        return None
    if value in _RT_PCR:
        return _RT_PCR[value]
    raise _CellProblem(
        "invalid_truth",
        f"{text!r} is not an RT-PCR result; use positive, negative, pos, neg, 1 or 0.",
    )


def _parse_split(text: str) -> str | None:
    value = text.strip().lower()
    if value in MISSING_MARKERS:
        return None
    if value in _SPLITS:
        return _SPLITS[value]
    raise _CellProblem("invalid_split", f"{text!r} is not a split; use train, tune or test.")


def _check_consistency(
    values: dict[str, object],
    by_key: dict[str, _Column],
    *,
    row_number: int,
    errors: list[CellError],
) -> None:
    wbc = values.get("wbc")
    for part in ("neutrophils", "lymphocytes"):
        count = values.get(part)
        if isinstance(wbc, float) and isinstance(count, float) and count > wbc * _CONSISTENCY_SLACK:
            errors.append(
                CellError(
                    "inconsistent",
                    f"{count:g} x 10^9/L is more than the WBC of {wbc:g} x 10^9/L; check both cells and their units.",
                    row=row_number,
                    column=by_key[part].header,
                    value=str(count),
                )
            )
    neutrophil_pct, lymphocyte_pct = values.get("neutrophil_pct"), values.get("lymphocyte_pct")
    if (
        isinstance(neutrophil_pct, float)
        and isinstance(lymphocyte_pct, float)
        and neutrophil_pct + lymphocyte_pct > 100 * _CONSISTENCY_SLACK
    ):
        errors.append(
            CellError(
                "inconsistent",
                f"neutrophils {neutrophil_pct:g}% and lymphocytes {lymphocyte_pct:g}% add up to more than 100%.",
                row=row_number,
            )
        )


def _name_only(header: str) -> str:
    return re.sub(r"\s*[\(\[].*$", "", header.strip()) or header.strip()
