"""Coordinator dashboard: progress and accuracy per reader, over the reads so far."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role
from apps.dashboard.metrics import summarise_study
from apps.studies.models import ReaderStudy


@role_required(Role.COORDINATOR)
def index(request: HttpRequest) -> HttpResponse:
    studies = ReaderStudy.objects.filter(coordinators=request.user).order_by("title")
    return render(request, "dashboard/index.html", {"studies": studies})


@role_required(Role.COORDINATOR)
def study_dashboard(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(ReaderStudy, pk=study_id, coordinators=request.user)
    context = {
        "study": study,
        "summaries": summarise_study(study),
        "case_count": study.cases.count(),
        "cases_with_truth": study.cases.filter(ground_truth__isnull=False).count(),
    }
    return render(request, "dashboard/study.html", context)
