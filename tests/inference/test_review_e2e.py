"""The review page shows the real COVID-19 CT in chromium with the model's heat map over it."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageStat

from apps.inference.models import Prediction
from apps.inference.services import queue_predictions_for_cases
from apps.inference.tasks import run_prediction

# Lifts Django's async guard for Playwright's event loop, as in the reader's browser test.
from tests.e2e.conftest import browser_context  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _viewer_image(page) -> Image.Image:
    return Image.open(io.BytesIO(page.locator("#viewer").screenshot())).convert("RGB")


def _changed_pixels(first: Image.Image, second: Image.Image) -> int:
    difference = np.asarray(ImageChops.difference(first, second).convert("L"))
    return int((difference > 8).sum())


def test_reviewer_sees_heatmap_over_ct(live_server, browser_context, model_version, p001_case,  # noqa: F811
                                       reviewer, monkeypatch):
    monkeypatch.setattr(run_prediction, "apply_async", lambda *args, **kwargs: type("R", (), {"id": ""})())
    (prediction_id,) = queue_predictions_for_cases([p001_case.pk])
    assert run_prediction(prediction_id) == Prediction.Status.DONE
    prediction = Prediction.objects.get(pk=prediction_id)

    errors: list[str] = []
    page = browser_context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", reviewer.username)
    page.fill("#id_password", f"pw-{reviewer.username}")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}/inference/review/{p001_case.public_id}/")
    page.wait_for_selector("#viewer[data-ready='true'][data-heatmap-ready='true']", timeout=90_000)
    assert page.locator("#viewer").get_attribute("data-rendering") == "gpu"
    assert page.locator("#p3").inner_text() == f"{prediction.p3:.3f}"
    assert page.locator("#selected-slices button").count() == 10
    assert page.locator("#heatmap-colorbar").is_visible()
    # The first image is the apex end, above every selected slice, so no heat map shows yet.
    assert page.locator("#viewer").get_attribute("data-heatmap-drawn") == ""

    # n moves to the nearest selected slice below, the highest selected instance index.
    page.locator("#viewer").focus()
    page.keyboard.press("n")
    top_selected = max(prediction.selected_slices)
    expected_position = 148 - top_selected
    page.wait_for_function(
        "(expected) => document.querySelector('#slice-counter').textContent === expected",
        arg=f"Slice {expected_position} / 148",
    )
    page.wait_for_function("document.querySelector('#viewer').dataset.heatmapDrawn !== ''")
    assert page.locator("#selected-marker").is_visible()
    # The list labels slices with the number the counter shows.
    assert page.locator("#selected-slices button", has_text=f"Slice {expected_position} ·").count() == 1
    page.wait_for_timeout(300)
    overlay_on = _viewer_image(page)

    page.keyboard.press("h")
    page.wait_for_function("document.querySelector('#viewer').dataset.heatmapDrawn === ''")
    assert not page.locator("#heatmap-toggle").is_checked()
    page.wait_for_timeout(300)
    overlay_off = _viewer_image(page)
    assert ImageStat.Stat(overlay_off.convert("L")).stddev[0] > 10, "the CT under the overlay is blank"
    assert _changed_pixels(overlay_on, overlay_off) > 500, "the heat map did not change the canvas"

    # Back on, then more opaque: the canvas changes again.
    page.click("#heatmap-toggle")
    page.wait_for_function("document.querySelector('#viewer').dataset.heatmapDrawn !== ''")
    page.locator("#heatmap-opacity").evaluate(
        "(el) => { el.value = '90'; el.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_timeout(300)
    opaque = _viewer_image(page)
    assert _changed_pixels(overlay_on, opaque) > 500, "the opacity slider did not change the canvas"
    assert page.locator("#heatmap-opacity-value").inner_text() == "90%"

    # p goes back up: there is no selected slice above the first one, so the slice stays.
    page.locator("#viewer").focus()
    page.keyboard.press("n")
    page.wait_for_function(
        "(expected) => document.querySelector('#slice-counter').textContent !== expected",
        arg=f"Slice {expected_position} / 148",
    )
    page.keyboard.press("p")
    page.wait_for_function(
        "(expected) => document.querySelector('#slice-counter').textContent === expected",
        arg=f"Slice {expected_position} / 148",
    )
    assert errors == []
