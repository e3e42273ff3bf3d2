"""The prediction task: one case, one model version, at most one stored prediction.

The task takes the prediction's primary key and claims the row under a row lock before it
predicts. A row that is done or failed is left alone, so a repeated delivery or a second
click changes nothing. A row that is running belongs to another attempt; the task takes it
over only when that attempt's process is gone:

- on the same host, when the recorded process no longer exists (a pool process killed
  with SIGKILL, whose task the worker sends again because of ``reject_on_worker_lost``);
- anywhere, when the attempt started longer ago than the hard time limit allows.

A running attempt on another host that may still be alive makes the task retry after the
hard time limit has passed. Each start counts as an attempt, and after
``READERSTUDY_INFERENCE_MAX_ATTEMPTS`` starts the row is marked failed, so a task whose
process dies every time is not run for ever.
"""
from __future__ import annotations

import logging
import os
import random
import socket
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from apps.inference import conf
from apps.inference.models import Prediction

logger = logging.getLogger(__name__)

# Database errors that pass: a locked SQLite file, a PostgreSQL restart, a dropped connection.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def _backoff_seconds(retries: int) -> float:
    # Exponential backoff with jitter, so that workers that failed together retry apart.
    return min(300.0, 5.0 * 2**retries) * random.uniform(0.8, 1.2)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder_state(prediction: Prediction) -> str:
    """Say whether the attempt that marked the row running is "gone", "alive" or "unknown"."""
    started = prediction.started_at or prediction.queued_at
    if started < timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS):
        return "gone"
    if prediction.worker_host != socket.gethostname() or prediction.worker_pid is None:
        return "unknown"
    if prediction.worker_pid == os.getpid():
        # A pool process runs one task at a time, so its earlier attempt has ended.
        return "gone"
    return "alive" if _process_exists(prediction.worker_pid) else "gone"


def _fail(prediction_id: int, message: str) -> None:
    Prediction.objects.filter(pk=prediction_id).update(
        status=Prediction.Status.FAILED, error=message, finished_at=timezone.now()
    )


def _claim(prediction_id: int, task_id: str) -> tuple[Prediction | None, str, float]:
    """Mark the row running for this process; return it, or None with the reason and a delay."""
    with transaction.atomic():
        prediction = (
            # Lock only the prediction row, not the joined case and model version rows.
            Prediction.objects.select_for_update(of=("self",))
            .select_related("case", "model_version")
            .filter(pk=prediction_id)
            .first()
        )
        if prediction is None:
            return None, "missing", 0.0
        if prediction.status in (Prediction.Status.DONE, Prediction.Status.FAILED):
            return None, prediction.status, 0.0
        if prediction.status == Prediction.Status.RUNNING:
            holder = _holder_state(prediction)
            if holder == "alive":
                return None, "running", 0.0
            if holder == "unknown":
                started = prediction.started_at or prediction.queued_at
                wait = conf.STALE_AFTER_SECONDS - (timezone.now() - started).total_seconds()
                return None, "running elsewhere", max(wait, 1.0)
            logger.warning(
                "prediction %s: attempt %d (host %s, pid %s) is gone; starting again",
                prediction_id, prediction.attempts, prediction.worker_host, prediction.worker_pid,
            )
        if prediction.attempts >= conf.MAX_ATTEMPTS:
            prediction.status = Prediction.Status.FAILED
            prediction.error = (
                f"The prediction was started {prediction.attempts} times and its worker process was "
                "lost each time, so it is not started again. Check the worker's memory and log, "
                "then run the model version again."
            )
            prediction.finished_at = timezone.now()
            prediction.save(update_fields=["status", "error", "finished_at"])
            return None, prediction.status, 0.0

        prediction.status = Prediction.Status.RUNNING
        prediction.attempts += 1
        prediction.worker_host = socket.gethostname()
        prediction.worker_pid = os.getpid()
        prediction.started_at = timezone.now()
        prediction.task_id = task_id or prediction.task_id
        prediction.error = ""
        prediction.save(
            update_fields=["status", "attempts", "worker_host", "worker_pid", "started_at", "task_id", "error"]
        )
    return prediction, "running", 0.0


def _predict_and_store(prediction: Prediction) -> None:
    from apps.inference import services, worker
    from ml import predict_case

    package, load_seconds = worker.get_package(prediction.model_version)
    volume = services.load_case_volume(prediction.case)
    clinical = services.clinical_features(prediction.case)
    result = predict_case(volume.volume_hu, volume.spacing, clinical, package)
    heatmap_name = services.save_heatmaps(prediction, result.heatmaps)

    timings = {name: round(seconds, 3) for name, seconds in result.timings.items()}
    timings["model_loading"] = round(load_seconds, 3)
    with transaction.atomic():
        current = Prediction.objects.select_for_update().get(pk=prediction.pk)
        if current.status != Prediction.Status.RUNNING or current.worker_pid != os.getpid():
            # Marked failed as stale, or taken over, while this attempt ran: keep that outcome.
            logger.warning("prediction %s changed to %s while it ran; result dropped", prediction.pk, current.status)
            return
        current.status = Prediction.Status.DONE
        current.p1, current.p2, current.p3 = result.p1, result.p2, result.p3
        current.selected_slices = result.selected_slices
        current.slice_scores = {str(index): score for index, score in result.slice_scores.items()}
        current.slice_probabilities = {str(i): p for i, p in result.slice_probabilities.items()}
        current.heatmap_file.name = heatmap_name
        current.timings = timings
        current.finished_at = timezone.now()
        current.error = ""
        current.save()


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=conf.SOFT_TIME_LIMIT,
    time_limit=conf.HARD_TIME_LIMIT,
    max_retries=conf.MAX_RETRIES,
)
def run_prediction(self, prediction_id: int) -> str:
    """Predict one case with one model version and store the result on the prediction row.

    Returns the row's status as this task left it, or "missing", "running" (another live
    attempt has the row) or "running elsewhere" (retried later).
    """
    from ml import PackageError

    try:
        prediction, outcome, delay = _claim(prediction_id, self.request.id or "")
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=_backoff_seconds(self.request.retries)) from error
    if prediction is None:
        if delay and not self.request.is_eager:
            logger.info("prediction %s is held by another host; retrying in %.0f s", prediction_id, delay)
            raise self.retry(countdown=delay, max_retries=None)
        logger.info("prediction %s: nothing to do (%s)", prediction_id, outcome)
        return outcome

    case_id = prediction.case.public_id
    logger.info("prediction %s started: case %s, model %s", prediction_id, case_id, prediction.model_version)
    try:
        _predict_and_store(prediction)
    except SoftTimeLimitExceeded:
        _fail(prediction_id, f"The prediction took longer than {conf.SOFT_TIME_LIMIT} s and was stopped. "
              "Raise READERSTUDY_INFERENCE_SOFT_TIME_LIMIT or give the worker more CPU.")
        logger.warning("prediction %s of case %s timed out", prediction_id, case_id)
    except PackageError as error:
        # A broken package fails the same way every time, so it is not retried.
        _fail(prediction_id, f"The model package failed to load: {error}")
        logger.warning("prediction %s: model version %s failed to load: %s",
                       prediction_id, prediction.model_version, error)
    except ValueError as error:
        # NoLungSliceError, a case without stored images, or a volume that is not a CT.
        _fail(prediction_id, str(error))
        logger.info("prediction %s of case %s failed: %s", prediction_id, case_id, error)
    except TRANSIENT_ERRORS as error:
        return _retry_or_fail(self, prediction_id, error)
    except Exception as error:
        logger.exception("prediction %s of case %s crashed", prediction_id, case_id)
        _fail(prediction_id, f"Unexpected error ({type(error).__name__}: {error}). "
              "The worker log has the traceback.")
    else:
        logger.info("prediction %s of case %s done", prediction_id, case_id)

    status = Prediction.objects.filter(pk=prediction_id).values_list("status", flat=True).first()
    return status or "missing"


def _retry_or_fail(task, prediction_id: int, error: Exception) -> str:
    if task.request.retries >= conf.MAX_RETRIES:
        logger.error("prediction %s: database error after %d retries: %s", prediction_id, task.request.retries, error)
        try:
            _fail(prediction_id, f"Database error after {task.request.retries} retries: {error}")
        except TRANSIENT_ERRORS:
            logger.error("prediction %s could not be marked failed; it is marked when it goes stale", prediction_id)
        return Prediction.Status.FAILED

    logger.warning("prediction %s: database error, retry %d: %s", prediction_id, task.request.retries + 1, error)
    try:
        # Hand the row back, so that the retry may claim it in whichever process receives it.
        # The attempt does not count towards the limit on lost workers.
        Prediction.objects.filter(
            pk=prediction_id, status=Prediction.Status.RUNNING, worker_pid=os.getpid()
        ).update(status=Prediction.Status.QUEUED, attempts=F("attempts") - 1)
    except TRANSIENT_ERRORS:
        logger.warning("prediction %s could not be handed back; the retry waits for it", prediction_id)
    raise task.retry(exc=error, countdown=_backoff_seconds(task.request.retries))
