"""DICOM retrieval over WADO-URI, and the coordinator's zip upload."""
from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role
from apps.cases.access import can_view_case
from apps.imaging.forms import UploadForm
from apps.imaging.models import ImportJob, Instance
from apps.imaging.tasks import run_import_job

logger = logging.getLogger(__name__)

_REQUIRED_WADO_PARAMETERS = ("requestType", "studyUID", "seriesUID", "objectUID")


@login_required
@require_GET
def wado(request: HttpRequest) -> HttpResponse:
    """Return one stored slice as a DICOM Part-10 file (WADO-URI, DICOM PS3.18)."""
    missing = [name for name in _REQUIRED_WADO_PARAMETERS if not request.GET.get(name)]
    if missing:
        return HttpResponseBadRequest(
            f"Missing WADO-URI parameter(s): {', '.join(missing)}. "
            "A request needs requestType=WADO, studyUID, seriesUID and objectUID."
        )
    if request.GET["requestType"] != "WADO":
        return HttpResponseBadRequest(
            f"requestType={request.GET['requestType']!r} is not supported; use requestType=WADO."
        )
    content_type = request.GET.get("contentType", "application/dicom")
    if content_type != "application/dicom":
        return HttpResponseBadRequest(
            f"contentType={content_type!r} is not supported; this server returns application/dicom only."
        )

    instance = (
        Instance.objects.select_related("series__case")
        .filter(
            sop_instance_uid=request.GET["objectUID"],
            series__series_instance_uid=request.GET["seriesUID"],
            series__study_instance_uid=request.GET["studyUID"],
        )
        .first()
    )
    # The same response for a missing slice and a forbidden one, so UIDs cannot be probed.
    if instance is None or not can_view_case(request.user, instance.series.case):
        raise Http404("No such DICOM object.")

    response = FileResponse(instance.file.open("rb"), content_type="application/dicom")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _save_upload(uploaded, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # The stored name is random: the uploaded name may carry patient details.
    target = folder / f"{uuid.uuid4().hex}{Path(uploaded.name).suffix.lower()}"
    with target.open("wb") as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)
    return target


@role_required(Role.COORDINATOR)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        folder = settings.MEDIA_ROOT / "uploads"
        archive_path = _save_upload(form.cleaned_data["archive"], folder)
        clinical = form.cleaned_data.get("clinical")
        clinical_path = _save_upload(clinical, folder) if clinical else None
        job = ImportJob.objects.create(
            created_by=request.user,
            source_name=form.cleaned_data["archive"].name,
            source_path=str(archive_path),
            clinical_path=str(clinical_path or ""),
            study=form.cleaned_data.get("study"),
        )
        transaction.on_commit(lambda: run_import_job.delay(job.pk))
        logger.info("import job %s queued by user %s", job.pk, request.user.pk)
        return redirect("imaging:job", job_id=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user)[:20]
    status = 400 if form.is_bound else 200
    return render(request, "imaging/upload.html", {"form": form, "jobs": jobs}, status=status)


@role_required(Role.COORDINATOR)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id, created_by=request.user)
    return render(request, "imaging/job.html", {"job": job})
