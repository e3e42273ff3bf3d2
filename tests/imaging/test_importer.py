"""Importing real CT series into cases: all-or-nothing per case, with a report."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pydicom
import pytest
from django.core.management import CommandError, call_command

from apps.cases.models import Case, GroundTruth
from apps.imaging.importer import ImportFailed, import_source
from apps.imaging.models import Instance, Series
from tests.paths import DEMO_CLINICAL, FIXTURES, NORMAL001, P001

pytestmark = pytest.mark.django_db


def _positions(folder: Path) -> list[float]:
    return sorted(float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) for f in folder.iterdir())


def test_import_real_series_with_clinical_csv():
    report = import_source(source=FIXTURES / "dicom", clinical_csv=DEMO_CLINICAL)

    assert report["imported"] == 2
    assert report["rejected"] == 0
    covid = Case.objects.get(ground_truth__positive=True)
    assert covid.series.slice_count == 148
    assert covid.patient_age == 39
    assert covid.patient_sex == "M"
    assert covid.split == "test"
    assert covid.clinical.illustrative is True
    assert covid.clinical.wbc == pytest.approx(5.2)
    assert GroundTruth.objects.filter(positive=False).count() == 1
    stored = list(Instance.objects.filter(series=covid.series).order_by("index").values_list("position", flat=True))
    assert stored == pytest.approx(_positions(P001))
    assert len(report["files"]) == 148 + 154
    assert {item["fate"] for item in report["files"]} == {"imported"}


def test_stored_slices_are_deidentified():
    import_source(source=P001)
    instance = Instance.objects.order_by("index").first()
    data = instance.file.read()
    dataset = pydicom.dcmread(io.BytesIO(data))

    assert b"98C14734-ASSH" not in data
    assert b"20200305" not in data
    assert dataset.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert dataset.PatientID == instance.series.case.public_id
    assert dataset.PatientAge == "039Y"
    assert not any(element.tag.is_private for element in dataset)


def test_reimport_skips_existing_series():
    import_source(source=P001)
    report = import_source(source=P001)

    assert report["imported"] == 0
    assert report["skipped"] == 1
    assert Case.objects.count() == 1
    assert Series.objects.count() == 1


def test_series_with_gap_is_rejected_and_others_kept(tmp_path):
    shutil.copytree(P001, tmp_path / "P001")
    shutil.copytree(NORMAL001, tmp_path / "normal001")
    by_z = sorted((tmp_path / "P001").iterdir(),
                  key=lambda f: float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]))
    by_z[74].unlink()

    report = import_source(source=tmp_path)

    rejected = [case for case in report["cases"] if case["status"] == "rejected"]
    assert report["imported"] == 1
    assert len(rejected) == 1
    assert "missing" in " ".join(rejected[0]["reasons"]).lower()
    assert Case.objects.count() == 1
    assert Case.objects.get().series.slice_count == 154


def test_bad_clinical_csv_imports_nothing(tmp_path):
    bad = tmp_path / "clinical.csv"
    bad.write_text("patient_id,age,sex,wbc,rt_pcr\n98C14734-ASSH,39,M,7500,positive\n")

    with pytest.raises(ImportFailed) as raised:
        import_source(source=P001, clinical_csv=bad)

    errors = raised.value.report["clinical_errors"]
    assert len(errors) == 1
    assert "row 2" in errors[0]
    assert "7500" in errors[0]
    assert Case.objects.count() == 0


def test_failure_while_storing_keeps_nothing(monkeypatch, settings):
    def broken_bulk_create(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Instance.objects, "bulk_create", broken_bulk_create)

    report = import_source(source=P001)

    assert report["cases"][0]["status"] == "failed"
    assert Case.objects.count() == 0
    dicom_folder = Path(settings.MEDIA_ROOT) / "dicom"
    assert not dicom_folder.exists() or not any(dicom_folder.rglob("*.dcm"))


def test_non_dicom_and_truncated_files_are_reported(tmp_path):
    shutil.copytree(P001, tmp_path / "P001")
    (tmp_path / "notes.txt").write_text("not a DICOM file")
    victim = sorted((tmp_path / "P001").iterdir())[10]
    victim.write_bytes(victim.read_bytes()[: 4000])

    report = import_source(source=tmp_path)

    fates = {item["name"]: item for item in report["files"]}
    assert fates["notes.txt"]["fate"] == "rejected"
    assert fates[f"P001/{victim.name}"]["fate"] == "rejected"
    assert report["imported"] == 0
    assert Case.objects.count() == 0


def test_import_command_prints_report(capsys):
    call_command("import_cases", str(P001))

    output = capsys.readouterr().out
    assert "imported" in output
    assert "148 slices" in output
    assert "1 case(s) imported" in output


def test_import_command_rejects_missing_path():
    with pytest.raises(CommandError, match="No folder or zip file at '/nonexistent'"):
        call_command("import_cases", "/nonexistent")


def test_import_queues_active_model(monkeypatch):
    from apps.inference import services

    queued_for: list[list[int]] = []
    monkeypatch.setattr(services, "queue_predictions_for_cases",
                        lambda case_ids: queued_for.append(list(case_ids)) or [101])

    report = import_source(source=P001)

    assert queued_for == [[Case.objects.get().pk]]
    assert "AI predictions queued for 1 case(s)." in report["summary"]


def test_queueing_failure_keeps_cases(monkeypatch):
    from apps.inference import services

    def broker_down(case_ids):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(services, "queue_predictions_for_cases", broker_down)

    report = import_source(source=P001)

    assert report["imported"] == 1
    assert Case.objects.count() == 1
    assert "AI predictions were not queued (ConnectionError)" in report["summary"]
