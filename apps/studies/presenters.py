"""Reader-facing presentation of a case, built from an allow-list of fields."""
from __future__ import annotations

from apps.cases.models import Case, ClinicalRecord


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "not recorded"
    return "yes" if value else "no"


def _number(value: float | None, unit: str, digits: int = 1) -> str:
    if value is None:
        return "not recorded"
    return f"{value:.{digits}f} {unit}".strip()


def clinical_rows(case: Case) -> dict[str, object] | None:
    """Return the clinical panel of a case: labelled values, and whether they are illustrative."""
    try:
        record: ClinicalRecord = case.clinical
    except ClinicalRecord.DoesNotExist:
        return None
    sex = {"M": "male", "F": "female"}.get(record.sex, "not recorded")
    rows = [
        ("Age", _number(record.age, "years", 0)),
        ("Sex", sex),
        ("Exposure history", _yes_no(record.exposure)),
        ("Fever", _yes_no(record.fever)),
        ("Cough", _yes_no(record.cough)),
        ("Cough with sputum", _yes_no(record.sputum)),
        ("Temperature", _number(record.temperature, "°C")),
        ("White blood cells", _number(record.wbc, "×10⁹/L")),
        ("Neutrophils (count)", _number(record.neutrophils, "×10⁹/L")),
        ("Neutrophils (%)", _number(record.neutrophil_pct, "%")),
        ("Lymphocytes (count)", _number(record.lymphocytes, "×10⁹/L")),
        ("Lymphocytes (%)", _number(record.lymphocyte_pct, "%")),
    ]
    return {"rows": rows, "illustrative": record.illustrative}
