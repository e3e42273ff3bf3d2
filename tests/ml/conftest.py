"""Fixtures of the ml tests: the real COVID-CT-MD series and one quick training run.

Reading and segmenting a series takes seconds and the quick training run tens of seconds,
so each happens once per session.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch

from ml.config import QUICK_TRAINING, ModelConfig
from ml.dicom import CTSeries, read_series
from ml.package import load_package, save_package
from ml.preprocessing import SegmentedVolume, segment_volume
from ml.train import (
    CaseRecord,
    PreparedCase,
    TrainingResult,
    prepare_case,
    render_model_card,
    train,
)

REPO = Path(__file__).resolve().parents[2]
P001 = REPO / "fixtures" / "dicom" / "P001"
NORMAL001 = REPO / "fixtures" / "dicom" / "normal001"
RESOURCES = Path(__file__).resolve().parent / "resources"

QUICK_MODEL = ModelConfig(image_size=64, scorer_image_size=32)
QUICK_RECIPE = replace(QUICK_TRAINING, epochs=3, max_slices_per_case=24)

ILLUSTRATIVE_CLINICAL = {
    "age": 39, "sex": "M", "exposure": True, "fever": True, "cough": True, "sputum": False,
    "temperature": 37.8, "wbc": 5.1, "neutrophils": 3.2, "lymphocytes": 1.3,
    "neutrophil_pct": 62.0, "lymphocyte_pct": 27.0,
}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def illustrative_clinical() -> dict[str, object]:
    return dict(ILLUSTRATIVE_CLINICAL)


@pytest.fixture
def series_folders() -> dict[str, Path]:
    return {"P001": P001, "normal001": NORMAL001}


@pytest.fixture
def resources() -> Path:
    return RESOURCES


@pytest.fixture
def read_slice():
    return read_single_slice_hu


@pytest.fixture
def clinical_table():
    return synthetic_clinical_table


@pytest.fixture
def retrain():
    return run_quick_training


def read_single_slice_hu(path: Path) -> np.ndarray:
    """Return one DICOM slice in HU as a (1, y, x) volume."""
    dataset = pydicom.dcmread(path)
    slope = float(getattr(dataset, "RescaleSlope", 1.0))
    intercept = float(getattr(dataset, "RescaleIntercept", 0.0))
    return (dataset.pixel_array.astype(np.float32) * slope + intercept)[np.newaxis]


@pytest.fixture(scope="session")
def p001_series() -> CTSeries:
    return read_series(P001)


@pytest.fixture(scope="session")
def p001_segmented(p001_series) -> SegmentedVolume:
    return segment_volume(p001_series.volume_hu)


@pytest.fixture(scope="session")
def prepared_cases() -> list[PreparedCase]:
    """P001 and normal001 thinned to 24 kept slices each, labelled per slice by position.

    The slice labels are synthetic (1 in the lower half of P001's kept slices) so the
    test does not depend on the licensed label file; training only needs two classes.
    """
    cases = []
    for case_id, folder, label in (("P001", P001, 1), ("normal001", NORMAL001, 0)):
        n_slices = len(list(folder.glob("*.dcm")))
        slice_labels = [0] * n_slices
        if label:
            slice_labels = [1 if i < n_slices // 2 else 0 for i in range(n_slices)]
        record = CaseRecord(case_id=case_id, label=label, dicom_dir=folder,
                            clinical=ILLUSTRATIVE_CLINICAL, slice_labels=tuple(slice_labels))
        cases.append(prepare_case(record, max_slices=QUICK_RECIPE.max_slices_per_case))
    return cases


def synthetic_clinical_table(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return 120 encoded clinical records whose white cell count separates the classes."""
    rng = np.random.default_rng(seed)
    n = 120
    labels = np.arange(n) % 2
    table = np.column_stack([
        rng.uniform(20, 80, n), rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 2, n),
        rng.integers(0, 2, n), rng.integers(0, 2, n), rng.normal(37.5, 0.8, n),
        np.where(labels == 1, rng.normal(5.4, 1.5, n), rng.normal(8.3, 1.5, n)),
        rng.normal(4.5, 1.5, n), rng.normal(1.5, 0.5, n), rng.normal(65, 10, n), rng.normal(24, 8, n),
    ]).astype(np.float64)
    table[::7, 6] = np.nan
    return table, labels.astype(np.int64)


def run_quick_training(cases: list[PreparedCase]) -> TrainingResult:
    return train(cases, model_config=QUICK_MODEL, training_config=QUICK_RECIPE, split="slab",
                 slab_size=4, clinical_table=synthetic_clinical_table(), clinical_resample=True,
                 progress=False)


@pytest.fixture(scope="session")
def quick_result(prepared_cases) -> TrainingResult:
    return run_quick_training(prepared_cases)


@pytest.fixture(scope="session")
def quick_package_dir(quick_result, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("package")
    save_package(folder, config=QUICK_MODEL, ct_model=quick_result.ct_model,
                 joint_model=quick_result.joint_model, scorer_network=quick_result.scorer_network,
                 clinical_scaler=quick_result.clinical_scaler,
                 clinical_models=quick_result.clinical_models,
                 training_data=quick_result.training_data, metrics=quick_result.metrics,
                 model_card=render_model_card(quick_result))
    return folder


@pytest.fixture(scope="session")
def quick_package(quick_package_dir):
    return load_package(quick_package_dir)
