"""Turn a folder or zip of DICOM, plus an optional clinical CSV, into stored cases.

Each accepted series becomes one case inside its own transaction, so a case is
stored whole or not at all. Slice files written before a failure are deleted.
The report lists every case and every file with its fate, and it is what the
import page and the ``import_cases`` command show.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from apps.cases.clinical_csv import parse_clinical_csv
from apps.cases.models import Case, ClinicalRecord, GroundTruth, new_public_id, source_key
from apps.imaging.dicom_import import AcceptedSeries, ArchiveError, iter_source_files, scan_files
from apps.imaging.models import Instance, Series

logger = logging.getLogger(__name__)


class ImportFailed(Exception):
    """Nothing was imported. ``report`` gives the reasons, for the import page."""

    def __init__(self, message: str, report: dict | None = None) -> None:
        super().__init__(message)
        self.report = report or {"summary": message}


def _clinical_rows(clinical_csv: str | Path | None) -> dict[str, object]:
    """Parse the CSV into rows keyed by the hashed patient id, or raise with every bad cell."""
    if clinical_csv is None:
        return {}
    path = Path(clinical_csv)
    result = parse_clinical_csv(path.read_bytes(), filename=path.name)
    if result.errors:
        messages = [str(error) for error in result.errors]
        raise ImportFailed(
            f"The clinical CSV has {len(messages)} error(s), so nothing was imported. "
            "Fix the cells listed and import again.",
            report={
                "summary": f"Clinical CSV rejected: {len(messages)} error(s); nothing was imported.",
                "clinical_errors": messages,
            },
        )
    return {source_key(row.patient_id): row for row in result.rows}


def import_source(
    *,
    source: str | Path,
    clinical_csv: str | Path | None = None,
    study=None,
) -> dict:
    """Import every CT series under ``source`` and return the import report.

    Raises
    ------
    ImportFailed
        When the source cannot be read at all or the clinical CSV has errors;
        nothing is stored then.
    """
    if study is not None and study.status != study.Status.DRAFT:
        raise ImportFailed(
            f"The study '{study.title}' is {study.status}, so no cases can be added to it. "
            "Import without a study, or into a draft study."
        )
    clinical_by_key = _clinical_rows(clinical_csv)
    try:
        files = iter_source_files(source)
    except (ArchiveError, FileNotFoundError) as error:
        raise ImportFailed(str(error)) from error
    if not files:
        raise ImportFailed(f"No files found in {Path(source).name!r}. Check the folder or zip.")

    public_ids: dict[str | None, str] = {}

    def opaque_id_for(patient_id: str | None) -> str:
        # One new public id per accepted series; ``scan_files`` calls this once per series.
        public_id = new_public_id()
        while Case.objects.filter(public_id=public_id).exists():
            public_id = new_public_id()
        public_ids[patient_id] = public_id
        return public_id

    scan = scan_files(files, opaque_id_for=opaque_id_for)

    cases_report = []
    file_fates = {item.name: {"name": item.name, "fate": item.fate.value, "reason": item.reason} for item in scan.files}
    for rejected in scan.rejected:
        cases_report.append(
            {"series": _short_uid(rejected.source_series_uid), "status": "rejected", "reasons": list(rejected.reasons),
             "public_id": None, "slices": 0}
        )

    matched_keys = set()
    imported_case_ids: list[int] = []
    for series in scan.accepted:
        entry = {"series": _short_uid(series.source_series_uid), "public_id": None, "slices": series.slice_count,
                 "reasons": []}
        series_key = source_key(series.source_series_uid)
        existing = Series.objects.filter(series_key=series_key).select_related("case").first()
        if existing is not None:
            entry.update(status="skipped", public_id=existing.case.public_id,
                         reasons=[f"already imported as case {existing.case.public_id}"])
            _mark_files(file_fates, series, "skipped", f"series already imported as {existing.case.public_id}")
            cases_report.append(entry)
            continue

        patient_key = source_key(series.source_patient_id or "")
        row = clinical_by_key.get(patient_key)
        if row is not None:
            matched_keys.add(patient_key)
        elif clinical_csv is not None:
            entry["reasons"].append("no clinical CSV row for this patient; clinical data and truth left empty")
        try:
            case = _store_case(series, patient_key=patient_key, series_key=series_key, clinical=row, study=study)
        except Exception as error:
            logger.exception("storing series %s failed", _short_uid(series.source_series_uid))
            entry.update(status="failed", reasons=[f"storing failed ({type(error).__name__}); nothing of it was kept"])
            _mark_files(file_fates, series, "rejected", "storing the case failed")
        else:
            entry.update(status="imported", public_id=case.public_id)
            imported_case_ids.append(case.pk)
            logger.info("imported case %s with %d slices", case.public_id, series.slice_count)
        cases_report.append(entry)

    predictions_note = _queue_predictions(imported_case_ids)

    unmatched_rows = len(clinical_by_key) - len(matched_keys)
    imported = sum(1 for entry in cases_report if entry["status"] == "imported")
    rejected = sum(1 for entry in cases_report if entry["status"] in ("rejected", "failed"))
    skipped = sum(1 for entry in cases_report if entry["status"] == "skipped")
    summary = f"{imported} case(s) imported, {rejected} rejected, {skipped} already present; {len(files)} file(s) read."
    if unmatched_rows:
        summary += f" {unmatched_rows} clinical CSV row(s) matched no series."
    if predictions_note:
        summary += f" {predictions_note}"
    return {
        "summary": summary,
        "imported": imported,
        "rejected": rejected,
        "skipped": skipped,
        "cases": cases_report,
        "files": sorted(file_fates.values(), key=lambda item: item["name"]),
        "unmatched_clinical_rows": unmatched_rows,
    }


def _queue_predictions(case_ids: list[int]) -> str:
    """Queue the active model's predictions for new cases; return a note for the summary."""
    if not case_ids:
        return ""
    from apps.inference.services import queue_predictions_for_cases

    try:
        queued = queue_predictions_for_cases(case_ids)
    except Exception as error:
        # The cases are stored either way; a coordinator can run the model later from its page.
        logger.exception("queueing predictions for %d imported case(s) failed", len(case_ids))
        return f"AI predictions were not queued ({type(error).__name__}); run the model from the Models page."
    return f"AI predictions queued for {len(queued)} case(s)." if queued else ""


def _short_uid(uid: str) -> str:
    # Enough of the source UID for a coordinator to recognise the series; the full UID is not stored.
    return f"…{uid[-12:]}" if len(uid) > 12 else uid


def _mark_files(file_fates: dict, series: AcceptedSeries, fate: str, reason: str) -> None:
    for item in series.slices:
        file_fates[item.source_name] = {"name": item.source_name, "fate": fate, "reason": reason}


def _store_case(series: AcceptedSeries, *, patient_key: str, series_key: str, clinical, study) -> Case:
    written: list[str] = []
    try:
        with transaction.atomic():
            case = Case.objects.create(
                public_id=series.opaque_id,
                patient_key=patient_key,
                patient_age=series.patient_age,
                patient_sex=series.patient_sex or "",
            )
            geometry = series.geometry
            stored = Series.objects.create(
                case=case,
                series_key=series_key,
                study_instance_uid=series.study_instance_uid,
                series_instance_uid=series.series_instance_uid,
                modality=series.modality,
                rows=geometry.rows,
                columns=geometry.columns,
                pixel_spacing_row=geometry.pixel_spacing[0],
                pixel_spacing_column=geometry.pixel_spacing[1],
                slice_spacing=geometry.slice_spacing,
                orientation=list(geometry.orientation),
                slice_count=series.slice_count,
            )
            instances = []
            for index, item in enumerate(series.slices):
                name = default_storage.save(f"dicom/{case.public_id}/{index:04d}.dcm", ContentFile(item.data))
                written.append(name)
                instances.append(
                    Instance(series=stored, index=index, sop_instance_uid=item.sop_instance_uid,
                             position=item.position, file=name)
                )
            Instance.objects.bulk_create(instances)
            if clinical is not None:
                _store_clinical(case, clinical)
            if study is not None:
                study.cases.add(case)
    except Exception:
        _delete_files(written, default_storage.delete)
        raise
    return case


def _store_clinical(case: Case, row) -> None:
    values = {name: row.values.get(name) for name in ClinicalRecord.FEATURES}
    values["sex"] = values["sex"] or ""
    ClinicalRecord.objects.create(case=case, illustrative=bool(row.illustrative), **values)
    if row.rt_pcr is not None:
        GroundTruth.objects.create(case=case, positive=row.rt_pcr, source="clinical CSV")
    if row.split:
        case.split = row.split
    if row.flags:
        case.flags = dict(row.flags)
    case.save(update_fields=["split", "flags"])


def _delete_files(names: list[str], delete: Callable[[str], None]) -> None:
    for name in names:
        try:
            delete(name)
        except OSError:
            logger.warning("could not delete %s after a failed import", name)
