"""A reader crawls everything they can reach and finds no identifier, truth, other read or hidden AI output."""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pydicom
import pytest
from django.test import Client

from apps.cases.models import Case, GroundTruth
from apps.imaging.importer import import_source
from apps.inference.models import ModelVersion, Prediction
from apps.studies import services
from apps.studies.models import Arm, Assignment, Read, ReaderStudy
from tests.paths import DEMO_CLINICAL, FIXTURES, NORMAL001, P001

pytestmark = pytest.mark.django_db

PUBLIC_ID = re.compile(r"C-[0-9A-Z]{8}")
HIDDEN_PROBABILITIES = ("0.913579", "0.135791", "0.357913")
HIDDEN_HEATMAP = "heatmaps/hidden-heatmap-7f3a.png"
OTHER_READER_REASON = "other reader second look 5c2e"
DATE_KEYWORDS = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "DateOfLastCalibration",
                 "PatientBirthDate", "InstanceCreationDate")
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
NAME_KEYWORDS = ("PatientName", "PatientID", "OperatorsName", "OtherPatientIDs", "InstitutionName")


def _source_identifiers() -> tuple[set[str], set[str]]:
    """Read identifying values from the source DICOM files themselves.

    Returns the values shared by a series (names, IDs, dates, study and series
    UIDs) and the per-file ones (file names, SOP Instance UIDs). The per-file
    values are many, so DICOM files are checked for them element by element.
    """
    shared: set[str] = set()
    per_file: set[str] = set()
    for folder in (P001, NORMAL001):
        for path in sorted(folder.iterdir()):
            per_file.add(path.name)
            dataset = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            per_file.add(str(dataset.SOPInstanceUID))
            for keyword in DATE_KEYWORDS + UID_KEYWORDS[:2] + UID_KEYWORDS[3:] + NAME_KEYWORDS:
                value = str(dataset.get(keyword, "") or "").strip()
                if value:
                    shared.add(value)
    return shared, per_file


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in {"a", "link", "script", "img", "iframe"}:
            self.urls.extend(value for key in ("href", "src") if (value := values.get(key)))
        if tag == "form" and (values.get("method") or "get").lower() == "get" and values.get("action"):
            self.urls.append(values["action"])


def _urls_in(body: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(body)
    urls = [urljoin(base, url) for url in parser.urls]
    # Viewer image ids and URLs inside JSON payloads.
    urls += [match.removeprefix("wadouri:") for match in re.findall(r"(?:wadouri:)?https?://[^\s\"'<>\\]+", body)]
    return urls


def _crawl(client: Client, starts: list[str], *, skip_dicom: bool = False) -> dict[str, tuple[str, bytes]]:
    """GET every same-site URL reachable from ``starts``; return path -> (content type, body)."""
    seen: dict[str, tuple[str, bytes]] = {}
    queue = deque(starts)
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver"):
            continue
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if target in seen or parts.path.startswith(("/static/", "/logout/", "/api/docs/assets/")):
            continue
        if skip_dicom and parts.path.startswith("/imaging/wado"):
            continue
        response = client.get(target, follow=True)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        content_type = response.get("Content-Type", "")
        seen[target] = (content_type, body)
        if response.status_code != 200:
            continue
        if "html" in content_type or "json" in content_type:
            for found in _urls_in(body.decode("utf-8", errors="replace").replace("&amp;", "&"), "http://testserver" + target):
                queue.append(found)
    return seen


@pytest.fixture
def blinded_study(coordinator, reader, other_reader):
    """The two real CT cases in a two-arm study; the reader's arm hides the AI, the other reader's shows it."""
    import_source(source=FIXTURES / "dicom", clinical_csv=DEMO_CLINICAL)
    cases = list(Case.objects.order_by("pk"))
    assert len(cases) == 2
    study = ReaderStudy.objects.create(title="Blinding", seed=11, navigation=ReaderStudy.Navigation.FREE,
                                       edit_rule=ReaderStudy.EditRule.CORRECTABLE)
    study.coordinators.add(coordinator)
    study.cases.set(cases)
    unaided = Arm.objects.create(study=study, name="Unaided", shows_clinical=True)
    aided = Arm.objects.create(study=study, name="AI-aided", shows_ai_probability=True, shows_heatmap=True,
                               ai_after_unaided_call=False)
    for arm, user in ((unaided, reader), (unaided, other_reader), (aided, other_reader)):
        assignment = Assignment(study=study, arm=arm, reader=user)
        assignment.shuffle_cases()
        assignment.save()
    version = ModelVersion.objects.create(name="joint", version="blinding", package_path="/nonexistent",
                                          manifest_sha256="0" * 64)
    for case, probability in zip(cases, HIDDEN_PROBABILITIES):
        Prediction.objects.create(case=case, model_version=version, status="done", p1=float(probability),
                                  p2=float(probability), p3=float(probability), heatmap_file=HIDDEN_HEATMAP)
    other = Assignment.objects.get(arm=unaided, reader=other_reader)
    for case in cases:
        read, _ = services.submit_read(assignment=other, case=case,
                                       answer=services.Answer(call="positive", confidence=91))
        services.correct_read(read=read, answer=services.Answer(call="negative", confidence=13),
                              reason=OTHER_READER_REASON)
    return study


def _forbidden_strings(study, other_reader) -> tuple[dict[str, str], set[str]]:
    shared, per_file = _source_identifiers()
    forbidden = {value: "source identifier" for value in shared}
    for truth in GroundTruth.objects.filter(case__studies=study):
        if truth.source:
            forbidden[truth.source] = "ground-truth source"
    for value in HIDDEN_PROBABILITIES:
        forbidden[value] = "hidden AI probability"
    forbidden[HIDDEN_HEATMAP] = "hidden heat map"
    forbidden["hidden-heatmap"] = "hidden heat map"
    forbidden[other_reader.username] = "other reader"
    forbidden[OTHER_READER_REASON] = "other reader's correction"
    for case in Case.objects.all():
        forbidden[case.patient_key] = "patient key hash"
    return forbidden, per_file


def _hits(pages: dict[str, tuple[str, bytes]], forbidden: dict[str, str], per_file: set[str]) -> list[str]:
    hits = []
    for url, (content_type, body) in pages.items():
        if content_type == "application/dicom":
            continue
        text = body.decode("latin-1")
        for value, kind in forbidden.items():
            if value in text:
                hits.append(f"{kind} {value!r} in {url}")
        for value in per_file:
            if value in text:
                hits.append(f"source file name or SOP Instance UID {value!r} in {url}")
        if not url.startswith("/api/schema"):
            for word in ("rt_pcr", "ground_truth", "groundtruth", "truth", "p3", "probability"):
                if re.search(rf"\b{word}\b", text, flags=re.IGNORECASE):
                    hits.append(f"field {word!r} in {url}")
    return hits


def _dicom_hits(pages: dict[str, tuple[str, bytes]], forbidden: dict[str, str],
                per_file: set[str]) -> tuple[int, list[str]]:
    from io import BytesIO

    count = 0
    hits = []
    for url, (content_type, body) in pages.items():
        if content_type != "application/dicom":
            continue
        count += 1
        dataset = pydicom.dcmread(BytesIO(body))
        for element in dataset.iterall():
            # The confidentiality profile empties some dates and names (Type 2), removes the rest,
            # and replaces the patient's name and ID with the case's public id.
            value = element.value
            is_public_id_name = element.keyword == "PatientName" and PUBLIC_ID.fullmatch(str(value))
            if element.VR in {"DA", "DT", "TM", "PN"} and value not in (None, "", b"") and not is_public_id_name:
                hits.append(f"{element.keyword or element.tag} = {value!r} kept in {url}")
            if element.VR == "UI" and str(value) in per_file:
                hits.append(f"source {element.keyword} kept in {url}")
            if element.tag.is_private:
                hits.append(f"private tag {element.tag} kept in {url}")
        for value, kind in forbidden.items():
            if value.encode("latin-1", errors="ignore") in body:
                hits.append(f"{kind} {value!r} in DICOM {url}")
    return count, hits


def test_reader_crawl_finds_nothing_hidden(blinded_study, reader, other_reader):
    client = Client()
    client.force_login(reader)
    assignment = Assignment.objects.get(study=blinded_study, reader=reader)
    starts = ["/", "/reader/", "/api/", "/api/studies/", "/api/assignments/", "/api/reads/", "/api/cases/",
              "/api/schema/", "/api/docs/", "/dashboard/", "/studies/", f"/studies/{blinded_study.pk}/",
              f"/api/studies/{blinded_study.pk}/truth/", f"/api/studies/{blinded_study.pk}/exports/reads/",
              f"/api/assignments/{assignment.pk}/cases/", f"/api/assignments/{assignment.pk}/next/"]
    for case in Case.objects.all():
        starts.append(f"/api/assignments/{assignment.pk}/cases/{case.public_id}/")
        starts.append(f"/reader/{assignment.pk}/cases/{case.public_id}/")
    forbidden, per_file = _forbidden_strings(blinded_study, other_reader)

    before = _crawl(client, starts)
    for case in Case.objects.all():
        client.post(f"/reader/{assignment.pk}/cases/{case.public_id}/", {"call": "negative", "confidence": "50"})
    # Reads change pages and API responses, not the stored DICOM, so the second crawl skips the slices.
    after = _crawl(client, starts, skip_dicom=True)

    pages = {**before, **{f"{url} (after reading)": page for url, page in after.items()}}
    dicom_count, dicom_hits = _dicom_hits(before, forbidden, per_file)
    assert dicom_count == 148 + 154, "the crawl did not reach every slice of both cases"
    assert Read.objects.filter(assignment=assignment).count() == 2
    assert any(url.startswith("/reader/") and "/cases/" in url for url in before)
    assert any(url.startswith("/reader/") and "/cases/" in url for url in after)
    assert _hits(pages, forbidden, per_file) == []
    assert dicom_hits == []
