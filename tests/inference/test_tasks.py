"""The prediction task in this process: stored results, idempotence, failures and takeover."""
from __future__ import annotations

import io
import socket
import subprocess
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from PIL import Image

from apps.cases.models import Case
from apps.inference import conf, services, worker
from apps.inference.models import Prediction
from apps.inference.tasks import _claim, run_prediction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_cached_packages():
    worker._packages.clear()
    yield
    worker._packages.clear()


@pytest.fixture
def eager():
    """Run tasks in this process when they are sent, as CELERY_TASK_ALWAYS_EAGER=1 does."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _prediction(case, version, **fields) -> Prediction:
    return Prediction.objects.create(case=case, model_version=version, **fields)


def test_demo_command_predicts_real_case(eager, model_package_dir, p001_case, capsys, client, reviewer):
    call_command("demo_ai", "--package", str(model_package_dir), "--timeout", "60")

    prediction = Prediction.objects.get(case=p001_case)
    assert prediction.status == Prediction.Status.DONE, prediction.error
    output = capsys.readouterr().out
    assert f"{p001_case.public_id}: P1 {prediction.p1:.3f}  P2 {prediction.p2:.3f}  P3 {prediction.p3:.3f}" in output
    assert len(prediction.selected_slices) == 10
    assert set(prediction.slice_probabilities) == {str(i) for i in prediction.selected_slices}
    scores = [prediction.slice_scores[str(i)] for i in prediction.selected_slices]
    assert scores == sorted(scores, reverse=True)
    assert {"preprocessing", "slice_selection", "ct_model", "joint_model", "model_loading"} <= set(prediction.timings)

    with prediction.heatmap_file.open("rb") as handle:
        archive = np.load(io.BytesIO(handle.read()))
        assert sorted(archive.files) == sorted(f"slice_{i}" for i in prediction.selected_slices)
        first = archive[f"slice_{prediction.selected_slices[0]}"]
    assert first.shape == (512, 512)
    assert first.dtype == np.float32

    client.force_login(reviewer)
    response = client.get(f"/inference/predictions/{prediction.pk}/heatmaps/{prediction.selected_slices[0]}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "RGBA"
    assert image.size == (512, 512)
    alpha = np.asarray(image)[..., 3]
    assert alpha.max() == 255, "no lung pixel is coloured"
    assert alpha.min() == 0, "pixels outside the lung are not transparent"
    unselected = next(i for i in range(148) if i not in prediction.selected_slices)
    assert client.get(f"/inference/predictions/{prediction.pk}/heatmaps/{unselected}.png").status_code == 404

    page = client.get(f"/inference/review/{p001_case.public_id}/")
    assert page.status_code == 200
    assert page.context["overlay_config"]["colormap"] == "jet"
    assert len(page.context["overlay_config"]["slices"]) == 10
    html = page.content.decode()
    for field in ("p1", "p2", "p3"):
        assert f'<dd id="{field}">{getattr(prediction, field):.3f}</dd>' in html
    assert 'id="heatmap-config"' in html
    assert "viewer/heatmap.js" in html

    finished_at = prediction.finished_at
    assert run_prediction(prediction.pk) == Prediction.Status.DONE
    prediction.refresh_from_db()
    assert prediction.finished_at == finished_at
    assert prediction.attempts == 1


def test_queue_twice_sends_one_task(model_version, sent, django_capture_on_commit_callbacks):
    case = Case.objects.create(patient_key="k")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.queue_predictions_for_cases([case.pk, case.pk])
    with django_capture_on_commit_callbacks(execute=True):
        second = services.queue_predictions_for_cases([case.pk])

    assert len(first) == 1
    assert second == []
    assert sent == first
    assert Prediction.objects.filter(case=case).count() == 1
    assert Prediction.objects.get().task_id == "recorded"


def test_queue_without_active_version_does_nothing(sent):
    case = Case.objects.create(patient_key="k")

    assert services.queue_predictions_for_cases([case.pk]) == []
    assert not Prediction.objects.exists()


def test_rerun_failed_requeues_only_failed(model_version, sent, django_capture_on_commit_callbacks):
    failed_case, done_case = Case.objects.create(patient_key="a"), Case.objects.create(patient_key="b")
    failed = _prediction(failed_case, model_version, status="failed", error="boom", attempts=1)
    _prediction(done_case, model_version, status="done", p3=0.5)

    with django_capture_on_commit_callbacks(execute=True):
        queued = services.queue_predictions_for_cases([failed_case.pk, done_case.pk], rerun_failed=True)

    assert queued == [failed.pk]
    failed.refresh_from_db()
    assert failed.status == Prediction.Status.QUEUED
    assert failed.error == ""
    assert failed.attempts == 0


def test_broken_model_fails_with_file_name(broken_model_version):
    case = Case.objects.create(patient_key="k")
    prediction = _prediction(case, broken_model_version)

    assert run_prediction(prediction.pk) == Prediction.Status.FAILED
    prediction.refresh_from_db()
    assert prediction.error.startswith("The model package failed to load: ")
    assert "ct_model.pt has SHA-256" in prediction.error
    assert run_prediction(prediction.pk) == Prediction.Status.FAILED
    prediction.refresh_from_db()
    assert prediction.attempts == 1


def test_changed_manifest_fails_prediction(model_package_dir, tmp_path):
    import shutil

    copy = shutil.copytree(model_package_dir, tmp_path / "package")
    version, _ = services.register_model_version(copy, activate=True)
    (copy / "manifest.json").write_text((copy / "manifest.json").read_text() + " ")
    prediction = _prediction(Case.objects.create(patient_key="k"), version)

    assert run_prediction(prediction.pk) == Prediction.Status.FAILED
    prediction.refresh_from_db()
    assert "the package changed after registration" in prediction.error


def test_case_without_images_fails_with_reason(model_version):
    case = Case.objects.create(patient_key="k")
    prediction = _prediction(case, model_version)

    assert run_prediction(prediction.pk) == Prediction.Status.FAILED
    prediction.refresh_from_db()
    assert prediction.error == f"Case {case.public_id} has no stored CT series; import its DICOM first."


def test_database_error_retried_then_runs(model_version, eager, monkeypatch):
    case = Case.objects.create(patient_key="k")
    prediction = _prediction(case, model_version)
    real_load = services.load_case_volume
    calls = []

    def flaky_load(case):
        calls.append(case.pk)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_load(case)

    monkeypatch.setattr(services, "load_case_volume", flaky_load)
    run_prediction.apply((prediction.pk,))

    prediction.refresh_from_db()
    assert len(calls) == 2
    # The retry ran and reached the real loader, which reports the missing images.
    assert prediction.status == Prediction.Status.FAILED
    assert "has no stored CT series" in prediction.error
    assert prediction.attempts == 1


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_running_row_of_dead_process_taken_over(model_version):
    prediction = _prediction(
        Case.objects.create(patient_key="k"), model_version, status="running", attempts=1,
        worker_host=socket.gethostname(), worker_pid=_dead_pid(), started_at=timezone.now(),
    )

    claimed, outcome, _ = _claim(prediction.pk, "task-2")

    assert claimed is not None
    assert outcome == "running"
    prediction.refresh_from_db()
    assert prediction.attempts == 2
    assert prediction.task_id == "task-2"


def test_running_row_of_live_process_left_alone(model_version):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        prediction = _prediction(
            Case.objects.create(patient_key="k"), model_version, status="running", attempts=1,
            worker_host=socket.gethostname(), worker_pid=sleeper.pid, started_at=timezone.now(),
        )
        assert run_prediction(prediction.pk) == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.RUNNING
    assert prediction.attempts == 1


def test_other_host_row_waits_for_limit(model_version):
    prediction = _prediction(
        Case.objects.create(patient_key="k"), model_version, status="running", attempts=1,
        worker_host="other-host", worker_pid=1, started_at=timezone.now() - timedelta(seconds=100),
    )

    claimed, outcome, delay = _claim(prediction.pk, "task-2")

    assert claimed is None
    assert outcome == "running elsewhere"
    assert conf.STALE_AFTER_SECONDS - 130 < delay <= conf.STALE_AFTER_SECONDS - 100


def test_too_many_lost_attempts_fail(model_version):
    prediction = _prediction(
        Case.objects.create(patient_key="k"), model_version, status="running", attempts=conf.MAX_ATTEMPTS,
        worker_host=socket.gethostname(), worker_pid=_dead_pid(), started_at=timezone.now(),
    )

    assert run_prediction(prediction.pk) == Prediction.Status.FAILED
    prediction.refresh_from_db()
    assert prediction.error.startswith(f"The prediction was started {conf.MAX_ATTEMPTS} times")


def test_stale_running_row_marked_failed_on_page_view(model_version, client, coordinator):
    old = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS + 5)
    recent = timezone.now() - timedelta(seconds=5)
    case_a, case_b = Case.objects.create(patient_key="a"), Case.objects.create(patient_key="b")
    stale = _prediction(case_a, model_version, status="running", started_at=old, worker_host="x", worker_pid=1)
    fresh = _prediction(case_b, model_version, status="running", started_at=recent, worker_host="x", worker_pid=1)

    client.force_login(coordinator)
    page = client.get("/inference/").content.decode()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == Prediction.Status.FAILED
    assert f"past the hard time limit of {conf.HARD_TIME_LIMIT} s" in stale.error
    assert fresh.status == Prediction.Status.RUNNING
    assert stale.error in page.replace("&#x27;", "'")


def test_unsent_task_kept_queued_and_resent(model_version, monkeypatch, django_capture_on_commit_callbacks):
    case = Case.objects.create(patient_key="k")

    def broker_down(args, **options):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    monkeypatch.setattr(run_prediction, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        (prediction_id,) = services.queue_predictions_for_cases([case.pk])
    prediction = Prediction.objects.get(pk=prediction_id)
    assert prediction.status == Prediction.Status.QUEUED
    assert prediction.error.startswith("Sending the task to the broker failed ([Errno 111] Connection refused)")

    sent = []
    monkeypatch.setattr(run_prediction, "apply_async",
                        lambda args, **options: sent.append(args[0]) or type("R", (), {"id": "t"})())
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_predictions_for_cases([case.pk])
    prediction.refresh_from_db()
    assert sent == [prediction_id]
    assert prediction.error == ""
    assert prediction.task_id == "t"
