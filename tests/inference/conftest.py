"""Fixtures of the inference tests: a real model package, imported cases and worker processes.

The model package is fixtures/model when that folder contains one. Otherwise the ml package's quick
training profile trains one on the two demo series, once per session (about 90 s on two
cores); READERSTUDY_TEST_MODEL_PACKAGE may name an already trained package folder instead.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.paths import FIXTURES, P001, REPO


def _train_quick_package(folder: Path) -> Path:
    import torch

    from ml.package import save_package
    from ml.train import CaseRecord, prepare_case, render_model_card
    from tests.ml.conftest import (
        ILLUSTRATIVE_CLINICAL,
        NORMAL001,
        QUICK_MODEL,
        QUICK_RECIPE,
        run_quick_training,
    )

    torch.set_num_threads(1)
    cases = []
    for case_id, source, label in (("P001", P001, 1), ("normal001", NORMAL001, 0)):
        n_slices = len(list(source.glob("*.dcm")))
        slice_labels = [1 if label and i < n_slices // 2 else 0 for i in range(n_slices)]
        record = CaseRecord(case_id=case_id, label=label, dicom_dir=source,
                            clinical=ILLUSTRATIVE_CLINICAL, slice_labels=tuple(slice_labels))
        cases.append(prepare_case(record, max_slices=QUICK_RECIPE.max_slices_per_case))
    result = run_quick_training(cases)
    save_package(folder, config=QUICK_MODEL, ct_model=result.ct_model, joint_model=result.joint_model,
                 scorer_network=result.scorer_network, clinical_scaler=result.clinical_scaler,
                 clinical_models=result.clinical_models, training_data=result.training_data,
                 metrics=result.metrics, model_card=render_model_card(result))
    return folder


@pytest.fixture(scope="session")
def model_package_dir(tmp_path_factory) -> Path:
    """A model package folder that the tests must not change (copy it to break it)."""
    demo = FIXTURES / "model"
    if (demo / "manifest.json").is_file():
        return demo
    trained = os.environ.get("READERSTUDY_TEST_MODEL_PACKAGE")
    if trained:
        return Path(trained)
    return _train_quick_package(tmp_path_factory.mktemp("model-package"))


@pytest.fixture
def model_version(model_package_dir):
    from apps.inference.services import register_model_version

    version, _ = register_model_version(model_package_dir, activate=True)
    return version


@pytest.fixture
def broken_model_version(model_package_dir, tmp_path):
    """A registered copy of the package whose CT weights were overwritten afterwards."""
    from apps.inference.services import register_model_version

    copy = shutil.copytree(model_package_dir, tmp_path / "broken-package")
    version, _ = register_model_version(copy, name="broken", activate=True)
    (copy / "ct_model.pt").write_bytes(b"not a state dict")
    return version


@pytest.fixture
def sent(monkeypatch):
    """Record the tasks sent instead of publishing them, because no worker consumes them here."""
    from apps.inference.tasks import run_prediction

    calls: list[int] = []

    class Result:
        id = "recorded"

    def record(args, **options):
        calls.append(args[0])
        return Result()

    monkeypatch.setattr(run_prediction, "apply_async", record)
    return calls


@pytest.fixture
def p001_case(monkeypatch):
    """The real COVID-19 series P001 imported like any upload, with its clinical record.

    The import's own queueing is switched off, so each test queues the prediction itself
    and decides where its task goes.
    """
    from apps.cases.models import Case
    from apps.imaging import importer
    from tests.paths import DEMO_CLINICAL

    monkeypatch.setattr(importer, "_queue_predictions", lambda case_ids: "")
    report = importer.import_source(source=P001, clinical_csv=DEMO_CLINICAL)
    assert report["imported"] == 1, report
    return Case.objects.get(public_id=report["cases"][0]["public_id"])


def database_url_of_test_database() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """A ``celery worker`` on a queue of its own, against the test database and media folder."""

    def __init__(self, log_path: Path, concurrency: int) -> None:
        self.queue = f"test-inference-{uuid.uuid4().hex[:8]}"
        self.log_path = log_path
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url_of_test_database(),
            READERSTUDY_MEDIA_ROOT=str(settings.MEDIA_ROOT),
            READERSTUDY_TORCH_THREADS="1",
            PYTHONPATH=str(REPO),
        )
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue,
                 f"--concurrency={self.concurrency}", "--loglevel=INFO", "--without-gossip",
                 "--without-mingle"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(tmp_path, settings):
    """Return a function that starts a worker; every prediction queued afterwards goes to it."""
    workers: list[WorkerProcess] = []

    def start(concurrency: int = 1) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / "worker.log", concurrency)
        settings.READERSTUDY_INFERENCE_QUEUE = worker.queue
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for_status(prediction, statuses, *, timeout: float, worker: WorkerProcess | None = None):
    """Poll the row until its status is one of ``statuses``; fail with the worker log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prediction.refresh_from_db()
        if prediction.status in statuses:
            return prediction
        time.sleep(0.2)
    log = worker.log()[-4000:] if worker is not None else ""
    pytest.fail(f"prediction {prediction.pk} stayed {prediction.status} for {timeout} s\n{log}")
