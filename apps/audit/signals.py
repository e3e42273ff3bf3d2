"""Signal handlers that log each save, delete and relation change of the audited models.

NOTE: QuerySet.update(), bulk_create() and bulk_update() send no signals, so code that
changes audited rows that way records its own event (as services.correct_read does).
"""
from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from apps.audit.log import record, snapshot

AUDITED_MODELS = (
    "studies.ReaderStudy",
    "studies.Arm",
    "studies.Assignment",
    "studies.Read",
    "cases.Case",
    "cases.ClinicalRecord",
    "cases.GroundTruth",
)
AUDITED_RELATIONS = (("studies.ReaderStudy", "cases"), ("studies.ReaderStudy", "training_cases"),
                     ("studies.ReaderStudy", "coordinators"))


def _remember_old_values(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_old = None
        return
    old = sender.objects.filter(pk=instance.pk).first()
    instance._audit_old = snapshot(old) if old is not None else None


def _log_save(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    new = snapshot(instance)
    old = getattr(instance, "_audit_old", None)
    if created or old is None:
        record("create", instance, changes=new)
        return
    changes = {name: [old.get(name), value] for name, value in new.items() if old.get(name) != value}
    if changes:
        record("update", instance, changes=changes)


def _log_delete(sender, instance, **kwargs):
    record("delete", instance, changes=snapshot(instance))


def _relation_handler(field_name: str):
    def handler(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action not in {"post_add", "post_remove", "post_clear"} or reverse:
            return
        verb = "add" if action == "post_add" else "remove"
        record(verb, instance, changes={field_name: sorted(pk_set) if pk_set else "all"})

    return handler


_relation_handlers: list[Callable[..., None]] = []


def connect() -> None:
    for label in AUDITED_MODELS:
        model = apps.get_model(label)
        pre_save.connect(_remember_old_values, sender=model, dispatch_uid=f"audit-pre-{label}")
        post_save.connect(_log_save, sender=model, dispatch_uid=f"audit-save-{label}")
        post_delete.connect(_log_delete, sender=model, dispatch_uid=f"audit-delete-{label}")
    for label, field_name in AUDITED_RELATIONS:
        through = getattr(apps.get_model(label), field_name).through
        handler = _relation_handler(field_name)
        _relation_handlers.append(handler)  # m2m_changed keeps only weak references to handlers.
        m2m_changed.connect(handler, sender=through, dispatch_uid=f"audit-m2m-{label}-{field_name}")
