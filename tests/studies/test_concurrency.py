"""Two tabs of one reader at once: the same next case, one read per case, no completed case served again."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.studies import services
from apps.studies.models import Assignment, Read

pytestmark = pytest.mark.django_db(transaction=True)


def _in_parallel(*jobs):
    """Run the jobs in threads released together; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _tab(user) -> Client:
    tab = Client()
    tab.force_login(user)
    return tab


def test_two_tabs_read_through_the_study_once(make_study, reader):
    study = make_study([reader], truths=[True, False, True, False])
    assignment = Assignment.objects.get(study=study, reader=reader)
    tabs = (_tab(reader), _tab(reader))
    next_url = reverse("studies:next_case", args=[assignment.pk])
    served: list[tuple[str, str]] = []

    for round_number in range(len(assignment.case_order)):
        locations = _in_parallel(*(lambda tab=tab: tab.get(next_url)["Location"] for tab in tabs))
        served.append(tuple(locations))
        answers = ({"call": "positive", "confidence": "70"}, {"call": "negative", "confidence": "20"})
        responses = _in_parallel(
            *(lambda tab=tab, location=location, answer=answer: tab.post(location, answer)
              for tab, location, answer in zip(tabs, locations, answers))
        )
        assert [response.status_code for response in responses] == [302, 302]

    final = [tab.get(next_url) for tab in tabs]
    case_urls = [locations[0] for locations in served]
    # Both tabs asked at once and got the same first unread case; no case came back once read.
    assert all(first == second for first, second in served)
    assert len(set(case_urls)) == len(assignment.case_order)
    assert Read.objects.filter(assignment=assignment).count() == len(assignment.case_order)
    assert Read.objects.filter(assignment=assignment).values("case").distinct().count() == len(assignment.case_order)
    assert services.progress(assignment).done == len(assignment.case_order)
    assert all(response["Location"] == reverse("studies:worklist") for response in final)


def test_simultaneous_submits_store_one_read(make_study, reader):
    study = make_study([reader], truths=[True])
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.get()
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])
    tabs = [_tab(reader) for _ in range(4)]

    responses = _in_parallel(
        *(lambda tab=tab, confidence=confidence: tab.post(url, {"call": "positive", "confidence": str(confidence)})
          for tab, confidence in zip(tabs, (10, 20, 30, 40)))
    )

    assert [response.status_code for response in responses] == [302] * 4
    assert Read.objects.filter(assignment=assignment, case=case).count() == 1
