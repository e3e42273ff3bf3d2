"""A real Celery worker process imports a case through the configured broker."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from apps.imaging.models import ImportJob
from apps.imaging.tasks import run_import_job
from tests.paths import P001, REPO

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url_of_test_database() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start ``celery worker`` on a queue of its own, against the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url_of_test_database(),
        READERSTUDY_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONPATH=str(REPO),
    )
    log = open(tmp_path / "worker.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
         "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield queue, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_worker_runs_import_job(worker, coordinator):
    queue, log = worker
    job = ImportJob.objects.create(created_by=coordinator, source_name="P001", source_path=str(P001))

    run_import_job.apply_async((job.pk,), queue=queue)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            break
        time.sleep(0.5)

    log.seek(0)
    assert job.status == ImportJob.Status.DONE, f"job ended {job.status}: {job.error}\n{log.read()[-3000:]}"
    assert job.report["imported"] == 1
    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    expected = os.environ.get("CELERY_BROKER_URL", "filesystem://").split(":", 1)[0]
    assert broker == expected


def test_repeated_delivery_does_nothing(coordinator):
    job = ImportJob.objects.create(created_by=coordinator, source_name="P001", source_path=str(P001))

    assert run_import_job(job.pk) == ImportJob.Status.DONE
    assert run_import_job(job.pk) == ImportJob.Status.DONE

    job.refresh_from_db()
    assert job.report["imported"] == 1
    from apps.cases.models import Case

    assert Case.objects.count() == 1
