"""Register a model package as a model version, after verifying its checksums."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.inference.services import RegistrationError, register_model_version


class Command(BaseCommand):
    help = (
        "Verify a model package (every file against the SHA-256 in its manifest) and register it "
        "as a model version."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Model package folder, or its manifest.json.")
        parser.add_argument("--activate", action="store_true", help="Make this the active model version.")
        parser.add_argument("--name", default="", help="Model name (default covid19-ct-clinical).")
        parser.add_argument(
            "--model-version", dest="model_version", default="",
            help="Version label (default: the first 12 hex digits of the manifest's SHA-256).",
        )

    def handle(self, *args, path: str, activate: bool, name: str, model_version: str, **options):
        try:
            version, created = register_model_version(path, name=name, version=model_version, activate=activate)
        except RegistrationError as error:
            raise CommandError(f"{error}") from error

        verb = "Registered" if created else "Already registered:"
        self.stdout.write(self.style.SUCCESS(
            f"{verb} {version} (manifest SHA-256 {version.manifest_sha256})"
            f"{', active' if version.is_active else ''}."
        ))
