"""Per-reader accuracy of a study, from the reads stored so far.

A compact per-assignment summary for callers outside the dashboard page; the
page itself uses :mod:`apps.dashboard.analysis`, which covers every rater.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.cases.models import GroundTruth
from apps.dashboard.data import LIKERT_POSITIVE
from apps.studies.models import Assignment, Read, ReaderStudy
from readerstats.errors import ReaderStatsError
from readerstats.proportions import ProportionEstimate, clopper_pearson
from readerstats.roc import AUCEstimate, auc_delong, delong_components


@dataclass(frozen=True)
class ReaderSummary:
    assignment: Assignment
    reads: int
    reads_without_truth: int
    true_positive: int
    false_negative: int
    true_negative: int
    false_positive: int
    sensitivity: ProportionEstimate | None
    specificity: ProportionEstimate | None
    auc: AUCEstimate | None
    auc_point: float | None
    auc_note: str


def _proportion_or_none(successes: int, total: int) -> ProportionEstimate | None:
    return clopper_pearson(successes, total) if total else None


def _called_positive(read: Read) -> bool:
    if read.rating is not None:
        return read.rating >= LIKERT_POSITIVE
    return read.call == Read.Call.POSITIVE


def summarise_reader(assignment: Assignment, truth_by_case: dict[int, bool]) -> ReaderSummary:
    reads = list(
        Read.objects.scored()
        .filter(assignment=assignment)
        .only("case_id", "call", "confidence", "rating")
    )
    scored = [
        (truth_by_case[r.case_id], _called_positive(r), r)
        for r in reads
        if r.case_id in truth_by_case
    ]

    tp = sum(1 for positive, called, _ in scored if positive and called)
    fn = sum(1 for positive, called, _ in scored if positive and not called)
    tn = sum(1 for positive, called, _ in scored if not positive and not called)
    fp = sum(1 for positive, called, _ in scored if not positive and called)

    auc: AUCEstimate | None = None
    auc_point: float | None = None
    auc_note = ""
    truth = [positive for positive, _, _ in scored]
    scores = [r.score for _, _, r in scored]
    try:
        auc = auc_delong(scores, truth)
        auc_point = auc.auc
    except ReaderStatsError as error:
        auc_note = str(error)
        if any(truth) and not all(truth):
            # Both classes are present but too few for a variance: the point estimate still holds.
            auc_point = delong_components(scores, truth).auc

    return ReaderSummary(
        assignment=assignment,
        reads=len(reads),
        reads_without_truth=len(reads) - len(scored),
        true_positive=tp,
        false_negative=fn,
        true_negative=tn,
        false_positive=fp,
        sensitivity=_proportion_or_none(tp, tp + fn),
        specificity=_proportion_or_none(tn, tn + fp),
        auc=auc,
        auc_point=auc_point,
        auc_note=auc_note,
    )


def summarise_study(study: ReaderStudy) -> list[ReaderSummary]:
    truth_by_case = dict(
        GroundTruth.objects.filter(case__studies=study).values_list("case_id", "positive")
    )
    assignments = study.assignments.select_related("reader", "arm").order_by(
        "arm__name", "reader__username"
    )
    return [summarise_reader(assignment, truth_by_case) for assignment in assignments]
