"""Every page and endpoint against every role, each response as designed."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.studies import services
from apps.studies.models import Assignment, Read

pytestmark = pytest.mark.django_db

# (url name, expected status for anonymous, reader, reviewer, coordinator); 302 to login for anonymous.
ROLE_MATRIX = [
    ("studies:worklist", 302, 200, 403, 403),
    ("dashboard:index", 302, 403, 403, 200),
    ("imaging:upload", 302, 403, 403, 200),
    ("design:list", 302, 403, 403, 200),
    ("design:create", 302, 403, 403, 200),
]


@pytest.mark.parametrize("url_name,anonymous,as_reader,as_reviewer,as_coordinator", ROLE_MATRIX)
def test_role_matrix(client, reader, reviewer, coordinator, url_name, anonymous, as_reader, as_reviewer,
                     as_coordinator):
    url = reverse(url_name)
    assert client.get(url).status_code == anonymous
    for user, expected in ((reader, as_reader), (reviewer, as_reviewer), (coordinator, as_coordinator)):
        client.force_login(user)
        assert client.get(url).status_code == expected, f"{user.username} on {url}"
        client.logout()


@dataclass
class World:
    study: object
    other_study: object
    assignment: Assignment
    read: Read
    next_public_id: str
    arm_id: int


@pytest.fixture
def world(make_study, reader, other_reader):
    study = make_study([reader], seed=1)
    other_study = make_study([other_reader], seed=2)
    assignment = Assignment.objects.select_related("study", "arm").get(study=study, reader=reader)
    first = study.cases.get(pk=assignment.case_order[0])
    read, _ = services.submit_read(assignment=assignment, case=first,
                                   answer=services.Answer(call="positive", confidence=70))
    upcoming = study.cases.get(pk=assignment.case_order[1])
    return World(study=study, other_study=other_study, assignment=assignment, read=read,
                 next_public_id=upcoming.public_id, arm_id=assignment.arm_id)


# (method, path template, body, anonymous, reader of another study, reader, reviewer, coordinator).
# Paths are filled from the world fixture. Anonymous pages redirect to the login page (302);
# anonymous API calls get 403, because session authentication sends no challenge.
# A role that may not use a page gets 403; an object outside the user's reach gets 404.
PAGE_MATRIX = [
    ("get", "/reader/", None, 302, 200, 200, 403, 403),
    ("get", "/reader/{aid}/next/", None, 302, 404, 302, 403, 403),
    ("get", "/reader/{aid}/cases/{next}/", None, 302, 404, 200, 403, 403),
    ("post", "/reader/{aid}/cases/{next}/", {"call": "negative", "confidence": "30"}, 302, 404, 302, 403, 403),
    # The method is checked before the object, so any reader gets 405 for a method the page lacks.
    ("put", "/reader/{aid}/cases/{next}/", None, 302, 405, 405, 403, 403),
    ("post", "/reader/{aid}/cases/{read_case}/correct/", {"call": "negative", "confidence": "30", "reason": "x"},
     302, 404, 302, 403, 403),
    ("get", "/reader/{aid}/cases/{read_case}/correct/", None, 302, 405, 405, 403, 403),
    ("get", "/studies/", None, 302, 403, 403, 403, 200),
    ("get", "/studies/new/", None, 302, 403, 403, 403, 200),
    ("post", "/studies/new/", {"title": "T", "answer_scale": "likert5", "navigation": "free", "edit_rule": "locked",
                               "washout_days": "0"}, 302, 403, 403, 403, 302),
    ("get", "/studies/{sid}/", None, 302, 403, 403, 403, 200),
    ("post", "/studies/{sid}/", {"title": "Renamed"}, 302, 403, 403, 403, 302),
    ("post", "/studies/{sid}/cases/", {"cases": []}, 302, 403, 403, 403, 409),
    ("post", "/studies/{sid}/arms/", {"name": "Late", "position": "3"}, 302, 403, 403, 403, 409),
    ("post", "/studies/{sid}/arms/{arm}/delete/", None, 302, 403, 403, 403, 409),
    ("post", "/studies/{sid}/readers/", {"reader": "{other_reader_pk}"}, 302, 403, 403, 403, 302),
    ("post", "/studies/{sid}/status/", {"status": "closed"}, 302, 403, 403, 403, 302),
    ("post", "/studies/{sid}/copy/", None, 302, 403, 403, 403, 302),
    ("post", "/studies/{sid}/truth/", None, 302, 403, 403, 403, 400),
    ("get", "/studies/{sid}/reads.csv", None, 302, 403, 403, 403, 200),
    ("get", "/studies/{sid}/audit.csv", None, 302, 403, 403, 403, 200),
    ("post", "/studies/{sid}/reads.csv", None, 302, 403, 403, 403, 405),
    ("get", "/dashboard/studies/{sid}/", None, 302, 403, 403, 403, 200),
]

API_MATRIX = [
    ("get", "/api/", None, 403, 200, 200, 200, 200),
    ("get", "/api/schema/", None, 403, 200, 200, 200, 200),
    ("get", "/api/docs/", None, 403, 200, 200, 200, 200),
    ("get", "/api/studies/", None, 403, 200, 200, 403, 200),
    ("post", "/api/studies/", {"title": "API"}, 403, 403, 403, 403, 201),
    ("get", "/api/studies/{sid}/", None, 403, 404, 200, 403, 200),
    ("patch", "/api/studies/{sid}/", {"title": "Renamed"}, 403, 404, 404, 403, 200),
    ("delete", "/api/studies/{sid}/", None, 403, 405, 405, 403, 405),
    ("post", "/api/studies/{sid}/status/", {"status": "closed"}, 403, 404, 404, 403, 200),
    ("post", "/api/studies/{sid}/copy/", {}, 403, 404, 404, 403, 201),
    ("post", "/api/studies/{sid}/arms/", {"name": "Late"}, 403, 404, 404, 403, 409),
    ("post", "/api/studies/{sid}/readers/", {"reader": "reader-b"}, 403, 404, 404, 403, 201),
    ("get", "/api/studies/{sid}/truth/", None, 403, 404, 404, 403, 200),
    ("get", "/api/studies/{sid}/exports/reads/", None, 403, 404, 404, 403, 200),
    ("get", "/api/studies/{sid}/exports/audit/", None, 403, 404, 404, 403, 200),
    ("get", "/api/cases/", None, 403, 403, 403, 200, 200),
    ("get", "/api/cases/{next}/", None, 403, 403, 403, 200, 200),
    ("get", "/api/assignments/", None, 403, 200, 200, 403, 200),
    ("get", "/api/assignments/{aid}/", None, 403, 404, 200, 403, 200),
    ("get", "/api/assignments/{aid}/cases/", None, 403, 404, 200, 403, 404),
    ("get", "/api/assignments/{aid}/next/", None, 403, 404, 200, 403, 404),
    ("get", "/api/assignments/{aid}/cases/{next}/", None, 403, 404, 200, 403, 404),
    ("get", "/api/reads/", None, 403, 200, 200, 403, 200),
    ("post", "/api/reads/", {"assignment": "{aid}", "case": "{next}", "call": "negative", "confidence": 30},
     403, 400, 201, 403, 400),
    ("get", "/api/reads/{rid}/", None, 403, 404, 200, 403, 200),
    ("delete", "/api/reads/{rid}/", None, 403, 405, 405, 403, 405),
    ("post", "/api/reads/{rid}/correct/", {"call": "negative", "confidence": 10, "reason": "x"},
     403, 404, 409, 403, 404),
]


def _fill(value, world: World, other_reader):
    fields = {"aid": world.assignment.pk, "sid": world.study.pk, "rid": world.read.pk, "arm": world.arm_id,
              "next": world.next_public_id, "read_case": world.read.case.public_id,
              "other_reader_pk": other_reader.pk}
    if isinstance(value, str):
        return value.format(**fields)
    if isinstance(value, dict):
        return {key: _fill(item, world, other_reader) for key, item in value.items()}
    return value


def _users(reader, other_reader, reviewer, coordinator):
    return (("anonymous", None), ("reader of another study", other_reader), ("reader", reader),
            ("reviewer", reviewer), ("coordinator", coordinator))


def _rows(matrix):
    return [pytest.param(method, path, body, tuple(expected), id=f"{method} {path}")
            for method, path, body, *expected in matrix]


@pytest.mark.parametrize("method,path,body,expected", _rows(PAGE_MATRIX))
def test_page_matrix(client, world, reader, other_reader, reviewer, coordinator, method, path, body, expected):
    url = _fill(path, world, other_reader)
    data = _fill(body, world, other_reader) or {}
    for (label, user), status in zip(_users(reader, other_reader, reviewer, coordinator), expected):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url, data) if method == "post" else getattr(client, method)(url)
        assert response.status_code == status, f"{label}: {method.upper()} {url} -> {response.status_code}"


@pytest.mark.parametrize("method,path,body,expected", _rows(API_MATRIX))
def test_api_matrix(world, reader, other_reader, reviewer, coordinator, method, path, body, expected):
    url = _fill(path, world, other_reader)
    data = _fill(body, world, other_reader)
    if isinstance(data, dict) and "assignment" in data:
        data["assignment"] = int(data["assignment"])
    for (label, user), status in zip(_users(reader, other_reader, reviewer, coordinator), expected):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        response = getattr(api, method)(url, data, format="json") if data is not None else getattr(api, method)(url)
        assert response.status_code == status, f"{label}: {method.upper()} {url} -> {response.status_code}"
        if status >= 400 and response.get("Content-Type", "").startswith("application/json"):
            assert set(response.json()) <= {"detail", "assignment", "case", "call", "confidence", "rating",
                                            "stage", "reason", "name", "reader", "arm", "file"}, response.json()


def test_case_page_per_role(client, make_study, reader, other_reader, reviewer, coordinator, django_user_model):
    study = make_study([reader])
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.get(pk=assignment.case_order[0])
    url = reverse("studies:read_case", args=[assignment.pk, case.public_id])

    assert client.get(url).status_code == 302
    expected = {reader: 200, other_reader: 404, reviewer: 403, coordinator: 403}
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
        client.logout()


def test_coordinator_of_another_study_gets_not_found(client, make_study, django_user_model, reader):
    from apps.accounts.roles import Role
    from tests.conftest import make_user

    study = make_study([reader])
    stranger = make_user(django_user_model, "coord-2", Role.COORDINATOR)
    client.force_login(stranger)
    api = APIClient()
    api.force_authenticate(stranger)

    assert client.get(f"/studies/{study.pk}/").status_code == 404
    assert client.get(f"/studies/{study.pk}/audit.csv").status_code == 404
    assert client.post(f"/studies/{study.pk}/status/", {"status": "closed"}).status_code == 404
    assert api.get(f"/api/studies/{study.pk}/").status_code == 404
    assert api.get(f"/api/studies/{study.pk}/exports/reads/").status_code == 404
    assert api.get("/api/reads/").json() == []


def test_draft_study_is_hidden_from_its_reader(client, make_study, reader):
    study = make_study([reader], status="draft")
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.get(pk=assignment.case_order[0])
    client.force_login(reader)
    api = APIClient()
    api.force_authenticate(reader)

    assert client.get(reverse("studies:read_case", args=[assignment.pk, case.public_id])).status_code == 404
    assert "Study" not in client.get(reverse("studies:worklist")).content.decode().split("<main>")[1]
    assert api.get("/api/studies/").json() == []
    assert api.get(f"/api/assignments/{assignment.pk}/").status_code == 404


def test_case_outside_assignment_is_not_found(client, make_study, reader):
    study = make_study([reader], seed=1)
    other = make_study([], seed=2)
    assignment = Assignment.objects.get(study=study, reader=reader)
    foreign_case = other.cases.first()
    client.force_login(reader)

    response = client.get(reverse("studies:read_case", args=[assignment.pk, foreign_case.public_id]))

    assert response.status_code == 404


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


def test_forbidden_page_explains_role(client, reader):
    client.force_login(reader)

    response = client.get(reverse("dashboard:index"))

    assert response.status_code == 403
    assert "This page is for users with the coordinator role." in response.content.decode()
    assert 'href="/"' in response.content.decode()
