"""Create demo accounts, import the demo CT through the Celery worker and open a study."""
from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.roles import Role, grant_role
from apps.cases.models import Case
from apps.imaging.models import ImportJob
from apps.imaging.tasks import run_import_job
from apps.studies.models import Arm, Assignment, ReaderStudy

DEMO_STUDY_TITLE = "COVID-19 chest CT (demo)"
DEMO_ACCOUNTS = (
    # (username, password, roles): demo passwords, printed on purpose; never use them on a server.
    ("coordinator", "demo-coordinator", (Role.COORDINATOR,)),
    ("reader1", "demo-reader1", (Role.READER,)),
    ("reader2", "demo-reader2", (Role.READER,)),
    ("reviewer", "demo-reviewer", (Role.REVIEWER,)),
)


class Command(BaseCommand):
    help = "Set up the demo: accounts, the two COVID-CT-MD cases (imported by the worker) and a study."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/",
            help="Address the demo server listens on, for the printed login link.",
        )
        parser.add_argument(
            "--timeout", type=float, default=300.0,
            help="Seconds to wait for the Celery worker to finish the import (default 300).",
        )
        parser.add_argument(
            "--inline", action="store_true",
            help="Import in this process instead of through the Celery worker.",
        )

    def handle(self, *args, url: str, timeout: float, inline: bool, **options):
        users = self._create_accounts()
        if not Case.objects.exists():
            self._import_fixtures(users["coordinator"], timeout=timeout, inline=inline)
        study = self._create_study(users)
        self._print_instructions(study, url=url)

    def _create_accounts(self) -> dict:
        User = get_user_model()
        users = {}
        for username, password, roles in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
            for role in roles:
                grant_role(user, role)
            users[username] = user
        return users

    def _import_fixtures(self, coordinator, *, timeout: float, inline: bool) -> None:
        fixtures = Path(settings.BASE_DIR) / "fixtures"
        job = ImportJob.objects.create(
            created_by=coordinator,
            source_name="fixtures/dicom",
            source_path=str(fixtures / "dicom"),
            clinical_path=str(fixtures / "clinical" / "demo_clinical.csv"),
        )
        if inline:
            run_import_job(job.pk)
        else:
            self.stdout.write("Queued the demo import; waiting for the Celery worker…")
            run_import_job.delay(job.pk)
            deadline = time.monotonic() + timeout
            while True:
                job.refresh_from_db()
                if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
                    break
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The Celery worker did not finish import job {job.pk} within {timeout:.0f} s. "
                        "Check var/log/worker.log, or rerun with --inline."
                    )
                time.sleep(1)
        job.refresh_from_db()
        if job.status != ImportJob.Status.DONE:
            raise CommandError(f"The demo import failed: {job.error}")
        self.stdout.write(self.style.SUCCESS(job.report.get("summary", "Demo import done.")))

    @transaction.atomic
    def _create_study(self, users: dict) -> ReaderStudy:
        study, created = ReaderStudy.objects.get_or_create(
            title=DEMO_STUDY_TITLE,
            defaults={
                "seed": 20200317,
                "status": ReaderStudy.Status.OPEN,
                "instructions": "Read each CT with its clinical history and call COVID-19 positive or negative.",
            },
        )
        if created:
            study.cases.set(Case.objects.all())
            study.coordinators.add(users["coordinator"])
        arm, _ = Arm.objects.get_or_create(study=study, name="Unaided")
        for username in ("reader1", "reader2"):
            assignment, created = Assignment.objects.get_or_create(study=study, arm=arm, reader=users[username])
            if created:
                assignment.shuffle_cases()
                assignment.save(update_fields=["case_order"])
        return study

    def _print_instructions(self, study: ReaderStudy, *, url: str) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo study '{study.title}' has {study.cases.count()} cases."))
        self.stdout.write(f"Log in at {url.rstrip('/')}/login/ with one of these demo accounts:")
        for username, password, roles in DEMO_ACCOUNTS:
            role_names = ", ".join(role.value for role in roles)
            self.stdout.write(f"  {username:<12} password {password:<18} ({role_names})")
