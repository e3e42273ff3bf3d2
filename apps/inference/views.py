"""Model versions for coordinators, the case review with heat maps, and heat-map images.

Pages with AI output return 404 to users without the reviewer or coordinator role, the
same response as for a case that does not exist, so a reader learns nothing from them. A
reader gets heat maps only from :func:`reader_heatmap`, which checks the reader's arm.
"""
from __future__ import annotations

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.roles import Role, roles_of
from apps.cases.models import Case
from apps.imaging.models import Instance
from apps.inference import services
from apps.inference.models import ModelVersion, Prediction
from apps.inference.reader_ai import heatmap_overlay_config, reader_may_see_heatmap
from apps.studies.views import instance_query

logger = logging.getLogger(__name__)


def _roles_or_404(*allowed: Role):
    """Let users with one of the roles through and return 404 to everyone else who is logged in."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not roles_of(request.user) & set(allowed):
                raise Http404("No such page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


coordinator_only = _roles_or_404(Role.COORDINATOR)
reviewers_only = _roles_or_404(Role.REVIEWER, Role.COORDINATOR)


def _png(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- coordinator ---------------------------------------------------------------------------


@coordinator_only
def versions(request: HttpRequest) -> HttpResponse:
    services.mark_stale_predictions_failed()
    all_versions = list(ModelVersion.objects.order_by("-registered_at"))
    counts: dict[int, dict[str, int]] = {}
    for row in Prediction.objects.values("model_version", "status").annotate(n=Count("pk")):
        counts.setdefault(row["model_version"], {})[row["status"]] = row["n"]
    for version in all_versions:
        version.status_counts = counts.get(version.pk, {})

    selected_version = None
    if request.GET.get("version"):
        selected_version = next((v for v in all_versions if str(v.pk) == request.GET["version"]), None)
        if selected_version is None:
            raise Http404("No such model version.")
    selected_version = selected_version or next((v for v in all_versions if v.is_active), None)
    rows = []
    if selected_version is not None:
        predictions = {p.case_id: p for p in Prediction.objects.filter(model_version=selected_version)}
        for case in Case.objects.order_by("public_id"):
            rows.append({"case": case, "prediction": predictions.get(case.pk)})
    context = {
        "versions": all_versions,
        "selected_version": selected_version,
        "rows": rows,
        "case_count": Case.objects.count(),
    }
    return render(request, "inference/versions.html", context)


@coordinator_only
@require_POST
def activate(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    services.activate_model_version(version)
    messages.success(request, f"{version} is now the active model version.")
    logger.info("model version %s activated by user %s", version, request.user.pk)
    return redirect(f"{reverse('inference:versions')}?version={version.pk}")


@coordinator_only
@require_POST
def run_version(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    case_ids = list(Case.objects.values_list("pk", flat=True))
    queued = services.queue_predictions_for_cases(case_ids, model_version=version, rerun_failed=True)
    messages.success(
        request,
        f"Queued {len(queued)} prediction(s) by {version}; cases already predicted, queued or running were left as they are.",
    )
    logger.info("user %s queued %d prediction(s) by %s", request.user.pk, len(queued), version)
    return redirect(f"{reverse('inference:versions')}?version={version.pk}")


# --- reviewer ------------------------------------------------------------------------------


def _prediction_for_review(request: HttpRequest, case: Case) -> tuple[Prediction | None, ModelVersion | None]:
    if request.GET.get("version"):
        version = ModelVersion.objects.filter(pk=request.GET["version"]).first()
        if version is None:
            raise Http404("No such model version.")
    else:
        version = services.active_model_version()
    if version is None:
        return None, None
    prediction = Prediction.objects.filter(case=case, model_version=version).first()
    return prediction, version


@reviewers_only
def review_list(request: HttpRequest) -> HttpResponse:
    services.mark_stale_predictions_failed()
    version = services.active_model_version()
    predictions = {}
    if version is not None:
        predictions = {p.case_id: p for p in Prediction.objects.filter(model_version=version)}
    rows = [{"case": case, "prediction": predictions.get(case.pk)} for case in Case.objects.order_by("public_id")]
    return render(request, "inference/review_list.html", {"version": version, "rows": rows})


@reviewers_only
def review_case(request: HttpRequest, public_id: str) -> HttpResponse:
    services.mark_stale_predictions_failed()
    case = get_object_or_404(Case, public_id=public_id)
    prediction, version = _prediction_for_review(request, case)

    # The same order as the reader's page: the first image is the highest position along the normal.
    instances = Instance.objects.filter(series__case=case).select_related("series").order_by("-index")
    wado_url = request.build_absolute_uri(reverse("imaging:wado"))
    image_ids = [f"wadouri:{wado_url}?{instance_query(instance)}" for instance in instances]
    if not image_ids:
        raise Http404(f"Case {case.public_id} has no stored images.")

    overlay = None
    if prediction is not None and prediction.status == Prediction.Status.DONE:
        overlay = heatmap_overlay_config(
            prediction,
            url_for=lambda index: reverse(
                "inference:prediction_heatmap", kwargs={"prediction_id": prediction.pk, "instance_index": index}
            ),
        )
    context = {
        "case": case,
        "version": version,
        "prediction": prediction,
        "viewer_config": {"imageIds": image_ids, "startIndex": 0, "windowPreset": "lung"},
        "overlay_config": overlay,
    }
    return render(request, "inference/review_case.html", context)


@reviewers_only
def prediction_heatmap(request: HttpRequest, prediction_id: int, instance_index: int) -> HttpResponse:
    prediction = get_object_or_404(Prediction, pk=prediction_id, status=Prediction.Status.DONE)
    heatmap = services.load_heatmap(prediction, instance_index)
    if heatmap is None:
        raise Http404(f"Slice {instance_index} is not one of the selected slices of this prediction.")
    return _png(services.heatmap_png(heatmap))


# --- reader --------------------------------------------------------------------------------


def reader_heatmap(request: HttpRequest, assignment_id: int, public_id: str, instance_index: int) -> HttpResponse:
    """Serve a heat map to a reader whose arm shows heat maps, after the unaided call if the arm requires it."""
    from apps.studies.models import Assignment

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    assignment = Assignment.objects.select_related("arm").filter(pk=assignment_id, reader=request.user).first()
    case = Case.objects.filter(public_id=public_id).first()
    # One response for every rejection, so a reader cannot tell a hidden heat map from a missing one.
    if assignment is None or case is None or not reader_may_see_heatmap(assignment, case):
        raise Http404("No such heat map.")
    version = services.active_model_version()
    prediction = Prediction.objects.filter(case=case, model_version=version, status=Prediction.Status.DONE).first()
    heatmap = services.load_heatmap(prediction, instance_index) if prediction is not None else None
    if heatmap is None:
        raise Http404("No such heat map.")
    return _png(services.heatmap_png(heatmap))
