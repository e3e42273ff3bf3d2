"""CSV exports of a study: every read version, and the audit log of the study and its cases."""
from __future__ import annotations

import csv
import io

from django.db.models import Q

from apps.audit.export import events_csv
from apps.audit.models import AuditEvent
from apps.studies.models import Read, ReaderStudy

READ_COLUMNS = (
    "read_id", "reader", "arm", "case", "stage", "final", "training", "call", "confidence", "rating", "score",
    "version", "current", "supersedes", "correction_reason", "opened_at", "submitted_at", "reading_seconds",
    "active_seconds",
)


def reads_csv(study: ReaderStudy) -> str:
    """Write every read of the study as CSV, superseded versions included but not the truth."""
    reads = (
        Read.objects.filter(assignment__study=study)
        .select_related("assignment__reader", "assignment__arm", "case")
        .order_by("assignment__reader__username", "assignment__arm__position", "case__public_id", "stage", "version")
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(READ_COLUMNS)
    for read in reads:
        writer.writerow([
            read.pk, read.assignment.reader.get_username(), read.assignment.arm.name, read.case.public_id,
            read.stage, int(read.is_final), int(read.is_training), read.call,
            "" if read.confidence is None else read.confidence, "" if read.rating is None else read.rating,
            read.score, read.version, int(read.is_current), read.supersedes_id or "", read.correction_reason,
            read.opened_at.isoformat(), read.submitted_at.isoformat(), f"{read.reading_seconds:.3f}",
            "" if read.active_seconds is None else read.active_seconds,
        ])
    return buffer.getvalue()


def study_events(study: ReaderStudy):
    case_ids = list(study.cases.values_list("pk", flat=True)) + list(study.training_cases.values_list("pk", flat=True))
    return AuditEvent.objects.filter(Q(study_id=study.pk) | Q(case_id__in=case_ids)).select_related(None)


def audit_csv(study: ReaderStudy) -> str:
    return events_csv(study_events(study))
