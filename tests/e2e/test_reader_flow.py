"""A reader reads the real COVID-19 CT in chromium, and the dashboard counts the read."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from PIL import Image, ImageChops, ImageStat

from apps.studies.models import Assignment, Read

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _viewer_image(page) -> Image.Image:
    return Image.open(io.BytesIO(page.locator("#viewer canvas").first.screenshot())).convert("L")


def _differs(first: Image.Image, second: Image.Image) -> bool:
    return ImageChops.difference(first, second).getbbox() is not None


def _wait_until_ready(page) -> None:
    page.wait_for_selector("#viewer[data-ready='true']", timeout=60_000)


def test_reader_reads_real_case_and_dashboard_counts_it(live_server, browser_context):
    call_command("demo_setup", inline=True)
    assignment = Assignment.objects.select_related("study").get(reader__username="reader1")
    covid_case = assignment.study.cases.get(ground_truth__positive=True)
    # The seeded order depends on database ids, which earlier tests shift; the study is
    # forward-only, so put the COVID-19 case first to open it directly.
    assignment.case_order = [covid_case.pk] + [pk for pk in assignment.case_order if pk != covid_case.pk]
    assignment.save(update_fields=["case_order"])
    base_url = live_server.url
    errors: list[str] = []
    page = browser_context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    _login(page, base_url, "reader1", "demo-reader1")
    assert "0 of 2 cases read" in page.content()
    page.goto(f"{base_url}/reader/{assignment.pk}/cases/{covid_case.public_id}/")
    _wait_until_ready(page)

    # The first image is the lung apex end, in the lung window, rendered on the GPU path.
    viewer = page.locator("#viewer")
    assert viewer.get_attribute("data-rendering") == "gpu"
    assert page.locator("#slice-counter").inner_text() == "Slice 1 / 148"
    assert page.locator("#window-readout").inner_text() == "W 1500 / L -600"
    first = _viewer_image(page)
    assert ImageStat.Stat(first).stddev[0] > 10, "the canvas is blank"

    # Scroll down 40 slices with the wheel, then one more with the arrow key.
    page.locator("#viewer").hover()
    for _ in range(40):
        page.mouse.wheel(0, 100)
    page.keyboard.press("ArrowDown")
    page.wait_for_function("document.querySelector('#viewer').dataset.sliceIndex !== '0'")
    page.wait_for_timeout(500)
    counter = page.locator("#slice-counter").inner_text()
    assert counter != "Slice 1 / 148"
    assert counter.endswith("/ 148")
    scrolled = _viewer_image(page)
    assert _differs(first, scrolled), "scrolling did not change the canvas"

    # Mediastinal window on key 2.
    page.keyboard.press("2")
    page.wait_for_function("document.querySelector('#window-readout').textContent === 'W 350 / L 40'")
    assert viewer.get_attribute("data-voi") == "-135,215"
    windowed = _viewer_image(page)
    assert _differs(windowed, scrolled), "the window change did not redraw"

    # The clinical panel shows the values and marks them illustrative.
    assert page.locator("#illustrative-warning").is_visible()
    assert "39 years" in page.locator("#clinical-panel").inner_text()

    page.check("input[name=call][value=positive]")
    page.locator("#confidence").evaluate("(el) => { el.value = '85'; el.dispatchEvent(new Event('input')); }")
    # The form posts to the reads API with fetch and then moves to the next case.
    with (
        page.expect_response(lambda response: response.url.endswith("/api/reads/")) as api_response,
        page.expect_navigation(),
    ):
        page.click("#submit-read")
    assert api_response.value.status == 201
    page.wait_for_load_state("networkidle")

    read = Read.objects.get(assignment=assignment, case=covid_case)
    assert read.call == "positive"
    assert read.confidence == 85
    assert read.submitted_at > read.opened_at
    assert read.reading_seconds > 0

    # Submitting leads to the other real case, which must render too.
    _wait_until_ready(page)
    assert page.locator("#slice-counter").inner_text() == "Slice 1 / 154"

    browser_context.clear_cookies()
    _login(page, base_url, "coordinator", "demo-coordinator")
    page.goto(f"{base_url}/dashboard/studies/{assignment.study.pk}/")
    row = page.locator("tr[data-reader='reader1']")
    assert row.locator("td.reads").inner_text().strip() == "1"
    assert row.locator("td.sensitivity").inner_text().startswith("100.0%")
    assert errors == []


def test_api_rejection_is_shown_on_the_case_page(live_server, browser_context, make_study, reader):
    study = make_study([reader])
    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.get(pk=assignment.case_order[0])
    page = browser_context.new_page()
    _login(page, live_server.url, reader.username, f"pw-{reader.username}")
    page.goto(f"{live_server.url}/reader/{assignment.pk}/cases/{case.public_id}/")

    # The study closes while the reader has the case open.
    study.status = "closed"
    study.save(update_fields=["status"])
    page.check("input[name=call][value=negative]")
    with page.expect_response(lambda response: response.url.endswith("/api/reads/")) as api_response:
        page.click("#submit-read")

    assert api_response.value.status == 409
    error = page.locator("#read-form .error")
    error.wait_for()
    assert error.inner_text() == f"The study '{study.title}' is closed, so it accepts no reads."
    assert page.locator("#submit-read").inner_text() == "Submit read"
    assert not Read.objects.exists()
