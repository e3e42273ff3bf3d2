"""Ground truth from a small CSV: one row per case, ``public_id`` or ``patient_id``, and ``rt_pcr``.

``patient_id`` is the source DICOM PatientID, matched through the same keyed
hash the importer stores, so the file may use either identifier. The whole
file is checked before anything is stored: a file with any error stores nothing.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction

from apps.cases.models import Case, GroundTruth, source_key
from apps.studies.models import ReaderStudy

RT_PCR_VALUES = {
    "positive": True, "pos": True, "1": True, "yes": True, "true": True,
    "negative": False, "neg": False, "0": False, "no": False, "false": False,
}


@dataclass
class TruthUpload:
    truths: dict[int, bool] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class NotTextError(ValueError):
    """Bytes that decode to no text a CSV can contain."""


def _decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252.

    Raises NotTextError when no encoding fits or the text has control characters
    other than tab and line breaks, as binary files and UTF-16 without a BOM do.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(char) == "Cc" and char not in "\t\r\n" for char in text):
            continue
        return text
    raise NotTextError(f"{len(data)} bytes decode to no CSV text in UTF-8, UTF-16 or Windows-1252")


def parse_truth_csv(data: bytes, *, study: ReaderStudy) -> TruthUpload:
    """Match each row to a case of the study and read its RT-PCR result; collect every error."""
    result = TruthUpload()
    try:
        text = _decode(data)
    except NotTextError:
        result.errors.append(
            "The file is not a text CSV: it is not UTF-8, UTF-16 with a byte order mark or Windows-1252 text. "
            "Save it as CSV (UTF-8) and upload it again."
        )
        return result
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line:
        result.errors.append("The file is empty; it needs a header row with public_id or patient_id, and rt_pcr.")
        return result
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        # newline="" lets the csv module handle CR, LF and CRLF line endings and line breaks inside quotes.
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        result.errors.append(f"The file is not a valid CSV ({error}); save it as CSV and upload it again.")
        return result
    header = [name.strip().lower() for name in rows[0]]
    id_column = None
    if "public_id" in header:
        id_column = "public_id"
    elif "patient_id" in header:
        id_column = "patient_id"
    if id_column is None or "rt_pcr" not in header:
        result.errors.append(
            f"The header {rows[0]!r} lacks a column; it needs public_id or patient_id, and rt_pcr."
        )
        return result
    id_index, truth_index = header.index(id_column), header.index("rt_pcr")

    study_cases = Case.objects.filter(pk__in=_study_case_ids(study))
    if id_column == "public_id":
        lookup = {case.public_id: case.pk for case in study_cases}
    else:
        lookup = {case.patient_key: case.pk for case in study_cases}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(id_index, truth_index):
            result.errors.append(f"Row {line} has {len(row)} cells; it needs {id_column} and rt_pcr.")
            continue
        identifier = row[id_index].strip()
        key = identifier if id_column == "public_id" else source_key(identifier)
        case_id = lookup.get(key)
        if case_id is None:
            # The patient_id itself is not repeated: it may identify a patient.
            shown = identifier if id_column == "public_id" else "the patient_id"
            result.errors.append(f"Row {line}: {shown} matches no case of this study; check the identifier.")
            continue
        value = row[truth_index].strip().lower()
        if value not in RT_PCR_VALUES:
            result.errors.append(
                f"Row {line}: rt_pcr {row[truth_index]!r} is not a result; use positive, negative, pos, neg, 1 or 0."
            )
            continue
        if case_id in result.truths and result.truths[case_id] != RT_PCR_VALUES[value]:
            result.errors.append(f"Row {line} gives a second, different result for the same case; keep one row.")
            continue
        result.truths[case_id] = RT_PCR_VALUES[value]
    return result


def _study_case_ids(study: ReaderStudy) -> set[int]:
    return set(study.cases.values_list("pk", flat=True)) | set(study.training_cases.values_list("pk", flat=True))


@transaction.atomic
def store_truths(truths: dict[int, bool], *, source: str) -> int:
    """Store the results, one GroundTruth per case; return how many rows changed or were created."""
    changed = 0
    for case_id, positive in truths.items():
        truth = GroundTruth.objects.filter(case_id=case_id).first()
        if truth is None:
            GroundTruth.objects.create(case_id=case_id, positive=positive, source=source)
            changed += 1
        elif truth.positive != positive:
            # save() rather than update(), so that the audit log records the old and new value.
            truth.positive = positive
            truth.source = source
            truth.save()
            changed += 1
    return changed
