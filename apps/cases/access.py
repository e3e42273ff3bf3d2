"""Object-level access to cases, shared by every view that serves case data."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from apps.accounts.roles import Role, roles_of
from apps.cases.models import Case


def can_view_case(user: AbstractBaseUser | AnonymousUser, case: Case) -> bool:
    """Return whether the user may see the case's images and clinical record.

    Coordinators and reviewers manage the case library. A reader sees a case
    only through an assignment in a study that contains it and is not a draft.
    """
    user_roles = roles_of(user)
    if Role.COORDINATOR in user_roles or Role.REVIEWER in user_roles:
        return True
    if Role.READER in user_roles:
        from apps.studies.models import Assignment, ReaderStudy

        return (
            Assignment.objects.filter(reader=user, study__cases=case)
            .exclude(study__status=ReaderStudy.Status.DRAFT)
            .exists()
        )
    return False
