"""WADO-URI retrieval and the coordinator's upload page."""
from __future__ import annotations

import html
import io
import zipfile

import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.imaging.importer import import_source
from apps.imaging.models import ImportJob, Instance
from apps.studies.models import Arm, Assignment, ReaderStudy
from apps.studies.views import instance_query
from tests.paths import P001

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported_instance():
    import_source(source=P001)
    return Instance.objects.select_related("series__case").order_by("index").first()


def _assign(reader, case, status="open"):
    study = ReaderStudy.objects.create(title="WADO", seed=1, status=status)
    study.cases.add(case)
    arm = Arm.objects.create(study=study, name="Unaided")
    assignment = Assignment(study=study, arm=arm, reader=reader)
    assignment.shuffle_cases()
    assignment.save()
    return assignment


def _url(instance) -> str:
    return f"{reverse('imaging:wado')}?{instance_query(instance)}"


def test_wado_returns_dicom_to_assigned_reader(client, reader, imported_instance):
    _assign(reader, imported_instance.series.case)
    client.force_login(reader)

    response = client.get(_url(imported_instance))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/dicom"
    dataset = pydicom.dcmread(io.BytesIO(b"".join(response.streaming_content)))
    assert dataset.SOPInstanceUID == imported_instance.sop_instance_uid


def test_wado_hides_case_from_unassigned_reader(client, reader, imported_instance):
    client.force_login(reader)
    assert client.get(_url(imported_instance)).status_code == 404


def test_wado_hides_draft_study_from_reader(client, reader, imported_instance):
    _assign(reader, imported_instance.series.case, status="draft")
    client.force_login(reader)
    assert client.get(_url(imported_instance)).status_code == 404


def test_wado_requires_login(client, imported_instance):
    response = client.get(_url(imported_instance))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_wado_names_missing_parameters(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("imaging:wado"), {"requestType": "WADO", "studyUID": "1.2"})
    assert response.status_code == 400
    assert "seriesUID, objectUID" in response.content.decode()


def test_upload_rejects_non_zip(client, coordinator):
    client.force_login(coordinator)
    upload = SimpleUploadedFile("scan.dcm", b"DICM", content_type="application/dicom")

    response = client.post(reverse("imaging:upload"), {"archive": upload})

    assert response.status_code == 400
    assert "'scan.dcm' is not a .zip file" in html.unescape(response.content.decode())
    assert not ImportJob.objects.exists()


def test_upload_is_for_coordinators(client, reader):
    client.force_login(reader)
    assert client.get(reverse("imaging:upload")).status_code == 403


def test_upload_queues_import_and_reports(client, coordinator, django_capture_on_commit_callbacks):
    from config.celery import app

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(P001.iterdir()):
            archive.write(path, f"P001/{path.name}")
        archive.writestr("readme.txt", "not DICOM")
    client.force_login(coordinator)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("imaging:upload"),
                {"archive": SimpleUploadedFile("p001.zip", buffer.getvalue(), content_type="application/zip")},
            )
    finally:
        app.conf.task_always_eager = False

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ImportJob.Status.DONE
    assert job.report["imported"] == 1
    page = client.get(reverse("imaging:job", args=[job.pk])).content.decode()
    assert "1 case(s) imported" in page
    assert "readme.txt" in page


def test_upload_of_corrupt_zip_fails_with_message(client, coordinator, django_capture_on_commit_callbacks):
    from config.celery import app

    client.force_login(coordinator)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("imaging:upload"),
                        {"archive": SimpleUploadedFile("broken.zip", b"PK\x03\x04garbage")})
    finally:
        app.conf.task_always_eager = False

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "not a valid zip" in job.error or "neither a folder nor a valid zip" in job.error


def test_failed_upload_names_file_and_is_deleted(client, coordinator, settings,
                                                  django_capture_on_commit_callbacks):
    from config.celery import app

    client.force_login(coordinator)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("imaging:upload"),
                        {"archive": SimpleUploadedFile("my-scans.zip", b"PK\x03\x04garbage")})
    finally:
        app.conf.task_always_eager = False

    job = ImportJob.objects.get()
    page = html.unescape(client.get(reverse("imaging:job", args=[job.pk])).content.decode())
    assert "'my-scans.zip'" in job.error
    assert page.count("is neither a folder nor a valid zip") == 1
    uploads = settings.MEDIA_ROOT / "uploads"
    assert not any(uploads.iterdir())


def test_upload_offers_only_draft_studies(client, coordinator):
    open_study = ReaderStudy.objects.create(title="Open one", seed=1, status="open")
    draft = ReaderStudy.objects.create(title="Draft one", seed=2, status="draft")
    for study in (open_study, draft):
        study.coordinators.add(coordinator)
    client.force_login(coordinator)

    page = client.get(reverse("imaging:upload")).content.decode()

    assert "Draft one" in page
    assert "Open one" not in page


def test_import_into_open_study_is_rejected(coordinator):
    from apps.cases.models import Case
    from apps.imaging.importer import ImportFailed

    study = ReaderStudy.objects.create(title="Running", seed=1, status="open")

    with pytest.raises(ImportFailed, match="'Running' is open, so no cases can be added"):
        import_source(source=P001, study=study)

    assert Case.objects.count() == 0
