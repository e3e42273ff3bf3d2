"""Study design pages: create, arms, cases, readers, status, copy, ground truth CSV, exports."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.cases.models import Case, GroundTruth, source_key
from apps.studies.models import Arm, Assignment, Read, ReaderStudy

pytestmark = pytest.mark.django_db


def _study_settings(**overrides):
    data = {"title": "Chest CT, two arms", "instructions": "Call each case.", "answer_scale": "call_confidence",
            "navigation": "forward", "edit_rule": "correctable", "washout_days": "28", "seed": ""}
    data.update(overrides)
    return data


def _cases(count: int) -> list[Case]:
    return [Case.objects.create(patient_key=f"design-{index}") for index in range(count)]


def test_coordinator_designs_and_opens_a_study(client, coordinator, reader, other_reader):
    client.force_login(coordinator)
    cases = _cases(6)

    created = client.post(reverse("design:create"), _study_settings())
    study = ReaderStudy.objects.get()
    detail = reverse("design:detail", args=[study.pk])
    client.post(reverse("design:arm_add", args=[study.pk]), {"name": "Unaided", "position": "0", "shows_ct": "on",
                                                             "shows_clinical": "on"})
    client.post(reverse("design:arm_add", args=[study.pk]),
                {"name": "AI-aided", "position": "1", "shows_ct": "on", "shows_clinical": "on",
                 "shows_ai_probability": "on", "shows_heatmap": "on", "ai_after_unaided_call": "on"})
    client.post(reverse("design:assign", args=[study.pk]),
                {"reader": reader.pk})
    client.post(reverse("design:assign", args=[study.pk]), {"reader": other_reader.pk})
    client.post(reverse("design:cases", args=[study.pk]),
                {"cases": [case.pk for case in cases[1:]], "training_cases": [cases[0].pk]})
    opened = client.post(reverse("design:status", args=[study.pk]), {"status": "open"})
    page = client.get(detail)

    study.refresh_from_db()
    assert created.status_code == 302
    assert created["Location"] == detail
    assert study.status == "open"
    assert study.seed > 0
    assert study.coordinators.filter(pk=coordinator.pk).exists()
    assert (study.washout_days, study.edit_rule) == (28, "correctable")
    assert list(study.arms.values_list("name", flat=True)) == ["Unaided", "AI-aided"]
    assert study.arms.get(name="AI-aided").is_sequential
    assert opened.status_code == 302
    assert page.status_code == 200
    assert set(study.cases.all()) == set(cases)
    assert list(study.training_cases.all()) == [cases[0]]
    assignments = list(Assignment.objects.filter(study=study))
    assert len(assignments) == 4
    expected = sorted(case.pk for case in cases[1:])
    for assignment in assignments:
        assert sorted(assignment.case_order) == expected
        assert assignment.training_order == [cases[0].pk]
    orders = {tuple(a.case_order) for a in assignments}
    assert len(orders) == 4


def test_reopening_a_closed_study_is_rejected(client, coordinator, make_study):
    study = make_study([], status="closed")
    client.force_login(coordinator)

    response = client.post(reverse("design:status", args=[study.pk]), {"status": "open"})

    assert response.status_code == 409
    assert "is closed and cannot become open" in response.content.decode()
    study.refresh_from_db()
    assert study.status == "closed"


def test_draft_cannot_close(client, coordinator):
    client.force_login(coordinator)
    client.post(reverse("design:create"), _study_settings())
    study = ReaderStudy.objects.get()
    detail = reverse("design:detail", args=[study.pk])

    page = client.get(detail).content.decode()
    response = client.post(reverse("design:status", args=[study.pk]), {"status": "closed"})

    assert 'id="status-open"' in page
    assert 'id="status-closed"' not in page
    assert response.status_code == 409
    assert "is draft and cannot become closed; the order is draft, open, closed." in response.content.decode()
    study.refresh_from_db()
    assert study.status == "draft"
    assert ReaderStudy.TRANSITIONS == {"draft": {"open"}, "open": {"closed"}, "closed": set()}


def test_washout_days_over_maximum_rejected(client, coordinator):
    client.force_login(coordinator)

    huge = client.post(reverse("design:create"), _study_settings(washout_days="5000000"))
    over = client.post(reverse("design:create"), _study_settings(washout_days="3651"))
    at_max = client.post(reverse("design:create"), _study_settings(washout_days="3650"))

    assert huge.status_code == 400
    assert "The washout may be at most 3650 days (ten years); enter a shorter washout." in huge.content.decode()
    assert over.status_code == 400
    assert at_max.status_code == 302
    assert list(ReaderStudy.objects.values_list("washout_days", flat=True)) == [3650]


def test_opening_needs_cases_and_arms(client, coordinator):
    client.force_login(coordinator)
    client.post(reverse("design:create"), _study_settings())
    study = ReaderStudy.objects.get()

    response = client.post(reverse("design:status", args=[study.pk]), {"status": "open"})

    assert response.status_code == 409
    assert "The study has no cases; add cases before opening it." in response.content.decode()


def test_rules_are_fixed_once_open(client, coordinator, make_study):
    study = make_study([])
    client.force_login(coordinator)

    cases = client.post(reverse("design:cases", args=[study.pk]), {"cases": []})
    arm = client.post(reverse("design:arm_add", args=[study.pk]), {"name": "Late arm", "position": "2"})
    rules = client.post(reverse("design:detail", args=[study.pk]),
                        _study_settings(title="New title", navigation="free"))

    study.refresh_from_db()
    assert cases.status_code == 409
    assert "its cases can no longer change" in cases.content.decode()
    assert arm.status_code == 409
    assert study.cases.count() == 4
    assert rules.status_code == 302
    assert study.title == "New title"
    assert study.navigation == "forward"


def test_training_and_study_cases_must_differ(client, coordinator):
    client.force_login(coordinator)
    client.post(reverse("design:create"), _study_settings())
    study = ReaderStudy.objects.get()
    case = _cases(1)[0]

    response = client.post(reverse("design:cases", args=[study.pk]),
                           {"cases": [case.pk], "training_cases": [case.pk]})

    assert response.status_code == 400
    assert f"Cases {case.public_id} are chosen as study and training cases" in response.content.decode()
    assert not study.cases.exists()


def test_copy_as_template_keeps_design_not_reads(client, coordinator, make_study, reader):
    study = make_study([reader])
    study.washout_days = 14
    study.save()
    Arm.objects.create(study=study, name="AI-aided", position=1, shows_ai_probability=True)
    assignment = Assignment.objects.get(study=study, reader=reader)
    client.force_login(reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                {"call": "positive", "confidence": "70"})
    client.force_login(coordinator)

    response = client.post(reverse("design:copy", args=[study.pk]), {"include_readers": "on"})

    copy = ReaderStudy.objects.exclude(pk=study.pk).get()
    assert response["Location"] == reverse("design:detail", args=[copy.pk])
    assert copy.status == "draft"
    assert copy.copied_from == study
    assert copy.washout_days == 14
    assert set(copy.cases.all()) == set(study.cases.all())
    assert list(copy.arms.values_list("name", "position", "shows_ai_probability")) == [
        ("Unaided", 0, False), ("AI-aided", 1, True)]
    assert Assignment.objects.filter(study=copy, reader=reader).count() == 1
    assert not Read.objects.filter(assignment__study=copy).exists()


def test_truth_csv_by_public_and_patient_id(client, coordinator, make_study):
    study = make_study([], truths=[True, False, True])
    first, second, third = study.cases.order_by("pk")
    third.patient_key = source_key("98C14734-ASSH")
    third.save()
    body = f"public_id,rt_pcr\n{first.public_id},negative\n{second.public_id},pos\n".encode()
    by_patient = b"patient_id;rt_pcr\n98C14734-ASSH;0\n"
    client.force_login(coordinator)

    first_upload = client.post(reverse("design:truth", args=[study.pk]),
                               {"file": SimpleUploadedFile("truth.csv", body, "text/csv")})
    second_upload = client.post(reverse("design:truth", args=[study.pk]),
                                {"file": SimpleUploadedFile("truth2.csv", by_patient, "text/csv")})

    assert first_upload.status_code == 302
    assert second_upload.status_code == 302
    truth = dict(GroundTruth.objects.values_list("case_id", "positive"))
    assert truth == {first.pk: False, second.pk: True, third.pk: False}
    assert not Read.objects.exists()


def test_truth_csv_with_errors_stores_nothing(client, coordinator, make_study):
    study = make_study([], truths=[True, False])
    first = study.cases.order_by("pk").first()
    before = dict(GroundTruth.objects.values_list("case_id", "positive"))
    body = f"public_id,rt_pcr\n{first.public_id},negative\nC-NOTACASE,positive\n{first.public_id},maybe\n".encode()
    client.force_login(coordinator)

    response = client.post(reverse("design:truth", args=[study.pk]),
                           {"file": SimpleUploadedFile("truth.csv", body, "text/csv")})
    missing_column = client.post(reverse("design:truth", args=[study.pk]),
                                 {"file": SimpleUploadedFile("truth.csv", b"case,result\nx,1\n", "text/csv")})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Row 3: C-NOTACASE matches no case of this study" in page
    assert "Row 4: rt_pcr &#x27;maybe&#x27; is not a result" in page
    assert "Nothing was stored" in page
    assert missing_column.status_code == 400
    assert "it needs public_id or patient_id, and rt_pcr" in missing_column.content.decode()
    assert dict(GroundTruth.objects.values_list("case_id", "positive")) == before


@pytest.mark.parametrize(("template", "encoding"), [
    ("public_id,rt_pcr\r{public_id},positive\r", "utf-8"),
    ("public_id,rt_pcr\r\n{public_id},positive\r\n", "utf-8"),
    ("public_id;rt_pcr\n{public_id};positive\n", "utf-16"),
], ids=["cr", "crlf", "utf16-bom"])
def test_truth_csv_line_endings_and_utf16(client, coordinator, make_study, template, encoding):
    study = make_study([], truths=[False])
    case = study.cases.get()
    client.force_login(coordinator)
    body = template.format(public_id=case.public_id).encode(encoding)

    response = client.post(reverse("design:truth", args=[study.pk]),
                           {"file": SimpleUploadedFile("truth.csv", body, "text/csv")})

    assert response.status_code == 302, response.content.decode()[-2000:]
    assert GroundTruth.objects.get(case=case).positive is True


def test_truth_csv_not_text_rejected(client, coordinator, make_study):
    study = make_study([], truths=[False])
    client.force_login(coordinator)

    response = client.post(reverse("design:truth", args=[study.pk]),
                           {"file": SimpleUploadedFile("truth.csv", bytes(range(256)) * 4, "text/csv")})

    assert response.status_code == 400
    assert "The file is not a text CSV" in response.content.decode()
    assert GroundTruth.objects.get(case=study.cases.get()).positive is False


def test_reads_export_lists_every_version(client, coordinator, make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.save()
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    client.force_login(reader)
    client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                {"call": "positive", "confidence": "70"})
    client.post(reverse("studies:correct_read", args=[assignment.pk, case.public_id]),
                {"call": "negative", "confidence": "20", "reason": "Looked again."})
    client.force_login(coordinator)

    response = client.get(reverse("design:reads_export", args=[study.pk]))

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response.status_code == 200
    assert [(row["version"], row["call"], row["current"]) for row in rows] == [("1", "positive", "0"),
                                                                              ("2", "negative", "1")]
    assert rows[1]["correction_reason"] == "Looked again."
    assert "truth" not in rows[0]


def test_admin_copies_study_and_guards_status(client, django_user_model, make_study):
    study = make_study([], status="closed")
    superuser = django_user_model.objects.create_superuser("root", password="pw-root")
    client.force_login(superuser)
    changelist = reverse("admin:studies_readerstudy_changelist")

    copied = client.post(changelist, {"action": "copy_as_template", "_selected_action": [study.pk]})
    change_page = client.get(reverse("admin:studies_readerstudy_change", args=[study.pk]))
    form = change_page.context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"status": "open", "cases": [case.pk for case in study.cases.all()], "coordinators": [],
                 "training_cases": [], "arms-TOTAL_FORMS": "0", "arms-INITIAL_FORMS": "0"})
    reopened = client.post(reverse("admin:studies_readerstudy_change", args=[study.pk]), data)

    assert copied.status_code == 302
    copy = ReaderStudy.objects.exclude(pk=study.pk).get()
    assert copy.status == "draft"
    assert copy.copied_from == study
    assert reopened.status_code == 200
    assert "A closed study cannot become open" in reopened.content.decode()
    study.refresh_from_db()
    assert study.status == "closed"
