"""Import CT series from a folder or zip, with an optional clinical CSV."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.imaging.importer import ImportFailed, import_source
from apps.studies.models import ReaderStudy


class Command(BaseCommand):
    help = (
        "Import every CT series under PATH (a folder or .zip) as cases. Each series is stored whole "
        "or rejected with its reason; the report lists every file's fate."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Folder or .zip file of DICOM files.")
        parser.add_argument("--clinical", metavar="FILE.csv", help="Clinical CSV, matched on patient_id.")
        parser.add_argument("--study", type=int, metavar="ID", help="Add the imported cases to this study.")
        parser.add_argument("--report", metavar="FILE.json", help="Also write the full report as JSON.")

    def handle(self, *args, path: str, clinical: str | None, study: int | None, report: str | None, **options):
        if not Path(path).exists():
            raise CommandError(f"No folder or zip file at {path!r}.")
        if clinical and not Path(clinical).is_file():
            raise CommandError(f"No clinical CSV at {clinical!r}.")
        target_study = None
        if study is not None:
            target_study = ReaderStudy.objects.filter(pk=study).first()
            if target_study is None:
                raise CommandError(f"No reader study with id {study}. List them in the admin.")

        try:
            result = import_source(source=path, clinical_csv=clinical, study=target_study)
        except ImportFailed as error:
            for line in error.report.get("clinical_errors", []):
                self.stderr.write(f"  {line}")
            raise CommandError(str(error)) from error

        for case in result["cases"]:
            reasons = "; ".join(case["reasons"])
            label = case["public_id"] or "-"
            self.stdout.write(f"{case['status']:<9} {label:<11} {case['slices']:>4} slices  {case['series']}  {reasons}")
        for item in result["files"]:
            if item["fate"] != "imported":
                self.stdout.write(f"  {item['fate']:<9} {item['name']}: {item['reason']}")
        if report:
            Path(report).write_text(json.dumps(result, indent=2))
        style = self.style.SUCCESS if result["rejected"] == 0 else self.style.WARNING
        self.stdout.write(style(result["summary"]))
        if result["imported"] == 0 and result["rejected"]:
            raise CommandError("No case was imported; see the reasons above.")
