"""Writing audit events, from signal handlers and from services that change rows in bulk."""
from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.http import HttpRequest

from apps.audit.context import current_request
from apps.audit.models import AuditEvent


def snapshot(instance: models.Model) -> dict[str, object]:
    """Return the concrete field values of a row as JSON-safe values."""
    values = {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _study_and_case(instance: models.Model) -> tuple[int | None, int | None]:
    label = instance._meta.label_lower
    if label == "studies.readerstudy":
        return instance.pk, None
    if label in {"studies.arm", "studies.assignment"}:
        return instance.study_id, None
    if label == "studies.read":
        return instance.assignment.study_id, instance.case_id
    if label == "cases.case":
        return None, instance.pk
    if hasattr(instance, "case_id"):
        return None, instance.case_id
    return None, None


def client_address(request: HttpRequest) -> str | None:
    # NOTE: behind a reverse proxy REMOTE_ADDR is the proxy's address. Trusting
    # X-Forwarded-For needs a configured list of proxies, and this project has none yet.
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    instance: models.Model,
    *,
    changes: dict[str, object] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event for ``instance``; the actor and address come from the current request."""
    request = request or current_request()
    user = getattr(request, "user", None) if request is not None else None
    actor = user if user is not None and user.is_authenticated else None
    study_id, case_id = _study_and_case(instance)
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        ip_address=client_address(request) if request is not None else None,
        action=action,
        model=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes or {},
        study_id=study_id,
        case_id=case_id,
    )
