"""ROC figure of the AI outputs with the readers' operating points, drawn by matplotlib.

The figure is rendered on the server (Agg backend) as SVG for the page and as
SVG or PNG for download, so the page loads nothing from another host.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.figure import Figure

from apps.dashboard.analysis import DashboardResult

# False-positive rates at which the readers' curves are averaged (vertical averaging).
AVERAGING_GRID = np.linspace(0.0, 1.0, 201)
ARM_MARKERS = ("o", "s", "^", "D", "v", "P")


def averaged_reader_curve(curves: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Return the mean true-positive rate of several ROC curves on ``AVERAGING_GRID``.

    Each curve is interpolated linearly between its points, which is the
    Mann–Whitney (trapezoidal) curve, so the area under the average equals the
    mean of the readers' AUCs up to the grid resolution.
    """
    rates = []
    for fpr, tpr in curves:
        # np.interp needs increasing x; at a repeated FPR the curve is vertical, so keep the top.
        order = np.lexsort((tpr, fpr))
        rates.append(np.interp(AVERAGING_GRID, fpr[order], tpr[order]))
    return np.mean(rates, axis=0)


def roc_figure(result: DashboardResult) -> Figure | None:
    """Draw the ROC figure, or return None when no rater has a curve or a point."""
    ai_curves = [
        (row.rater.label, row.auc_point, row.roc)
        for row in result.per_rater
        if row.rater.kind == "ai" and row.roc is not None
    ]
    # (arm, 1 - specificity, sensitivity, ROC curve of the confidence or None) per reader.
    reader_points = [
        (
            row.rater.arm,
            1 - row.metrics.specificity.estimate,
            row.metrics.sensitivity.estimate,
            row.roc,
        )
        for row in result.per_rater
        if row.rater.kind == "reader"
        and row.metrics is not None
        and row.metrics.sensitivity is not None
        and row.metrics.specificity is not None
    ]
    if not ai_curves and not reader_points:
        return None

    figure = Figure(figsize=(5.5, 5.0), dpi=100)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="0.75", linewidth=0.8, linestyle=":")
    colours = iter(f"C{index}" for index in range(10))
    for label, auc, roc in ai_curves:
        axes.plot(
            roc.fpr, roc.tpr, linewidth=1.6, label=f"{label}, AUC {auc:.3f}", color=next(colours)
        )

    arms = list(dict.fromkeys(point[0] for point in reader_points))
    for index, arm in enumerate(arms):
        points = [point for point in reader_points if point[0] == arm]
        marker = ARM_MARKERS[index % len(ARM_MARKERS)]
        # An arm's operating points and its averaged curve share one colour.
        colour = next(colours, "0.3")
        axes.scatter(
            [point[1] for point in points],
            [point[2] for point in points],
            marker=marker,
            color=colour,
            s=36,
            edgecolor="black",
            linewidth=0.6,
            zorder=3,
            label=f"readers' calls ({arm})" if len(arms) > 1 else "readers' calls",
        )
        curves = [(roc.fpr, roc.tpr) for _, _, _, roc in points if roc is not None]
        if len(curves) >= 2:
            axes.plot(
                AVERAGING_GRID,
                averaged_reader_curve(curves),
                linestyle="--",
                color=colour,
                linewidth=1.4,
                label=f"averaged reader curve ({arm})"
                if len(arms) > 1
                else "averaged reader curve",
            )

    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_aspect("equal")
    axes.set_xlabel("1 − specificity")
    axes.set_ylabel("sensitivity")
    axes.legend(loc="lower right", fontsize=7, frameon=False)
    figure.tight_layout()
    return figure


def render(figure: Figure, fmt: str, *, metadata: dict[str, str]) -> bytes:
    """Render a figure as ``"svg"`` or ``"png"`` bytes with the export's provenance as metadata."""
    buffer = io.BytesIO()
    if fmt == "svg":
        # SVG accepts Dublin Core keys only; the provenance goes into Description.
        svg_metadata = {
            "Title": metadata.get("study", ""),
            "Date": metadata.get("exported_at", ""),
            "Creator": metadata.get("software", ""),
            "Description": "; ".join(f"{key}: {value}" for key, value in metadata.items()),
        }
        figure.savefig(buffer, format="svg", metadata=svg_metadata)
    else:
        figure.savefig(buffer, format="png", dpi=300, metadata=dict(metadata))
    return buffer.getvalue()
