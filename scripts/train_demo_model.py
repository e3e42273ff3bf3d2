"""Train the demo model package in fixtures/model from the two shippable COVID-CT-MD series.

Usage::

    python scripts/train_demo_model.py --labels Slice-level-labels-updated-1.npy [--quick]

The CT data are COVID-CT-MD cases P001 (RT-PCR positive, 148 slices) and normal001 (154
slices) in fixtures/dicom (Afshar et al., Scientific Data 8:121, 2021). Slice-level labels
come from the dataset's ``Slice-level-labels-updated-1.npy`` (row 0 is P001); normal001 is
labelled 0 throughout. No public source links these CTs to clinical values, so every
clinical value here is synthetic: drawn from the per-class means, standard deviations and
proportions published by Mei et al., Nature Medicine 26, 1224 (2020), Table 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml import load_package, predict_case
from ml.clinical import CLINICAL_FEATURES
from ml.dicom import labels_in_volume_order, read_series
from ml.package import replace_model_card
from ml.train import main as train_main

# Per class (positive, negative): mean and s.d. of continuous features, share of "yes" or men.
_CONTINUOUS = {
    "age": ((43.0, 16.4), (38.6, 16.3)),
    "temperature": ((37.6, 0.9), (37.5, 1.0)),
    "wbc": ((5.4, 2.2), (8.3, 3.4)),
    "neutrophils": ((3.5, 1.9), (5.9, 3.1)),
    "neutrophil_pct": ((63.0, 14.7), (68.9, 13.1)),
    "lymphocytes": ((1.4, 0.8), (1.6, 0.9)),
    "lymphocyte_pct": ((26.4, 12.5), (21.3, 11.1)),
}
_LOWER_BOUND = {"age": 1.0, "temperature": 35.5, "wbc": 0.5, "neutrophils": 0.2,
                "neutrophil_pct": 5.0, "lymphocytes": 0.1, "lymphocyte_pct": 1.0}
_UPPER_BOUND = {"age": 91.0, "temperature": 41.0, "neutrophil_pct": 98.0, "lymphocyte_pct": 90.0}
_PROPORTIONS = {
    "sex": (208 / 419, 280 / 486),
    "exposure": (319 / 419, 254 / 486),
    "fever": (314 / 419, 318 / 486),
    "cough": (210 / 419, 128 / 486),
    "sputum": (83 / 419, 177 / 486),
}
N_POSITIVE, N_NEGATIVE = 419, 486


def synthetic_clinical_table(rng: np.random.Generator) -> list[dict[str, object]]:
    """Draw 905 illustrative clinical records with the study's class sizes and statistics."""
    rows: list[dict[str, object]] = []
    for label, count in ((1, N_POSITIVE), (0, N_NEGATIVE)):
        column = 0 if label == 1 else 1
        for _ in range(count):
            row: dict[str, object] = {"label": label}
            for name, stats in _CONTINUOUS.items():
                mean, sd = stats[column]
                value = rng.normal(mean, sd)
                value = min(max(value, _LOWER_BOUND[name]), _UPPER_BOUND.get(name, np.inf))
                row[name] = round(float(value), 1)
            for name, shares in _PROPORTIONS.items():
                yes = bool(rng.random() < shares[column])
                if name == "sex":
                    row[name] = "M" if yes else "F"
                else:
                    row[name] = int(yes)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", required=True, type=Path,
                        help="COVID-CT-MD Slice-level-labels-updated-1.npy")
    parser.add_argument("--output", type=Path, default=ROOT / "fixtures" / "model")
    parser.add_argument("--quick", action="store_true", help="tiny run to check the pipeline")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of CT and joint training")
    parser.add_argument("--image-size", type=int, default=224, help="model input side in pixels")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args(argv)

    p001 = ROOT / "fixtures" / "dicom" / "P001"
    normal = ROOT / "fixtures" / "dicom" / "normal001"
    n_p001 = read_series(p001).volume_hu.shape[0]
    n_normal = read_series(normal).volume_hu.shape[0]
    p001_labels = labels_in_volume_order(np.load(args.labels)[0], n_p001)

    rng = np.random.default_rng(2020)
    work = Path(tempfile.mkdtemp(prefix="demo-model-"))
    table = synthetic_clinical_table(rng)
    with open(work / "clinical.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*CLINICAL_FEATURES, "label"])
        writer.writeheader()
        writer.writerows(table)

    # Age and sex are the series' own; the other values are illustrative.
    p001_clinical = {"age": 39, "sex": "M", "exposure": True, "fever": True, "cough": True,
                     "sputum": False, "temperature": 37.8, "wbc": 5.1, "neutrophils": 3.2,
                     "lymphocytes": 1.3, "neutrophil_pct": 62.0, "lymphocyte_pct": 27.0}
    normal_clinical = {"age": 70, "sex": "F", "exposure": False, "fever": False, "cough": False,
                       "sputum": True, "temperature": 37.2, "wbc": 8.6, "neutrophils": 6.0,
                       "lymphocytes": 1.6, "neutrophil_pct": 69.0, "lymphocyte_pct": 20.0}
    cases = {
        "cases": [
            {"case_id": "P001", "dicom_dir": str(p001), "label": 1, "clinical": p001_clinical,
             "slice_labels": p001_labels.tolist()},
            {"case_id": "normal001", "dicom_dir": str(normal), "label": 0,
             "clinical": normal_clinical, "slice_labels": [0] * n_normal},
        ],
        "clinical_table": "clinical.csv",
    }
    (work / "cases.json").write_text(json.dumps(cases, indent=2), encoding="utf-8")
    notes = ROOT / "scripts" / "demo_model_card_notes.md"

    train_args = ["--cases", str(work / "cases.json"), "--output", str(args.output),
                  "--split", "slab", "--slab-size", "8", "--clinical-resample",
                  "--card-notes", str(notes), "--threads", str(args.threads)]
    if args.quick:
        train_args.append("--quick")
    else:
        train_args += ["--epochs", str(args.epochs), "--image-size", str(args.image_size),
                       "--scorer-epochs", "10"]
    try:
        status = train_main(train_args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if status == 0:
        append_in_sample_outputs(args.output, [("P001", p001, 1, p001_clinical),
                                               ("normal001", normal, 0, normal_clinical)])
    return status


def append_in_sample_outputs(package_dir: Path, cases: list[tuple[str, Path, int, dict]]) -> None:
    """Add the three models' outputs on the two training series to the model card."""
    package = load_package(package_dir)
    rows = ["| case | RT-PCR | P1 (CT) | P2 (clinical) | P3 (joint) |", "|---|---|---|---|---|"]
    for case_id, folder, label, clinical in cases:
        series = read_series(folder)
        prediction = predict_case(series.volume_hu, series.spacing, clinical, package)
        rows.append(f"| {case_id} | {'positive' if label else 'negative'} | {prediction.p1:.3f} | "
                    f"{prediction.p2:.3f} | {prediction.p3:.3f} |")
    section = [
        "## Case-level outputs on the two training series (in-sample)",
        "",
        *rows,
        "",
        "Both series were used in training (their training runs of slices), with illustrative",
        "clinical records, so these numbers show only that the pipeline runs end to end.",
        "",
    ]
    card = (package_dir / "MODEL_CARD.md").read_text(encoding="utf-8")
    replace_model_card(package_dir, card.rstrip("\n") + "\n\n" + "\n".join(section))


if __name__ == "__main__":
    sys.exit(main())
