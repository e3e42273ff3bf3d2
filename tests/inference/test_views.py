"""The coordinator's model-version page and the reviewer's case list."""
from __future__ import annotations

import pytest

from apps.cases.models import Case
from apps.inference.models import ModelVersion, Prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    first = ModelVersion.objects.create(name="m", version="1", package_path="/a", manifest_sha256="a" * 64,
                                        model_card="# Card one", is_active=True)
    second = ModelVersion.objects.create(name="m", version="2", package_path="/b", manifest_sha256="b" * 64)
    return first, second


def test_versions_page_lists_status_and_error(client, coordinator, versions):
    first, _ = versions
    done_case, failed_case = Case.objects.create(patient_key="a"), Case.objects.create(patient_key="b")
    Prediction.objects.create(case=done_case, model_version=first, status="done", p1=0.1, p2=0.2, p3=0.345)
    Prediction.objects.create(case=failed_case, model_version=first, status="failed", error="Model file broken.")
    client.force_login(coordinator)

    response = client.get("/inference/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "m 1</a> <strong class=\"active\">active</strong>" in html
    assert "done 1 · failed 1" in html or "failed 1 · done 1" in html
    assert "0.345" in html
    assert "Model file broken." in html
    assert "# Card one" in html
    assert [row["case"] for row in response.context["rows"]] == sorted(
        [done_case, failed_case], key=lambda case: case.public_id
    )


def test_versions_page_unknown_version_is_404(client, coordinator, versions):
    client.force_login(coordinator)

    assert client.get("/inference/?version=999").status_code == 404


def test_run_queues_each_case_once(client, coordinator, versions, sent, django_capture_on_commit_callbacks):
    _, second = versions
    cases = [Case.objects.create(patient_key=str(i)) for i in range(3)]
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        first_click = client.post(f"/inference/versions/{second.pk}/run/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/inference/versions/{second.pk}/run/")

    assert first_click.status_code == 302
    assert len(sent) == 3
    assert Prediction.objects.filter(model_version=second).count() == len(cases)
    assert set(Prediction.objects.values_list("status", flat=True)) == {"queued"}


def test_activate_switches_active_version(client, coordinator, versions):
    first, second = versions
    client.force_login(coordinator)

    response = client.post(f"/inference/versions/{second.pk}/activate/")

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_active
    assert not first.is_active


def test_get_on_post_only_action_rejected(client, coordinator, versions):
    client.force_login(coordinator)

    assert client.get(f"/inference/versions/{versions[1].pk}/activate/").status_code == 405


def test_reviewer_cannot_manage_versions(client, reviewer, versions):
    client.force_login(reviewer)

    assert client.get("/inference/").status_code == 404
    assert client.post(f"/inference/versions/{versions[1].pk}/activate/").status_code == 404


def test_review_list_shows_active_predictions(client, reviewer, versions):
    first, second = versions
    case = Case.objects.create(patient_key="a")
    Prediction.objects.create(case=case, model_version=first, status="done", p1=0.1, p2=0.2, p3=0.678)
    Prediction.objects.create(case=case, model_version=second, status="done", p1=0.1, p2=0.2, p3=0.111)
    client.force_login(reviewer)

    html = client.get("/inference/review/").content.decode()

    assert "0.678" in html
    assert "0.111" not in html
    assert f'href="/inference/review/{case.public_id}/"' in html


def test_review_case_without_images_is_404(client, reviewer, versions):
    case = Case.objects.create(patient_key="a")
    client.force_login(reviewer)

    assert client.get(f"/inference/review/{case.public_id}/").status_code == 404
