"""Tests of the Basic Profile de-identification applied to one dataset."""

from __future__ import annotations

import re
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from apps.imaging.deidentify import UIDMap, deidentify_dataset, validate_opaque_id

SBU_SINGLE_SLICE = Path(__file__).parent / "resources" / "sbu_single_slice.dcm"


@pytest.fixture
def sbu() -> Dataset:
    return pydicom.dcmread(SBU_SINGLE_SLICE)


def deidentified(ds: Dataset, uid_map: UIDMap | None = None) -> Dataset:
    deidentify_dataset(
        ds,
        opaque_id="C-TEST0001",
        source_patient_id=ds.get("PatientID"),
        uid_map=UIDMap() if uid_map is None else uid_map,
    )
    return ds


def test_patient_module_reduced_to_kept_attributes(sbu):
    assert sbu.PatientName == "A002304"
    assert "AdditionalPatientHistory" in sbu
    ds = deidentified(sbu)
    patient_keywords = sorted(
        pydicom.datadict.keyword_for_tag(e.tag) for e in ds if e.tag.group == 0x0010
    )
    assert patient_keywords == [
        "PatientAge",
        "PatientBirthDate",
        "PatientID",
        "PatientName",
        "PatientSex",
    ]
    assert ds.PatientName == "C-TEST0001"
    assert ds.PatientID == "C-TEST0001"
    assert ds.PatientBirthDate == ""
    assert ds.PatientAge == "071Y"
    assert ds.PatientSex == "M"


def test_dates_and_times_removed_or_emptied(sbu):
    ds = deidentified(sbu)
    temporal = {
        pydicom.datadict.keyword_for_tag(e.tag): e.value
        for e in ds.iterall()
        if e.VR in ("DA", "DT", "TM")
    }
    assert temporal == {
        "StudyDate": "",
        "ContentDate": "",
        "StudyTime": "",
        "ContentTime": "",
        "PatientBirthDate": "",
    }


def test_private_tags_and_old_method_removed(sbu):
    assert any(e.tag.is_private for e in sbu.iterall())
    assert len(sbu.DeidentificationMethodCodeSequence) == 8
    ds = deidentified(sbu)
    assert not any(e.tag.is_private for e in ds.iterall())
    assert "ClinicalTrialTimePointID" not in ds
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.DeidentificationMethod == "PS3.15 Basic Profile; Retain Patient Characteristics"
    codes = [
        (item.CodeValue, item.CodingSchemeDesignator)
        for item in ds.DeidentificationMethodCodeSequence
    ]
    assert codes == [("113100", "DCM"), ("113108", "DCM")]
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"


def test_referencing_sequences_and_descriptions_removed(sbu):
    ds = deidentified(sbu)
    for keyword in (
        "ReferencedStudySequence",
        "ReferencedImageSequence",
        "ProcedureCodeSequence",
        "StudyDescription",
        "SeriesDescription",
        "ProtocolName",
        "SoftwareVersions",
    ):
        assert keyword not in ds, keyword


def test_geometry_and_pixel_module_kept(sbu):
    before = {
        k: sbu[k].value
        for k in (
            "ImagePositionPatient",
            "ImageOrientationPatient",
            "PixelSpacing",
            "Rows",
            "Columns",
            "RescaleIntercept",
            "RescaleSlope",
            "PixelData",
        )
    }
    ds = deidentified(sbu)
    for keyword, value in before.items():
        assert ds[keyword].value == value, keyword


def test_uids_replaced_consistently(sbu):
    second = pydicom.dcmread(SBU_SINGLE_SLICE)
    source = {
        k: str(sbu[k].value)
        for k in (
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "FrameOfReferenceUID",
            "SOPInstanceUID",
            "IrradiationEventUID",
        )
    }
    uid_map = UIDMap()
    first = deidentified(sbu, uid_map)
    again = deidentified(second, uid_map)
    for keyword, value in source.items():
        assert first[keyword].value != value, keyword
        assert first[keyword].value == again[keyword].value, keyword
        assert first[keyword].value == uid_map(value), keyword
    assert first.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"


def test_uids_inside_kept_sequences_replaced():
    ds = Dataset()
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = "1.2.3.4.5"
    ds.ReferencedSeriesSequence = Sequence([item])
    uid_map = UIDMap()
    deidentify_dataset(ds, opaque_id="C-1", source_patient_id=None, uid_map=uid_map)
    kept = ds.ReferencedSeriesSequence[0]
    assert kept.ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert kept.ReferencedSOPInstanceUID == uid_map("1.2.3.4.5")
    assert kept.ReferencedSOPInstanceUID != "1.2.3.4.5"


def test_nested_names_and_text_removed():
    ds = Dataset()
    item = Dataset()
    item.PersonName = "Doe^Jane"
    item.TextValue = "seen by Dr Doe"
    item.ObservationDateTime = "20200305101010"
    item.CodeValue = "121071"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.OperatorsName = "Smith^John"
    deidentify_dataset(ds, opaque_id="C-1", source_patient_id=None, uid_map=UIDMap())
    assert "OperatorsName" not in ds
    assert list(ds.AnatomicRegionSequence[0].keys()) == [pydicom.tag.Tag("CodeValue")]


def test_overlays_and_curves_removed():
    ds = Dataset()
    ds.add_new(0x60003000, "OW", b"\x00\x01")
    ds.add_new(0x50000010, "US", 1)
    ds.Modality = "CT"
    deidentify_dataset(ds, opaque_id="C-1", source_patient_id=None, uid_map=UIDMap())
    assert [element.tag.group for element in ds if element.tag.group in (0x5000, 0x6000)] == []
    assert ds.Modality == "CT"


def test_opaque_id_equal_to_source_raises(sbu):
    with pytest.raises(ValueError, match="equals the source Patient ID"):
        deidentify_dataset(sbu, opaque_id="A002304", source_patient_id="A002304", uid_map=UIDMap())


@pytest.mark.parametrize(
    ("opaque_id", "message"),
    [
        ("", "is empty"),
        ("X" * 65, "has 65 characters"),
        ("C^1", "contains ['^']"),
        ("C-\u00e91", "contains ['\u00e9']"),
    ],
)
def test_invalid_opaque_id_raises(opaque_id, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_opaque_id(opaque_id)


def test_table_applies_inside_sequences():
    ds = Dataset()
    item = Dataset()
    item.InstitutionName = "General Hospital"
    item.AccessionNumber = "A123"
    item.CodeValue = "121071"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.AccessionNumber = "A123"
    deidentify_dataset(ds, opaque_id="C-1", source_patient_id=None, uid_map=UIDMap())
    assert ds.AccessionNumber == ""
    assert list(ds.AnatomicRegionSequence[0].keys()) == [pydicom.tag.Tag("CodeValue")]
