"""In chromium, the open dashboard picks up a new read without a reload."""

from __future__ import annotations

import os
import shutil

import pytest
from django.utils import timezone

from apps.studies.models import Read
from tests.dashboard.helpers import build_study

# Playwright's sync API runs an event loop in the test thread; the ORM calls stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        pytest.fail("Debian's chromium is missing: run `make chromium` (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def test_panel_refreshes_after_new_read(live_server, page, coordinator, reader, monkeypatch):
    from apps.dashboard import views

    monkeypatch.setattr(views, "REFRESH_SECONDS", 1)
    truths = [True, False, True, False]
    study = build_study(
        coordinator,
        [{"truth": t} for t in truths],
        readers={reader: [("positive", 80), None, None, None]},
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", coordinator.username)
    page.fill("input[name=password]", f"pw-{coordinator.username}")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/dashboard/studies/{study.pk}/")
    reads = page.locator(f"tr[data-reader='{reader.username}'] td.reads")
    assert reads.inner_text().strip() == "1"

    assignment = study.assignments.get(reader=reader)
    now = timezone.now()
    Read.objects.create(
        assignment=assignment,
        case=study.cases.order_by("pk")[1],
        call="negative",
        confidence=70,
        opened_at=now,
        submitted_at=now,
        reading_seconds=4.0,
    )
    selector = f"tr[data-reader='{reader.username}'] td.reads"
    page.wait_for_function(
        f"document.querySelector(\"{selector}\").innerText.trim() === '2'", timeout=10_000
    )

    assert page.locator("#refresh-status").inner_text().startswith("Updated at")
    assert errors == []
