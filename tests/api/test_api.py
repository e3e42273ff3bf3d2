"""The REST API: studies, cases, assignments, reads and exports, with DRF's error shape."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.cases.models import Case, GroundTruth
from apps.studies.models import Assignment, Read, ReaderStudy

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def _assignment(study, user) -> Assignment:
    return Assignment.objects.get(study=study, reader=user)


def test_reader_submits_read_once_through_api(api, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    api.force_authenticate(reader)
    body = {"assignment": assignment.pk, "case": case.public_id, "call": "positive", "confidence": 75}

    first = api.post("/api/reads/", body, format="json")
    retry = api.post("/api/reads/", body, format="json")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert first.json()["id"] == retry.json()["id"]
    assert retry.json()["confidence"] == 75
    assert Read.objects.count() == 1
    assert first.json()["case"] == case.public_id


def test_different_second_answer_conflicts(api, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    api.force_authenticate(reader)
    body = {"assignment": assignment.pk, "case": case.public_id, "call": "positive", "confidence": 75}

    first = api.post("/api/reads/", body, format="json")
    other_confidence = api.post("/api/reads/", {**body, "confidence": 10}, format="json")
    other_call = api.post("/api/reads/", {**body, "call": "negative"}, format="json")

    assert first.status_code == 201
    read_id = first.json()["id"]
    for response in (other_confidence, other_call):
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert "already stored as COVID-19 positive with confidence 75" in detail
        assert f"/api/reads/{read_id}/correct/" in detail
    assert list(Read.objects.values_list("call", "confidence")) == [("positive", 75)]


def test_active_seconds_has_maximum(api, make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.save()
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    api.force_authenticate(reader)
    body = {"assignment": assignment.pk, "case": case.public_id, "call": "positive", "confidence": 75}

    huge = api.post("/api/reads/", {**body, "active_seconds": 10**30}, format="json")
    over = api.post("/api/reads/", {**body, "active_seconds": 7 * 24 * 3600 + 1}, format="json")
    at_max = api.post("/api/reads/", {**body, "active_seconds": 7 * 24 * 3600}, format="json")
    correction = api.post(f"/api/reads/{at_max.json()['id']}/correct/",
                          {"call": "negative", "confidence": 20, "reason": "Misclick.", "active_seconds": 10**30},
                          format="json")

    message = "active_seconds may be at most 604800 (seven days); send the seconds the tab was visible."
    assert huge.status_code == 400
    assert huge.json() == {"active_seconds": [message]}
    assert over.status_code == 400
    assert at_max.status_code == 201
    assert at_max.json()["active_seconds"] == 604800
    assert correction.status_code == 400
    assert correction.json() == {"active_seconds": [message]}
    assert Read.objects.count() == 1


def test_token_authentication(api, make_study, reader):
    make_study([reader])
    token = Token.objects.create(user=reader)

    anonymous = api.get("/api/assignments/")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    authenticated = api.get("/api/assignments/")

    assert anonymous.status_code in (401, 403)
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    assert authenticated.status_code == 200
    assert [item["reader"] for item in authenticated.json()] == [reader.username]


def test_invalid_answers_get_field_errors(api, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    api.force_authenticate(reader)
    base = {"assignment": assignment.pk, "case": case.public_id}

    too_confident = api.post("/api/reads/", {**base, "call": "positive", "confidence": 150}, format="json")
    no_call = api.post("/api/reads/", {**base, "confidence": 50}, format="json")
    wrong_case = api.post("/api/reads/", {**base, "case": "C-NOPE", "call": "positive", "confidence": 5},
                          format="json")
    rating = api.post("/api/reads/", {**base, "rating": 3}, format="json")

    assert too_confident.status_code == 400
    assert too_confident.json() == {"confidence": ["Ensure this value is less than or equal to 100."]}
    assert no_call.status_code == 400
    assert no_call.json() == {"call": ["Call '' is not valid; choose 'positive' or 'negative'."]}
    assert wrong_case.status_code == 400
    assert wrong_case.json() == {"case": [f"Case 'C-NOPE' is not part of assignment {assignment.pk}."]}
    assert rating.status_code == 400
    assert "call" in rating.json()
    assert not Read.objects.exists()


def test_closed_study_rejects_reads_with_sentence(api, make_study, reader):
    study = make_study([reader], status="closed")
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    api.force_authenticate(reader)

    response = api.post("/api/reads/", {"assignment": assignment.pk, "case": case.public_id, "call": "positive",
                                        "confidence": 60}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": f"The study '{study.title}' is closed, so it accepts no reads."}
    assert not Read.objects.exists()


def test_reader_cannot_use_another_readers_assignment(api, make_study, reader, other_reader):
    study = make_study([reader, other_reader])
    theirs = _assignment(study, other_reader)
    case = Case.objects.get(pk=theirs.case_order[0])
    api.force_authenticate(reader)

    post = api.post("/api/reads/", {"assignment": theirs.pk, "case": case.public_id, "call": "positive",
                                    "confidence": 60}, format="json")
    detail = api.get(f"/api/assignments/{theirs.pk}/")
    cases = api.get(f"/api/assignments/{theirs.pk}/cases/")

    assert post.status_code == 400
    assert post.json() == {"assignment": [f"Assignment {theirs.pk} is not one of yours."]}
    assert detail.status_code == 404
    assert cases.status_code == 404
    assert not Read.objects.exists()


def test_correction_through_api(api, make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.save()
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    api.force_authenticate(reader)
    read = api.post("/api/reads/", {"assignment": assignment.pk, "case": case.public_id, "call": "positive",
                                    "confidence": 60}, format="json").json()

    missing_reason = api.post(f"/api/reads/{read['id']}/correct/", {"call": "negative", "confidence": 20},
                              format="json")
    corrected = api.post(f"/api/reads/{read['id']}/correct/",
                         {"call": "negative", "confidence": 20, "reason": "Wrong button."}, format="json")
    again = api.post(f"/api/reads/{read['id']}/correct/",
                     {"call": "positive", "confidence": 20, "reason": "Twice."}, format="json")
    listing = api.get("/api/reads/").json()

    assert missing_reason.status_code == 400
    assert missing_reason.json() == {"reason": ["This field is required."]}
    assert corrected.status_code == 201
    assert corrected.json()["version"] == 2
    assert corrected.json()["supersedes"] == read["id"]
    assert again.status_code == 409
    assert "already corrected" in again.json()["detail"]
    assert [(item["version"], item["is_current"]) for item in listing] == [(1, False), (2, True)]


def test_assignment_walks_cases_in_order(api, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    api.force_authenticate(reader)
    order = [Case.objects.get(pk=pk).public_id for pk in assignment.case_order]

    listing = api.get(f"/api/assignments/{assignment.pk}/cases/").json()
    upcoming = api.get(f"/api/assignments/{assignment.pk}/next/").json()
    detail = api.get(f"/api/assignments/{assignment.pk}/cases/{order[0]}/")
    ahead = api.get(f"/api/assignments/{assignment.pk}/cases/{order[1]}/")

    assert [item["public_id"] for item in listing] == order
    assert upcoming["public_id"] == order[0]
    assert detail.status_code == 200
    assert detail.json()["pending_stage"] == "unaided"
    assert ahead.status_code == 409
    assert "read forward only" in ahead.json()["detail"]


def test_coordinator_designs_study_through_api(api, coordinator, reader):
    cases = [Case.objects.create(patient_key=f"api-{index}") for index in range(3)]
    api.force_authenticate(coordinator)

    created = api.post("/api/studies/", {"title": "API study", "answer_scale": "likert5", "navigation": "free",
                                         "cases": [case.public_id for case in cases]}, format="json")
    study_id = created.json()["id"]
    arm = api.post(f"/api/studies/{study_id}/arms/", {"name": "Unaided"}, format="json")
    duplicate = api.post(f"/api/studies/{study_id}/arms/", {"name": "Unaided"}, format="json")
    assigned = api.post(f"/api/studies/{study_id}/readers/", {"reader": reader.username}, format="json")
    opened = api.post(f"/api/studies/{study_id}/status/", {"status": "open"}, format="json")
    locked = api.patch(f"/api/studies/{study_id}/", {"navigation": "forward"}, format="json")
    renamed = api.patch(f"/api/studies/{study_id}/", {"title": "API study, renamed"}, format="json")
    bad_status = api.post(f"/api/studies/{study_id}/status/", {"status": "draft"}, format="json")

    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    assert arm.status_code == 201
    assert duplicate.status_code == 400
    assert duplicate.json() == {"name": ["The study already has an arm named 'Unaided'; choose another name."]}
    assert assigned.status_code == 201
    assert opened.status_code == 200
    assert opened.json()["status"] == "open"
    assert locked.status_code == 409
    assert "navigation can no longer change" in locked.json()["detail"]
    assert renamed.status_code == 200
    assert bad_status.status_code == 409
    assert sorted(Assignment.objects.get(reader=reader).case_order) == sorted(case.pk for case in cases)


def test_washout_days_has_maximum(api, coordinator):
    api.force_authenticate(coordinator)

    huge = api.post("/api/studies/", {"title": "Long washout", "washout_days": 10**18}, format="json")
    over = api.post("/api/studies/", {"title": "Long washout", "washout_days": 3651}, format="json")
    at_max = api.post("/api/studies/", {"title": "Ten years", "washout_days": 3650}, format="json")

    message = "washout_days may be at most 3650 (ten years); send a shorter washout."
    assert huge.status_code == 400
    assert huge.json() == {"washout_days": [message]}
    assert over.status_code == 400
    assert over.json() == {"washout_days": [message]}
    assert at_max.status_code == 201
    assert list(ReaderStudy.objects.values_list("washout_days", flat=True)) == [3650]


def test_draft_cannot_close_through_api(api, coordinator):
    case = Case.objects.create(patient_key="draft-close")
    api.force_authenticate(coordinator)
    study_id = api.post("/api/studies/", {"title": "Draft", "cases": [case.public_id]}, format="json").json()["id"]

    closed = api.post(f"/api/studies/{study_id}/status/", {"status": "closed"}, format="json")

    assert closed.status_code == 409
    assert closed.json() == {"detail": "The study 'Draft' is draft and cannot become closed; "
                                       "the order is draft, open, closed."}
    assert ReaderStudy.objects.get(pk=study_id).status == "draft"


@pytest.mark.parametrize(("template", "encoding"), [
    ("public_id,rt_pcr\r{public_id},positive\r", "utf-8"),
    ("public_id,rt_pcr\r\n{public_id},positive\r\n", "utf-8"),
    ("public_id,rt_pcr\n{public_id},positive\n", "utf-16"),
    ("public_id,rt_pcr\n{public_id},positive\n", "utf-8-sig"),
], ids=["cr", "crlf", "utf16-bom", "utf8-bom"])
def test_truth_upload_line_endings_and_encodings(api, coordinator, make_study, reader, template, encoding):
    study = make_study([reader], truths=[False])
    case = study.cases.get()
    api.force_authenticate(coordinator)
    data = template.format(public_id=case.public_id).encode(encoding)

    response = api.post(f"/api/studies/{study.pk}/truth/", {"file": SimpleUploadedFile("t.csv", data)},
                        format="multipart")

    assert response.status_code == 200, response.content
    assert GroundTruth.objects.get(case=case).positive is True


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 4,
    "public_id,rt_pcr\n".encode("utf-16-le"),
    b"\x00\x01\x02\x03",
], ids=["random-bytes", "utf16-without-bom", "binary"])
def test_truth_upload_rejects_non_text(api, coordinator, make_study, reader, content):
    study = make_study([reader], truths=[False])
    api.force_authenticate(coordinator)

    response = api.post(f"/api/studies/{study.pk}/truth/", {"file": SimpleUploadedFile("t.bin", content)},
                        format="multipart")

    assert response.status_code == 400
    assert response.json()["file"][0].startswith("The file is not a text CSV")
    assert GroundTruth.objects.get(case=study.cases.get()).positive is False


def test_reader_sees_study_without_design(api, make_study, reader):
    study = make_study([reader])
    api.force_authenticate(reader)

    listing = api.get("/api/studies/").json()
    create = api.post("/api/studies/", {"title": "Mine"}, format="json")
    status = api.post(f"/api/studies/{study.pk}/status/", {"status": "closed"}, format="json")

    assert listing == [{"id": study.pk, "title": study.title, "instructions": "", "status": "open",
                        "answer_scale": "call_confidence", "navigation": "forward", "edit_rule": "locked"}]
    assert create.status_code == 403
    assert create.json() == {"detail": "Only coordinators design studies."}
    assert status.status_code == 404


def test_truth_upload_and_exports_through_api(api, coordinator, make_study, reader):
    study = make_study([reader], truths=[True, False])
    first = study.cases.order_by("pk").first()
    api.force_authenticate(coordinator)

    bad = api.post(f"/api/studies/{study.pk}/truth/",
                   {"file": SimpleUploadedFile("t.csv", b"public_id,rt_pcr\nC-XX,positive\n")}, format="multipart")
    good = api.post(f"/api/studies/{study.pk}/truth/",
                    {"file": SimpleUploadedFile("t.csv", f"public_id,rt_pcr\n{first.public_id},neg\n".encode())},
                    format="multipart")
    reads = api.get(f"/api/studies/{study.pk}/exports/reads/")
    audit = api.get(f"/api/studies/{study.pk}/exports/audit/")

    assert bad.status_code == 400
    assert bad.json() == {"file": ["Row 2: C-XX matches no case of this study; check the identifier.",
                                   "Nothing was stored; fix the file and upload it again."]}
    assert good.status_code == 200
    assert {item["case"]: item["positive"] for item in good.json()}[first.public_id] is False
    assert GroundTruth.objects.get(case=first).positive is False
    assert reads.status_code == 200
    assert reads["Content-Type"] == "text/csv; charset=utf-8"
    assert next(csv.reader(io.StringIO(reads.content.decode())))[0] == "read_id"
    assert audit.status_code == 200
    assert AuditEvent.objects.filter(action="export", study_id=study.pk).count() == 2


def test_schema_and_offline_docs(client, reader):
    client.force_login(reader)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    missing = client.get("/api/docs/assets/evil.js")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/reads/" in paths
    assert "/api/studies/{id}/exports/audit/" in paths
    page = docs.content.decode()
    assert docs.status_code == 200
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert asset.status_code == 200
    assert missing.status_code == 404
