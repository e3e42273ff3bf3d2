"""The studies migrations match the models."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_studies_has_no_pending_migration():
    output = io.StringIO()

    try:
        call_command("makemigrations", "studies", check=True, dry_run=True, stdout=output)
    except SystemExit:
        pytest.fail(f"The studies models differ from their migrations; run makemigrations studies.\n{output.getvalue()}")
