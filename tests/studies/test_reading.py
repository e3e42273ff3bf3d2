"""Reading workflow: case order, one read per case, timings, closed studies."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.studies import services
from apps.studies.models import Assignment, Read

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
    retry = client.post(url, {"call": "negative", "confidence": "10"})

    assert first.status_code == 302
    assert retry.status_code == 302
    reads = Read.objects.filter(assignment=assignment, case=case)
    assert reads.count() == 1
    assert reads.get().call == "positive"
    assert reads.get().confidence == 80
    assert reads.get().active_seconds == 12


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
