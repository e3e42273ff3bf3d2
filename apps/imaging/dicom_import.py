"""Scanning, validation, de-identification and transcoding of uploaded CT series.

Usage::

    files = iter_source_files(path)               # a folder or a .zip
    result = scan_files(files, opaque_id_for=lambda patient_id: new_public_id())
    for series in result.accepted:
        store(series.slices)                       # de-identified Part-10 bytes
    report = result.as_report()                    # every file's fate

Public API:

- ``iter_source_files(path, *, max_total_bytes=MAX_ARCHIVE_BYTES) -> list[SourceFile]``
  lists a folder or a zip, and raises :class:`ArchiveError` for an unsafe zip.
- ``scan_files(files, *, opaque_id_for, min_slices=2) -> ScanResult``.
  ``opaque_id_for(source_patient_id)`` is called once for each series that
  passes validation, before its pixels are decoded, so a series rejected at
  decoding has still used an id.
- ``volume_hu(series) -> numpy.ndarray`` stacks an accepted series in HU.
- ``parse_age(value) -> int | None`` reads a Patient's Age (AS) value.

:func:`scan_files` works in two passes. The first reads every file's header,
groups the files by Series Instance UID and validates each series as a volume
(modality, geometry, spacing). The second reloads the files of each series that
passed, decodes the pixel data, de-identifies (see :mod:`apps.imaging.deidentify`)
and writes each slice as Explicit VR Little Endian. Files are decoded one at a
time, and only the output bytes are kept: 2 bytes per pixel for 16-bit CT,
77 MB for a series of 148 slices of 512 x 512.

NOTE: the result keeps the output of every accepted series, so an upload of
many series needs that much memory at once. Storing each series as soon as it
is prepared would bound memory by the largest series.

A series is imported whole or not at all: one unreadable, truncated or
undecodable slice rejects its series, and the result then contains no slice of it.

Slice order
-----------
Slices are sorted by Image Position (Patient) projected on the slice normal,
never by file name or Instance Number. The normal is the cross product of the
row and column direction cosines of Image Orientation (Patient), flipped when
needed so that it points toward the patient's head (+z in the DICOM patient
coordinate system). Index 0 is therefore the most inferior (feet-end) slice for
any Patient Position, and positions increase toward the head.

Validation thresholds
---------------------
- Orientation: all slices share Image Orientation (Patient) within
  :data:`ORIENTATION_TOLERANCE` per direction cosine, and the normal lies
  within :data:`MAX_AXIAL_TILT_DEGREES` of the patient z axis.
- Spacing: the series' spacing is the median distance between neighbouring
  slices. A distance within :data:`SPACING_RELATIVE_TOLERANCE` of it passes. A
  distance near a whole multiple of it (same tolerance) is reported as missing
  slices, and any other distance as varying spacing. Ten percent passes
  positions written with one decimal (0.1 mm) for spacings of 1 mm and above,
  and still catches one missing slice, which doubles the distance.
"""

from __future__ import annotations

import io
import logging
import math
import os
import stat
import warnings
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Final

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
    MediaStorageDirectoryStorage,
)

from apps.imaging.deidentify import UIDMap, deidentify_dataset, validate_opaque_id

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_AXIAL_TILT_DEGREES",
    "ORIENTATION_TOLERANCE",
    "SPACING_RELATIVE_TOLERANCE",
    "AcceptedSeries",
    "ArchiveError",
    "FileFate",
    "FileReport",
    "PreparedSlice",
    "RejectedSeries",
    "ScanResult",
    "SeriesGeometry",
    "SourceFile",
    "iter_source_files",
    "parse_age",
    "scan_files",
    "volume_hu",
]

logger = logging.getLogger(__name__)

MAX_ARCHIVE_BYTES: Final = 4 * 1024**3
"""Default limit on the total uncompressed size of a zip archive (4 GiB)."""

ORIENTATION_TOLERANCE: Final = 1e-3
MAX_AXIAL_TILT_DEGREES: Final = 15.0
SPACING_RELATIVE_TOLERANCE: Final = 0.10
MIN_SLICES: Final = 2

# Slices closer than this along the normal are treated as the same position.
_SAME_POSITION_MM: Final = 0.01
_MAX_LISTED: Final = 5
_LOSSY_TRANSFER_SYNTAXES: Final = frozenset(
    {JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless}
)


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """One input file: a name for messages and a callable that returns its bytes.

    The loader is called once per pass, so it should read from disk or an
    archive rather than hold the bytes.
    """

    name: str
    load: Callable[[], bytes] = field(repr=False)


class ArchiveError(ValueError):
    """An upload that cannot be read safely as a whole (unsafe zip entries, size limit)."""


def iter_source_files(
    path: str | os.PathLike[str], *, max_total_bytes: int = MAX_ARCHIVE_BYTES
) -> list[SourceFile]:
    """List the files of a folder (recursively) or of a .zip archive.

    Parameters
    ----------
    path
        A folder or a zip file.
    max_total_bytes
        Limit on the total uncompressed size of a zip archive.

    Returns
    -------
    list of SourceFile
        Named by their path relative to the folder, or their name in the
        archive, with ``/`` as separator, in sorted order. Symbolic links in a
        folder are skipped because they can point outside it.

    Raises
    ------
    ArchiveError
        If the archive is not a zip file, contains entries with an absolute
        path, a ``..`` component or a symbolic link, or unpacks to more than
        the size limit. Every unsafe entry is named in the message.
    FileNotFoundError
        If the path does not exist.
    """
    root = Path(path)
    if root.is_dir():
        return _folder_files(root)
    if not root.exists():
        raise FileNotFoundError(f"No folder or zip file at {str(root)!r}.")
    return _zip_files(root, max_total_bytes=max_total_bytes)


def _folder_files(root: Path) -> list[SourceFile]:
    files = []
    for directory, subdirectories, names in os.walk(root, followlinks=False):
        subdirectories.sort()
        for name in sorted(names):
            full = Path(directory) / name
            if full.is_symlink() or not full.is_file():
                continue
            files.append(SourceFile(name=full.relative_to(root).as_posix(), load=full.read_bytes))
    return files


def _zip_files(archive_path: Path, *, max_total_bytes: int) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ArchiveError(
            f"{archive_path.name!r} is neither a folder nor a valid zip archive: {exc}."
        ) from exc

    problems = []
    total = 0
    entries = []
    for info in infos:
        if info.is_dir():
            continue
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (parts and parts[0].endswith(":")):
            problems.append(f"{name!r} has an absolute path")
        elif ".." in parts:
            problems.append(f"{name!r} contains '..'")
        elif stat.S_ISLNK(info.external_attr >> 16):
            problems.append(f"{name!r} is a symbolic link")
        else:
            entries.append(info)
        total += info.file_size

    if problems:
        raise ArchiveError(
            f"Archive {archive_path.name!r} was rejected because entries could be written outside "
            f"the import folder: {'; '.join(problems)}. Re-create the archive from the folder itself."
        )
    if total > max_total_bytes:
        raise ArchiveError(
            f"Archive {archive_path.name!r} unpacks to {total:,} bytes; the limit is "
            f"{max_total_bytes:,} bytes. Split the upload into smaller archives."
        )
    return [
        SourceFile(name=info.filename, load=_zip_loader(archive_path, info)) for info in entries
    ]


def _zip_loader(archive_path: Path, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def load() -> bytes:
        # ZipExtFile stops at the declared file_size, which was counted against
        # the limit, so a lying header cannot unpack more than that.
        try:
            with zipfile.ZipFile(archive_path) as archive, archive.open(info) as entry:
                return entry.read()
        # Encrypted entries raise RuntimeError, unknown compression methods
        # NotImplementedError, and damaged data BadZipFile, zlib.error or EOFError.
        except (RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise OSError(f"the archive entry cannot be unpacked ({exc})") from exc

    return load


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


class FileFate(str, Enum):
    IMPORTED = "imported"
    EXCLUDED = "excluded"
    REJECTED = "rejected"


@dataclass(frozen=True)
class FileReport:
    """Fate of one input file, with the reason (empty for imported files)."""

    name: str
    fate: FileFate
    reason: str = ""
    series_uid: str | None = None


@dataclass(frozen=True)
class SeriesGeometry:
    """Volume geometry in the DICOM patient coordinate system, millimetres."""

    rows: int
    columns: int
    pixel_spacing: tuple[float, float]
    """Distance between rows, then between columns (Pixel Spacing order)."""
    slice_spacing: float
    orientation: tuple[float, float, float, float, float, float]
    normal: tuple[float, float, float]
    """Unit normal pointing toward the head. Positions are measured along it."""
    first_position: tuple[float, float, float]
    """Image Position (Patient) of slice 0."""


@dataclass(frozen=True)
class PreparedSlice:
    sop_instance_uid: str
    """New SOP Instance UID."""
    position: float
    """mm along :attr:`SeriesGeometry.normal`."""
    data: bytes = field(repr=False)
    """De-identified DICOM Part-10 file, Explicit VR Little Endian."""
    source_name: str


@dataclass(frozen=True)
class AcceptedSeries:
    """A validated, de-identified series, slices ordered from feet to head."""

    source_series_uid: str
    source_patient_id: str | None
    """For matching a clinical CSV row only. Store a keyed hash of it, never the value."""
    opaque_id: str
    study_instance_uid: str
    series_instance_uid: str
    modality: str
    patient_age: int | None
    patient_sex: str | None
    geometry: SeriesGeometry
    slices: tuple[PreparedSlice, ...] = field(repr=False)
    excluded: tuple[FileReport, ...] = ()

    @property
    def slice_count(self) -> int:
        return len(self.slices)


@dataclass(frozen=True)
class RejectedSeries:
    source_series_uid: str
    reasons: tuple[str, ...]
    file_names: tuple[str, ...]


@dataclass
class ScanResult:
    accepted: list[AcceptedSeries] = field(default_factory=list)
    rejected: list[RejectedSeries] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)

    def files_with(self, fate: FileFate) -> list[FileReport]:
        return [report for report in self.files if report.fate is fate]

    def as_report(self) -> dict[str, object]:
        """Summarise the scan as JSON-serialisable data without patient identifiers.

        File names are those of the upload and may themselves contain a
        source identifier; the caller decides whether to store them.
        """
        return {
            "accepted": [
                {
                    "series_instance_uid": series.series_instance_uid,
                    "slice_count": series.slice_count,
                    "excluded_files": [report.name for report in series.excluded],
                }
                for series in self.accepted
            ],
            "rejected": [
                {"reasons": list(series.reasons), "file_count": len(series.file_names)}
                for series in self.rejected
            ],
            "files": [
                {"name": report.name, "fate": report.fate.value, "reason": report.reason}
                for report in self.files
            ],
        }


# ---------------------------------------------------------------------------
# Scanning
# ---------------------------------------------------------------------------


@dataclass
class _Header:
    name: str
    source: SourceFile
    ds: Dataset
    """The file's dataset without its pixel data."""
    problem: str | None = None


def scan_files(
    files: Iterable[SourceFile],
    *,
    opaque_id_for: Callable[[str | None], str],
    min_slices: int = MIN_SLICES,
) -> ScanResult:
    """Validate, de-identify and transcode every CT series among the files.

    Parameters
    ----------
    files
        Input files, for example from :func:`iter_source_files`.
    opaque_id_for
        Called once per accepted series with its source Patient ID (``None``
        when empty); returns the id written to Patient's Name and Patient ID.
    min_slices
        Minimum number of non-localizer images that make a volume.

    Returns
    -------
    ScanResult
        Accepted and rejected series, and the fate of every input file.

    Raises
    ------
    ValueError
        If ``opaque_id_for`` returns an invalid id or the source Patient ID itself.
    """
    result = ScanResult()
    uid_map = UIDMap()
    series_headers: dict[str, list[_Header]] = defaultdict(list)

    for source in files:
        header = _read_header(source)
        if isinstance(header, FileReport):
            result.files.append(header)
            continue
        series_headers[str(header.ds.SeriesInstanceUID)].append(header)

    for series_uid, headers in series_headers.items():
        outcome = _process_series(
            series_uid, headers, opaque_id_for=opaque_id_for, uid_map=uid_map, min_slices=min_slices
        )
        if isinstance(outcome, AcceptedSeries):
            result.accepted.append(outcome)
            imported = [
                FileReport(name=item.source_name, fate=FileFate.IMPORTED, series_uid=series_uid)
                for item in outcome.slices
            ]
            result.files.extend(imported)
            result.files.extend(outcome.excluded)
            logger.info("Accepted series %s with %d slices.", series_uid, outcome.slice_count)
        else:
            rejected_series, reports = outcome
            result.rejected.append(rejected_series)
            result.files.extend(reports)
            logger.info("Rejected series %s: %s", series_uid, " ".join(rejected_series.reasons))

    return result


def _read_header(source: SourceFile) -> _Header | FileReport:
    """Parse one file; return its header, or the report of why it cannot join a series."""

    def rejected(reason: str) -> FileReport:
        return FileReport(name=source.name, fate=FileFate.REJECTED, reason=reason)

    if _is_system_metadata(source.name):
        return FileReport(
            name=source.name,
            fate=FileFate.EXCLUDED,
            reason="operating-system metadata file (hidden or under __MACOSX), not an image.",
        )
    try:
        data = source.load()
    except OSError as exc:
        return rejected(f"could not be read: {exc.strerror or exc}.")

    ds, problem = _parse(data)
    if ds is None:
        return rejected(problem or "could not be parsed.")

    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("MediaStorageSOPClassUID") == MediaStorageDirectoryStorage:
        return FileReport(
            name=source.name, fate=FileFate.EXCLUDED, reason="DICOMDIR index file, not an image."
        )
    series_uid = ds.get("SeriesInstanceUID")
    if not series_uid:
        return rejected(
            "has no Series Instance UID (0020,000E), so it cannot be assigned to a series."
        )

    if "PixelData" in ds:
        del ds.PixelData
    return _Header(name=source.name, source=source, ds=ds, problem=problem)


def _is_system_metadata(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return "__MACOSX" in parts or any(part.startswith(".") for part in parts)


def _parse(data: bytes) -> tuple[Dataset | None, str | None]:
    """Read a Part-10 file; return the dataset and a problem that rejects its series, if any."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = dcmread(io.BytesIO(data))
        except InvalidDicomError:
            return None, "is not a DICOM file: it has no 'DICM' marker after the 128-byte preamble."
        # pydicom raises several unrelated types (struct.error, EOFError,
        # KeyError, ValueError) for malformed input; none may stop the import.
        except Exception as exc:  # noqa: BLE001
            return None, f"is not a readable DICOM file: {type(exc).__name__}: {exc}."

    truncation = [str(w.message) for w in caught if _is_truncation_warning(str(w.message))]
    if truncation:
        # A truncated file can come back empty, but its header, read alone,
        # still names the series that the truncation rejects.
        return _read_header_only(
            data
        ) or ds, f"is truncated ({len(data):,} bytes): {truncation[0]}."
    if "PixelData" not in ds:
        if "Rows" in ds:
            return (
                ds,
                f"is truncated or incomplete ({len(data):,} bytes): it has no Pixel Data (7FE0,0010).",
            )
        return ds, "has no Pixel Data (7FE0,0010); it is not an image."

    transfer_syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if transfer_syntax is not None and not UID(transfer_syntax).is_compressed:
        expected = _native_pixel_bytes(ds)
        actual = len(ds.PixelData)
        if expected is not None and actual < expected:
            return ds, (
                f"is truncated: Pixel Data (7FE0,0010) holds {actual:,} bytes, but "
                f"{ds.Rows} x {ds.Columns} pixels need {expected:,}."
            )
    return ds, None


def _is_truncation_warning(message: str) -> bool:
    return "End of file" in message or "truncat" in message.lower()


def _read_header_only(data: bytes) -> Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return dcmread(io.BytesIO(data), stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - the caller already reports the file as truncated
            return None


def _native_pixel_bytes(ds: Dataset) -> int | None:
    try:
        bits = int(ds.BitsAllocated)
        pixels = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1))
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError):
        return None
    return math.ceil(pixels * frames * bits / 8)


# ---------------------------------------------------------------------------
# Series validation
# ---------------------------------------------------------------------------


class _Rejection(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


@dataclass
class _Volume:
    headers: list[_Header]
    """Volume slices ordered from feet to head."""
    positions: list[float]
    geometry: SeriesGeometry
    excluded: list[FileReport]


def _process_series(
    series_uid: str,
    headers: list[_Header],
    *,
    opaque_id_for: Callable[[str | None], str],
    uid_map: UIDMap,
    min_slices: int,
) -> AcceptedSeries | tuple[RejectedSeries, list[FileReport]]:
    def rejection(
        reasons: list[str], *, excluded: list[FileReport] | None = None
    ) -> tuple[RejectedSeries, list[FileReport]]:
        excluded = excluded or []
        excluded_names = {report.name for report in excluded}
        own_problems = {header.name: header.problem for header in headers if header.problem}
        reports = [
            FileReport(
                name=header.name,
                fate=FileFate.REJECTED,
                reason=own_problems.get(header.name)
                or "its series was rejected: " + " ".join(reasons),
                series_uid=series_uid,
            )
            for header in headers
            if header.name not in excluded_names
        ]
        rejected = RejectedSeries(
            source_series_uid=series_uid,
            reasons=tuple(reasons),
            file_names=tuple(header.name for header in headers),
        )
        return rejected, reports + excluded

    file_problems = [
        f"File {header.name!r} {header.problem}" for header in headers if header.problem
    ]
    if file_problems:
        return rejection(file_problems + ["A series is imported whole or not at all."])

    try:
        volume = _validate_volume(series_uid, headers, min_slices=min_slices)
    except _Rejection as exc:
        return rejection(exc.reasons)
    # Headers with unexpected content must not stop the other series.
    except Exception as exc:
        logger.exception("Validating series %s failed unexpectedly.", series_uid)
        return rejection([_unexpected_failure("validated", exc)])

    source_patient_id = str(volume.headers[0].ds.get("PatientID", "") or "").strip() or None
    opaque_id = validate_opaque_id(
        opaque_id_for(source_patient_id), source_patient_id=source_patient_id
    )
    try:
        slices = _prepare_slices(
            volume, opaque_id=opaque_id, source_patient_id=source_patient_id, uid_map=uid_map
        )
    except _Rejection as exc:
        return rejection(exc.reasons, excluded=volume.excluded)
    except Exception as exc:
        logger.exception("Preparing series %s failed unexpectedly.", series_uid)
        return rejection([_unexpected_failure("de-identified", exc)], excluded=volume.excluded)

    first = volume.headers[0].ds
    return AcceptedSeries(
        source_series_uid=series_uid,
        source_patient_id=source_patient_id,
        opaque_id=opaque_id,
        study_instance_uid=uid_map(str(first.StudyInstanceUID)),
        series_instance_uid=uid_map(series_uid),
        modality=str(first.Modality),
        patient_age=parse_age(first.get("PatientAge")),
        patient_sex=_parse_sex(first.get("PatientSex")),
        geometry=volume.geometry,
        slices=tuple(slices),
        excluded=tuple(volume.excluded),
    )


def _unexpected_failure(step: str, exc: Exception) -> str:
    return (
        f"The series could not be {step} because of an unexpected {type(exc).__name__}; "
        "the server log has the details. A series is imported whole or not at all."
    )


def _validate_volume(series_uid: str, headers: list[_Header], *, min_slices: int) -> _Volume:
    _check_modality(headers)
    _check_same_patient(headers)

    headers, excluded = _drop_duplicates_and_localizers(series_uid, headers)
    if len(headers) < min_slices:
        count = "a single image" if len(headers) == 1 else f"{len(headers)} images"
        localizers = f" besides {len(excluded)} excluded file(s)" if excluded else ""
        raise _Rejection(
            [f"The series has {count}{localizers}; a CT volume needs at least {min_slices} slices."]
        )

    _check_image_kind(headers)
    _check_required_uids(headers)
    _check_required_geometry(headers)
    rows, columns, pixel_spacing = _check_uniform_matrix(headers)
    orientation = _check_orientation(headers)
    normal = _slice_normal(orientation)

    positions = [float(np.dot(_ipp(header.ds), normal)) for header in headers]
    order = sorted(range(len(headers)), key=positions.__getitem__)
    headers = [headers[i] for i in order]
    positions = [positions[i] for i in order]
    slice_spacing = _check_spacing(headers, positions)

    geometry = SeriesGeometry(
        rows=rows,
        columns=columns,
        pixel_spacing=pixel_spacing,
        slice_spacing=slice_spacing,
        orientation=tuple(float(v) for v in orientation),  # type: ignore[arg-type]
        normal=(float(normal[0]), float(normal[1]), float(normal[2])),
        first_position=tuple(float(v) for v in _ipp(headers[0].ds)),  # type: ignore[arg-type]
    )
    return _Volume(headers=headers, positions=positions, geometry=geometry, excluded=excluded)


def _check_modality(headers: list[_Header]) -> None:
    modalities = Counter(str(header.ds.get("Modality", "") or "") for header in headers)
    wrong = {modality: count for modality, count in modalities.items() if modality != "CT"}
    if wrong:
        found = ", ".join(
            f"{modality or '(empty)'!r} in {count} file(s)" for modality, count in wrong.items()
        )
        raise _Rejection([f"Modality (0008,0060) is {found}; only CT series can be imported."])


def _check_same_patient(headers: list[_Header]) -> None:
    patient_ids = {str(header.ds.get("PatientID", "") or "").strip() for header in headers}
    if len(patient_ids) > 1:
        raise _Rejection(
            [
                (
                    f"The series mixes {len(patient_ids)} different Patient ID (0010,0020) values; "
                    "a series must belong to one patient."
                )
            ]
        )


def _drop_duplicates_and_localizers(
    series_uid: str, headers: list[_Header]
) -> tuple[list[_Header], list[FileReport]]:
    kept: list[_Header] = []
    excluded: list[FileReport] = []
    seen: dict[str, str] = {}
    for header in headers:
        image_type = [str(value).upper() for value in (header.ds.get("ImageType") or [])]
        sop_uid = str(header.ds.get("SOPInstanceUID", "") or "")
        if "LOCALIZER" in image_type:
            shown = "\\".join(image_type)
            reason = f"localizer image (Image Type (0008,0008) is {shown}), not part of the volume."
        elif sop_uid and sop_uid in seen:
            reason = f"duplicate of {seen[sop_uid]!r} (same SOP Instance UID)."
        else:
            if sop_uid:
                seen[sop_uid] = header.name
            kept.append(header)
            continue
        excluded.append(
            FileReport(
                name=header.name, fate=FileFate.EXCLUDED, reason=reason, series_uid=series_uid
            )
        )
    return kept, excluded


def _check_image_kind(headers: list[_Header]) -> None:
    reasons = []
    frames = Counter(int(header.ds.get("NumberOfFrames", 1) or 1) for header in headers)
    if any(count > 1 for count in frames):
        reasons.append(
            f"Number of Frames (0028,0008) is {max(frames)}; multi-frame (Enhanced CT) images "
            "are not supported. Export the series as single-frame CT images."
        )
    samples = Counter(int(header.ds.get("SamplesPerPixel", 1) or 1) for header in headers)
    if set(samples) != {1}:
        reasons.append(f"Samples per Pixel (0028,0002) is {sorted(samples)}; a CT image has 1.")
    burned_in = [
        header.name
        for header in headers
        if str(header.ds.get("BurnedInAnnotation", "")).upper() == "YES"
    ]
    if burned_in:
        reasons.append(
            f"Burned In Annotation (0028,0301) is 'YES' in {_list_names(burned_in)}; text burned into "
            "the pixels could identify the patient, and this importer does not clean pixel data."
        )
    if reasons:
        raise _Rejection(reasons)


def _check_required_uids(headers: list[_Header]) -> None:
    reasons = []
    for keyword, label in (
        ("StudyInstanceUID", "(0020,000D) Study Instance UID"),
        ("SOPInstanceUID", "(0008,0018) SOP Instance UID"),
        ("SOPClassUID", "(0008,0016) SOP Class UID"),
    ):
        missing = [header.name for header in headers if not header.ds.get(keyword)]
        if missing:
            reasons.append(f"{label} is missing in {_list_names(missing)}.")
    if reasons:
        raise _Rejection(reasons)


_GEOMETRY_TAGS: Final = (
    ("ImagePositionPatient", "(0020,0032) Image Position (Patient)", 3),
    ("ImageOrientationPatient", "(0020,0037) Image Orientation (Patient)", 6),
    ("PixelSpacing", "(0028,0030) Pixel Spacing", 2),
    ("Rows", "(0028,0010) Rows", 1),
    ("Columns", "(0028,0011) Columns", 1),
)


def _check_required_geometry(headers: list[_Header]) -> None:
    reasons = []
    for keyword, label, count in _GEOMETRY_TAGS:
        missing = [header.name for header in headers if header.ds.get(keyword) in (None, "")]
        if missing:
            reasons.append(
                f"{label} is missing in {_list_names(missing)}; the volume cannot be placed."
            )
            continue
        malformed = []
        for header in headers:
            values = header.ds.get(keyword)
            values = (
                list(values) if count > 1 and not isinstance(values, (str, bytes)) else [values]
            )
            try:
                numbers = [float(value) for value in values]
            except (TypeError, ValueError):
                numbers = []
            if len(numbers) != count or not all(math.isfinite(number) for number in numbers):
                malformed.append(f"{header.name!r} ({values!r})")
        if malformed:
            reasons.append(
                f"{label} must hold {count} number(s); invalid in {', '.join(malformed[:_MAX_LISTED])}."
            )
    if reasons:
        raise _Rejection(reasons)


def _check_uniform_matrix(headers: list[_Header]) -> tuple[int, int, tuple[float, float]]:
    reasons = []
    matrices = Counter((int(header.ds.Rows), int(header.ds.Columns)) for header in headers)
    if len(matrices) > 1:
        found = ", ".join(f"{r} x {c} in {n} file(s)" for (r, c), n in matrices.most_common())
        reasons.append(f"Rows (0028,0010) x Columns (0028,0011) differ within the series: {found}.")
    spacings = Counter(
        tuple(round(float(v), 6) for v in header.ds.PixelSpacing) for header in headers
    )
    if len(spacings) > 1:
        found = ", ".join(f"{list(s)} in {n} file(s)" for s, n in spacings.most_common())
        reasons.append(f"Pixel Spacing (0028,0030) differs within the series: {found}.")
    if reasons:
        raise _Rejection(reasons)

    ((rows, columns),) = matrices
    spacing = [float(value) for value in headers[0].ds.PixelSpacing]
    if min(spacing) <= 0:
        raise _Rejection([f"Pixel Spacing (0028,0030) is {spacing}; both values must be positive."])
    return rows, columns, (spacing[0], spacing[1])


def _check_orientation(headers: list[_Header]) -> np.ndarray:
    orientations = [
        np.array([float(v) for v in header.ds.ImageOrientationPatient]) for header in headers
    ]
    reference = orientations[0]
    groups: list[tuple[np.ndarray, list[str]]] = []
    for header, orientation in zip(headers, orientations, strict=True):
        for value, names in groups:
            if np.max(np.abs(value - orientation)) <= ORIENTATION_TOLERANCE:
                names.append(header.name)
                break
        else:
            groups.append((orientation, [header.name]))
    if len(groups) > 1:
        found = "; ".join(
            f"{_format_vector(value)} in {_list_names(names)}" for value, names in groups
        )
        raise _Rejection(
            [f"Mixed orientations: Image Orientation (Patient) (0020,0037) is {found}."]
        )

    row, column = reference[:3], reference[3:]
    row_norm, column_norm = np.linalg.norm(row), np.linalg.norm(column)
    if (
        abs(row_norm - 1) > 0.01
        or abs(column_norm - 1) > 0.01
        or abs(float(np.dot(row, column))) > 0.01
    ):
        raise _Rejection(
            [
                (
                    f"Image Orientation (Patient) (0020,0037) {_format_vector(reference)} is not two "
                    "orthogonal unit vectors."
                )
            ]
        )

    normal = _slice_normal(reference)
    tilt = math.degrees(math.acos(min(1.0, abs(float(normal[2])))))
    if tilt > MAX_AXIAL_TILT_DEGREES:
        raise _Rejection(
            [
                (
                    f"The series is not axial: its slice normal {_format_vector(normal)} (from Image "
                    f"Orientation (Patient) {_format_vector(reference)}) is {tilt:.1f}° from the patient "
                    f"z axis; at most {MAX_AXIAL_TILT_DEGREES:g}° is accepted."
                )
            ]
        )
    return reference


def _slice_normal(orientation: np.ndarray) -> np.ndarray:
    normal = np.cross(orientation[:3], orientation[3:])
    normal = normal / np.linalg.norm(normal)
    # Point toward the head so that index 0 is the feet end for any Patient Position.
    return -normal if normal[2] < 0 else normal


def _check_spacing(headers: list[_Header], positions: list[float]) -> float:
    count = len(positions)
    if count < 2:
        # Only reachable with min_slices=1, where Slice Thickness is the best stand-in.
        return float(headers[0].ds.get("SliceThickness") or 0.0)
    gaps = np.diff(np.asarray(positions))

    same = [i for i, gap in enumerate(gaps) if gap < _SAME_POSITION_MM]
    if same:
        pairs = ", ".join(
            f"{headers[i].name!r} and {headers[i + 1].name!r} at z = {positions[i]:.1f} mm"
            for i in same[:_MAX_LISTED]
        )
        raise _Rejection(
            [
                (
                    f"{len(same)} pair(s) of slices share a position: {pairs}. The series holds more than "
                    "one volume (e.g. two acquisitions); export each volume as its own series."
                )
            ]
        )

    spacing = float(np.median(gaps))
    reasons = []
    for i, gap in enumerate(gaps):
        ratio = float(gap) / spacing
        if abs(ratio - 1) <= SPACING_RELATIVE_TOLERANCE:
            continue
        multiple = round(ratio)
        where = f"between z = {positions[i]:.1f} mm and z = {positions[i + 1]:.1f} mm (after slice {i + 1} of {count})"
        if multiple >= 2 and abs(ratio - multiple) <= SPACING_RELATIVE_TOLERANCE * multiple:
            missing = "slice missing" if multiple == 2 else f"{multiple - 1} slices missing"
            reasons.append(
                f"{missing.capitalize()} {where}: spacing there is {gap:.1f} mm, the series' "
                f"spacing is {spacing:.1f} mm."
            )
        else:
            reasons.append(
                f"Spacing varies {where}: {gap:.2f} mm there, {spacing:.2f} mm elsewhere "
                f"(tolerance {SPACING_RELATIVE_TOLERANCE:.0%})."
            )
    if reasons:
        if len(reasons) > _MAX_LISTED:
            reasons = reasons[:_MAX_LISTED] + [
                f"... and {len(reasons) - _MAX_LISTED} more such gaps."
            ]
        raise _Rejection(reasons)
    return spacing


# ---------------------------------------------------------------------------
# De-identification and transcoding
# ---------------------------------------------------------------------------


def _prepare_slices(
    volume: _Volume, *, opaque_id: str, source_patient_id: str | None, uid_map: UIDMap
) -> list[PreparedSlice]:
    slices = []
    for header, position in zip(volume.headers, volume.positions, strict=True):
        ds = _load_full(header)
        _decode_to_native(ds, name=header.name, geometry=volume.geometry)
        deidentify_dataset(
            ds, opaque_id=opaque_id, source_patient_id=source_patient_id, uid_map=uid_map
        )
        slices.append(
            PreparedSlice(
                sop_instance_uid=str(ds.SOPInstanceUID),
                position=position,
                data=_write_part10(ds),
                source_name=header.name,
            )
        )
    return slices


def _load_full(header: _Header) -> Dataset:
    try:
        data = header.source.load()
    except OSError as exc:
        raise _Rejection(
            [f"File {header.name!r} could not be read again: {exc.strerror or exc}."]
        ) from exc
    ds, problem = _parse(data)
    if ds is None or problem:
        raise _Rejection([f"File {header.name!r} {problem}"])
    if ds.get("SOPInstanceUID") != header.ds.get("SOPInstanceUID"):
        raise _Rejection([f"File {header.name!r} changed between the two reads of the import."])
    return ds


def _decode_to_native(ds: Dataset, *, name: str, geometry: SeriesGeometry) -> None:
    """Replace the pixel data with its decoded form, ready for Explicit VR Little Endian."""
    transfer_syntax = UID(ds.file_meta.get("TransferSyntaxUID", ""))
    try:
        pixels = ds.pixel_array
    # Decoders are C extensions (pylibjpeg, libjpeg) with no common exception type.
    except Exception as exc:
        raise _Rejection(
            [
                (
                    f"File {name!r}: the pixel data could not be decoded (Transfer Syntax UID "
                    f"(0002,0010) {transfer_syntax.name}): {type(exc).__name__}: {exc}. "
                    "A series is imported whole or not at all."
                )
            ]
        ) from exc
    if pixels.shape != (geometry.rows, geometry.columns):
        raise _Rejection(
            [
                (
                    f"File {name!r}: decoded pixel data has shape {pixels.shape}, expected "
                    f"({geometry.rows}, {geometry.columns})."
                )
            ]
        )

    bits_allocated = pixels.dtype.itemsize * 8
    ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if bits_allocated > 8 else "OB"
    ds.BitsAllocated = bits_allocated
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths", "PlanarConfiguration"):
        if keyword in ds:
            delattr(ds, keyword)
    if transfer_syntax in _LOSSY_TRANSFER_SYNTAXES:
        ds.LossyImageCompression = "01"


def _write_part10(ds: Dataset) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    # A source preamble can carry application data (e.g. a TIFF header).
    ds.preamble = b"\x00" * 128

    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Helpers shared with callers
# ---------------------------------------------------------------------------


def volume_hu(series: AcceptedSeries) -> np.ndarray:
    """Stack an accepted series into a (slice, row, column) volume in Hounsfield units.

    Returns
    -------
    numpy.ndarray
        int16 when every slice has an integer Rescale Slope and Intercept and
        the result fits, float32 otherwise. Slice 0 is the feet end.
    """
    datasets = [dcmread(io.BytesIO(item.data)) for item in series.slices]
    rescales = [
        (float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0))
        for ds in datasets
    ]
    integral = all(slope.is_integer() and intercept.is_integer() for slope, intercept in rescales)

    volume = np.empty(
        (len(datasets), series.geometry.rows, series.geometry.columns), dtype=np.float32
    )
    for index, (ds, (slope, intercept)) in enumerate(zip(datasets, rescales, strict=True)):
        volume[index] = ds.pixel_array.astype(np.float32) * slope + intercept

    limits = np.iinfo(np.int16)
    if integral and volume.size and limits.min <= volume.min() and volume.max() <= limits.max:
        return volume.astype(np.int16)
    return volume


def parse_age(value: object) -> int | None:
    """Return Patient's Age (AS, e.g. ``'039Y'``, ``'006M'``) in whole years, or None."""
    text = str(value or "").strip().upper()
    if len(text) != 4 or not text[:3].isdigit() or text[3] not in "DWMY":
        return None
    number = int(text[:3])
    days_per_unit = {"D": 1, "W": 7, "M": 365.25 / 12, "Y": 365.25}[text[3]]
    return int(number * days_per_unit // 365.25) if text[3] != "Y" else number


def _parse_sex(value: object) -> str | None:
    text = str(value or "").strip().upper()
    return text if text in ("M", "F") else None


def _ipp(ds: Dataset) -> np.ndarray:
    return np.array([float(v) for v in ds.ImagePositionPatient])


def _format_vector(values: Iterable[float]) -> str:
    return "[" + ", ".join(f"{float(v):.3g}" for v in values) + "]"


def _list_names(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_MAX_LISTED])
    more = f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return f"{len(names)} file(s) ({shown}{more})"
