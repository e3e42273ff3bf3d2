"""Tests of the clinical CSV parser: headers, units, missing values, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.cases.clinical_csv import FEATURES, ClinicalParseResult, parse_clinical_csv

RESOURCES = Path(__file__).parent / "resources"
DEMO_CLINICAL = Path(__file__).resolve().parents[2] / "fixtures" / "clinical" / "demo_clinical.csv"


def parse(text: str, *, encoding: str = "utf-8") -> ClinicalParseResult:
    return parse_clinical_csv(text.encode(encoding), filename="test.csv")


def messages(result: ClinicalParseResult) -> list[str]:
    return [str(error) for error in result.errors]


def only_row(result: ClinicalParseResult):
    assert messages(result) == []
    (row,) = result.rows
    return row


# --- format ------------------------------------------------------------------------


def test_bom_semicolons_and_decimal_commas():
    result = parse_clinical_csv(
        (RESOURCES / "bom_semicolon_decimal_comma.csv").read_bytes(), filename="x.csv"
    )
    assert messages(result) == []
    assert result.delimiter == ";"
    assert result.encoding == "utf-8-sig"
    first, second = result.rows
    assert first.patient_id == "P-001"
    assert first.values["temperature"] == 37.8
    assert first.values["wbc"] == 5.2
    assert first.values["neutrophil_pct"] == 65.4
    assert first.values["lymphocytes"] == 1.2
    assert first.values["sex"] == "M"
    assert first.values["exposure"] is True
    assert first.rt_pcr is True
    assert first.split == "test"
    assert second.values["temperature"] == 36.9
    assert second.values["neutrophils"] == 6.1
    assert second.rt_pcr is False


def test_semicolon_file_with_point_decimals():
    result = parse("patient_id;temperature;wbc\nP1;37.5;4.5\n")
    assert only_row(result).values["temperature"] == 37.5


def test_tab_delimited():
    result = parse("patient_id\twbc\tage\nP1\t4.5\t40\n")
    assert result.delimiter == "\t"
    row = only_row(result)
    assert row.values["wbc"] == 4.5
    assert row.values["age"] == 40.0


def test_latin1_degree_sign_in_header():
    result = parse("patient_id,Temperature (\u00b0F)\nP1,100.4\n", encoding="latin-1")
    assert result.encoding == "cp1252"
    assert only_row(result).values["temperature"] == 38.0


def test_utf16_with_bom():
    result = parse_clinical_csv("patient_id,age\nP1,50\n".encode("utf-16"), filename="x.csv")
    assert only_row(result).values["age"] == 50.0


def test_decimal_comma_rejected_with_comma_delimiter():
    result = parse('patient_id,wbc\nP1,"4,5"\n')
    assert messages(result) == [
        "row 2, column 'wbc': '4,5' is not a number; use a point as decimal separator and no thousands separator."
    ]


def test_demo_fixture_parses():
    result = parse_clinical_csv(DEMO_CLINICAL.read_bytes(), filename=DEMO_CLINICAL.name)
    assert messages(result) == []
    ids = [row.patient_id for row in result.rows]
    assert "98C14734-ASSH" in ids
    assert all(row.illustrative for row in result.rows)


# --- headers -----------------------------------------------------------------------


def test_common_header_spellings_map_to_keys():
    header = (
        "Patient ID,Age,Gender,Exposure history,Fever,Cough,Cough with sputum,temperature (°C),"
        "White blood cells,Neutrophils,Neutrophil %,Lymphocytes,lymphocytes (%),RT-PCR,Split,Illustrative"
    )
    result = parse(header + "\nP1,40,F,yes,no,yes,no,37.2,5.5,3.1,56.4,1.9,34.5,neg,train,no\n")
    row = only_row(result)
    assert list(result.columns.values()) == [
        "patient_id",
        "age",
        "sex",
        "exposure",
        "fever",
        "cough",
        "sputum",
        "temperature",
        "wbc",
        "neutrophils",
        "neutrophil_pct",
        "lymphocytes",
        "lymphocyte_pct",
        "rt_pcr",
        "split",
        "illustrative",
    ]
    assert row.values == {
        "age": 40.0,
        "sex": "F",
        "exposure": True,
        "fever": False,
        "cough": True,
        "sputum": False,
        "temperature": 37.2,
        "wbc": 5.5,
        "neutrophils": 3.1,
        "neutrophil_pct": 56.4,
        "lymphocytes": 1.9,
        "lymphocyte_pct": 34.5,
    }
    assert set(row.values) == set(FEATURES)
    assert row.rt_pcr is False
    assert row.split == "train"
    assert row.illustrative is False


def test_unknown_column_is_a_warning():
    result = parse("patient_id,age,Notes\nP1,40,seen twice\n")
    assert only_row(result).values["age"] == 40.0
    assert result.warnings == ["Column 'Notes' is not a known clinical column and was ignored."]


def test_missing_patient_id_column():
    result = parse("age,sex\n40,M\n")
    assert messages(result) == [
        (
            "File 'test.csv' has no 'patient_id' column; add one holding the DICOM Patient ID of each "
            "series. Columns found: ['age', 'sex']."
        )
    ]
    assert result.rows == []


def test_duplicate_column_rejected():
    result = parse("patient_id,WBC,white blood cells\nP1,4,4\n")
    assert messages(result) == [
        "column 'white blood cells': is read as 'wbc', like column 'WBC'; keep one of them."
    ]


def test_unknown_unit_in_header_rejected():
    result = parse("patient_id,WBC (mg/dL),age\nP1,4,abc\n")
    assert messages(result) == [
        (
            "column 'WBC (mg/dL)': unit 'mg/dl' is not a known count unit; use 10^9/L (same as G/L or "
            "10^3/uL) or /uL (same as cells/mm3)."
        ),
        (
            "row 2, column 'age': 'abc' is not a number. Put units in the header, not in the cell, and "
            "mark a missing value with NA."
        ),
    ]


def test_flags_columns():
    result = parse("patient_id,flag_normal_ct,flag_child\nP1,yes,\nP2,0,1\n")
    first, second = result.rows
    assert first.flags == {"normal_ct": True}
    assert second.flags == {"normal_ct": False, "child": True}


# --- units -------------------------------------------------------------------------


def test_implausible_count_without_unit_rejected():
    result = parse("patient_id,WBC\nP1,5.1\nP2,7500\n")
    assert messages(result) == [
        (
            "row 3, column 'WBC': '7500' has no unit and is not a plausible count in 10^9/L "
            "(expected 0.1–100). Add the unit to the header, e.g. 'WBC (/uL)', or convert the value."
        )
    ]
    (error,) = result.errors
    assert (error.code, error.row, error.column, error.value) == (
        "count_without_unit",
        3,
        "WBC",
        "7500",
    )
    assert result.rows == []


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("WBC (/uL)", "7500", 7.5),
        ("WBC [/uL]", "7500", 7.5),
        ("wbc_per_ul", "7500", 7.5),
        ("WBC (cells/mm3)", "7500", 7.5),
        ("WBC (10^9/L)", "7.5", 7.5),
        ("WBC (G/L)", "7.5", 7.5),
        ("WBC (×10³/µL)", "7.5", 7.5),
        ("Neutrophils (/µL)", "4200", 4.2),
        ("lymphocytes (10^6/L)", "900", 0.9),
    ],
)
def test_count_unit_from_header(header, value, expected):
    result = parse(f"patient_id,{header}\nP1,{value}\n")
    row = only_row(result)
    key = result.columns[header]
    assert row.values[key] == pytest.approx(expected)


def test_count_unit_from_unit_column():
    result = parse("patient_id,wbc,wbc_unit\nP1,7500,/uL\nP2,6.1,10^9/L\nP3,5.0,\n")
    assert messages(result) == []
    assert [row.values["wbc"] for row in result.rows] == [7.5, 6.1, 5.0]


def test_unknown_unit_cell_rejected():
    result = parse("patient_id,wbc,wbc_unit\nP1,7500,mg\n")
    assert messages(result) == [
        (
            "row 2, column 'wbc_unit': unit 'mg' is not a known count unit; use 10^9/L (same as G/L or "
            "10^3/uL) or /uL (same as cells/mm3)."
        ),
    ]


def test_converted_count_out_of_range_rejected():
    result = parse("patient_id,WBC (10^9/L)\nP1,7500\n")
    assert messages(result) == [
        (
            "row 2, column 'WBC (10^9/L)': '7500' in 10^9/l is 7500 x 10^9/L, outside the plausible "
            "0.1–100. Check the value and the unit."
        )
    ]


def test_fahrenheit_header_converts():
    result = parse("patient_id,temperature (°F)\nP1,98.6\n")
    assert only_row(result).values["temperature"] == 37.0


def test_fahrenheit_value_in_celsius_rejected():
    result = parse("patient_id,temperature\nP1,101.2\n")
    assert messages(result) == [
        (
            "row 2, column 'temperature': '101.2' is not a body temperature in °C (expected 30–45); it "
            "looks like °F. Write the unit in the header, e.g. 'temperature (°F)', or convert the value."
        )
    ]


def test_percentage_out_of_range():
    result = parse("patient_id,Neutrophil %\nP1,120\n")
    assert messages(result) == [
        "row 2, column 'Neutrophil %': '120' is not a percentage (expected 0–100)."
    ]


def test_differential_larger_than_total_rejected():
    result = parse("patient_id,wbc,lymphocytes\nP1,4.0,5.0\n")
    assert messages(result) == [
        (
            "row 2, column 'lymphocytes': 5 x 10^9/L is more than the WBC of 4 x 10^9/L; check both "
            "cells and their units."
        )
    ]


# --- missing values and bad cells ---------------------------------------------------


@pytest.mark.parametrize("marker", ["", "NA", "N/A", "-", "unknown", "Unknown", " na "])
def test_missing_values_stay_none(marker):
    result = parse(
        f"patient_id,wbc,fever,sex,temperature,split,rt_pcr\nP1,{marker},{marker},{marker},{marker},{marker},\n"
    )
    row = only_row(result)
    assert row.values["wbc"] is None
    assert row.values["fever"] is None
    assert row.values["sex"] is None
    assert row.values["temperature"] is None
    assert row.split is None
    assert row.rt_pcr is None


def test_zero_is_not_missing():
    row = only_row(parse("patient_id,fever,lymphocytes\nP1,0,0\n"))
    assert row.values["fever"] is False
    assert row.values["lymphocytes"] == 0.0


def test_absent_feature_columns_are_none():
    row = only_row(parse("patient_id,age\nP1,40\n"))
    assert row.values["wbc"] is None
    assert row.rt_pcr is None
    assert row.flags == {}


def test_duplicate_patient_ids_rejected():
    result = parse("patient_id,age\nP1,40\nP2,50\nP1,41\n")
    assert messages(result) == [
        "row 4, column 'patient_id': patient id 'P1' already appears in row 2; keep one row per patient."
    ]
    assert result.rows == []


def test_empty_patient_id_rejected():
    result = parse("patient_id,age\n,40\n")
    assert messages(result) == [
        "row 2, column 'patient_id': the patient id is empty; every row needs the DICOM Patient ID of its series."
    ]


def test_bad_cells_each_reported():
    result = parse(
        "patient_id,fever,rt_pcr,split,sex,illustrative\n"
        "P1,maybe,positive,train,M,no\n"
        "P2,yes,+,holdout,X,perhaps\n"
    )
    assert messages(result) == [
        "row 2, column 'fever': 'maybe' is not yes/no; use yes, no, 1, 0, true or false (or NA if unknown).",
        "row 3, column 'rt_pcr': '+' is not an RT-PCR result; use positive, negative, pos, neg, 1 or 0.",
        "row 3, column 'split': 'holdout' is not a split; use train, tune or test.",
        "row 3, column 'sex': 'X' is not a sex; use M or F (or NA if unknown).",
        "row 3, column 'illustrative': 'perhaps' is not yes/no; use yes, no, 1, 0, true or false (or NA if unknown).",
    ]
    assert result.rows == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("positive", True),
        ("POS", True),
        ("1", True),
        ("Negative", False),
        ("neg", False),
        ("0", False),
    ],
)
def test_rt_pcr_spellings(value, expected):
    assert only_row(parse(f"patient_id,rt_pcr\nP1,{value}\n")).rt_pcr is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("train", "train"),
        ("Tune", "tune"),
        ("validation", "tune"),
        ("val", "tune"),
        ("TEST", "test"),
    ],
)
def test_split_spellings(value, expected):
    assert only_row(parse(f"patient_id,split\nP1,{value}\n")).split == expected


def test_rt_pcr_dash_is_not_read_as_missing():
    result = parse("patient_id,rt_pcr\nP1,-\n")
    assert [error.code for error in result.errors] == ["invalid_truth"]


def test_row_numbers_count_blank_lines():
    result = parse("patient_id,age\nP1,40\n\nP2,abc\n")
    assert [error.row for error in result.errors] == [4]


def test_extra_cells_rejected():
    result = parse("patient_id,age\nP1,40,5,6\n")
    assert messages(result) == [
        (
            "row 2: has 4 cells but the header has 2 columns; extra values ['5', '6']. Check for an "
            "unquoted delimiter inside a value."
        )
    ]


def test_empty_file():
    result = parse_clinical_csv(b"", filename="empty.csv")
    assert messages(result) == [
        "File 'empty.csv' is empty; it needs a header row and one row per patient."
    ]


def test_header_only_warns():
    result = parse("patient_id,age\n")
    assert result.errors == []
    assert result.rows == []
    assert result.warnings == ["File 'test.csv' has a header but no patient rows."]


def test_all_errors_listed_not_just_first():
    result = parse("patient_id,wbc,age\nP1,7500,200\nP2,abc,40\nP2,5,41\n")
    assert [(error.row, error.column) for error in result.errors] == [
        (2, "wbc"),
        (2, "age"),
        (3, "wbc"),
        (4, "patient_id"),
    ]


def test_messy_export_with_synonyms_and_blanks():
    text = (
        "patientid,offset,sex,age,temperature,leukocyte_count,neutrophil_count,lymphocyte_count,\n"
        "2,0,M,65,,,,,\n"
        "3,5,F,,95,,,,\n"
        "4,1,F,52,38.2,5.1,3.3,0.9,\n"
    )
    result = parse(text)
    assert result.columns == {
        "patientid": "patient_id",
        "sex": "sex",
        "age": "age",
        "temperature": "temperature",
        "leukocyte_count": "wbc",
        "neutrophil_count": "neutrophils",
        "lymphocyte_count": "lymphocytes",
    }
    assert result.warnings == [
        "Column 'offset' is not a known clinical column and was ignored.",
        "Column 9 has no header and was ignored.",
    ]
    assert [(error.row, error.column, error.code) for error in result.errors] == [
        (3, "temperature", "out_of_range")
    ]
    assert "it looks like °F" in str(result.errors[0])


def test_temperature_unit_column():
    result = parse("patient_id,temperature,temperature_unit\nP1,100.4,°F\nP2,37.5,C\nP3,37.1,\n")
    assert messages(result) == []
    assert [row.values["temperature"] for row in result.rows] == [38.0, 37.5, 37.1]
