"""The audit log: who, what, when and from where, for every change; append-only; exported as CSV."""
from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from apps.audit.models import AppendOnlyError, AuditEvent
from apps.cases.models import GroundTruth
from apps.studies.models import Assignment, Read, ReaderStudy

pytestmark = pytest.mark.django_db

READER_ADDRESS = "203.0.113.7"
COORDINATOR_ADDRESS = "198.51.100.4"


def _events(model: str, action: str | None = None):
    events = AuditEvent.objects.filter(model=model)
    return events.filter(action=action) if action else events


def test_read_submission_is_logged_with_user_and_address(client, make_study, reader):
    study = make_study([reader])
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.get(pk=assignment.case_order[0])
    client.force_login(reader)

    client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                {"call": "positive", "confidence": "80"}, REMOTE_ADDR=READER_ADDRESS)

    event = _events("studies.read", "create").get()
    read = Read.objects.get()
    assert event.actor == reader
    assert event.actor_name == reader.username
    assert event.ip_address == READER_ADDRESS
    assert event.object_id == str(read.pk)
    assert event.study_id == study.pk
    assert event.case_id == case.pk
    assert event.changes["call"] == "positive"
    assert event.changes["confidence"] == 80


def test_correction_logs_retired_and_new_version(client, make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.navigation = ReaderStudy.Navigation.FREE
    study.save()
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.get(pk=assignment.case_order[0])
    client.force_login(reader)
    client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                {"call": "positive", "confidence": "80"}, REMOTE_ADDR=READER_ADDRESS)

    client.post(reverse("studies:correct_read", args=[assignment.pk, case.public_id]),
                {"call": "negative", "confidence": "30", "reason": "Second look at the bases."},
                REMOTE_ADDR=READER_ADDRESS)

    first, second = Read.objects.order_by("version")
    retired = _events("studies.read", "update").get()
    created = _events("studies.read", "create").order_by("pk").last()
    assert retired.object_id == str(first.pk)
    assert retired.changes == {"is_current": [True, False]}
    assert retired.ip_address == READER_ADDRESS
    assert created.object_id == str(second.pk)
    assert created.changes["correction_reason"] == "Second look at the bases."


def test_study_and_truth_changes_are_logged(client, coordinator, make_study):
    study = make_study([])
    truth = GroundTruth.objects.filter(case__studies=study).first()
    client.force_login(coordinator)

    client.post(reverse("design:detail", args=[study.pk]),
                {"title": "Renamed", "instructions": "Read slowly."}, REMOTE_ADDR=COORDINATOR_ADDRESS)
    client.post(reverse("design:status", args=[study.pk]), {"status": "closed"}, REMOTE_ADDR=COORDINATOR_ADDRESS)
    truth.positive = not truth.positive
    truth.save()

    updates = list(_events("studies.readerstudy", "update").order_by("pk"))
    assert updates[0].changes["title"][1] == "Renamed"
    assert updates[0].actor == coordinator
    assert updates[0].ip_address == COORDINATOR_ADDRESS
    assert updates[-1].changes["status"] == ["open", "closed"]
    truth_event = _events("cases.groundtruth", "update").get()
    assert truth_event.changes["positive"] == [not truth.positive, truth.positive]
    assert truth_event.case_id == truth.case_id
    assert truth_event.actor is None  # changed outside a request


def test_case_membership_changes_are_logged(coordinator, make_study):
    study = make_study([], truths=[True, False])
    removed = study.cases.first()

    study.cases.remove(removed)

    event = _events("studies.readerstudy", "remove").get()
    assert event.changes == {"cases": [removed.pk]}
    assert event.study_id == study.pk


def test_events_cannot_be_changed_or_deleted(make_study):
    make_study([])
    event = AuditEvent.objects.first()
    count = AuditEvent.objects.count()

    event.action = "delete"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == count
    assert AuditEvent.objects.get(pk=event.pk).action == "create"


def test_admin_shows_log_read_only(django_user_model, make_study):
    make_study([])
    superuser = django_user_model.objects.create_superuser("root", password="pw-root")
    request = RequestFactory().get("/admin/audit/auditevent/")
    request.user = superuser
    admin = site._registry[AuditEvent]
    event = AuditEvent.objects.first()

    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, event)
    assert not admin.has_delete_permission(request, event)
    assert admin.get_actions(request) == {}


def test_admin_change_page_cannot_edit(client, django_user_model, make_study):
    make_study([])
    superuser = django_user_model.objects.create_superuser("root", password="pw-root")
    event = AuditEvent.objects.first()
    client.force_login(superuser)

    listing = client.get(reverse("admin:audit_auditevent_changelist"))
    post = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "delete"})
    delete = client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert listing.status_code == 200
    assert post.status_code == 403
    assert delete.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "create"


def test_coordinator_exports_study_log_as_csv(client, coordinator, make_study, reader, other_reader):
    study = make_study([reader])
    other = make_study([other_reader], seed=99)
    client.force_login(coordinator)

    response = client.get(reverse("design:audit_export", args=[study.pk]), REMOTE_ADDR=COORDINATOR_ADDRESS)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows
    study_rows = [row for row in rows if row["study_id"]]
    assert {row["study_id"] for row in study_rows} == {str(study.pk)}
    other_case_ids = {str(pk) for pk in other.cases.values_list("pk", flat=True)}
    assert not any(row["case_id"] in other_case_ids for row in rows)
    assert any(row["model"] == "studies.assignment" for row in rows)
    assert any(row["model"] == "cases.groundtruth" for row in rows)
    export_event = _events("studies.readerstudy", "export").get()
    assert export_event.ip_address == COORDINATOR_ADDRESS
    assert export_event.changes == {"export": "audit.csv"}


def test_audit_export_is_for_the_study_coordinators(client, reader, reviewer, make_study, django_user_model):
    from apps.accounts.roles import Role
    from tests.conftest import make_user

    study = make_study([reader])
    stranger = make_user(django_user_model, "coord-2", Role.COORDINATOR)
    url = reverse("design:audit_export", args=[study.pk])

    for user, expected in ((reader, 403), (reviewer, 403), (stranger, 404)):
        client.force_login(user)
        assert client.get(url).status_code == expected, user.username
