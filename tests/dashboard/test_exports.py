"""Exports: content types, provenance, no source identifiers, formats that other tools read."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from apps.cases.models import Case
from readerstats.reads import reads_from_frame
from tests.dashboard.helpers import build_study, make_model_version, study_from_agreement_counts

pytestmark = pytest.mark.django_db

PROVENANCE_KEYS = (
    "study",
    "exported_at",
    "software",
    "active_model_version",
    "model_versions_with_predictions",
)


@pytest.fixture
def study(coordinator, reader):
    return study_from_agreement_counts(coordinator, reader, make_model_version(version="2.1"))


def _get(client, coordinator, study, name, extension, **params):
    client.force_login(coordinator)
    return client.get(reverse("dashboard:export", args=[study.pk, name, extension]), params)


def _csv_header(text: str) -> dict[str, str]:
    lines = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    return dict(line.split(": ", 1) for line in lines)


def _check_provenance(header: dict[str, str], study) -> None:
    for key in PROVENANCE_KEYS:
        assert key in header, key
    assert header["study"] == f"{study.title} (id {study.pk})"
    assert header["software"].startswith("readerstudy 0.1.0, readerstats ")
    assert "covid-joint 2.1" in header["active_model_version"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", header["exported_at"])


def _no_source_identifiers(content: bytes, study) -> None:
    for patient_key in Case.objects.filter(studies=study).values_list("patient_key", flat=True)[
        :20
    ]:
        assert patient_key.encode() not in content


TABLES = [
    "raters",
    "comparisons",
    "subgroups",
    "reader_averaged",
    "mrmc",
    "standalone",
    "kappa",
    "characteristics",
    "roc_points",
]


@pytest.mark.parametrize("name", TABLES)
def test_table_csv_has_provenance(client, coordinator, study, name):
    response = _get(client, coordinator, study, name, "csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = response.content.decode()
    _check_provenance(_csv_header(text), study)
    _no_source_identifiers(response.content, study)


def test_rater_csv_values(client, coordinator, study):
    text = _get(client, coordinator, study, "raters", "csv").content.decode()
    frame = pd.read_csv(io.StringIO(text), comment="#")
    p3 = frame.set_index("rater").loc["P3 (joint model)"]

    assert p3["sensitivity_n"] == "113/134"
    assert p3["sensitivity_lower"] == pytest.approx(0.7704727342247948, abs=1e-12)
    assert _csv_header(text)["reference_rater"] == "P3 (joint model)"


def test_xlsx_has_every_table_and_provenance(client, coordinator, study):
    response = _get(client, coordinator, study, "tables", "xlsx")

    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["provenance", *TABLES]
    header = {row[0]: row[1] for row in workbook["provenance"].iter_rows(values_only=True)}
    _check_provenance(header, study)
    raters = list(workbook["raters"].iter_rows(values_only=True))
    columns = raters[1]
    p3 = next(row for row in raters[2:] if row[0] == "P3 (joint model)")
    assert p3[columns.index("true_positive")] == 113


def test_latex_table(client, coordinator, study):
    response = _get(client, coordinator, study, "raters", "tex")

    assert response["Content-Type"] == "application/x-tex; charset=utf-8"
    text = response.content.decode()
    header = dict(
        line[2:].split(": ", 1) for line in text.splitlines() if re.match(r"% \w+: ", line)
    )
    _check_provenance(header, study)
    assert r"\begin{tabular}" in text
    assert r"P3 (joint model) & 84.3 (77.0--90.0) & 82.8 (75.6--88.5)" in text


def test_latex_of_other_tables(client, coordinator, study):
    response = _get(client, coordinator, study, "comparisons", "tex")
    text = response.content.decode()
    assert response.status_code == 200
    assert r"sensitivity\_both\_right" in text
    assert "% study: " in text


@pytest.mark.parametrize(
    ("extension", "content_type"), [("png", "image/png"), ("svg", "image/svg+xml")]
)
def test_roc_figures(client, coordinator, study, extension, content_type):
    response = _get(client, coordinator, study, "roc", extension)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    if extension == "png":
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        _check_provenance({key: image.info[key] for key in PROVENANCE_KEYS}, study)
    else:
        text = response.content.decode()
        assert "<svg" in text
        assert f"study: {study.title} (id {study.pk})" in text
        assert "software: readerstudy 0.1.0" in text


def test_roc_figure_without_data_is_409(client, coordinator):
    study = build_study(coordinator, [{"truth": True}, {"truth": False}])
    response = _get(client, coordinator, study, "roc", "png")
    assert response.status_code == 409
    assert "No ROC figure yet" in response.content.decode()


def test_raw_reads_load_in_readerstats(client, coordinator, study, reader):
    response = _get(client, coordinator, study, "reads", "csv")
    text = response.content.decode()
    _check_provenance(_csv_header(text), study)
    _no_source_identifiers(response.content, study)

    frame = pd.read_csv(
        io.StringIO(text), comment="#", dtype=str, keep_default_na=False, na_values=[""]
    )
    reads = reads_from_frame(frame)
    assert len(frame) == 279
    assert set(frame["case"]) == set(study.cases.values_list("public_id", flat=True))
    assert set(frame["reader"]) == {reader.username}
    assert int(reads.cases["truth"].sum()) == 134


def test_predictions_csv(client, coordinator, study):
    response = _get(client, coordinator, study, "predictions", "csv")
    frame = pd.read_csv(io.StringIO(response.content.decode()), comment="#")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(frame) == 279
    assert set(frame["model_version"]) == {"covid-joint 2.1"}
    assert (frame["p3"] >= 0.5).sum() == 90 + 23 + 23 + 2


def test_imrmc_file(client, coordinator, study, reader):
    response = _get(client, coordinator, study, "imrmc", "imrmc")
    text = response.content.decode()

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    head, data = text.split("BEGIN DATA:\n")
    assert "study: Agreement counts" in head
    assert "software: readerstudy 0.1.0" in head
    for line in ("NR: 1", "N0: 145", "N1: 134", "NM: 1"):
        assert line in head.splitlines()
    rows = [line.split(",") for line in data.strip().splitlines()]
    assert all(len(row) == 4 for row in rows)
    truth_rows = [row for row in rows if row[0] == "-1"]
    assert len(truth_rows) == 279
    assert sum(int(row[3]) for row in truth_rows) == 134
    reads = [row for row in rows if row[0] == reader.username]
    assert len(reads) == 279
    assert {row[2] for row in reads} == {"Unaided"}
    assert {row[3] for row in reads} == {"90", "10"}
    _no_source_identifiers(response.content, study)


def test_unknown_export_is_404(client, coordinator, study):
    assert _get(client, coordinator, study, "nonsense", "csv").status_code == 404
    assert _get(client, coordinator, study, "reads", "xlsx").status_code == 404


def test_export_invalid_threshold_is_400(client, coordinator, study):
    response = _get(client, coordinator, study, "raters", "csv", threshold="2")
    assert response.status_code == 400


def test_exports_are_for_the_studys_coordinators(client, study, reader, django_user_model):
    from apps.accounts.roles import Role, grant_role

    client.force_login(reader)
    url = reverse("dashboard:export", args=[study.pk, "reads", "csv"])
    assert client.get(url).status_code == 403

    stranger = django_user_model.objects.create_user(username="coord-2", password="x")
    grant_role(stranger, Role.COORDINATOR)
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
