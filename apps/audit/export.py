"""The audit log as CSV."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from apps.audit.models import AuditEvent

COLUMNS = ("time", "user", "ip_address", "action", "model", "object_id", "object", "study_id", "case_id", "changes")


def events_csv(events: Iterable[AuditEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events:
        writer.writerow([
            event.created_at.isoformat(), event.actor_name, event.ip_address or "", event.action, event.model,
            event.object_id, event.object_repr, event.study_id or "", event.case_id or "",
            json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
        ])
    return buffer.getvalue()
