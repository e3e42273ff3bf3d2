"""Register the demo model, predict every case through the Celery worker and print P1, P2, P3."""
from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.cases.models import Case
from apps.inference.models import ModelVersion, Prediction
from apps.inference.services import (
    RegistrationError,
    active_model_version,
    queue_predictions_for_cases,
    register_model_version,
)


class Command(BaseCommand):
    help = (
        "Register fixtures/model (when present) as the active model version, queue a prediction of "
        "every case for the Celery worker, wait for them and print P1, P2 and P3 per case."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--package", default=str(Path(settings.BASE_DIR) / "fixtures" / "model"),
            help="Model package folder (default fixtures/model).",
        )
        parser.add_argument(
            "--timeout", type=float, default=600.0,
            help="Seconds to wait for the worker to finish every prediction (default 600).",
        )

    def handle(self, *args, package: str, timeout: float, **options):
        version: ModelVersion | None
        if (Path(package) / "manifest.json").is_file():
            try:
                version, _ = register_model_version(package, activate=True)
            except RegistrationError as error:
                raise CommandError(f"The demo model cannot be registered: {error}") from error
        else:
            version = active_model_version()
            if version is None:
                raise CommandError(
                    f"{package} has no manifest.json and no model version is active. Build the demo "
                    "model (python -m ml.train) or register one with manage.py register_model."
                )
        self.stdout.write(f"Active model version: {version}")

        case_ids = list(Case.objects.values_list("pk", flat=True))
        if not case_ids:
            raise CommandError("There are no cases to predict; import cases first (manage.py demo_setup).")
        queue_predictions_for_cases(case_ids, model_version=version, rerun_failed=True)
        self.stdout.write(f"Queued predictions of {len(case_ids)} case(s); waiting for the Celery worker…")

        predictions = Prediction.objects.filter(model_version=version, case_id__in=case_ids)
        deadline = time.monotonic() + timeout
        finished = (Prediction.Status.DONE, Prediction.Status.FAILED)
        while predictions.exclude(status__in=finished).exists():
            if time.monotonic() > deadline:
                pending = predictions.exclude(status__in=finished).count()
                raise CommandError(
                    f"{pending} prediction(s) did not finish within {timeout:.0f} s. Check that a Celery "
                    "worker runs (var/log/worker.log), or rerun with a longer --timeout."
                )
            time.sleep(1)

        failed = 0
        for prediction in predictions.select_related("case").order_by("case__public_id"):
            if prediction.status == Prediction.Status.DONE:
                self.stdout.write(
                    f"  {prediction.case.public_id}: P1 {prediction.p1:.3f}  P2 {prediction.p2:.3f}  "
                    f"P3 {prediction.p3:.3f}"
                )
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"  {prediction.case.public_id}: failed: {prediction.error}"))
        if failed:
            raise CommandError(f"{failed} prediction(s) failed; see the errors above.")
        self.stdout.write(self.style.SUCCESS("Reviewers see the heat maps at /inference/review/."))
