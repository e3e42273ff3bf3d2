"""Export files of a study: tables (CSV, XLSX, LaTeX), figures, raw data and iMRMC input.

Every file starts with, or carries as metadata, the provenance of the export:
the study, the time of export, the software version and the model versions.
Cases appear only by their public id; source identifiers (PatientID and its
keyed hash) are never exported.
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from openpyxl import Workbook

import readerstats
from apps.dashboard.analysis import DashboardResult
from apps.dashboard.data import StudyData
from apps.dashboard.tables import TABLE_TITLES
from apps.inference.models import ModelVersion, Prediction
from apps.studies.models import Read, ReaderStudy

PACKAGE = "readerstudy"


def software_version() -> str:
    """Return the platform's version from its installed metadata, else from pyproject.toml."""
    try:
        return importlib_metadata.version(PACKAGE)
    except importlib_metadata.PackageNotFoundError:
        pass
    # A source checkout run without `pip install -e .` has no distribution metadata.
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    try:
        with pyproject.open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def provenance(study: ReaderStudy, result: DashboardResult | None = None) -> dict[str, str]:
    """Return the fields every export records, in a stable order."""
    versions = (
        ModelVersion.objects.filter(predictions__case__studies=study)
        .distinct()
        .order_by("name", "version")
    )
    active = ModelVersion.objects.filter(is_active=True).first()
    fields = {
        "study": f"{study.title} (id {study.pk})",
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": f"{PACKAGE} {software_version()}, readerstats {readerstats.__version__}",
        "active_model_version": (
            f"{active} (manifest sha256 {active.manifest_sha256[:12]})" if active else "none"
        ),
        "model_versions_with_predictions": ", ".join(str(v) for v in versions) or "none",
    }
    if result is not None:
        fields["cases_with_truth"] = (
            f"{result.n_with_truth} of {result.data.n_cases} ({result.n_positive} positive, "
            f"{result.n_negative} negative)"
        )
        fields["reference_rater"] = result.reference.label if result.reference else "none"
        fields["ai_call_threshold"] = f"{result.threshold:g}"
    return fields


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def csv_bytes(
    rows: list[dict[str, Any]], header: dict[str, str], *, columns: list[str] | None = None
) -> bytes:
    """Write rows as CSV after ``# key: value`` provenance lines (pandas: ``comment="#"``)."""
    buffer = io.StringIO()
    for key, value in header.items():
        buffer.write(f"# {key}: {value}\n")
    columns = columns or _columns(rows)
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(tables: dict[str, list[dict[str, Any]]], header: dict[str, str]) -> bytes:
    """Write one sheet per table and a first sheet with the provenance."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "provenance"
    for key, value in header.items():
        sheet.append([key, value])
    workbook.properties.title = header["study"]
    workbook.properties.creator = header["software"]
    workbook.properties.description = "; ".join(f"{k}: {v}" for k, v in header.items())
    for name, rows in tables.items():
        sheet = workbook.create_sheet(title=name[:31])
        sheet.append([TABLE_TITLES.get(name, name)])
        if not rows:
            sheet.append(["No rows: the analysis has nothing to report here yet."])
            continue
        columns = _columns(rows)
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(key)) for key in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(character, character) for character in text)


def _latex_interval(row: dict[str, Any], name: str) -> str:
    if row.get(name) is None:
        return "--"
    lower, upper = 100 * row[f"{name}_lower"], 100 * row[f"{name}_upper"]
    return f"{100 * row[name]:.1f} ({lower:.1f}--{upper:.1f})"


def _latex_p(value: float | None) -> str:
    if value is None:
        return "--"
    return "$<$0.0001" if value < 1e-4 else f"{value:.4f}"


def latex_rater_table(rows: list[dict[str, Any]], header: dict[str, str]) -> bytes:
    """Write the rater table as a booktabs LaTeX table, as a results table of a paper prints it."""
    lines = [f"% {key}: {latex_escape(value)}" for key, value in header.items()]
    lines += [
        "% Needs \\usepackage{booktabs}. Percentages with exact Clopper--Pearson 95% CIs;",
        "% AUC with DeLong 95% CI; P values against the reference rater (DeLong, exact McNemar).",
        r"\begin{table}",
        r"\centering",
        r"\begin{tabular}{lllll}",
        r"\toprule",
        (
            r"Rater & Sensitivity, \% (95\% CI) & Specificity, \% (95\% CI) & AUC (95\% CI)"
            r" & $P$ (AUC / sens. / spec.) \\"
        ),
        r"\midrule",
    ]
    for row in rows:
        if row.get("auc") is None:
            auc = "--"
        elif row.get("auc_lower") is None:
            auc = f"{row['auc']:.3f}"
        else:
            auc = f"{row['auc']:.3f} ({row['auc_lower']:.3f}--{row['auc_upper']:.3f})"
        if row.get("reference") == row["rater"]:
            pvalues = "reference"
        else:
            pvalues = " / ".join(
                _latex_p(row.get(key))
                for key in ("delong_p", "sensitivity_mcnemar_p", "specificity_mcnemar_p")
            )
        cells = [
            latex_escape(str(row["rater"])),
            _latex_interval(row, "sensitivity"),
            _latex_interval(row, "specificity"),
            auc,
            pvalues,
        ]
        lines.append(" & ".join(cells) + r" \\")
    lines += [
        r"\bottomrule",
        r"\end{tabular}",
        rf"\caption{{{latex_escape(header['study'])}: accuracy of every rater.}}",
        r"\end{table}",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def latex_generic_table(name: str, rows: list[dict[str, Any]], header: dict[str, str]) -> bytes:
    """Write any table as a LaTeX tabular with one column per field."""
    lines = [f"% {key}: {latex_escape(value)}" for key, value in header.items()]
    lines.append("% Needs \\usepackage{booktabs}.")
    columns = _columns(rows)
    lines += [
        r"\begin{table}",
        r"\centering",
        r"\small",
        rf"\begin{{tabular}}{{{'l' * max(len(columns), 1)}}}",
        r"\toprule",
    ]
    lines.append(" & ".join(latex_escape(c) for c in columns) + r" \\")
    lines.append(r"\midrule")
    for row in rows:
        cells = []
        for column in columns:
            value = _cell(row.get(column))
            cells.append(
                "--"
                if value is None
                else f"{value:.4g}"
                if isinstance(value, float)
                else latex_escape(str(value))
            )
        lines.append(" & ".join(cells) + r" \\")
    lines += [
        r"\bottomrule",
        r"\end{tabular}",
        rf"\caption{{{latex_escape(TABLE_TITLES.get(name, name))}.}}",
        r"\end{table}",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def reads_rows(study: ReaderStudy) -> list[dict[str, Any]]:
    """Return the study's scored reads in the long layout of ``python -m readerstats analyse``.

    Scored reads are the current version of the final stage of each study case
    (no training case, no superseded version). The columns ``reader``,
    ``modality`` (the arm), ``case``, ``truth`` and ``score`` are what that
    command reads; the others record the answer and its timing.
    """
    reads = (
        Read.objects.scored()
        .filter(assignment__study=study)
        .select_related("assignment__reader", "assignment__arm", "case__ground_truth")
        .order_by("assignment__arm__position", "assignment__reader__username", "case__public_id")
    )
    rows = []
    for read in reads:
        truth = getattr(read.case, "ground_truth", None)
        rows.append(
            {
                "reader": read.assignment.reader.username,
                "modality": read.assignment.arm.name,
                "case": read.case.public_id,
                "truth": "" if truth is None else int(truth.positive),
                "score": read.score,
                "call": read.call,
                "confidence": read.confidence,
                "rating": read.rating,
                "stage": read.stage,
                "version": read.version,
                "opened_at": read.opened_at.isoformat(),
                "submitted_at": read.submitted_at.isoformat(),
                "reading_seconds": read.reading_seconds,
                "active_seconds": read.active_seconds,
            }
        )
    return rows


def predictions_rows(study: ReaderStudy) -> list[dict[str, Any]]:
    """Return every prediction of every model version for the study's cases."""
    predictions = (
        Prediction.objects.filter(case__studies=study)
        .select_related("model_version", "case__ground_truth", "case")
        .order_by("model_version__name", "model_version__version", "case__public_id")
    )
    rows = []
    for prediction in predictions:
        truth = getattr(prediction.case, "ground_truth", None)
        rows.append(
            {
                "case": prediction.case.public_id,
                "truth": "" if truth is None else int(truth.positive),
                "model_version": str(prediction.model_version),
                "active": prediction.model_version.is_active,
                "status": prediction.status,
                "p1": prediction.p1,
                "p2": prediction.p2,
                "p3": prediction.p3,
                "finished_at": prediction.finished_at.isoformat() if prediction.finished_at else "",
            }
        )
    return rows


def _imrmc_label(text: str) -> str:
    # The iMRMC data lines are comma-separated with no quoting.
    return text.replace(",", ";").replace("\n", " ").strip() or "-"


def imrmc_bytes(data: StudyData, header: dict[str, str]) -> bytes:
    """Write the readers' confidence scores in the iMRMC input format.

    The file has free-text description lines, the counts ``NR`` (readers),
    ``N0`` (negative cases), ``N1`` (positive cases) and ``NM`` (modalities,
    here the arms), then ``BEGIN DATA:`` and one line per observation:
    ``readerID,caseID,modalityID,score``. Truth lines use reader ``-1`` and
    modality ``0``. Only cases with truth are written. Case IDs are the
    integers 1..N in the order of the cases' public ids, which the description
    lists, because some iMRMC readers (RJafroc) accept integer case IDs only.
    """
    with_truth = [i for i in np.argsort(data.public_ids) if not np.isnan(data.truth[i])]
    number = {index: position + 1 for position, index in enumerate(with_truth)}
    readers = sorted({r.reader for r in data.readers})
    arms = sorted({r.arm for r in data.readers})
    lines = [f"Reader study export. {key}: {value}" for key, value in header.items()]
    lines.append("Scores are the readers' confidence on 0-100, 100 sure positive (COVID-19).")
    lines.append(
        "Case numbers: " + " ".join(f"{number[i]}={data.public_ids[i]}" for i in with_truth)
    )
    lines += [
        "",
        f"NR: {len(readers)}",
        f"N0: {sum(1 for i in with_truth if data.truth[i] == 0.0)}",
        f"N1: {sum(1 for i in with_truth if data.truth[i] == 1.0)}",
        f"NM: {len(arms)}",
        "",
        "BEGIN DATA:",
    ]
    lines += [f"-1,{number[i]},0,{int(data.truth[i])}" for i in with_truth]
    for reads in sorted(data.readers, key=lambda r: (r.reader, r.arm)):
        for i in with_truth:
            if not np.isnan(reads.scores[i]):
                lines.append(
                    f"{_imrmc_label(reads.reader)},{number[i]},{_imrmc_label(reads.arm)},{reads.scores[i]:g}"
                )
    return ("\n".join(lines) + "\n").encode("utf-8")
