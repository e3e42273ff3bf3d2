"""Helpers for studies with design rules: arms, training cases, scales."""
from __future__ import annotations

import pytest

from apps.studies.models import Arm, Assignment


@pytest.fixture
def add_arm():
    """Add an arm to a study and assign readers to it with their seeded order."""

    def build(study, name, readers, **flags):
        arm = Arm.objects.create(study=study, name=name, **flags)
        for user in readers:
            assignment = Assignment(study=study, arm=arm, reader=user)
            assignment.shuffle_cases()
            assignment.save()
        return arm

    return build
