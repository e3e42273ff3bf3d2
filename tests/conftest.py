"""Fixtures shared by the Django tests: users with roles, studies, imported demo cases."""
from __future__ import annotations

import os

import pytest
from django.db import connection

from apps.accounts.roles import Role, grant_role


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The default PBKDF2 hasher costs a third of a second per user on a small machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _services_really_used():
    """With READERSTUDY_REQUIRE_SERVICES=1 a run that silently fell back to SQLite fails."""
    if os.environ.get("READERSTUDY_REQUIRE_SERVICES") == "1":
        assert "postgres" in os.environ.get("DATABASE_URL", ""), "DATABASE_URL must name PostgreSQL"
    yield


def make_user(django_user_model, username: str, *roles: Role):
    user = django_user_model.objects.create_user(username=username, password=f"pw-{username}")
    for role in roles:
        grant_role(user, role)
    return user


@pytest.fixture
def coordinator(django_user_model):
    return make_user(django_user_model, "coord", Role.COORDINATOR)


@pytest.fixture
def reader(django_user_model):
    return make_user(django_user_model, "reader-a", Role.READER)


@pytest.fixture
def other_reader(django_user_model):
    return make_user(django_user_model, "reader-b", Role.READER)


@pytest.fixture
def reviewer(django_user_model):
    return make_user(django_user_model, "rev", Role.REVIEWER)


@pytest.fixture
def database_vendor() -> str:
    return connection.vendor


@pytest.fixture
def make_study(coordinator):
    """Build an open study of cases without images, with ground truth, and assign readers."""
    from apps.cases.models import Case, GroundTruth
    from apps.studies.models import Arm, Assignment, ReaderStudy

    def build(readers, *, truths=(True, False, True, False), seed=7, status="open"):
        study = ReaderStudy.objects.create(title=f"Study {seed}", seed=seed, status=status)
        study.coordinators.add(coordinator)
        for index, positive in enumerate(truths):
            case = Case.objects.create(patient_key=f"key-{seed}-{index}")
            GroundTruth.objects.create(case=case, positive=positive, source="test")
            study.cases.add(case)
        arm = Arm.objects.create(study=study, name="Unaided")
        for user in readers:
            assignment = Assignment(study=study, arm=arm, reader=user)
            assignment.shuffle_cases()
            assignment.save()
        return study

    return build
