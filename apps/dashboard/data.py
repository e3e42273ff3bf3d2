"""The numbers of one study, fetched from the database into arrays aligned by case.

Every array has one entry per case of the study, in the order of ``public_ids``;
NaN marks a value that does not exist yet (no truth, no read, no prediction).
The statistics in :mod:`apps.dashboard.analysis` work on these arrays only, so the
benchmark can build the same structure in memory without a database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Count, Max

from apps.cases.models import Case, ClinicalRecord, GroundTruth
from apps.inference.models import ModelVersion, Prediction
from apps.studies.models import Assignment, Read, ReaderStudy

# Output labels of the model: CT model, clinical model, joint model.
AI_OUTPUTS = {"P1": "CT model", "P2": "clinical model", "P3": "joint model"}


@dataclass
class ReaderReads:
    """One assignment's reads: a reader in an arm."""

    assignment_id: int
    reader: str
    arm: str
    calls: np.ndarray
    """1.0 for a positive call, 0.0 for a negative call, NaN where the case is not read."""
    scores: np.ndarray
    """Confidence on a 0–100 scale, 100 sure positive (``Read.score``); NaN where not read."""

    @property
    def n_reads(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.calls)))


@dataclass
class StudyData:
    """Everything the dashboard computes from, without source identifiers."""

    study_id: int
    title: str
    public_ids: list[str]
    truth: np.ndarray
    """1.0 positive, 0.0 negative, NaN where the case has no ground truth yet."""
    arms: list[str]
    readers: list[ReaderReads]
    ai: dict[str, np.ndarray] = field(default_factory=dict)
    """P1, P2, P3 of the active model version; NaN where a case has no finished prediction."""
    model_version: str | None = None
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    """Subgroup flags; a case without the flag counts as outside the subgroup."""
    clinical: pd.DataFrame | None = None
    """Numeric clinical features, one row per case; NaN where missing."""
    n_illustrative: int = 0
    """Clinical records whose values are made up for a demonstration."""

    @property
    def n_cases(self) -> int:
        return len(self.public_ids)


# Sex is coded male = 1 so that the characteristics table can fit it as a 0/1 feature.
CLINICAL_COLUMNS = {
    "age": "age (years)",
    "male": "male sex",
    "exposure": "exposure history",
    "fever": "fever",
    "cough": "cough",
    "sputum": "cough with sputum",
    "temperature": "temperature (°C)",
    "wbc": "white blood cells (10^9/L)",
    "neutrophils": "neutrophils (10^9/L)",
    "neutrophil_pct": "neutrophils (%)",
    "lymphocytes": "lymphocytes (10^9/L)",
    "lymphocyte_pct": "lymphocytes (%)",
}


# A 1-5 rating counts as a positive call at 4 (probably positive) or 5 (definitely positive).
LIKERT_POSITIVE = 4


def score_of(call: str, confidence: int | None, rating: int | None) -> float:
    """Return the 0-100 score of an answer, the same mapping as ``Read.score``.

    A call with confidence c scores 50 + c/2 (positive) or 50 - c/2 (negative);
    a 1-5 rating r scores 25 (r - 1).
    """
    if rating is not None:
        return (rating - 1) * 25.0
    if call == Read.Call.POSITIVE:
        return 50 + (confidence or 0) / 2
    return 50 - (confidence or 0) / 2


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()


def fetch_study_data(study: ReaderStudy) -> StudyData:
    """Load a study's cases, truth, reads, predictions, flags and clinical records."""
    cases = list(study.cases.order_by("pk").values_list("pk", "public_id", "flags"))
    position = {pk: index for index, (pk, _, _) in enumerate(cases)}
    n_cases = len(cases)

    truth = np.full(n_cases, np.nan)
    for case_id, positive in GroundTruth.objects.filter(case__studies=study).values_list(
        "case_id", "positive"
    ):
        truth[position[case_id]] = 1.0 if positive else 0.0

    flag_names = sorted({name for _, _, flags in cases for name in (flags or {})})
    flags = {
        name: np.array([bool((flags or {}).get(name)) for _, _, flags in cases])
        for name in flag_names
    }

    assignments = list(
        Assignment.objects.filter(study=study)
        .select_related("reader", "arm")
        .order_by("arm__position", "arm__pk", "reader__username")
    )
    readers: dict[int, ReaderReads] = {
        a.pk: ReaderReads(
            assignment_id=a.pk,
            reader=a.reader.username,
            arm=a.arm.name,
            calls=np.full(n_cases, np.nan),
            scores=np.full(n_cases, np.nan),
        )
        for a in assignments
    }
    # Scored reads only: the current version of the final stage of each study case.
    reads = (
        Read.objects.scored()
        .filter(assignment__study=study)
        .values_list("assignment_id", "case_id", "call", "confidence", "rating")
    )
    for assignment_id, case_id, call, confidence, rating in reads:
        if case_id not in position or assignment_id not in readers:
            continue
        index = position[case_id]
        score = score_of(call, confidence, rating)
        readers[assignment_id].scores[index] = score
        if rating is not None:
            readers[assignment_id].calls[index] = 1.0 if rating >= LIKERT_POSITIVE else 0.0
        else:
            readers[assignment_id].calls[index] = 1.0 if call == Read.Call.POSITIVE else 0.0

    ai: dict[str, np.ndarray] = {}
    model_version = active_model_version()
    if model_version is not None:
        outputs = {name: np.full(n_cases, np.nan) for name in AI_OUTPUTS}
        predictions = Prediction.objects.filter(
            model_version=model_version, status=Prediction.Status.DONE, case__studies=study
        ).values_list("case_id", "p1", "p2", "p3")
        for case_id, p1, p2, p3 in predictions:
            for name, value in zip(AI_OUTPUTS, (p1, p2, p3), strict=True):
                if value is not None:
                    outputs[name][position[case_id]] = value
        # An output no case has yet (no prediction finished) is left out, not shown as empty.
        ai = {name: values for name, values in outputs.items() if not np.isnan(values).all()}

    clinical, n_illustrative = _clinical_frame(study, position)
    return StudyData(
        study_id=study.pk,
        title=study.title,
        public_ids=[public_id for _, public_id, _ in cases],
        truth=truth,
        arms=list(study.arms.order_by("position", "pk").values_list("name", flat=True)),
        readers=list(readers.values()),
        ai=ai,
        model_version=str(model_version) if model_version is not None else None,
        flags=flags,
        clinical=clinical,
        n_illustrative=n_illustrative,
    )


def _clinical_frame(
    study: ReaderStudy, position: dict[int, int]
) -> tuple[pd.DataFrame | None, int]:
    records = list(
        ClinicalRecord.objects.filter(case__studies=study).values(
            "case_id", "illustrative", *ClinicalRecord.FEATURES
        )
    )
    if not records:
        return None, 0
    frame = pd.DataFrame.from_records(records)
    frame["male"] = frame["sex"].map({"M": 1.0, "F": 0.0})
    frame.index = frame["case_id"].map(position)
    # Cases without a record get a row of NaN; booleans and None become 1.0, 0.0 and NaN.
    frame = frame[list(CLINICAL_COLUMNS)].astype(float).reindex(range(len(position)))
    return frame, int(sum(1 for record in records if record["illustrative"]))


def data_fingerprint(study: ReaderStudy) -> str:
    """Return a short hash that changes whenever a read, a truth or a prediction changes.

    The refreshing page sends it back, so an unchanged study costs a few aggregate
    queries instead of a full recomputation.

    NOTE: an edit of subgroup flags or clinical records alone leaves it unchanged, so
    such an edit shows on the next page load rather than on the next refresh.
    """
    reads = Read.objects.filter(assignment__study=study).aggregate(
        n=Count("pk"), last=Max("pk"), submitted=Max("submitted_at")
    )
    truth = GroundTruth.objects.filter(case__studies=study).aggregate(
        n=Count("pk"), updated=Max("updated_at")
    )
    model_version = active_model_version()
    predictions = Prediction.objects.filter(
        case__studies=study, status=Prediction.Status.DONE, model_version=model_version
    ).aggregate(n=Count("pk"), finished=Max("finished_at"), last=Max("pk"))
    parts = [
        study.cases.count(),
        Assignment.objects.filter(study=study).count(),
        reads,
        truth,
        model_version.pk if model_version else None,
        predictions,
        Case.objects.filter(studies=study).aggregate(last=Max("pk")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
