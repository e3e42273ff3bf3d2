"""Reader pages: the worklist, a case in the viewer, and submitting a read."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role
from apps.cases.models import Case
from apps.imaging.models import Instance
from apps.studies import services
from apps.studies.forms import ReadForm
from apps.studies.models import Assignment, Read
from apps.studies.presenters import clinical_rows

logger = logging.getLogger(__name__)


def _own_assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    # A reader reaches only their own assignments; anything else is reported as absent.
    return get_object_or_404(
        Assignment.objects.select_related("study", "arm"), pk=assignment_id, reader=request.user
    )


@role_required(Role.READER)
def worklist(request: HttpRequest) -> HttpResponse:
    rows = []
    assignments = Assignment.objects.filter(reader=request.user).select_related("study", "arm")
    for assignment in assignments.order_by("study__title", "arm__name"):
        rows.append({"assignment": assignment, "progress": services.progress(assignment)})
    return render(request, "studies/worklist.html", {"rows": rows})


@role_required(Role.READER)
def next_case(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, assignment_id)
    case = services.next_case(assignment)
    if case is None:
        messages.success(request, f"All cases of '{assignment.study.title}' are read. Thank you.")
        return redirect("studies:worklist")
    return redirect("studies:read_case", assignment_id=assignment.pk, public_id=case.public_id)


@role_required(Role.READER)
@require_http_methods(["GET", "POST"])
def read_case(request: HttpRequest, assignment_id: int, public_id: str) -> HttpResponse:
    assignment = _own_assignment(request, assignment_id)
    case = get_object_or_404(Case, public_id=public_id)
    if case.pk not in assignment.case_order:
        raise Http404("No such case in this assignment.")

    existing = Read.objects.filter(assignment=assignment, case=case).first()
    form = ReadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            read, created = services.submit_read(
                assignment=assignment,
                case=case,
                call=form.cleaned_data["call"],
                confidence=form.cleaned_data["confidence"],
                active_seconds=form.cleaned_data["active_seconds"],
            )
        except services.ReadRejected as error:
            messages.error(request, str(error))
            return redirect("studies:worklist")
        if created:
            logger.info("read stored: reader=%s case=%s read=%s", request.user.pk, case.public_id, read.pk)
        else:
            messages.info(request, f"Your read of {case.public_id} was already stored; it was kept as it was.")
        return redirect("studies:next_case", assignment_id=assignment.pk)

    if existing is None and request.method == "GET":
        services.open_case(assignment, case)

    # Radiologists page from the lung apex towards the feet, so the viewer's
    # first image is the highest position along the normal (head for axial scans).
    instances = Instance.objects.filter(series__case=case).select_related("series").order_by("-index")
    wado_url = request.build_absolute_uri(reverse("imaging:wado"))
    image_ids = [f"wadouri:{wado_url}?{instance_query(instance)}" for instance in instances]
    position = assignment.case_order.index(case.pk) + 1
    context = {
        "assignment": assignment,
        "case": case,
        "form": form,
        "existing": existing,
        "position": position,
        "progress": services.progress(assignment),
        "viewer_config": {"imageIds": image_ids, "startIndex": 0, "windowPreset": "lung"},
        "clinical": clinical_rows(case) if assignment.arm.shows_clinical else None,
    }
    status = 400 if form.is_bound else 200
    return render(request, "studies/read_case.html", context, status=status)


def instance_query(instance: Instance) -> str:
    """Return the WADO-URI query (DICOM PS3.18) that retrieves one stored slice."""
    series = instance.series
    return urlencode(
        {
            "requestType": "WADO",
            "studyUID": series.study_instance_uid,
            "seriesUID": series.series_instance_uid,
            "objectUID": instance.sop_instance_uid,
            "contentType": "application/dicom",
        }
    )
