"""Reading workflow: which case comes next, and storing a read exactly once."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.cases.models import Case
from apps.studies.models import Assignment, CaseOpening, Read, ReaderStudy


class ReadRejected(Exception):
    """A read that the study's rules do not allow; the message is shown to the reader."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(assignment: Assignment) -> Progress:
    done = Read.objects.filter(assignment=assignment).values("case").distinct().count()
    return Progress(done=done, total=len(assignment.case_order))


def next_case(assignment: Assignment) -> Case | None:
    """Return the first case in the reader's order that has no read yet."""
    read_ids = set(Read.objects.filter(assignment=assignment).values_list("case_id", flat=True))
    for case_id in assignment.case_order:
        if case_id not in read_ids:
            return Case.objects.get(pk=case_id)
    return None


def open_case(assignment: Assignment, case: Case) -> CaseOpening:
    """Record the first opening of a case; later openings keep the first time."""
    try:
        with transaction.atomic():
            opening, _ = CaseOpening.objects.get_or_create(assignment=assignment, case=case)
    except IntegrityError:
        # Two tabs opened the case at once; the other request stored the opening.
        opening = CaseOpening.objects.get(assignment=assignment, case=case)
    return opening


def submit_read(
    *,
    assignment: Assignment,
    case: Case,
    call: str,
    confidence: int,
    active_seconds: int | None,
) -> tuple[Read, bool]:
    """Store the reader's call once; return the read and whether it was created now.

    A double click or a retried request finds the first read through the
    unique constraint on (assignment, case) and changes nothing.
    """
    if assignment.study.status != ReaderStudy.Status.OPEN:
        raise ReadRejected(
            f"The study '{assignment.study.title}' is {assignment.study.status}, so it accepts no reads."
        )
    if case.pk not in assignment.case_order:
        raise ReadRejected(f"Case {case.public_id} is not part of this assignment.")

    existing = Read.objects.filter(assignment=assignment, case=case).first()
    if existing is not None:
        return existing, False

    opening = open_case(assignment, case)
    submitted_at = timezone.now()
    try:
        with transaction.atomic():
            read = Read.objects.create(
                assignment=assignment,
                case=case,
                call=call,
                confidence=confidence,
                opened_at=opening.opened_at,
                submitted_at=submitted_at,
                reading_seconds=(submitted_at - opening.opened_at).total_seconds(),
                active_seconds=active_seconds,
            )
    except IntegrityError:
        return Read.objects.get(assignment=assignment, case=case), False
    return read, True
