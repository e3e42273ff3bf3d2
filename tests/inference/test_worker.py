"""A real Celery worker predicts the real COVID-19 case, survives SIGKILL and repeated delivery."""
from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import transaction

from apps.inference.models import Prediction
from apps.inference.services import queue_predictions_for_cases
from apps.inference.tasks import run_prediction
from tests.inference.conftest import wait_for_status

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FINISHED = (Prediction.Status.DONE, Prediction.Status.FAILED)


def test_worker_predicts_case_delivered_twice(start_worker, model_version, p001_case, client, reviewer):
    worker = start_worker(concurrency=2)
    with transaction.atomic():
        (prediction_id,) = queue_predictions_for_cases([p001_case.pk])
        # The same task a second time, as a broker that redelivers it would: both children get one.
        transaction.on_commit(lambda: run_prediction.apply_async((prediction_id,), queue=worker.queue))

    prediction = Prediction.objects.get(pk=prediction_id)
    wait_for_status(prediction, FINISHED, timeout=240, worker=worker)

    assert prediction.status == Prediction.Status.DONE, prediction.error
    assert Prediction.objects.filter(case=p001_case).count() == 1
    assert prediction.attempts == 1
    for value in (prediction.p1, prediction.p2, prediction.p3):
        assert 0.0 <= value <= 1.0
    assert len(prediction.selected_slices) == 10
    assert prediction.heatmap_file.name.endswith(".npz")
    # The model was loaded in the pool process that predicted, not in the parent.
    assert prediction.worker_pid != worker.process.pid
    assert prediction.timings["model_loading"] > 0

    client.force_login(reviewer)
    page = client.get(f"/inference/review/{p001_case.public_id}/").content.decode()
    assert f'<dd id="p3">{prediction.p3:.3f}</dd>' in page
    assert str(model_version) in page


def _pool_process_of(prediction: Prediction, worker) -> int:
    pid = prediction.worker_pid
    assert pid is not None and pid != worker.process.pid
    return pid


def test_sigkilled_pool_process_task_runs_again(start_worker, model_version, p001_case):
    worker = start_worker(concurrency=1)
    (prediction_id,) = queue_predictions_for_cases([p001_case.pk])
    prediction = Prediction.objects.get(pk=prediction_id)
    wait_for_status(prediction, (Prediction.Status.RUNNING, *FINISHED), timeout=120, worker=worker)
    assert prediction.status == Prediction.Status.RUNNING, "the task finished before it could be killed"

    os.kill(_pool_process_of(prediction, worker), signal.SIGKILL)
    wait_for_status(prediction, FINISHED, timeout=240, worker=worker)

    assert prediction.status == Prediction.Status.DONE, prediction.error
    assert prediction.attempts == 2
    assert Prediction.objects.filter(case=p001_case).count() == 1
    assert worker.is_alive()
    assert "WorkerLostError" in worker.log()


def test_broken_model_fails_once_without_crash_loop(start_worker, broken_model_version, p001_case):
    worker = start_worker(concurrency=1)
    (prediction_id,) = queue_predictions_for_cases([p001_case.pk])
    prediction = Prediction.objects.get(pk=prediction_id)
    wait_for_status(prediction, FINISHED, timeout=120, worker=worker)

    assert prediction.status == Prediction.Status.FAILED
    assert "ct_model.pt" in prediction.error
    assert "SHA-256" in prediction.error
    # The message was acknowledged: the task does not come back, and the worker keeps running.
    time.sleep(3)
    prediction.refresh_from_db()
    assert prediction.attempts == 1
    assert prediction.status == Prediction.Status.FAILED
    assert worker.is_alive()
    assert worker.log().count("Task apps.inference.tasks.run_prediction[") == 2  # received, then succeeded
