"""Study design operations shared by the coordinator pages, the admin and the API."""
from __future__ import annotations

import secrets

from django.db import transaction

from apps.accounts.roles import Role, has_role
from apps.studies.models import Arm, Assignment, ReaderStudy


class DesignRejected(Exception):
    """A design change the study's state does not allow; the message gives the reason and the remedy."""


def new_seed() -> int:
    return secrets.randbelow(2**31)


def require_draft(study: ReaderStudy, what: str) -> None:
    if study.status != ReaderStudy.Status.DRAFT:
        raise DesignRejected(
            f"The study '{study.title}' is {study.status}, so its {what} can no longer change; "
            "copy it as a template to start a changed design."
        )


@transaction.atomic
def change_status(study: ReaderStudy, new_status: str) -> None:
    """Move the study along draft → open → closed; opening fixes every reader's case order."""
    if new_status not in ReaderStudy.Status.values:
        raise DesignRejected(f"Status {new_status!r} does not exist; use draft, open or closed.")
    if not study.can_change_status(new_status):
        raise DesignRejected(
            f"The study '{study.title}' is {study.status} and cannot become {new_status}; "
            "the order is draft, open, closed."
        )
    if new_status == ReaderStudy.Status.OPEN:
        if not study.cases.exists():
            raise DesignRejected("The study has no cases; add cases before opening it.")
        if not study.arms.exists():
            raise DesignRejected("The study has no arms; add at least one arm before opening it.")
        # Draft assignments may predate a change of cases, so the orders are drawn again.
        # A draft has no reads, and the same seed gives the same order.
        for assignment in study.assignments.select_related("study"):
            assignment.shuffle_cases()
            assignment.save(update_fields=["case_order", "training_order"])
    study.status = new_status
    study.save(update_fields=["status"])


def assign_reader(study: ReaderStudy, arm: Arm, reader) -> tuple[Assignment, bool]:
    """Assign a reader to an arm with a seeded case order; an existing assignment is kept as it is."""
    if arm.study_id != study.pk:
        raise DesignRejected(f"Arm '{arm.name}' belongs to another study.")
    if study.status == ReaderStudy.Status.CLOSED:
        raise DesignRejected(f"The study '{study.title}' is closed; it takes no new readers.")
    if not has_role(reader, Role.READER):
        raise DesignRejected(f"User '{reader.get_username()}' does not have the reader role; grant it first.")
    existing = Assignment.objects.filter(arm=arm, reader=reader).first()
    if existing is not None:
        return existing, False
    assignment = Assignment(study=study, arm=arm, reader=reader)
    assignment.shuffle_cases()
    assignment.save()
    return assignment, True


@transaction.atomic
def copy_study(study: ReaderStudy, *, by, include_readers: bool = True) -> ReaderStudy:
    """Copy the design as a new draft: rules, cases, arms and, optionally, readers; never reads."""
    copy = ReaderStudy.objects.create(
        title=f"{study.title} (copy)"[:200],
        instructions=study.instructions,
        status=ReaderStudy.Status.DRAFT,
        seed=new_seed(),
        answer_scale=study.answer_scale,
        navigation=study.navigation,
        edit_rule=study.edit_rule,
        washout_days=study.washout_days,
        copied_from=study,
    )
    copy.cases.set(study.cases.all())
    copy.training_cases.set(study.training_cases.all())
    copy.coordinators.add(by)
    for arm in study.arms.all():
        new_arm = Arm.objects.create(
            study=copy, name=arm.name, position=arm.position, shows_ct=arm.shows_ct,
            shows_clinical=arm.shows_clinical, shows_ai_probability=arm.shows_ai_probability,
            shows_heatmap=arm.shows_heatmap, ai_after_unaided_call=arm.ai_after_unaided_call,
        )
        if include_readers:
            for assignment in arm.assignments.select_related("reader"):
                new = Assignment(study=copy, arm=new_arm, reader=assignment.reader)
                new.shuffle_cases()
                new.save()
    return copy
