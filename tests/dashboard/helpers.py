"""Builders for dashboard tests: studies with reads and predictions, and an HTML cell reader."""

from __future__ import annotations

from html.parser import HTMLParser

from django.utils import timezone

from apps.cases.models import Case, ClinicalRecord, GroundTruth
from apps.inference.models import ModelVersion, Prediction
from apps.studies.models import Arm, Assignment, Read, ReaderStudy


def make_model_version(
    *, active: bool = True, name: str = "covid-joint", version: str = "1.0"
) -> ModelVersion:
    return ModelVersion.objects.create(
        name=name,
        version=version,
        package_path="/models/test",
        manifest_sha256="ab" * 32,
        is_active=active,
    )


def _answer(answer: tuple) -> dict:
    """Turn ``(call, confidence)`` or ``("rating", r)`` into Read fields."""
    if answer[0] == "rating":
        return {"call": "", "confidence": None, "rating": answer[1]}
    return {"call": answer[0], "confidence": answer[1]}


def build_study(
    coordinator,
    cases: list[dict],
    *,
    readers: dict[str, list] | None = None,
    model_version: ModelVersion | None = None,
    title: str = "Built study",
) -> ReaderStudy:
    """Create a study from per-case dicts.

    Each case dict may have ``truth`` (bool or None), ``p1``, ``p2`` and ``p3`` (float
    or None), ``flags`` and ``clinical`` (keyword arguments of ClinicalRecord). A
    prediction is stored when any of ``p1`` to ``p3`` is given. ``readers`` maps a
    reader user to a list with one ``(call, confidence)``, ``("rating", 1-5)`` or None
    per case, in the same order. A key ``(user, arm_name)`` puts the reads in that arm.
    """
    study = ReaderStudy.objects.create(title=title, seed=11)
    study.coordinators.add(coordinator)
    case_objects = []
    for index, spec in enumerate(cases):
        case = Case.objects.create(patient_key=f"hash-{title}-{index}", flags=spec.get("flags", {}))
        if spec.get("truth") is not None:
            GroundTruth.objects.create(case=case, positive=spec["truth"], source="test")
        if "clinical" in spec:
            ClinicalRecord.objects.create(case=case, **spec["clinical"])
        outputs = {key: spec.get(key) for key in ("p1", "p2", "p3")}
        if model_version is not None and any(value is not None for value in outputs.values()):
            Prediction.objects.create(
                case=case,
                model_version=model_version,
                status=Prediction.Status.DONE,
                finished_at=timezone.now(),
                **outputs,
            )
        case_objects.append(case)
    study.cases.add(*case_objects)

    now = timezone.now()
    arms: dict[str, Arm] = {}
    for key, calls in (readers or {}).items():
        user, arm_name = key if isinstance(key, tuple) else (key, "Unaided")
        if arm_name not in arms:
            arms[arm_name] = Arm.objects.create(study=study, name=arm_name)
        assignment = Assignment(study=study, arm=arms[arm_name], reader=user)
        assignment.shuffle_cases()
        assignment.save()
        Read.objects.bulk_create(
            Read(
                assignment=assignment,
                case=case,
                opened_at=now,
                submitted_at=now,
                reading_seconds=30.0,
                **_answer(answer),
            )
            for case, answer in zip(case_objects, calls, strict=True)
            if answer is not None
        )
    return study


def study_from_agreement_counts(coordinator, reader, model_version) -> ReaderStudy:
    """Rebuild the 279 test cases from the joint model's and the senior radiologist's agreement.

    Positives (134): both right 90, model right only 23, reader right only 10, both
    wrong 11. Negatives (145): both right 113, model right only 7, reader right only
    23, both wrong 2. P3 is 0.9 for a positive model call and 0.1 for a negative one;
    the reader calls with confidence 80.
    """
    positive, negative = ("positive", 80), ("negative", 80)
    layout = (
        [(True, 0.9, positive)] * 90
        + [(True, 0.9, negative)] * 23
        + [(True, 0.1, positive)] * 10
        + [(True, 0.1, negative)] * 11
        + [(False, 0.1, negative)] * 113
        + [(False, 0.1, positive)] * 7
        + [(False, 0.9, negative)] * 23
        + [(False, 0.9, positive)] * 2
    )
    cases = [{"truth": truth, "p3": p3} for truth, p3, _ in layout]
    return build_study(
        coordinator,
        cases,
        readers={reader: [call for _, _, call in layout]},
        model_version=model_version,
        title="Agreement counts",
    )


class CellReader(HTMLParser):
    """Collect the text of every ``<td>`` by (row data-rater, first td class)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self._row: str | None = None
        self._cell: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr":
            self._row = attributes.get("data-rater")
        elif tag == "td" and self._row is not None:
            classes = (attributes.get("class") or "").split()
            names = [c for c in classes if c != "num"]
            self._cell = names[0] if names else None
            self._text = []

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self.cells.setdefault((self._row, self._cell), " ".join("".join(self._text).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._text.append(data)
