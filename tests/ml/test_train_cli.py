from __future__ import annotations

import csv
import json

import numpy as np

from ml import load_package
from ml.clinical import CLINICAL_FEATURES
from ml.train import main


def _write_clinical_csv(path, table, labels):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CLINICAL_FEATURES, "label"])
        for row, label in zip(table, labels):
            values = ["" if np.isnan(v) else v for v in row]
            values[1] = {0.0: "F", 1.0: "M"}.get(row[1], "")
            writer.writerow([*values, label])


def test_cli_writes_loadable_package(tmp_path, clinical_table, illustrative_clinical, series_folders):
    _write_clinical_csv(tmp_path / "clinical.csv", *clinical_table())
    cases = {
        "cases": [
            {"case_id": "P001", "dicom_dir": str(series_folders["P001"]), "label": 1, "clinical": illustrative_clinical,
             "slice_labels": [1] * 74 + [0] * 74},
            {"case_id": "normal001", "dicom_dir": str(series_folders["normal001"]), "label": 0,
             "clinical": illustrative_clinical, "slice_labels": [0] * 154},
        ],
        "clinical_table": "clinical.csv",
    }
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    output = tmp_path / "package"

    status = main(["--cases", str(tmp_path / "cases.json"), "--output", str(output), "--quick",
                   "--split", "slab", "--slab-size", "4", "--clinical-resample", "--epochs", "1",
                   "--scorer-epochs", "1", "--max-slices-per-case", "12", "--no-progress"])

    assert status == 0
    package = load_package(output)
    assert package.config.image_size == 64
    assert package.manifest["training_data"]["clinical_records"] == 120
    log = [json.loads(line) for line in (output / "training_log.jsonl").read_text().splitlines()]
    stages = {entry["stage"] for entry in log}
    assert stages == {"slice_scorer", "patch_pretraining", "ct_model", "joint_model"}
