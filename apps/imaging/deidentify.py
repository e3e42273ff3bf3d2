"""De-identification of CT datasets with the DICOM Basic Application Level Confidentiality Profile.

The profile (DICOM PS3.15 Annex E, Table E.1-1) lists, per attribute, whether a
de-identifier removes it (X), empties it (Z), replaces it with a dummy value
(D), replaces a UID (U) or keeps it (K). :data:`BASIC_PROFILE_ACTIONS` contains the
entries for the attributes a CT image carries, resolved to one action each.
Where the table allows a choice (X/Z, X/D, X/Z/D, Z/D), the attribute is
emptied when the CT Image IOD makes it Type 2 and removed otherwise.

Options applied:

- Retain Patient Characteristics Option (DCM 113108): Patient's Age, Sex,
  Size and Weight are kept, because age and sex are model inputs.
- No other option. Dates and times are removed, not shifted, and the Clean
  Pixel Data Option is not applied, so the importer rejects series whose
  Burned In Annotation (0028,0301) is YES.

On top of the table, :func:`deidentify_dataset` sweeps the whole dataset,
sequences included, so that attributes missing from the table cannot leak:

- Private tags, curves (50xx) and overlays (60xx) are removed.
- Table attributes found inside sequence items are removed.
- Every element with VR DA, DT, TM, PN, LT, ST or UT is removed unless the
  table empties it.
- Every UID that is not a registered DICOM UID (SOP classes, transfer
  syntaxes, coding schemes) is replaced through a :class:`UIDMap`.
- The patient group (0010) keeps only :data:`PATIENT_KEEP`. The clinical trial
  (0012), study scheduling (0032), visit (0038) and procedure step (0040)
  groups are removed before the de-identification attributes are written.

Pixel and geometry modules stay unchanged, and so do attributes that are
neither listed nor swept, such as Manufacturer, Manufacturer's Model Name,
Convolution Kernel and the acquisition parameters.

NOTE: the table is a transcription of the Table E.1-1 rows that CT images
carry, not the whole table. An attribute outside it survives unless a sweep
above removes it, so a new kind of source should be checked by dumping one
de-identified file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, generate_uid

__all__ = [
    "BASIC_PROFILE_ACTIONS",
    "DEIDENTIFICATION_METHOD",
    "PATIENT_KEEP",
    "UIDMap",
    "deidentify_dataset",
    "validate_opaque_id",
]

REMOVE: Final = "X"
EMPTY: Final = "Z"

DEIDENTIFICATION_METHOD: Final = "PS3.15 Basic Profile; Retain Patient Characteristics"

# (code value, code meaning) in the DCM coding scheme, PS3.16 CID 7050.
_METHOD_CODES: Final = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113108", "Retain Patient Characteristics Option"),
)

# Table E.1-1 entries found in CT images, resolved to X or Z as described in
# the module docstring. UIDs (action U) are handled by the UID sweep.
BASIC_PROFILE_ACTIONS: Final[dict[int, str]] = {
    0x00080012: REMOVE,  # Instance Creation Date (X/D)
    0x00080013: REMOVE,  # Instance Creation Time (X/Z/D)
    0x00080020: EMPTY,  # Study Date (Z)
    0x00080021: REMOVE,  # Series Date (X/D)
    0x00080022: REMOVE,  # Acquisition Date (X/Z)
    0x00080023: EMPTY,  # Content Date (Z/D; Type 2C in the General Image module)
    0x00080024: REMOVE,  # Overlay Date
    0x00080025: REMOVE,  # Curve Date
    0x0008002A: REMOVE,  # Acquisition DateTime (X/Z/D)
    0x00080030: EMPTY,  # Study Time (Z)
    0x00080031: REMOVE,  # Series Time (X/D)
    0x00080032: REMOVE,  # Acquisition Time (X/Z)
    0x00080033: EMPTY,  # Content Time (Z/D)
    0x00080050: EMPTY,  # Accession Number (Z)
    0x00080080: REMOVE,  # Institution Name (X/Z/D)
    0x00080081: REMOVE,  # Institution Address
    0x00080082: REMOVE,  # Institution Code Sequence (X/Z/D)
    0x00080090: EMPTY,  # Referring Physician's Name (Z)
    0x00080092: REMOVE,  # Referring Physician's Address
    0x00080094: REMOVE,  # Referring Physician's Telephone Numbers
    0x00080096: REMOVE,  # Referring Physician Identification Sequence
    0x00080201: REMOVE,  # Timezone Offset From UTC
    0x00081010: REMOVE,  # Station Name (X/Z/D)
    0x00081030: REMOVE,  # Study Description
    0x00081032: REMOVE,  # Procedure Code Sequence
    0x0008103E: REMOVE,  # Series Description
    0x00081040: REMOVE,  # Institutional Department Name
    0x00081048: REMOVE,  # Physician(s) of Record
    0x00081049: REMOVE,  # Physician(s) of Record Identification Sequence
    0x00081050: REMOVE,  # Performing Physician's Name
    0x00081052: REMOVE,  # Performing Physician Identification Sequence
    0x00081060: REMOVE,  # Name of Physician(s) Reading Study
    0x00081062: REMOVE,  # Physician(s) Reading Study Identification Sequence
    0x00081070: REMOVE,  # Operators' Name (X/Z/D)
    0x00081072: REMOVE,  # Operator Identification Sequence (X/D)
    0x00081080: REMOVE,  # Admitting Diagnoses Description
    0x00081084: REMOVE,  # Admitting Diagnoses Code Sequence
    0x00081110: REMOVE,  # Referenced Study Sequence (X/Z)
    0x00081111: REMOVE,  # Referenced Performed Procedure Step Sequence (X/Z/D)
    0x00081120: REMOVE,  # Referenced Patient Sequence
    0x00081140: REMOVE,  # Referenced Image Sequence (X/Z/U*)
    0x00081250: REMOVE,  # Related Series Sequence
    0x00082111: REMOVE,  # Derivation Description
    0x00082112: REMOVE,  # Source Image Sequence (X/Z/U*)
    0x00084000: REMOVE,  # Identifying Comments
    0x00089123: REMOVE,  # Creator-Version UID
    0x00100010: EMPTY,  # Patient's Name (Z; then set to the opaque id)
    0x00100020: EMPTY,  # Patient ID (Z; then set to the opaque id)
    0x00100030: EMPTY,  # Patient's Birth Date (Z)
    0x00180010: EMPTY,  # Contrast/Bolus Agent (Z/D; Type 2 in the Contrast/Bolus module)
    0x00181000: REMOVE,  # Device Serial Number (X/Z/D)
    0x00181002: REMOVE,  # Device UID
    0x00181004: REMOVE,  # Plate ID
    0x00181005: REMOVE,  # Generator ID
    0x00181007: REMOVE,  # Cassette ID
    0x00181008: REMOVE,  # Gantry ID
    0x00181020: REMOVE,  # Software Versions (X/Z/D)
    0x00181030: REMOVE,  # Protocol Name (X/D)
    0x00181200: REMOVE,  # Date of Last Calibration
    0x00181201: REMOVE,  # Time of Last Calibration
    0x00181400: REMOVE,  # Acquisition Device Processing Description (X/D)
    0x00184000: REMOVE,  # Acquisition Comments
    0x0018700A: REMOVE,  # Detector ID (X/D)
    0x00189424: REMOVE,  # Acquisition Protocol Description
    0x00200010: EMPTY,  # Study ID (Z)
    0x00203401: REMOVE,  # Modifying Device ID
    0x00203404: REMOVE,  # Modifying Device Manufacturer
    0x00203406: REMOVE,  # Modified Image Description
    0x00204000: REMOVE,  # Image Comments
    0x00209158: REMOVE,  # Frame Comments
    0x00880140: REMOVE,  # Storage Media File-set UID
    0x00880200: REMOVE,  # Icon Image Sequence (its pixels are not cleaned)
    0x04000500: REMOVE,  # Encrypted Attributes Sequence
    0x04000550: REMOVE,  # Modified Attributes Sequence
    0x04000561: REMOVE,  # Original Attributes Sequence
    0x40000010: REMOVE,  # Arbitrary
    0x40004000: REMOVE,  # Text Comments
    0xFFFAFFFA: REMOVE,  # Digital Signatures Sequence
    0xFFFCFFFC: REMOVE,  # Data Set Trailing Padding
}

# Patient module attributes that survive. The rest of group 0010 is removed.
# Name and ID are replaced with the opaque id, Birth Date is emptied (Type 2),
# and the others are kept by the Retain Patient Characteristics Option.
PATIENT_KEEP: Final = frozenset(
    {
        0x00100010,  # Patient's Name
        0x00100020,  # Patient ID
        0x00100030,  # Patient's Birth Date
        0x00100040,  # Patient's Sex
        0x00101010,  # Patient's Age
        0x00101020,  # Patient's Size
        0x00101030,  # Patient's Weight
    }
)

_REMOVED_GROUPS: Final = frozenset({0x0012, 0x0032, 0x0038, 0x0040})
_TEMPORAL_VRS: Final = frozenset({"DA", "DT", "TM"})
_FREE_TEXT_VRS: Final = frozenset({"PN", "LT", "ST", "UT"})
_OPAQUE_ID_MAX_LENGTH: Final = 64  # LO and PN component limit


class UIDMap:
    """Consistent replacement of source UIDs with new ones within one import.

    The same source UID always maps to the same new UID, so slices of a series
    keep a shared Series, Study and Frame of Reference UID after replacement.

    Parameters
    ----------
    factory
        Returns a new UID each call; :func:`pydicom.uid.generate_uid` by default.
    """

    def __init__(self, factory: Callable[[], str] = generate_uid) -> None:
        self._factory = factory
        self._mapping: dict[str, str] = {}

    def __call__(self, source_uid: str) -> str:
        if source_uid not in self._mapping:
            self._mapping[source_uid] = str(self._factory())
        return self._mapping[source_uid]

    def __contains__(self, source_uid: object) -> bool:
        return source_uid in self._mapping


def validate_opaque_id(opaque_id: str, *, source_patient_id: str | None = None) -> str:
    """Check that a replacement patient identifier fits Patient ID (LO) and Patient's Name (PN).

    Returns
    -------
    str
        The identifier, unchanged.

    Raises
    ------
    ValueError
        If it is empty, longer than 64 characters, contains a backslash, a
        caret, ``=`` or a character outside printable ASCII, or equals the
        source Patient ID.
    """
    if not opaque_id:
        raise ValueError("The opaque patient id is empty; pass the case's public id.")
    if len(opaque_id) > _OPAQUE_ID_MAX_LENGTH:
        raise ValueError(
            f"The opaque patient id {opaque_id!r} has {len(opaque_id)} characters; "
            f"Patient ID (0010,0020) allows at most {_OPAQUE_ID_MAX_LENGTH}."
        )
    bad = sorted({c for c in opaque_id if not (" " <= c <= "~") or c in "\\^="})
    if bad:
        raise ValueError(
            f"The opaque patient id {opaque_id!r} contains {bad!r}; use printable ASCII "
            "without backslash, '^' or '=' so that it is valid as both LO and PN."
        )
    if source_patient_id and opaque_id.strip() == source_patient_id.strip():
        raise ValueError(
            f"The opaque patient id {opaque_id!r} equals the source Patient ID (0010,0020); "
            "pass an id that does not reveal the patient."
        )
    return opaque_id


def deidentify_dataset(
    ds: Dataset, *, opaque_id: str, source_patient_id: str | None, uid_map: UIDMap
) -> None:
    """Apply the Basic Profile with Retain Patient Characteristics to a dataset, in place.

    Parameters
    ----------
    ds
        A CT image dataset; its pixel data is left as it is.
    opaque_id
        Written to Patient's Name and Patient ID.
    source_patient_id
        The Patient ID before de-identification; an opaque id equal to it is rejected.
    uid_map
        Shared by all datasets of one import.

    Raises
    ------
    ValueError
        If the opaque id is invalid or equals the source Patient ID.
    """
    validate_opaque_id(opaque_id, source_patient_id=source_patient_id)

    ds.remove_private_tags()
    _remove_groups(ds)
    _apply_table(ds)
    _sweep(ds, uid_map=uid_map, top_level=True)

    ds.PatientName = opaque_id
    ds.PatientID = opaque_id
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = DEIDENTIFICATION_METHOD
    ds.DeidentificationMethodCodeSequence = Sequence(
        [_code_item(value, meaning) for value, meaning in _METHOD_CODES]
    )
    ds.LongitudinalTemporalInformationModified = "REMOVED"


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


def _remove_groups(ds: Dataset) -> None:
    for tag in list(ds.keys()):
        group = tag.group
        if (
            group in _REMOVED_GROUPS
            or 0x5000 <= group <= 0x50FF
            or 0x6000 <= group <= 0x60FF
            or group == 0x0010
            and int(tag) not in PATIENT_KEEP
        ):
            del ds[tag]


def _apply_table(ds: Dataset, *, top_level: bool = True) -> None:
    for tag, action in BASIC_PROFILE_ACTIONS.items():
        if tag not in ds:
            continue
        # Type 2 applies to the top-level dataset only, so nested copies go.
        if action == EMPTY and top_level:
            ds[tag].value = [] if ds[tag].VR == "SQ" else ""
        else:
            del ds[tag]

    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                _apply_table(item, top_level=False)


def _sweep(ds: Dataset, *, uid_map: UIDMap, top_level: bool) -> None:
    """Remove temporal and free-text elements and replace instance UIDs, recursively."""
    for tag in list(ds.keys()):
        element = ds[tag]
        if element.VR == "SQ":
            for item in element.value:
                _sweep(item, uid_map=uid_map, top_level=False)
            continue

        emptied_by_table = top_level and BASIC_PROFILE_ACTIONS.get(int(tag)) == EMPTY
        if element.VR in _TEMPORAL_VRS | _FREE_TEXT_VRS:
            if not emptied_by_table:
                del ds[tag]
        elif element.VR == "UI" and element.value:
            _replace_uids(element, uid_map=uid_map)


def _replace_uids(element: DataElement, *, uid_map: UIDMap) -> None:
    # A UID in the DICOM registry names a SOP class, a transfer syntax or a
    # coding scheme: it describes the kind of object, not the patient.
    def replace(value: str) -> str:
        uid = UID(value)
        return value if uid.name != uid else uid_map(value)

    if element.VM > 1:
        element.value = [replace(str(value)) for value in element.value]
    else:
        element.value = replace(str(element.value))
