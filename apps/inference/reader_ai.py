"""Model output for readers: the joint probability and heat maps, as the study arm allows.

Every AI value that reaches a reader passes through :func:`reader_ai_context` or
:func:`reader_may_see_heatmap`, so an arm that does not show AI output gets none from any
page or endpoint of this app.
"""
from __future__ import annotations

from django.urls import reverse

from apps.cases.models import Case
from apps.imaging.models import Instance
from apps.inference.models import Prediction
from apps.inference.services import HEATMAP_COLORMAP, active_model_version, colorbar_stops


def unaided_read_locked(assignment, case: Case) -> bool:
    """Return whether the reader has stored a read of the case in this assignment.

    A stored read cannot be changed, so it is the locked unaided call.
    """
    from apps.studies.models import Read

    return Read.objects.filter(assignment=assignment, case=case).exists()


def _arm_allows(arm, *, unaided_read_locked: bool) -> bool:
    if not (arm.shows_ai_probability or arm.shows_heatmap):
        return False
    return unaided_read_locked or not arm.ai_after_unaided_call


def _done_prediction(case: Case) -> Prediction | None:
    model_version = active_model_version()
    if model_version is None:
        return None
    return (
        Prediction.objects.select_related("model_version")
        .filter(case=case, model_version=model_version, status=Prediction.Status.DONE)
        .first()
    )


def reader_may_see_heatmap(assignment, case: Case) -> bool:
    """Return whether the arm shows heat maps to this reader for this case now."""
    if case.pk not in assignment.case_order or not assignment.arm.shows_heatmap:
        return False
    return _arm_allows(assignment.arm, unaided_read_locked=unaided_read_locked(assignment, case))


def reader_ai_context(assignment, case: Case, *, unaided_read_locked: bool) -> dict | None:
    """Return the AI output that the reader's arm allows for this case, or None.

    The result is None in four cases. The arm shows no AI output. The arm shows it only
    after a locked unaided call, and ``unaided_read_locked`` is false. The case is not in
    the assignment. The active model version has no finished prediction of the case.

    Returns
    -------
    dict or None
        ``probability`` (the joint model's P(COVID-19), 0 to 1, or None when the arm shows
        heat maps only), ``percent`` (rounded), ``model`` (name and version), and
        ``heatmap`` (None, or the overlay configuration for templates/inference/_reader_ai_panel.html
        with one PNG URL per selected slice, keyed by SOP Instance UID).
    """
    arm = assignment.arm
    if case.pk not in assignment.case_order or not _arm_allows(arm, unaided_read_locked=unaided_read_locked):
        return None
    prediction = _done_prediction(case)
    if prediction is None:
        return None

    context: dict = {
        "probability": prediction.p3 if arm.shows_ai_probability else None,
        "percent": round(100 * prediction.p3) if arm.shows_ai_probability else None,
        "model": str(prediction.model_version),
        "heatmap": None,
    }
    if arm.shows_heatmap:
        context["heatmap"] = heatmap_overlay_config(
            prediction,
            url_for=lambda index: reverse(
                "inference:reader_heatmap",
                kwargs={"assignment_id": assignment.pk, "public_id": case.public_id, "instance_index": index},
            ),
        )
    return context


def heatmap_overlay_config(prediction: Prediction, *, url_for) -> dict:
    """Build the overlay module's configuration: one entry per selected slice, most abnormal first."""
    instances = dict(
        Instance.objects.filter(series__case=prediction.case, index__in=prediction.selected_slices).values_list(
            "index", "sop_instance_uid"
        )
    )
    slice_count = prediction.case.series.slice_count
    slices = []
    for rank, index in enumerate(prediction.selected_slices, start=1):
        if index not in instances:
            continue
        slices.append(
            {
                "rank": rank,
                "instanceIndex": index,
                # The viewer lists slices from the head end and counts from 1, so instance
                # index 0 (the feet end) is the last slice the counter shows.
                "viewerSlice": slice_count - index,
                "sopInstanceUid": instances[index],
                "url": url_for(index),
                "probability": prediction.slice_probabilities.get(str(index)),
            }
        )
    return {"slices": slices, "colormap": HEATMAP_COLORMAP, "colorbar": colorbar_stops(), "opacity": 0.4}
