"""Reader pages: the worklist, a case in the viewer, submitting and correcting a read."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role
from apps.cases.models import Case
from apps.imaging.models import Instance
from apps.studies import services
from apps.studies.forms import CorrectionForm, ReadForm
from apps.studies.models import Assignment, Read, ReaderStudy
from apps.studies.presenters import clinical_rows

logger = logging.getLogger(__name__)


def _own_assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    # A reader reaches only their own assignments in studies that are not drafts;
    # anything else is reported as absent.
    return get_object_or_404(
        Assignment.objects.select_related("study", "arm").exclude(study__status=ReaderStudy.Status.DRAFT),
        pk=assignment_id,
        reader=request.user,
    )


def _assigned_case(assignment: Assignment, public_id: str) -> Case:
    case = get_object_or_404(Case, public_id=public_id)
    if case.pk not in services.reading_order(assignment):
        raise Http404("No such case in this assignment.")
    return case


def reader_ai_context(assignment: Assignment, case: Case, *, unaided_read_locked: bool) -> dict | None:
    """Return the AI panel's context for this arm and stage, or None when the arm hides it."""
    arm = assignment.arm
    if not arm.shows_ai or (arm.is_sequential and not unaided_read_locked):
        return None
    try:
        from apps.inference.reader_ai import reader_ai_context as build_context
    except ImportError:
        return None
    return build_context(assignment, case, unaided_read_locked=unaided_read_locked)


@role_required(Role.READER)
def worklist(request: HttpRequest) -> HttpResponse:
    rows = []
    assignments = (
        Assignment.objects.filter(reader=request.user)
        .exclude(study__status=ReaderStudy.Status.DRAFT)
        .select_related("study", "arm")
    )
    for assignment in assignments.order_by("study__title", "arm__position", "arm__name"):
        try:
            services.check_can_read(assignment)
            blocked = ""
        except services.ReadRejected as error:
            blocked = str(error)
        rows.append({"assignment": assignment, "progress": services.progress(assignment), "blocked": blocked})
    return render(request, "studies/worklist.html", {"rows": rows})


@role_required(Role.READER)
def next_case(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, assignment_id)
    try:
        services.check_can_read(assignment)
    except services.ReadRejected as error:
        messages.error(request, str(error))
        return redirect("studies:worklist")
    case = services.next_case(assignment)
    if case is None:
        messages.success(request, f"All cases of '{assignment.study.title}' are read. Thank you.")
        return redirect("studies:worklist")
    return redirect("studies:read_case", assignment_id=assignment.pk, public_id=case.public_id)


@role_required(Role.READER)
@require_http_methods(["GET", "POST"])
def read_case(request: HttpRequest, assignment_id: int, public_id: str) -> HttpResponse:
    assignment = _own_assignment(request, assignment_id)
    case = _assigned_case(assignment, public_id)
    study = assignment.study

    form = ReadForm(request.POST or None, study=study)
    if request.method == "POST":
        if form.is_valid():
            return _submit(request, assignment, case, form)
        return _render_case(request, assignment, case, form=form, status=400)

    try:
        services.check_can_read(assignment)
        stage = services.pending_stage(assignment, case)
        if stage is not None:
            services.check_can_open(assignment, case)
    except services.ReadRejected as error:
        messages.error(request, str(error))
        if study.status != ReaderStudy.Status.OPEN:
            return redirect("studies:worklist")
        return redirect("studies:next_case", assignment_id=assignment.pk)
    if stage is not None:
        services.open_case(assignment, case)
    elif study.navigation == ReaderStudy.Navigation.FORWARD:
        messages.info(request, f"Case {case.public_id} is complete; this study is read forward only.")
        return redirect("studies:next_case", assignment_id=assignment.pk)
    return _render_case(request, assignment, case, form=form, status=200)


def _submit(request: HttpRequest, assignment: Assignment, case: Case, form: ReadForm) -> HttpResponse:
    data = form.cleaned_data
    try:
        read, created = services.submit_read(
            assignment=assignment,
            case=case,
            answer=services.Answer(call=data["call"] or "", confidence=data["confidence"], rating=data["rating"]),
            active_seconds=data["active_seconds"],
            stage=data["stage"] or None,
        )
    except services.ReadAlreadyStored as error:
        # The case page shows the stored read and, where the study allows it, the correction form.
        messages.error(request, str(error))
        return redirect("studies:read_case", assignment_id=assignment.pk, public_id=case.public_id)
    except services.ReadRejected as error:
        messages.error(request, str(error))
        if assignment.study.status != ReaderStudy.Status.OPEN:
            return redirect("studies:worklist")
        return redirect("studies:next_case", assignment_id=assignment.pk)
    if created:
        logger.info("read stored: reader=%s case=%s read=%s stage=%s", request.user.pk, case.public_id, read.pk,
                    read.stage)
    else:
        messages.info(request, f"Your read of {case.public_id} was already stored; it was kept as it was.")
    if not read.is_final:
        # Sequential design: the aided call on the same case follows the unaided one.
        return redirect("studies:read_case", assignment_id=assignment.pk, public_id=case.public_id)
    return redirect("studies:next_case", assignment_id=assignment.pk)


@role_required(Role.READER)
@require_POST
def correct_read(request: HttpRequest, assignment_id: int, public_id: str) -> HttpResponse:
    assignment = _own_assignment(request, assignment_id)
    case = _assigned_case(assignment, public_id)
    form = CorrectionForm(request.POST, study=assignment.study)
    if not form.is_valid():
        return _render_case(request, assignment, case, form=ReadForm(study=assignment.study),
                            correction_form=form, status=400)
    data = form.cleaned_data
    stage = data["stage"] or assignment.arm.stages[-1]
    read = Read.objects.current().filter(assignment=assignment, case=case, stage=stage).first()
    if read is None:
        raise Http404("No read of this case to correct.")
    try:
        services.correct_read(
            read=read,
            answer=services.Answer(call=data["call"] or "", confidence=data["confidence"], rating=data["rating"]),
            reason=data["reason"],
            active_seconds=data["active_seconds"],
        )
    except services.ReadRejected as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Your correction of {case.public_id} is stored; the earlier version is kept.")
    return redirect("studies:read_case", assignment_id=assignment.pk, public_id=case.public_id)


def _render_case(
    request: HttpRequest,
    assignment: Assignment,
    case: Case,
    *,
    form: ReadForm,
    status: int,
    correction_form: CorrectionForm | None = None,
) -> HttpResponse:
    study = assignment.study
    arm = assignment.arm
    stage = services.pending_stage(assignment, case)
    current = {read.stage: read for read in Read.objects.current().filter(assignment=assignment, case=case)}
    unaided_locked = Read.Stage.UNAIDED in current
    final_read = current.get(arm.stages[-1])

    image_ids: list[str] = []
    if arm.shows_ct:
        # Radiologists page from the lung apex towards the feet, so the viewer's
        # first image is the highest position along the normal (head for axial scans).
        instances = Instance.objects.filter(series__case=case).select_related("series").order_by("-index")
        wado_url = request.build_absolute_uri(reverse("imaging:wado"))
        image_ids = [f"wadouri:{wado_url}?{instance_query(instance)}" for instance in instances]

    order = services.reading_order(assignment)
    is_training = case.pk in assignment.training_order
    cases_list = None
    if study.navigation == ReaderStudy.Navigation.FREE:
        completed = set(
            Read.objects.current().filter(assignment=assignment, is_final=True).values_list("case_id", flat=True)
        )
        public_ids = dict(Case.objects.filter(pk__in=order).values_list("pk", "public_id"))
        cases_list = [
            {"public_id": public_ids[pk], "done": pk in completed, "current": pk == case.pk,
             "training": pk in assignment.training_order}
            for pk in order
        ]
    context = {
        "assignment": assignment,
        "study": study,
        "case": case,
        "form": form,
        "correction_form": correction_form or CorrectionForm(study=study),
        "stage": stage,
        "sequential": arm.is_sequential,
        "unaided_read": current.get(Read.Stage.UNAIDED) if arm.is_sequential else None,
        "existing": final_read,
        "can_correct": (
            final_read is not None
            and study.edit_rule == ReaderStudy.EditRule.CORRECTABLE
            and study.status == ReaderStudy.Status.OPEN
        ),
        "likert": study.answer_scale == ReaderStudy.AnswerScale.LIKERT,
        "is_training": is_training,
        "position": (assignment.training_order.index(case.pk) if is_training
                     else assignment.case_order.index(case.pk)) + 1,
        "progress": services.progress(assignment),
        "cases_list": cases_list,
        "viewer_config": {"imageIds": image_ids, "startIndex": 0, "windowPreset": "lung"},
        "clinical": clinical_rows(case) if arm.shows_clinical else None,
        "reader_ai": reader_ai_context(assignment, case, unaided_read_locked=unaided_locked),
        "read_api": {
            "api": reverse("api:read-list"),
            "assignment": assignment.pk,
            "case": case.public_id,
            "likert": study.answer_scale == ReaderStudy.AnswerScale.LIKERT,
            "next": reverse("studies:next_case", args=[assignment.pk]),
            "self": reverse("studies:read_case", args=[assignment.pk, case.public_id]),
        },
    }
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
