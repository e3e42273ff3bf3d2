"""Reading workflow: which case comes next, the study's rules, and storing reads exactly once."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.log import record
from apps.cases.models import Case
from apps.studies.models import MAX_ACTIVE_SECONDS, Assignment, CaseOpening, Read, ReaderStudy


class ReadRejected(Exception):
    """A read that the study's rules do not allow; the message is shown to the reader."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ReadAlreadyStored(ReadRejected):
    """A new answer for a stage whose read is already stored with a different answer."""

    def __init__(self, read: Read) -> None:
        super().__init__(
            f"A read of case {read.case.public_id} ({read.stage}) is already stored as {read.answer_display}; "
            "the new answer was not stored. To change the stored read, submit a correction with a reason, "
            "which only studies with correctable reads accept."
        )
        self.read = read


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class Answer:
    call: str = ""
    confidence: int | None = None
    rating: int | None = None


def _completed_ids(assignment: Assignment) -> set[int]:
    return set(
        Read.objects.current()
        .filter(assignment=assignment, is_final=True)
        .values_list("case_id", flat=True)
    )


def progress(assignment: Assignment) -> Progress:
    """Count completed study cases: cases whose final stage has a read, training cases excluded."""
    completed = _completed_ids(assignment)
    done = sum(1 for case_id in assignment.case_order if case_id in completed)
    return Progress(done=done, total=len(assignment.case_order))


def reading_order(assignment: Assignment) -> list[int]:
    return list(assignment.training_order) + list(assignment.case_order)


def next_case(assignment: Assignment) -> Case | None:
    """Return the first case, training cases first, whose reading is not complete.

    The result depends only on stored reads, so two tabs asking at once get
    the same case, and a completed case is never served again.
    """
    completed = _completed_ids(assignment)
    for case_id in reading_order(assignment):
        if case_id not in completed:
            return Case.objects.get(pk=case_id)
    return None


def pending_stage(assignment: Assignment, case: Case) -> str | None:
    """Return the stage the case needs next in this arm, or None when it is complete."""
    done = set(
        Read.objects.current().filter(assignment=assignment, case=case).values_list("stage", flat=True)
    )
    for stage in assignment.arm.stages:
        if stage not in done:
            return stage
    return None


def washout_ends_at(assignment: Assignment) -> datetime.datetime | None:
    """Return when the reader may start this arm, or raise when an earlier arm is unfinished.

    Arms are taken in order of position; the washout runs from the reader's
    last read in an earlier arm.
    """
    earlier = Assignment.objects.filter(
        study=assignment.study, reader=assignment.reader, arm__position__lt=assignment.arm.position
    ).select_related("arm")
    for other in earlier:
        if progress(other).done < len(other.case_order):
            raise ReadRejected(
                f"Finish the arm '{other.arm.name}' first; arms are read in order, with a washout between them."
            )
    if not earlier or not assignment.study.washout_days:
        return None
    last = Read.objects.filter(assignment__in=earlier).aggregate(last=Max("submitted_at"))["last"]
    if last is None:
        return None
    try:
        return last + datetime.timedelta(days=assignment.study.washout_days)
    except OverflowError:
        # A washout stored before washout_days had a maximum can end after datetime.max;
        # such an arm never opens.
        return datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


def check_can_read(assignment: Assignment) -> None:
    """Raise ReadRejected unless the study accepts reads from this assignment now."""
    study = assignment.study
    if study.status != ReaderStudy.Status.OPEN:
        raise ReadRejected(f"The study '{study.title}' is {study.status}, so it accepts no reads.")
    ends_at = washout_ends_at(assignment)
    if ends_at is not None and timezone.now() < ends_at:
        raise ReadRejected(
            f"The washout between arms ends on {ends_at:%Y-%m-%d %H:%M} UTC; "
            f"the arm '{assignment.arm.name}' opens for you then."
        )


def check_can_open(assignment: Assignment, case: Case) -> None:
    """Raise ReadRejected when the navigation rule keeps the reader from this case now."""
    if case.pk not in reading_order(assignment):
        raise ReadRejected(f"Case {case.public_id} is not part of this assignment.")
    if assignment.study.navigation == ReaderStudy.Navigation.FREE:
        return
    upcoming = next_case(assignment)
    if upcoming is None or upcoming.pk != case.pk:
        raise ReadRejected(
            f"This study is read forward only, so case {case.public_id} cannot be opened now; "
            "continue with the next case."
        )


def open_case(assignment: Assignment, case: Case) -> CaseOpening:
    """Record the first opening of a case; later openings keep the first time."""
    # get_or_create runs its INSERT in its own savepoint. There is no outer transaction,
    # because on SQLite a transaction that reads and then writes fails when another one writes.
    try:
        opening, _ = CaseOpening.objects.get_or_create(assignment=assignment, case=case)
    except IntegrityError:
        # Two tabs opened the case at once; the other request stored the opening.
        opening = CaseOpening.objects.get(assignment=assignment, case=case)
    return opening


def validate_answer(study: ReaderStudy, answer: Answer) -> None:
    """Raise ReadRejected, naming the field, when the answer does not fit the study's scale."""
    if study.answer_scale == ReaderStudy.AnswerScale.LIKERT:
        if answer.rating is None:
            raise ReadRejected("Choose a rating from 1 (definitely negative) to 5 (definitely positive).", field="rating")
        if not 1 <= answer.rating <= 5:
            raise ReadRejected(f"Rating {answer.rating} is outside the scale; choose 1 to 5.", field="rating")
        if answer.call or answer.confidence is not None:
            raise ReadRejected("This study uses the 1–5 scale; send a rating without call or confidence.", field="call")
        return
    if answer.call not in Read.Call.values:
        raise ReadRejected(
            f"Call {answer.call!r} is not valid; choose 'positive' or 'negative'.", field="call"
        )
    if answer.confidence is None:
        raise ReadRejected("Set a confidence between 0 and 100.", field="confidence")
    if not 0 <= answer.confidence <= 100:
        raise ReadRejected(f"Confidence {answer.confidence} is outside 0–100; choose a value from 0 to 100.",
                           field="confidence")
    if answer.rating is not None:
        raise ReadRejected("This study uses a call with a confidence; send no rating.", field="rating")


def validate_active_seconds(active_seconds: int | None) -> None:
    """Raise ReadRejected when the active time is negative or longer than MAX_ACTIVE_SECONDS."""
    if active_seconds is not None and not 0 <= active_seconds <= MAX_ACTIVE_SECONDS:
        raise ReadRejected(
            f"Active seconds {active_seconds} is outside 0–{MAX_ACTIVE_SECONDS} (seven days); "
            "send the seconds the tab was visible.",
            field="active_seconds",
        )


def _resolve_stage(assignment: Assignment, stage: str | None) -> str:
    stages = assignment.arm.stages
    if stage is None:
        if len(stages) > 1:
            raise ReadRejected(
                "This arm takes an unaided call and then an aided call on each case; "
                "say which one this is with stage 'unaided' or 'aided'.",
                field="stage",
            )
        return stages[0]
    if stage not in stages:
        raise ReadRejected(
            f"Stage {stage!r} does not exist in the arm '{assignment.arm.name}'; use {' or '.join(stages)}.",
            field="stage",
        )
    return stage


def submit_read(
    *,
    assignment: Assignment,
    case: Case,
    answer: Answer,
    active_seconds: int | None = None,
    stage: str | None = None,
) -> tuple[Read, bool]:
    """Store the reader's answer for one stage once; return the read and whether it was created now.

    A double click or a retried request for the same stage finds the first
    read through the unique constraint on the current read per stage and
    changes nothing. A different answer for a stage that already has a read
    raises ReadAlreadyStored, because a change needs a correction with a reason.
    """
    check_can_read(assignment)
    stage = _resolve_stage(assignment, stage)
    if case.pk not in reading_order(assignment):
        raise ReadRejected(f"Case {case.public_id} is not part of this assignment.")

    existing = Read.objects.current().filter(assignment=assignment, case=case, stage=stage).first()
    if existing is not None:
        return _repeated_read(existing, answer), False

    check_can_open(assignment, case)
    validate_answer(assignment.study, answer)
    validate_active_seconds(active_seconds)
    stages = assignment.arm.stages
    if stage != stages[0] and pending_stage(assignment, case) != stage:
        raise ReadRejected(f"Submit the unaided call on case {case.public_id} before the aided call.", field="stage")

    opening = open_case(assignment, case)
    submitted_at = timezone.now()
    try:
        with transaction.atomic():
            read = Read.objects.create(
                assignment=assignment,
                case=case,
                stage=stage,
                is_final=stage == stages[-1],
                is_training=case.pk in assignment.training_order,
                call=answer.call,
                confidence=answer.confidence,
                rating=answer.rating,
                opened_at=opening.opened_at,
                submitted_at=submitted_at,
                reading_seconds=(submitted_at - opening.opened_at).total_seconds(),
                active_seconds=active_seconds,
            )
    except IntegrityError:
        existing = Read.objects.current().get(assignment=assignment, case=case, stage=stage)
        return _repeated_read(existing, answer), False
    return read, True


def _repeated_read(existing: Read, answer: Answer) -> Read:
    """Return the stored read when the answer repeats it; raise ReadAlreadyStored when it differs."""
    same = (
        existing.call == answer.call
        and existing.confidence == answer.confidence
        and existing.rating == answer.rating
    )
    if not same:
        raise ReadAlreadyStored(existing)
    return existing


def correct_read(*, read: Read, answer: Answer, reason: str, active_seconds: int | None = None) -> Read:
    """Store a correction as a new version of ``read``; the earlier version is kept, marked not current."""
    assignment = read.assignment
    study = assignment.study
    check_can_read(assignment)
    if study.edit_rule != ReaderStudy.EditRule.CORRECTABLE:
        raise ReadRejected(f"Reads in '{study.title}' are locked once submitted and cannot be corrected.")
    if not reason.strip():
        raise ReadRejected("Give the reason for the correction; it is kept with the new version.", field="reason")
    if assignment.arm.is_sequential and read.stage == Read.Stage.UNAIDED:
        raise ReadRejected(
            "The unaided call cannot be corrected: the AI output was shown once it was submitted."
        )
    validate_answer(study, answer)
    validate_active_seconds(active_seconds)

    with transaction.atomic():
        retired = Read.objects.filter(pk=read.pk, is_current=True).update(is_current=False)
        if retired != 1:
            raise ReadRejected(
                f"Version {read.version} of this read was already corrected; reload the case and correct the latest version."
            )
        record("update", read, changes={"is_current": [True, False]})
        submitted_at = timezone.now()
        return Read.objects.create(
            assignment=assignment,
            case=read.case,
            stage=read.stage,
            is_final=read.is_final,
            is_training=read.is_training,
            call=answer.call,
            confidence=answer.confidence,
            rating=answer.rating,
            opened_at=read.opened_at,
            submitted_at=submitted_at,
            reading_seconds=(submitted_at - read.opened_at).total_seconds(),
            active_seconds=active_seconds,
            version=read.version + 1,
            supersedes=read,
            correction_reason=reason.strip(),
        )
