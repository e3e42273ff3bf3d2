"""Coordinator dashboard: every rater's accuracy, the comparisons, MRMC, Table 1 and exports.

Only a coordinator of the study can open these pages: other roles get 403 and another
coordinator's study is 404, so its existence does not leak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from apps.accounts.permissions import role_required
from apps.accounts.roles import Role
from apps.dashboard import exports, figures
from apps.dashboard.analysis import DEFAULT_THRESHOLD, DashboardResult, analyse_study
from apps.dashboard.data import data_fingerprint, fetch_study_data
from apps.dashboard.tables import TABLE_TITLES, all_tables
from apps.studies.models import ReaderStudy

REFRESH_SECONDS = 10


@role_required(Role.COORDINATOR)
def index(request: HttpRequest) -> HttpResponse:
    studies = ReaderStudy.objects.filter(coordinators=request.user).order_by("title")
    return render(request, "dashboard/index.html", {"studies": studies})


class InvalidOption(ValueError):
    """A query parameter that the dashboard cannot use; the message names the fix."""


@dataclass
class Options:
    reference: str | None
    threshold: float

    @property
    def threshold_text(self) -> str:
        return f"{self.threshold:g}"

    def query(self) -> str:
        parts = [f"threshold={self.threshold:g}"]
        if self.reference:
            parts.append(f"reference={self.reference}")
        return "&".join(parts)


def _options(request: HttpRequest) -> Options:
    raw_threshold = request.GET.get("threshold", "").strip()
    threshold = DEFAULT_THRESHOLD
    if raw_threshold:
        try:
            threshold = float(raw_threshold)
        except ValueError:
            threshold = math.nan
        if not 0.0 <= threshold <= 1.0:
            raise InvalidOption(
                f"Invalid threshold {raw_threshold!r}: give the AI probability at or above which a "
                "case is called positive, a number from 0 to 1 such as 0.5."
            )
    reference = request.GET.get("reference", "").strip() or None
    return Options(reference=reference, threshold=threshold)


def _analyse(study: ReaderStudy, options: Options) -> DashboardResult:
    result = analyse_study(
        fetch_study_data(study), reference_key=options.reference, threshold=options.threshold
    )
    if options.reference is not None and result.rater(options.reference) is None:
        keys = [r.key for r in result.raters]
        raise InvalidOption(
            f"Unknown reference rater {options.reference!r}; "
            f"choose one of {', '.join(keys) or 'none'}."
        )
    return result


def _study_for(request: HttpRequest, study_id: int) -> ReaderStudy:
    return get_object_or_404(ReaderStudy, pk=study_id, coordinators=request.user)


def _rater_table(result: DashboardResult) -> tuple[list[tuple], list[str]]:
    """Pair each rater row with its comparison, and word the counts of missing scores."""
    comparisons = {c.rater.key: c for c in result.comparisons}
    table = [(row, comparisons.get(row.rater.key)) for row in result.per_rater]
    notes = []
    for row in result.per_rater:
        if row.rater.kind == "ai" and row.n_missing:
            notes.append(
                f"{row.rater.label}: {row.n_missing} of {result.n_with_truth} cases with truth "
                "have no prediction yet; they are left out of its metrics and of every "
                "comparison with it, for both raters."
            )
    return table, notes


def _youden_notes(result: DashboardResult) -> list[str]:
    """Word each AI output's Youden-optimal threshold with the accuracy there."""
    notes = []
    for row in result.per_rater:
        if row.youden is not None:
            youden = row.youden
            sensitivity, specificity = 100 * youden.sensitivity, 100 * youden.specificity
            notes.append(
                f"{row.rater.key} {youden.threshold:.3g} (sensitivity {sensitivity:.1f}%, "
                f"specificity {specificity:.1f}%)"
            )
    return notes


def _characteristics_rows(result: DashboardResult) -> list[dict]:
    if result.characteristics is None:
        return []
    frame = result.characteristics.to_frame()
    return [
        {**record, "label": result.characteristics_labels.get(record["feature"], record["feature"])}
        for record in frame.to_dict(orient="records")
    ]


def _context(study: ReaderStudy, result: DashboardResult, options: Options) -> dict:
    figure = figures.roc_figure(result)
    roc_svg = ""
    if figure is not None:
        roc_svg = figures.render(figure, "svg", metadata={"study": study.title}).decode()
        # Drop the XML prolog and DOCTYPE so the SVG can sit inside the HTML page.
        roc_svg = roc_svg[roc_svg.index("<svg") :]
    rater_table, missing_notes = _rater_table(result)
    return {
        "study": study,
        "result": result,
        "options": options,
        "roc_svg": roc_svg,
        "fingerprint": data_fingerprint(study),
        "refresh_seconds": REFRESH_SECONDS,
        "rater_table": rater_table,
        "missing_notes": missing_notes,
        "youden_notes": _youden_notes(result),
        "characteristics_rows": _characteristics_rows(result),
        "exports": export_links(study, options),
        "reference_choices": [(r.key, r.label) for r in result.raters],
    }


@require_GET
@role_required(Role.COORDINATOR)
def study_dashboard(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study_for(request, study_id)
    try:
        options = _options(request)
        result = _analyse(study, options)
    except InvalidOption as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    return render(request, "dashboard/study.html", _context(study, result, options))


@require_GET
@role_required(Role.COORDINATOR)
def study_panel(request: HttpRequest, study_id: int) -> HttpResponse:
    """Return the refreshing part of the page, or 204 when the data have not changed.

    The page sends the fingerprint it was rendered from; an unchanged study costs
    a few aggregate queries instead of the whole analysis.
    """
    study = _study_for(request, study_id)
    if request.GET.get("fingerprint") == data_fingerprint(study):
        return HttpResponse(status=204)
    try:
        options = _options(request)
        result = _analyse(study, options)
    except InvalidOption as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    return render(request, "dashboard/_panel.html", _context(study, result, options))


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tex": "application/x-tex; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
    "imrmc": "text/plain; charset=utf-8",
}


def _download(content: bytes, filename: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@role_required(Role.COORDINATOR)
def export(request: HttpRequest, study_id: int, name: str, extension: str) -> HttpResponse:
    """Serve one export file; ``export_links`` lists every valid name and extension."""
    study = _study_for(request, study_id)
    stem = f"{slugify(study.title) or 'study'}-{study.pk}-{name}"
    filename = f"{stem}.{extension}"

    if (name, extension) == ("reads", "csv"):
        return _download(
            exports.csv_bytes(exports.reads_rows(study), exports.provenance(study)),
            filename,
            extension,
        )
    if (name, extension) == ("predictions", "csv"):
        return _download(
            exports.csv_bytes(exports.predictions_rows(study), exports.provenance(study)),
            filename,
            extension,
        )

    try:
        options = _options(request)
        result = _analyse(study, options)
    except InvalidOption as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    header = exports.provenance(study, result)

    if (name, extension) == ("imrmc", "imrmc"):
        return _download(exports.imrmc_bytes(result.data, header), filename, extension)
    if name == "roc" and extension in ("png", "svg"):
        figure = figures.roc_figure(result)
        if figure is None:
            return HttpResponse(
                "No ROC figure yet: it needs cases of both classes with AI predictions or reads.",
                status=409,
                content_type="text/plain; charset=utf-8",
            )
        return _download(figures.render(figure, extension, metadata=header), filename, extension)

    tables = all_tables(result)
    if (name, extension) == ("tables", "xlsx"):
        return _download(exports.xlsx_bytes(tables, header), filename, extension)
    if name in tables and extension == "csv":
        return _download(exports.csv_bytes(tables[name], header), filename, extension)
    if name == "raters" and extension == "tex":
        return _download(exports.latex_rater_table(tables[name], header), filename, extension)
    if name in tables and extension == "tex":
        return _download(
            exports.latex_generic_table(name, tables[name], header), filename, extension
        )
    raise Http404(f"No export {filename!r}; the dashboard lists the available files.")


def export_links(study: ReaderStudy, options: Options) -> list[tuple[str, str]]:
    """Return (label, URL) of every export, carrying the reference and threshold."""

    def url(name: str, extension: str) -> str:
        path = reverse("dashboard:export", args=[study.pk, name, extension])
        return f"{path}?{options.query()}"

    links = [
        ("All tables (XLSX)", url("tables", "xlsx")),
        ("Rater table (LaTeX)", url("raters", "tex")),
        ("ROC figure (SVG)", url("roc", "svg")),
        ("ROC figure (PNG, 300 dpi)", url("roc", "png")),
        ("Raw reads (CSV)", url("reads", "csv")),
        ("Predictions (CSV)", url("predictions", "csv")),
        ("iMRMC input", url("imrmc", "imrmc")),
    ]
    links += [(f"{title} (CSV)", url(name, "csv")) for name, title in TABLE_TITLES.items()]
    links += [
        (f"{title} (LaTeX)", url(name, "tex"))
        for name, title in TABLE_TITLES.items()
        if name != "raters"
    ]
    return links
