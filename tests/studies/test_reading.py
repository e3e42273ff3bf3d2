"""Reading workflow: case order, one read per case, timings, closed studies."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.cases.models import ClinicalRecord
from apps.studies import services
from apps.studies.models import Assignment, Read, ReaderStudy
from apps.studies.presenters import clinical_rows

pytestmark = pytest.mark.django_db


def _assignment(study, user) -> Assignment:
    return Assignment.objects.get(study=study, reader=user)


def test_case_order_is_a_stable_permutation(make_study, reader, other_reader):
    study = make_study([reader, other_reader], truths=[True, False] * 6)
    first = _assignment(study, reader)
    second = _assignment(study, other_reader)

    assert sorted(first.case_order) == sorted(study.cases.values_list("pk", flat=True))
    assert first.case_order != second.case_order

    reshuffled = Assignment(study=study, arm=first.arm, reader=reader)
    reshuffled.shuffle_cases()
    assert reshuffled.case_order == first.case_order


def test_case_order_survives_reload(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    client.force_login(reader)

    first = client.get(reverse("studies:next_case", args=[assignment.pk]))
    assignment.refresh_from_db()
    again = client.get(reverse("studies:next_case", args=[assignment.pk]))

    first_case = study.cases.get(pk=assignment.case_order[0])
    assert first.status_code == 302
    assert first["Location"] == again["Location"]
    assert first_case.public_id in first["Location"]


def test_double_submit_stores_one_read(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])
    client.force_login(reader)
    client.get(url)

    first = client.post(url, {"call": "positive", "confidence": "80", "active_seconds": "12"})
    retry = client.post(url, {"call": "positive", "confidence": "80", "active_seconds": "15"}, follow=True)

    assert first.status_code == 302
    assert retry.status_code == 200
    assert "was already stored; it was kept as it was" in retry.content.decode()
    reads = Read.objects.filter(assignment=assignment, case=case)
    assert reads.count() == 1
    assert reads.get().call == "positive"
    assert reads.get().confidence == 80
    assert reads.get().active_seconds == 12


def test_different_second_answer_is_rejected(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])
    client.force_login(reader)
    client.post(url, {"call": "positive", "confidence": "80"})

    changed = client.post(url, {"call": "negative", "confidence": "10"})
    page = client.get(changed["Location"], follow=True).content.decode()

    assert changed.status_code == 302
    assert changed["Location"] == url
    assert "is already stored as COVID-19 positive with confidence 80" in page
    assert "submit a correction with a reason" in page
    assert list(Read.objects.values_list("call", "confidence")) == [("positive", 80)]


def test_submit_read_service_rejects_changed_answer(make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    stored, created = services.submit_read(assignment=assignment, case=case,
                                           answer=services.Answer(call="positive", confidence=80))

    same, same_created = services.submit_read(assignment=assignment, case=case,
                                              answer=services.Answer(call="positive", confidence=80))
    with pytest.raises(services.ReadAlreadyStored) as raised:
        services.submit_read(assignment=assignment, case=case, answer=services.Answer(call="positive", confidence=81))

    assert created is True
    assert (same.pk, same_created) == (stored.pk, False)
    assert raised.value.read.pk == stored.pk


def test_submit_read_service_bounds_active_seconds(make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.save()
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    answer = services.Answer(call="positive", confidence=80)

    with pytest.raises(services.ReadRejected, match="Active seconds 604801 is outside 0–604800") as raised:
        services.submit_read(assignment=assignment, case=case, answer=answer, active_seconds=604801)
    read, _ = services.submit_read(assignment=assignment, case=case, answer=answer, active_seconds=604800)
    with pytest.raises(services.ReadRejected, match="is outside 0–604800"):
        services.correct_read(read=read, answer=answer, reason="Recount.", active_seconds=10**30)

    assert raised.value.field == "active_seconds"
    assert read.active_seconds == 604800
    assert list(Read.objects.values_list("version", flat=True)) == [1]


def test_active_seconds_over_maximum_rejected(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])
    client.force_login(reader)

    huge = client.post(url, {"call": "positive", "confidence": "80", "active_seconds": str(10**30)})
    over = client.post(url, {"call": "positive", "confidence": "80", "active_seconds": "604801"})

    assert huge.status_code == 400
    assert "Active seconds may be at most 604800 (seven days)." in huge.content.decode()
    assert over.status_code == 400
    assert not Read.objects.exists()


def test_database_rejects_second_read(make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.first()
    now = timezone.now()
    fields = dict(assignment=assignment, case=case, call="positive", confidence=50,
                  opened_at=now, submitted_at=now, reading_seconds=0)
    Read.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Read.objects.create(**fields)


def test_read_stores_open_and_submit_times(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])
    client.force_login(reader)

    client.get(url)
    client.post(url, {"call": "negative", "confidence": "30"})

    read = Read.objects.get(assignment=assignment, case=case)
    assert read.opened_at <= read.submitted_at
    assert read.reading_seconds == pytest.approx((read.submitted_at - read.opened_at).total_seconds())


def test_progress_counts_completed_cases(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    client.force_login(reader)
    for case_id in assignment.case_order[:2]:
        case = study.cases.get(pk=case_id)
        client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                    {"call": "positive", "confidence": "60"})

    progress = services.progress(assignment)
    page = client.get(reverse("studies:worklist"))

    assert (progress.done, progress.total) == (2, 4)
    assert "2 of 4 cases read" in page.content.decode()
    assert services.next_case(assignment).pk == assignment.case_order[2]


def test_invalid_confidence_is_rejected(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    client.force_login(reader)

    response = client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                           {"call": "positive", "confidence": "150"})

    assert response.status_code == 400
    assert "Confidence must be between 0 and 100" in response.content.decode()
    assert not Read.objects.exists()


def test_invalid_confidence_on_read_case_shown(client, make_study, reader):
    study = make_study([reader])
    study.navigation = ReaderStudy.Navigation.FREE
    study.save()
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])
    client.force_login(reader)
    client.post(url, {"call": "positive", "confidence": "60"})

    response = client.post(url, {"call": "positive", "confidence": "150"})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="read-form-errors"' in page
    assert "Confidence must be between 0 and 100; 100 is the maximum." in page
    assert list(Read.objects.values_list("confidence", flat=True)) == [60]


def test_clinical_panel_labels_are_distinct(make_study, reader):
    study = make_study([reader], truths=[True])
    case = study.cases.get()
    ClinicalRecord.objects.create(case=case, neutrophils=4.2, neutrophil_pct=61.0, lymphocytes=1.1,
                                  lymphocyte_pct=25.0)

    rows = clinical_rows(case)["rows"]

    labels = [label for label, _ in rows]
    values = dict(rows)
    assert len(labels) == len(set(labels))
    assert values["Neutrophils (count)"] == "4.2 ×10⁹/L"
    assert values["Neutrophils (%)"] == "61.0 %"
    assert values["Lymphocytes (count)"] == "1.1 ×10⁹/L"
    assert values["Lymphocytes (%)"] == "25.0 %"


def test_closed_study_rejects_reads(client, make_study, reader):
    study = make_study([reader], status="closed")
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    client.force_login(reader)

    response = client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                           {"call": "positive", "confidence": "60"}, follow=True)

    assert "is closed, so it accepts no reads" in response.content.decode()
    assert not Read.objects.exists()


def test_reader_cannot_open_another_readers_assignment(client, make_study, reader, other_reader):
    study = make_study([reader, other_reader])
    theirs = _assignment(study, other_reader)
    case = study.cases.get(pk=theirs.case_order[0])
    client.force_login(reader)

    page = client.get(reverse("studies:read_case", args=[theirs.pk, case.public_id]))
    post = client.post(reverse("studies:read_case", args=[theirs.pk, case.public_id]),
                       {"call": "positive", "confidence": "60"})

    assert page.status_code == 404
    assert post.status_code == 404
    assert not Read.objects.exists()


def test_reader_page_shows_no_truth(client, make_study, reader):
    study = make_study([reader], truths=[True, True])
    assignment = _assignment(study, reader)
    case = study.cases.get(pk=assignment.case_order[0])
    client.force_login(reader)

    body = client.get(reverse("studies:read_case", args=[assignment.pk, case.public_id])).content.decode()

    assert case.public_id in body
    assert "ground_truth" not in body
    assert case.patient_key not in body
