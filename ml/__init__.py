"""COVID-19 diagnosis from chest CT and clinical data, without Django.

The models follow Mei et al., "Artificial intelligence-enabled rapid diagnosis of patients
with COVID-19", Nature Medicine 26, 1224-1228 (2020): a CT model (P1), a clinical model
(P2) and a joint model (P3). Inputs are numpy arrays and plain mappings.
"""

from ml.inference import CasePrediction, NoLungSliceError, predict_case
from ml.package import (
    ModelPackage,
    PackageConfigurationError,
    PackageError,
    PackageIntegrityError,
    load_package,
)

__all__ = [
    "CasePrediction",
    "ModelPackage",
    "NoLungSliceError",
    "PackageConfigurationError",
    "PackageError",
    "PackageIntegrityError",
    "load_package",
    "predict_case",
]
