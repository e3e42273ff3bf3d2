"""Every page against every role, each response as designed."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.studies.models import Assignment

pytestmark = pytest.mark.django_db

# (url name, expected status for anonymous, reader, reviewer, coordinator); 302 to login for anonymous.
ROLE_MATRIX = [
    ("studies:worklist", 302, 200, 403, 403),
    ("dashboard:index", 302, 403, 403, 200),
    ("imaging:upload", 302, 403, 403, 200),
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
