"""AI output reaches a reader only as the study arm allows, from every page and endpoint."""
from __future__ import annotations

import numpy as np
import pytest
from django.template.loader import render_to_string
from django.urls import URLPattern, reverse
from django.utils import timezone

from apps.cases.models import Case
from apps.imaging.models import Instance, Series
from apps.inference import services
from apps.inference import urls as inference_urls
from apps.inference.models import ModelVersion, Prediction
from apps.inference.reader_ai import reader_ai_context, reader_may_see_heatmap
from apps.studies.models import Arm, Assignment, Read, ReaderStudy

pytestmark = pytest.mark.django_db

P3 = 0.8765
SELECTED = [5, 3]


@pytest.fixture
def predicted_case():
    """A case with two slices' heat maps from a finished prediction of the active version."""
    case = Case.objects.create(patient_key="k")
    series = Series.objects.create(
        case=case, series_key="s", study_instance_uid="1.2", series_instance_uid="1.2.3", modality="CT",
        rows=8, columns=8, pixel_spacing_row=1, pixel_spacing_column=1, slice_spacing=2,
        orientation=[1, 0, 0, 0, 1, 0], slice_count=8,
    )
    for index in range(8):
        Instance.objects.create(series=series, index=index, sop_instance_uid=f"1.2.3.{index}",
                                position=2.0 * index, file=f"dicom/x/{index:04d}.dcm")
    version = ModelVersion.objects.create(name="m", version="1", package_path="/nowhere",
                                          manifest_sha256="0" * 64, is_active=True)
    prediction = Prediction.objects.create(
        case=case, model_version=version, status=Prediction.Status.DONE, p1=0.61, p2=0.42, p3=P3,
        selected_slices=SELECTED, slice_probabilities={"5": 0.9, "3": 0.7},
    )
    heatmap = np.zeros((8, 8), dtype=np.float32)
    heatmap[2:6, 2:6] = 0.75
    prediction.heatmap_file.name = services.save_heatmaps(prediction, {5: heatmap, 3: heatmap / 2})
    prediction.save()
    return case


def _assignment(reader, case, **arm_options) -> Assignment:
    study = ReaderStudy.objects.create(title=f"Study {arm_options}", seed=1)
    study.cases.add(case)
    arm = Arm.objects.create(study=study, name="arm", **arm_options)
    assignment = Assignment(study=study, arm=arm, reader=reader)
    assignment.shuffle_cases()
    assignment.save()
    return assignment


def _lock_read(assignment, case) -> None:
    now = timezone.now()
    Read.objects.create(assignment=assignment, case=case, call="positive", confidence=70,
                        opened_at=now, submitted_at=now, reading_seconds=1.0)


UNAIDED = {"shows_ai_probability": False, "shows_heatmap": False}
AI_AFTER_CALL = {"shows_ai_probability": True, "shows_heatmap": True, "ai_after_unaided_call": True}
AI_AT_ONCE = {"shows_ai_probability": True, "shows_heatmap": False, "ai_after_unaided_call": False}
HEATMAP_ONLY = {"shows_ai_probability": False, "shows_heatmap": True, "ai_after_unaided_call": False}


@pytest.mark.parametrize("locked", [False, True])
def test_unaided_arm_gets_nothing(reader, predicted_case, locked):
    assignment = _assignment(reader, predicted_case, **UNAIDED)

    assert reader_ai_context(assignment, predicted_case, unaided_read_locked=locked) is None


def test_ai_after_call_waits_for_locked_call(reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **AI_AFTER_CALL)

    assert reader_ai_context(assignment, predicted_case, unaided_read_locked=False) is None
    context = reader_ai_context(assignment, predicted_case, unaided_read_locked=True)
    assert context["probability"] == P3
    assert context["percent"] == 88
    assert context["model"] == "m 1"
    urls = [item["url"] for item in context["heatmap"]["slices"]]
    assert urls == [
        reverse("inference:reader_heatmap", kwargs={"assignment_id": assignment.pk,
                                                    "public_id": predicted_case.public_id, "instance_index": i})
        for i in SELECTED
    ]
    assert [item["sopInstanceUid"] for item in context["heatmap"]["slices"]] == ["1.2.3.5", "1.2.3.3"]


def test_ai_at_once_shows_probability_without_heatmap(reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **AI_AT_ONCE)

    context = reader_ai_context(assignment, predicted_case, unaided_read_locked=False)
    assert context["probability"] == P3
    assert context["heatmap"] is None


def test_heatmap_only_arm_gets_no_probability(reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **HEATMAP_ONLY)

    context = reader_ai_context(assignment, predicted_case, unaided_read_locked=False)
    assert context["probability"] is None
    assert context["percent"] is None
    assert len(context["heatmap"]["slices"]) == 2


def test_no_context_without_finished_prediction(reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **AI_AT_ONCE)
    Prediction.objects.update(status=Prediction.Status.RUNNING)

    assert reader_ai_context(assignment, predicted_case, unaided_read_locked=True) is None


def test_no_context_for_case_outside_assignment(reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **AI_AT_ONCE)
    other = Case.objects.create(patient_key="other")

    assert reader_ai_context(assignment, other, unaided_read_locked=True) is None


def test_panel_renders_probability_or_nothing(reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **AI_AFTER_CALL)
    context = reader_ai_context(assignment, predicted_case, unaided_read_locked=True)

    html = render_to_string("inference/_reader_ai_panel.html", {"ai": context})
    assert '<strong id="ai-probability">88%</strong>' in html
    assert 'id="heatmap-config"' in html
    assert "viewer/heatmap.js" in html
    assert render_to_string("inference/_reader_ai_panel.html", {"ai": None}).strip() == ""


def _every_inference_url(assignment, case) -> list[str]:
    """One URL per route of the inference app, filled with this reader's ids."""
    prediction = Prediction.objects.get(case=case)
    version = prediction.model_version
    values = {"version_id": version.pk, "public_id": case.public_id, "prediction_id": prediction.pk,
              "instance_index": SELECTED[0], "assignment_id": assignment.pk}
    urls = []
    for pattern in inference_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = set(pattern.pattern.converters)
        urls.append(reverse(f"inference:{pattern.name}", kwargs={k: values[k] for k in names}))
    return urls


@pytest.mark.parametrize("locked", [False, True])
def test_unaided_reader_gets_no_ai_value(client, reader, predicted_case, locked):
    assignment = _assignment(reader, predicted_case, **UNAIDED)
    if locked:
        _lock_read(assignment, predicted_case)
    client.force_login(reader)

    urls = _every_inference_url(assignment, predicted_case)
    assert len(urls) == 7
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (404, 405), f"{method.__name__} {url}: {response.status_code}"
            body = response.content.decode(errors="replace")
            assert "0.877" not in body, url
            assert "88%" not in body, url
            assert "PNG" not in body[:8], url


def test_aided_reader_gets_heatmap_after_locked_call_only(client, reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **AI_AFTER_CALL)
    client.force_login(reader)
    url = reverse("inference:reader_heatmap", kwargs={"assignment_id": assignment.pk,
                                                      "public_id": predicted_case.public_id,
                                                      "instance_index": SELECTED[0]})

    assert not reader_may_see_heatmap(assignment, predicted_case)
    assert client.get(url).status_code == 404
    _lock_read(assignment, predicted_case)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    unselected = url.replace(f"/{SELECTED[0]}.png", "/0.png")
    assert client.get(unselected).status_code == 404
    # The reviewer's own endpoints stay closed to a reader whatever the arm.
    prediction = Prediction.objects.get()
    assert client.get(f"/inference/predictions/{prediction.pk}/heatmaps/{SELECTED[0]}.png").status_code == 404
    assert client.get(f"/inference/review/{predicted_case.public_id}/").status_code == 404


def test_reader_cannot_use_other_readers_assignment(client, reader, other_reader, predicted_case):
    assignment = _assignment(reader, predicted_case, **HEATMAP_ONLY)
    client.force_login(other_reader)
    url = reverse("inference:reader_heatmap", kwargs={"assignment_id": assignment.pk,
                                                      "public_id": predicted_case.public_id,
                                                      "instance_index": SELECTED[0]})

    assert client.get(url).status_code == 404


def test_anonymous_user_sent_to_login(client, predicted_case):
    response = client.get(f"/inference/review/{predicted_case.public_id}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
