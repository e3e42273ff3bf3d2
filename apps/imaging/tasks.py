"""Celery tasks of the imaging app; they take primary keys and re-fetch rows."""
from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.imaging.models import ImportJob

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=3600, time_limit=3700)
def run_import_job(job_id: int) -> str:
    """Run a queued import job once; a repeated delivery of a finished job does nothing."""
    from apps.imaging.importer import ImportFailed, import_source

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("import job %s no longer exists; nothing to do", job_id)
            return "missing"
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            logger.info("import job %s is already %s; skipping the repeated delivery", job_id, job.status)
            return job.status
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])

    logger.info("import job %s started: %s", job_id, job.source_name)
    try:
        report = import_source(
            source=job.source_path,
            clinical_csv=job.clinical_path or None,
            study=job.study,
        )
    except ImportFailed as error:
        job.status = ImportJob.Status.FAILED
        job.error = str(error)
        job.report = error.report
        logger.info("import job %s failed: %s", job_id, error)
    except Exception as error:
        job.status = ImportJob.Status.FAILED
        job.error = f"Unexpected error ({type(error).__name__}). The log of the worker has the details."
        logger.exception("import job %s crashed", job_id)
    else:
        job.status = ImportJob.Status.DONE
        job.report = report
        logger.info("import job %s done: %s", job_id, report.get("summary"))
    job.error = _with_upload_name(job.error, job)
    if isinstance(job.report, dict) and "summary" in job.report:
        job.report["summary"] = _with_upload_name(job.report["summary"], job)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "report", "finished_at"])
    _delete_uploads(job)
    return job.status


def _with_upload_name(text: str, job: ImportJob) -> str:
    """Show the coordinator's file name where a message names the stored upload's random name."""
    stored = Path(job.source_path).name
    return text.replace(stored, job.source_name) if stored and text else text


def _delete_uploads(job: ImportJob) -> None:
    """Delete the uploaded zip and CSV once imported: they still carry the source identifiers."""
    uploads = (Path(settings.MEDIA_ROOT) / "uploads").resolve()
    for name in (job.source_path, job.clinical_path):
        if not name:
            continue
        path = Path(name).resolve()
        # Only files the upload page saved; a command-line import points at the user's own folder.
        if path.parent != uploads:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.warning("import job %s: could not delete upload %s", job.pk, path.name)
