"""Coordinator pages: design a study, assign readers, upload ground truth, export reads and the audit log."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role
from apps.audit.log import record
from apps.studies import design, exports
from apps.studies.design_forms import (
    ArmForm,
    AssignForm,
    CasesForm,
    StatusForm,
    StudyForm,
    StudyTextForm,
    TruthUploadForm,
)
from apps.studies.models import Arm, ReaderStudy
from apps.studies.truth_csv import parse_truth_csv, store_truths

logger = logging.getLogger(__name__)


def _own_study(request: HttpRequest, study_id: int) -> ReaderStudy:
    # Coordinators reach only studies they coordinate; others are reported as absent.
    return get_object_or_404(ReaderStudy, pk=study_id, coordinators=request.user)


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(Role.COORDINATOR)
@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    studies = ReaderStudy.objects.filter(coordinators=request.user).order_by("-created_at")
    return render(request, "studies/design/list.html", {"studies": studies})


@role_required(Role.COORDINATOR)
@require_http_methods(["GET", "POST"])
def study_create(request: HttpRequest) -> HttpResponse:
    form = StudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            study = form.save(commit=False)
            study.status = ReaderStudy.Status.DRAFT
            if study.seed is None:
                study.seed = design.new_seed()
            study.save()
            study.coordinators.add(request.user)
        return redirect("design:detail", study_id=study.pk)
    return render(request, "studies/design/create.html", {"form": form}, status=400 if form.is_bound else 200)


def _detail_context(request: HttpRequest, study: ReaderStudy, **forms) -> dict:
    is_draft = study.status == ReaderStudy.Status.DRAFT
    context = {
        "study": study,
        "is_draft": is_draft,
        "study_form": StudyForm(instance=study) if is_draft else StudyTextForm(instance=study),
        "cases_form": CasesForm(initial={"cases": study.cases.exclude(pk__in=study.training_cases.all()),
                                         "training_cases": study.training_cases.all()}),
        "arm_form": ArmForm(study=study),
        "assign_form": AssignForm(study=study),
        "truth_form": TruthUploadForm(),
        "arms": study.arms.all(),
        "assignments": study.assignments.select_related("reader", "arm").order_by("reader__username", "arm__position"),
        "next_statuses": [value for value in ReaderStudy.Status.values if study.can_change_status(value)],
    }
    context.update(forms)
    return context


@role_required(Role.COORDINATOR)
@require_http_methods(["GET", "POST"])
def study_detail(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    if request.method == "GET":
        return render(request, "studies/design/detail.html", _detail_context(request, study))
    form_class = StudyForm if study.status == ReaderStudy.Status.DRAFT else StudyTextForm
    form = form_class(request.POST, instance=study)
    if not form.is_valid():
        return render(request, "studies/design/detail.html", _detail_context(request, study, study_form=form),
                      status=400)
    updated = form.save(commit=False)
    if updated.seed is None:
        updated.seed = design.new_seed()
    updated.save()
    messages.success(request, "The study settings are stored.")
    return redirect("design:detail", study_id=study.pk)


def _draft_only(request: HttpRequest, study: ReaderStudy, what: str) -> HttpResponse | None:
    try:
        design.require_draft(study, what)
    except design.DesignRejected as error:
        messages.error(request, str(error))
        return render(request, "studies/design/detail.html", _detail_context(request, study), status=409)
    return None


@role_required(Role.COORDINATOR)
@require_POST
def study_cases(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    rejected = _draft_only(request, study, "cases")
    if rejected:
        return rejected
    form = CasesForm(request.POST)
    if not form.is_valid():
        return render(request, "studies/design/detail.html", _detail_context(request, study, cases_form=form),
                      status=400)
    scored, training = list(form.cleaned_data["cases"]), list(form.cleaned_data["training_cases"])
    with transaction.atomic():
        study.cases.set(scored + training)
        study.training_cases.set(training)
    messages.success(request, f"The study has {len(scored)} scored cases and {len(training)} training cases.")
    return redirect("design:detail", study_id=study.pk)


@role_required(Role.COORDINATOR)
@require_POST
def arm_add(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    rejected = _draft_only(request, study, "arms")
    if rejected:
        return rejected
    form = ArmForm(request.POST, study=study)
    if not form.is_valid():
        return render(request, "studies/design/detail.html", _detail_context(request, study, arm_form=form),
                      status=400)
    form.save()
    return redirect("design:detail", study_id=study.pk)


@role_required(Role.COORDINATOR)
@require_POST
def arm_delete(request: HttpRequest, study_id: int, arm_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    arm = get_object_or_404(Arm, pk=arm_id, study=study)
    rejected = _draft_only(request, study, "arms")
    if rejected:
        return rejected
    arm.delete()
    return redirect("design:detail", study_id=study.pk)


@role_required(Role.COORDINATOR)
@require_POST
def reader_assign(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    form = AssignForm(request.POST, study=study)
    if not form.is_valid():
        return render(request, "studies/design/detail.html", _detail_context(request, study, assign_form=form),
                      status=400)
    arms = [form.cleaned_data["arm"]] if form.cleaned_data["arm"] else list(study.arms.all())
    if not arms:
        messages.error(request, "The study has no arms; add an arm before assigning readers.")
        return redirect("design:detail", study_id=study.pk)
    try:
        with transaction.atomic():
            for arm in arms:
                design.assign_reader(study, arm, form.cleaned_data["reader"])
    except design.DesignRejected as error:
        messages.error(request, str(error))
        return render(request, "studies/design/detail.html", _detail_context(request, study), status=409)
    return redirect("design:detail", study_id=study.pk)


@role_required(Role.COORDINATOR)
@require_POST
def study_status(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose draft, open or closed.")
        return render(request, "studies/design/detail.html", _detail_context(request, study), status=400)
    try:
        design.change_status(study, form.cleaned_data["status"])
    except design.DesignRejected as error:
        messages.error(request, str(error))
        return render(request, "studies/design/detail.html", _detail_context(request, study), status=409)
    logger.info("study %s is now %s (user %s)", study.pk, study.status, request.user.pk)
    messages.success(request, f"The study is now {study.status}.")
    return redirect("design:detail", study_id=study.pk)


@role_required(Role.COORDINATOR)
@require_POST
def study_copy(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    copy = design.copy_study(study, by=request.user, include_readers=request.POST.get("include_readers") == "on")
    messages.success(request, f"Copied '{study.title}' as a draft; edit it before opening.")
    return redirect("design:detail", study_id=copy.pk)


@role_required(Role.COORDINATOR)
@require_POST
def truth_upload(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    form = TruthUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "studies/design/detail.html", _detail_context(request, study, truth_form=form),
                      status=400)
    upload = form.cleaned_data["file"]
    parsed = parse_truth_csv(upload.read(), study=study)
    if parsed.errors:
        for error in parsed.errors[:20]:
            form.add_error("file", error)
        if len(parsed.errors) > 20:
            form.add_error("file", f"… and {len(parsed.errors) - 20} more errors. Nothing was stored.")
        else:
            form.add_error("file", "Nothing was stored; fix the file and upload it again.")
        return render(request, "studies/design/detail.html", _detail_context(request, study, truth_form=form),
                      status=400)
    changed = store_truths(parsed.truths, source=f"CSV upload by {request.user.get_username()}")
    messages.success(request, f"Ground truth read for {len(parsed.truths)} cases; {changed} stored or changed.")
    return redirect("design:detail", study_id=study.pk)


@role_required(Role.COORDINATOR)
@require_GET
def reads_export(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    record("export", study, changes={"export": "reads.csv"})
    return _csv_response(exports.reads_csv(study), f"study-{study.pk}-reads.csv")


@role_required(Role.COORDINATOR)
@require_GET
def audit_export(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _own_study(request, study_id)
    record("export", study, changes={"export": "audit.csv"})
    return _csv_response(exports.audit_csv(study), f"study-{study.pk}-audit.csv")
