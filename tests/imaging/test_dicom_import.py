"""Tests of the DICOM series import: sources, validation, ordering, de-identification."""

from __future__ import annotations

import io
import itertools
import os
import re
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from apps.imaging.dicom_import import (
    AcceptedSeries,
    ArchiveError,
    FileFate,
    ScanResult,
    SourceFile,
    iter_source_files,
    parse_age,
    scan_files,
    volume_hu,
)

REPO = Path(__file__).resolve().parents[2]
P001 = REPO / "fixtures" / "dicom" / "P001"
NORMAL001 = REPO / "fixtures" / "dicom" / "normal001"
RESOURCES = Path(__file__).parent / "resources"
SBU_SINGLE_SLICE = RESOURCES / "sbu_single_slice.dcm"


def opaque(patient_id: str | None) -> str:
    return "C-TEST0001"


def read_z_order(folder: Path) -> list[tuple[float, Path]]:
    """Sort a folder's files by the z of Image Position (Patient), read independently."""
    entries = []
    for path in folder.iterdir():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        entries.append((float(ds.ImagePositionPatient[2]), path))
    return sorted(entries)


@pytest.fixture(scope="module")
def p001_z_order() -> list[tuple[float, Path]]:
    return read_z_order(P001)


@pytest.fixture(scope="module")
def p001_result() -> ScanResult:
    return scan_files(iter_source_files(P001), opaque_id_for=opaque)


@pytest.fixture(scope="module")
def p001_series(p001_result: ScanResult) -> AcceptedSeries:
    (series,) = p001_result.accepted
    return series


def write_series(
    folder: Path,
    sources: list[Path],
    *,
    edit: Callable[[int, pydicom.Dataset], None] | None = None,
    names: list[str] | None = None,
) -> Path:
    """Copy source files into a folder, optionally editing each dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, source in enumerate(sources):
        ds = pydicom.dcmread(source)
        if edit is not None:
            edit(index, ds)
        ds.save_as(folder / (names[index] if names else f"slice_{index:03d}.dcm"))
    return folder


def reasons_of(result: ScanResult) -> str:
    (rejected,) = result.rejected
    return " ".join(rejected.reasons)


@pytest.fixture(scope="module")
def six_slices(p001_z_order) -> list[Path]:
    """Six neighbouring P001 slices, 2 mm apart, in ascending z."""
    return [path for _, path in p001_z_order[60:66]]


# --- real series --------------------------------------------------------------------


def test_p001_imports_all_148_slices(p001_result, p001_series):
    assert p001_series.slice_count == 148
    assert p001_result.rejected == []
    assert len(p001_result.files_with(FileFate.IMPORTED)) == 148
    assert p001_result.files_with(FileFate.REJECTED) == []
    assert p001_result.files_with(FileFate.EXCLUDED) == []


def test_p001_slices_follow_position_not_file_name(p001_series, p001_z_order):
    expected_names = [path.name for _, path in p001_z_order]
    assert [item.source_name for item in p001_series.slices] == expected_names
    assert expected_names != sorted(expected_names)


def test_p001_first_and_last_positions(p001_series, p001_z_order):
    first_z, first_path = p001_z_order[0]
    last_z, _ = p001_z_order[-1]
    assert p001_series.slices[0].position == pytest.approx(first_z)
    assert p001_series.slices[-1].position == pytest.approx(last_z)
    assert first_z == pytest.approx(-346.1)
    assert last_z == pytest.approx(-52.1)
    first_ipp = [
        float(v) for v in pydicom.dcmread(first_path, stop_before_pixels=True).ImagePositionPatient
    ]
    assert p001_series.geometry.first_position == pytest.approx(first_ipp)


def test_p001_geometry_and_patient(p001_series):
    geometry = p001_series.geometry
    assert (geometry.rows, geometry.columns) == (512, 512)
    assert geometry.pixel_spacing == (0.748046875, 0.748046875)
    assert geometry.slice_spacing == pytest.approx(2.0)
    assert geometry.orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert geometry.normal == (0.0, 0.0, 1.0)
    assert p001_series.patient_age == 39
    assert p001_series.patient_sex == "M"
    assert p001_series.modality == "CT"
    assert p001_series.source_patient_id == "98C14734-ASSH"
    assert p001_series.opaque_id == "C-TEST0001"


def test_p001_positions_strictly_increase(p001_series):
    positions = [item.position for item in p001_series.slices]
    assert all(b - a == pytest.approx(2.0) for a, b in itertools.pairwise(positions))


def test_normal001_imports_154_slices():
    result = scan_files(iter_source_files(NORMAL001), opaque_id_for=lambda _: "C-TEST0002")
    (series,) = result.accepted
    z_order = read_z_order(NORMAL001)
    assert series.slice_count == 154
    assert [item.source_name for item in series.slices] == [path.name for _, path in z_order]
    assert series.slices[0].position == pytest.approx(z_order[0][0])
    assert series.slices[-1].position == pytest.approx(z_order[-1][0])
    assert series.patient_age == 70
    assert series.patient_sex == "F"
    assert series.geometry.pixel_spacing == (0.634765625, 0.634765625)


# --- de-identification of the real series --------------------------------------------


@pytest.fixture(scope="module")
def p001_source_identifiers() -> dict[str, set[bytes]]:
    uids: set[bytes] = set()
    dates: set[bytes] = set()
    for path in P001.iterdir():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for element in ds.iterall():
            if (
                element.VR == "UI"
                and element.value
                and not str(element.value).startswith("1.2.840.10008")
            ):
                uids.add(str(element.value).encode())
            if element.VR in ("DA", "DT") and element.value:
                dates.add(str(element.value).encode())
    return {"uids": uids, "dates": dates}


def test_deidentified_bytes_hold_no_source_identifiers(p001_series, p001_source_identifiers):
    forbidden = {
        b"98C14734-ASSH",  # Patient ID
        b"CTAWP93005",  # Station Name
        b"SIEMENS CSA HEADER",  # private creator
        b"DM_Thor_SIN",  # protocol and study description
    }
    forbidden |= p001_source_identifiers["uids"] | p001_source_identifiers["dates"]
    assert b"20200305" in p001_source_identifiers["dates"]
    for item in p001_series.slices:
        leaks = [value for value in forbidden if value in item.data]
        assert leaks == [], f"{item.source_name}: {leaks[:3]}"


def test_deidentified_dataset_content(p001_series):
    ds = pydicom.dcmread(io.BytesIO(p001_series.slices[0].data))
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.SOPInstanceUID == p001_series.slices[0].sop_instance_uid
    assert ds.PatientID == "C-TEST0001"
    assert ds.PatientName == "C-TEST0001"
    assert ds.PatientAge == "039Y"
    assert ds.PatientSex == "M"
    assert ds.PatientIdentityRemoved == "YES"
    assert [item.CodeValue for item in ds.DeidentificationMethodCodeSequence] == [
        "113100",
        "113108",
    ]
    assert ds.StudyDate == ""
    assert "AcquisitionDate" not in ds
    assert "StationName" not in ds
    assert "DeviceSerialNumber" not in ds
    assert "ReferencedImageSequence" not in ds
    assert "SourceImageSequence" not in ds
    assert not any(element.tag.is_private for element in ds.iterall())
    assert ds.LossyImageCompression == "00"
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert ds.BitsAllocated == 16
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert float(ds.ImagePositionPatient[2]) == pytest.approx(-346.1)
    assert [float(v) for v in ds.PixelSpacing] == [0.748046875, 0.748046875]


def test_deidentified_uids_consistent_within_series(p001_series):
    datasets = [
        pydicom.dcmread(io.BytesIO(item.data), stop_before_pixels=True)
        for item in p001_series.slices
    ]
    assert {ds.SeriesInstanceUID for ds in datasets} == {p001_series.series_instance_uid}
    assert {ds.StudyInstanceUID for ds in datasets} == {p001_series.study_instance_uid}
    assert len({ds.FrameOfReferenceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 148
    assert p001_series.series_instance_uid != p001_series.source_series_uid


def test_deidentified_pixels_equal_source(p001_series):
    for item in p001_series.slices[::15]:
        source = pydicom.dcmread(P001 / item.source_name).pixel_array
        output = pydicom.dcmread(io.BytesIO(item.data)).pixel_array
        assert output.dtype == source.dtype
        np.testing.assert_array_equal(output, source)


def test_volume_hu_matches_rescaled_source(p001_series):
    volume = volume_hu(p001_series)
    assert volume.shape == (148, 512, 512)
    assert volume.dtype == np.int16
    for index in (0, 74, 147):
        source = pydicom.dcmread(P001 / p001_series.slices[index].source_name)
        expected = source.pixel_array.astype(np.int32) * int(source.RescaleSlope) + int(
            source.RescaleIntercept
        )
        np.testing.assert_array_equal(volume[index], expected)
    assert volume.min() == -1024


def test_opaque_id_equal_to_patient_id_raises(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices[:2])
    with pytest.raises(ValueError, match="equals the source Patient ID"):
        scan_files(iter_source_files(folder), opaque_id_for=lambda patient_id: patient_id or "")


def test_opaque_id_for_receives_source_patient_id(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices[:2])
    seen = []

    def record(patient_id: str | None) -> str:
        seen.append(patient_id)
        return "C-TEST0003"

    scan_files(iter_source_files(folder), opaque_id_for=record)
    assert seen == ["98C14734-ASSH"]


# --- broken and unusual files --------------------------------------------------------


def test_non_dicom_file_rejected_alone(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices)
    (folder / "notes.txt").write_text("not an image")
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    (series,) = result.accepted
    assert series.slice_count == 6
    (report,) = result.files_with(FileFate.REJECTED)
    assert report.name == "notes.txt"
    assert "not a DICOM file" in report.reason


def test_truncated_file_rejects_series(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices)
    victim = folder / "slice_002.dcm"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - 5000])
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    assert result.accepted == []
    reasons = reasons_of(result)
    assert "'slice_002.dcm'" in reasons
    assert "truncated" in reasons
    rejected = result.files_with(FileFate.REJECTED)
    assert len(rejected) == 6
    assert "truncated" in next(r.reason for r in rejected if r.name == "slice_002.dcm")
    assert all("its series was rejected" in r.reason for r in rejected if r.name != "slice_002.dcm")


def test_truncated_native_pixel_data_rejects_series(tmp_path):
    ds = pydicom.dcmread(SBU_SINGLE_SLICE)
    ds.PixelData = ds.PixelData[:1000]
    path = tmp_path / "short.dcm"
    ds.save_as(path)
    result = scan_files(iter_source_files(tmp_path), opaque_id_for=opaque, min_slices=1)
    assert result.accepted == []
    assert "holds 1,000 bytes, but 512 x 512 pixels need 524,288" in reasons_of(result)


def test_undecodable_pixel_data_rejects_series(six_slices, tmp_path):
    def corrupt(index: int, ds: pydicom.Dataset) -> None:
        if index == 4:
            ds.PixelData = encapsulate([b"\xff\xd8\xff\xc3" + b"\x00" * 64])

    folder = write_series(tmp_path / "s", six_slices, edit=corrupt)
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    assert result.accepted == []
    reasons = reasons_of(result)
    assert "'slice_004.dcm'" in reasons
    assert "could not be decoded" in reasons
    assert "JPEG Lossless" in reasons
    assert result.files_with(FileFate.IMPORTED) == []


def test_instance_numbers_opposite_to_positions(six_slices, tmp_path):
    def renumber(index: int, ds: pydicom.Dataset) -> None:
        ds.InstanceNumber = 100 - index

    # Names sort in neither position nor instance order.
    names = ["c.dcm", "a.dcm", "f.dcm", "b.dcm", "e.dcm", "d.dcm"]
    folder = write_series(tmp_path / "s", six_slices, edit=renumber, names=names)
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    (series,) = result.accepted
    assert [item.source_name for item in series.slices] == names
    positions = [item.position for item in series.slices]
    assert positions == sorted(positions)
    instance_numbers = [
        pydicom.dcmread(io.BytesIO(item.data)).InstanceNumber for item in series.slices
    ]
    assert instance_numbers == [100, 99, 98, 97, 96, 95]


def test_feet_first_orders_feet_to_head(six_slices, tmp_path):
    def flip(index: int, ds: pydicom.Dataset) -> None:
        ds.ImageOrientationPatient = [-1, 0, 0, 0, 1, 0]

    folder = write_series(tmp_path / "s", six_slices, edit=flip)
    (series,) = scan_files(iter_source_files(folder), opaque_id_for=opaque).accepted
    assert series.geometry.normal == (0.0, 0.0, 1.0)
    z = [
        float(pydicom.dcmread(io.BytesIO(item.data)).ImagePositionPatient[2])
        for item in series.slices
    ]
    assert z == sorted(z)


def test_missing_middle_slice_named_in_reason(p001_z_order, tmp_path):
    seven = p001_z_order[60:67]
    kept = seven[:3] + seven[4:]
    folder = write_series(tmp_path / "s", [path for _, path in kept])
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    assert result.accepted == []
    below, above = seven[2][0], seven[4][0]
    expected = (
        f"Slice missing between z = {below:.1f} mm and z = {above:.1f} mm (after slice 3 of 6): "
        "spacing there is 4.0 mm, the series' spacing is 2.0 mm."
    )
    assert reasons_of(result) == expected


def test_two_missing_slices_counted(p001_z_order, tmp_path):
    eight = [path for _, path in p001_z_order[60:68]]
    folder = write_series(tmp_path / "s", eight[:3] + eight[5:])
    assert "2 slices missing between" in reasons_of(
        scan_files(iter_source_files(folder), opaque_id_for=opaque)
    )


def test_varying_spacing_rejected(six_slices, tmp_path):
    def shift(index: int, ds: pydicom.Dataset) -> None:
        if index == 3:
            x, y, z = (float(v) for v in ds.ImagePositionPatient)
            ds.ImagePositionPatient = [x, y, z + 0.7]

    folder = write_series(tmp_path / "s", six_slices, edit=shift)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert "Spacing varies between" in reasons
    assert "2.70 mm there, 2.00 mm elsewhere" in reasons
    assert "tolerance 10%" in reasons


def test_small_position_jitter_accepted(six_slices, tmp_path):
    def jitter(index: int, ds: pydicom.Dataset) -> None:
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + (0.1 if index % 2 else 0.0)]

    folder = write_series(tmp_path / "s", six_slices, edit=jitter)
    (series,) = scan_files(iter_source_files(folder), opaque_id_for=opaque).accepted
    assert series.slice_count == 6


def test_duplicate_position_rejected(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices)
    ds = pydicom.dcmread(six_slices[2])
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(folder / "copy.dcm")
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert "1 pair(s) of slices share a position" in reasons


def test_duplicate_file_excluded(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices)
    (folder / "zz_copy.dcm").write_bytes((folder / "slice_002.dcm").read_bytes())
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    (series,) = result.accepted
    assert series.slice_count == 6
    (excluded,) = result.files_with(FileFate.EXCLUDED)
    assert excluded.name == "zz_copy.dcm"
    assert excluded.reason == "duplicate of 'slice_002.dcm' (same SOP Instance UID)."


def test_localizer_excluded_rest_imports(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices)
    localizer = pydicom.dcmread(six_slices[0])
    localizer.SOPInstanceUID = generate_uid()
    localizer.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    localizer.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    localizer.save_as(folder / "scout.dcm")
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    (series,) = result.accepted
    assert series.slice_count == 6
    (excluded,) = result.files_with(FileFate.EXCLUDED)
    assert excluded.name == "scout.dcm"
    assert "localizer image" in excluded.reason
    assert [report.name for report in series.excluded] == ["scout.dcm"]
    assert "scout.dcm" not in [item.source_name for item in series.slices]


def test_other_modality_rejected(six_slices, tmp_path):
    def to_mr(index: int, ds: pydicom.Dataset) -> None:
        ds.Modality = "MR"

    folder = write_series(tmp_path / "s", six_slices[:3], edit=to_mr)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert reasons == "Modality (0008,0060) is 'MR' in 3 file(s); only CT series can be imported."


def test_single_image_rejected(tmp_path):
    result = scan_files([SourceFile("sbu.dcm", SBU_SINGLE_SLICE.read_bytes)], opaque_id_for=opaque)
    assert result.accepted == []
    assert (
        reasons_of(result) == "The series has a single image; a CT volume needs at least 2 slices."
    )
    (report,) = result.files
    assert report.fate is FileFate.REJECTED


def test_native_signed_image_transcodes():
    result = scan_files(
        [SourceFile("sbu.dcm", SBU_SINGLE_SLICE.read_bytes)], opaque_id_for=opaque, min_slices=1
    )
    (series,) = result.accepted
    source = pydicom.dcmread(SBU_SINGLE_SLICE)
    output = pydicom.dcmread(io.BytesIO(series.slices[0].data))
    assert output.PixelRepresentation == 1
    np.testing.assert_array_equal(output.pixel_array, source.pixel_array)
    assert source.PatientName == "A002304"
    assert b"A002304" not in series.slices[0].data
    assert b"19001231" not in series.slices[0].data
    assert series.patient_age == 71


def test_mixed_orientations_rejected(six_slices, tmp_path):
    tilted = [1, 0, 0, 0, 0.984808, -0.173648]  # 10 degrees about x

    def tilt(index: int, ds: pydicom.Dataset) -> None:
        if index >= 4:
            ds.ImageOrientationPatient = tilted

    folder = write_series(tmp_path / "s", six_slices, edit=tilt)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert reasons.startswith(
        "Mixed orientations: Image Orientation (Patient) (0020,0037) is [1, 0, 0, 0, 1, 0] in 4 file(s)"
    )
    assert "[1, 0, 0, 0, 0.985, -0.174] in 2 file(s) ('slice_004.dcm', 'slice_005.dcm')" in reasons


def test_sagittal_series_rejected_as_not_axial(six_slices, tmp_path):
    def sagittal(index: int, ds: pydicom.Dataset) -> None:
        ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
        ds.ImagePositionPatient = [float(index) * 2.0, -100.0, 50.0]

    folder = write_series(tmp_path / "s", six_slices, edit=sagittal)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert "The series is not axial" in reasons
    assert "90.0° from the patient z axis; at most 15° is accepted" in reasons


def test_missing_geometry_tag_rejected(six_slices, tmp_path):
    def drop_position(index: int, ds: pydicom.Dataset) -> None:
        if index == 1:
            del ds.ImagePositionPatient

    folder = write_series(tmp_path / "s", six_slices, edit=drop_position)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert reasons == (
        "(0020,0032) Image Position (Patient) is missing in 1 file(s) ('slice_001.dcm'); "
        "the volume cannot be placed."
    )


def test_differing_pixel_spacing_rejected(six_slices, tmp_path):
    def respace(index: int, ds: pydicom.Dataset) -> None:
        if index == 5:
            ds.PixelSpacing = [0.8, 0.8]

    folder = write_series(tmp_path / "s", six_slices, edit=respace)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert reasons == (
        "Pixel Spacing (0028,0030) differs within the series: [0.748047, 0.748047] in 5 file(s), "
        "[0.8, 0.8] in 1 file(s)."
    )


def test_differing_rows_rejected(six_slices, tmp_path):
    def resize(index: int, ds: pydicom.Dataset) -> None:
        if index == 0:
            ds.Rows = 256

    folder = write_series(tmp_path / "s", six_slices, edit=resize)
    reasons = reasons_of(scan_files(iter_source_files(folder), opaque_id_for=opaque))
    assert (
        "Rows (0028,0010) x Columns (0028,0011) differ within the series: 512 x 512 in 5 file(s), 256 x 512 in 1 file(s)."
        in reasons
    )


def test_burned_in_annotation_rejected(six_slices, tmp_path):
    def burn(index: int, ds: pydicom.Dataset) -> None:
        ds.BurnedInAnnotation = "YES"

    folder = write_series(tmp_path / "s", six_slices[:2], edit=burn)
    assert "Burned In Annotation (0028,0301) is 'YES'" in reasons_of(
        scan_files(iter_source_files(folder), opaque_id_for=opaque)
    )


def test_two_series_share_new_study_uid(six_slices, tmp_path):
    new_series_uid = generate_uid()

    def second_series(index: int, ds: pydicom.Dataset) -> None:
        ds.SeriesInstanceUID = new_series_uid
        ds.SOPInstanceUID = generate_uid()

    write_series(tmp_path / "s" / "a", six_slices[:3])
    write_series(tmp_path / "s" / "b", six_slices[:3], edit=second_series)
    result = scan_files(iter_source_files(tmp_path / "s"), opaque_id_for=opaque)
    first, second = result.accepted
    assert first.study_instance_uid == second.study_instance_uid
    assert first.series_instance_uid != second.series_instance_uid


def test_report_lists_every_file(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices[:3])
    (folder / "readme.txt").write_text("x")
    report = scan_files(iter_source_files(folder), opaque_id_for=opaque).as_report()
    fates = {entry["name"]: entry["fate"] for entry in report["files"]}
    assert fates == {
        "readme.txt": "rejected",
        "slice_000.dcm": "imported",
        "slice_001.dcm": "imported",
        "slice_002.dcm": "imported",
    }
    assert "98C14734-ASSH" not in repr(report)


# --- sources ------------------------------------------------------------------------


def zip_folder(folder: Path, archive: Path, *, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.iterdir()):
            handle.write(path, f"upload/{path.name}")
        for name, data in (extra or {}).items():
            handle.writestr(name, data)
    return archive


def test_zip_input_imports(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices)
    archive = zip_folder(folder, tmp_path / "upload.zip")
    files = iter_source_files(archive)
    assert [source.name for source in files] == [f"upload/slice_{i:03d}.dcm" for i in range(6)]
    (series,) = scan_files(files, opaque_id_for=opaque).accepted
    assert series.slice_count == 6


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("../evil.dcm", "'../evil.dcm' contains '..'"),
        ("upload/../../evil.dcm", "'upload/../../evil.dcm' contains '..'"),
        ("/etc/evil.dcm", "'/etc/evil.dcm' has an absolute path"),
        ("C:/evil.dcm", "'C:/evil.dcm' has an absolute path"),
    ],
)
def test_zip_unsafe_entry_rejects_archive(six_slices, tmp_path, entry, problem):
    folder = write_series(tmp_path / "s", six_slices[:1])
    archive = zip_folder(folder, tmp_path / "upload.zip", extra={entry: b"x"})
    with pytest.raises(ArchiveError, match=re.escape(problem)):
        iter_source_files(archive)


def test_zip_symlink_entry_rejected(tmp_path):
    archive = tmp_path / "upload.zip"
    info = zipfile.ZipInfo("upload/link.dcm")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="'upload/link.dcm' is a symbolic link"):
        iter_source_files(archive)


def test_zip_over_size_limit_rejected(tmp_path):
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("upload/a.dcm", b"\x00" * 5000)
        handle.writestr("upload/b.dcm", b"\x00" * 5000)
    with pytest.raises(ArchiveError, match="unpacks to 10,000 bytes; the limit is 8,000 bytes"):
        iter_source_files(archive, max_total_bytes=8000)


def test_not_a_zip_rejected(tmp_path):
    path = tmp_path / "upload.zip"
    path.write_bytes(b"plain text")
    with pytest.raises(ArchiveError, match="neither a folder nor a valid zip archive"):
        iter_source_files(path)


def test_folder_skips_symlinks(tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "a.dcm").write_bytes(b"x")
    os.symlink("/etc/hostname", folder / "link.dcm")
    assert [source.name for source in iter_source_files(folder)] == ["a.dcm"]


def test_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="No folder or zip file"):
        iter_source_files(tmp_path / "absent")


@pytest.mark.parametrize(
    ("value", "years"),
    [("039Y", 39), ("006M", 0), ("018M", 1), ("010D", 0), ("", None), ("39", None), (None, None)],
)
def test_parse_age(value, years):
    assert parse_age(value) == years


def test_unexpected_error_rejects_only_its_series(six_slices, tmp_path, monkeypatch):
    from apps.imaging import dicom_import

    new_series_uid = generate_uid()

    def second_series(index: int, ds: pydicom.Dataset) -> None:
        ds.SeriesInstanceUID = new_series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.PatientID = "OTHER-PATIENT"

    write_series(tmp_path / "s" / "a", six_slices[:3])
    write_series(tmp_path / "s" / "b", six_slices[:3], edit=second_series)
    real = dicom_import.deidentify_dataset

    def failing(ds, **kwargs):
        if ds.PatientID == "OTHER-PATIENT":
            raise RuntimeError("boom")
        real(ds, **kwargs)

    monkeypatch.setattr(dicom_import, "deidentify_dataset", failing)
    result = scan_files(iter_source_files(tmp_path / "s"), opaque_id_for=opaque)
    (accepted,) = result.accepted
    assert accepted.source_patient_id == "98C14734-ASSH"
    assert reasons_of(result) == (
        "The series could not be de-identified because of an unexpected RuntimeError; the server "
        "log has the details. A series is imported whole or not at all."
    )
    assert len(result.files_with(FileFate.REJECTED)) == 3


def test_invalid_opaque_id_raises(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices[:2])
    with pytest.raises(ValueError, match=r"contains \['\^'\]"):
        scan_files(iter_source_files(folder), opaque_id_for=lambda _: "C^1")


def test_damaged_zip_entry_rejected_alone(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices[:2])
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        handle.write(folder / "slice_000.dcm", "upload/a.dcm")
        handle.write(folder / "slice_001.dcm", "upload/b.dcm")
        handle.writestr("upload/notes.txt", b"x" * 4000)
    data = bytearray(archive.read_bytes())
    offset = data.index(b"upload/notes.txt") + len("upload/notes.txt") + 2
    data[offset : offset + 8] = b"\xff" * 8
    archive.write_bytes(bytes(data))
    result = scan_files(iter_source_files(archive), opaque_id_for=opaque)
    (series,) = result.accepted
    assert series.slice_count == 2
    (report,) = result.files_with(FileFate.REJECTED)
    assert report.name == "upload/notes.txt"
    assert report.reason.startswith("could not be read: the archive entry cannot be unpacked")


def test_system_metadata_files_excluded(six_slices, tmp_path):
    folder = write_series(tmp_path / "s", six_slices[:2])
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "._slice_000.dcm").write_bytes(b"\x00\x05\x16\x07")
    result = scan_files(iter_source_files(folder), opaque_id_for=opaque)
    assert len(result.accepted) == 1
    excluded = sorted(report.name for report in result.files_with(FileFate.EXCLUDED))
    assert excluded == [".DS_Store", "__MACOSX/._slice_000.dcm"]
    assert result.files_with(FileFate.REJECTED) == []


def test_rle_series_transcodes_to_native(six_slices, tmp_path):
    def to_rle(index: int, ds: pydicom.Dataset) -> None:
        ds.decompress()
        ds.compress(RLELossless)

    folder = write_series(tmp_path / "s", six_slices[:2], edit=to_rle)
    (series,) = scan_files(iter_source_files(folder), opaque_id_for=opaque).accepted
    for item, source in zip(series.slices, six_slices[:2], strict=True):
        output = pydicom.dcmread(io.BytesIO(item.data))
        assert output.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        np.testing.assert_array_equal(output.pixel_array, pydicom.dcmread(source).pixel_array)


def test_lossy_transfer_syntax_sets_flag(six_slices, tmp_path, monkeypatch):
    from apps.imaging import dicom_import

    def to_rle(index: int, ds: pydicom.Dataset) -> None:
        ds.decompress()
        ds.compress(RLELossless)

    # No lossy encoder is installed, so RLE plays the part of a lossy syntax here.
    monkeypatch.setattr(dicom_import, "_LOSSY_TRANSFER_SYNTAXES", frozenset({RLELossless}))
    folder = write_series(tmp_path / "s", six_slices[:2], edit=to_rle)
    (series,) = scan_files(iter_source_files(folder), opaque_id_for=opaque).accepted
    assert pydicom.dcmread(io.BytesIO(series.slices[0].data)).LossyImageCompression == "01"
