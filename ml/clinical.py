"""Clinical features: encoding, scaling and the clinical model (P2).

The 12 features follow Mei et al., Nature Medicine 26, 1224 (2020). Categorical values are
label-encoded (sex: F = 0, M = 1; yes/no: 0/1) and every feature is min-max scaled to
[0, 1] with the training minimum and maximum. A missing value (None) is replaced by the
training median before scaling, in training and in inference alike, so the models always
see 12 inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

__all__ = [
    "CLINICAL_FEATURES",
    "ClinicalModelSelection",
    "ClinicalScaler",
    "encode_clinical",
    "fit_clinical_models",
]

CLINICAL_FEATURES: tuple[str, ...] = (
    "age",
    "sex",
    "exposure",
    "fever",
    "cough",
    "sputum",
    "temperature",
    "wbc",
    "neutrophils",
    "lymphocytes",
    "neutrophil_pct",
    "lymphocyte_pct",
)
_BOOLEAN = frozenset({"exposure", "fever", "cough", "sputum"})


def _encode_value(name: str, value: object) -> float:
    if value is None:
        return math.nan
    if name == "sex":
        if value not in ("M", "F"):
            raise ValueError(f"clinical['sex'] must be 'M', 'F' or None, got {value!r}.")
        return 1.0 if value == "M" else 0.0
    if name in _BOOLEAN:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"clinical[{name!r}] must be True, False or None, got {value!r}.")
        return float(value)
    # A wrong type in a record is invalid data, so it raises ValueError like every other value.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"clinical[{name!r}] must be a number or None, got {value!r}.")  # noqa: TRY004
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"clinical[{name!r}] must be finite or None, got {value!r}.")
    return number


def encode_clinical(record: Mapping[str, object]) -> NDArray[np.float64]:
    """Encode one clinical record as 12 numbers, NaN where a value is None.

    Parameters
    ----------
    record : mapping
        Keys ``age``, ``sex`` ("M"/"F"), ``exposure``, ``fever``, ``cough``, ``sputum``
        (bool), ``temperature`` (°C), ``wbc``, ``neutrophils``, ``lymphocytes`` (10^9/L),
        ``neutrophil_pct``, ``lymphocyte_pct`` (%). Every key must be present; any value
        may be None.

    Returns
    -------
    ndarray of float64, shape (12,)
    """
    missing = [name for name in CLINICAL_FEATURES if name not in record]
    unknown = sorted(set(record) - set(CLINICAL_FEATURES))
    if missing or unknown:
        raise ValueError(
            f"clinical record must have exactly the keys {list(CLINICAL_FEATURES)}; "
            f"missing {missing}, unknown {unknown}. Use None for a missing value."
        )
    return np.array([_encode_value(name, record[name]) for name in CLINICAL_FEATURES])


@dataclass
class ClinicalScaler:
    """Median imputation and min-max scaling fitted on training records.

    Attributes
    ----------
    median, minimum, maximum : ndarray of float64, shape (12,)
        Training statistics of each feature, ignoring missing values.
    """

    median: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    minimum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    maximum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def fit(self, encoded: NDArray[np.float64]) -> ClinicalScaler:
        """Store the median, minimum and maximum of each column of ``encoded`` (n, 12)."""
        values = np.asarray(encoded, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(CLINICAL_FEATURES):
            raise ValueError(
                f"encoded must have shape (n, {len(CLINICAL_FEATURES)}), got {values.shape}."
            )
        all_missing = [CLINICAL_FEATURES[i] for i in np.flatnonzero(np.isnan(values).all(axis=0))]
        if all_missing:
            raise ValueError(f"Every training record lacks {all_missing}; cannot fit the scaler.")
        self.median = np.nanmedian(values, axis=0)
        self.minimum = np.nanmin(values, axis=0)
        self.maximum = np.nanmax(values, axis=0)
        return self

    def transform(self, encoded: NDArray[np.float64]) -> NDArray[np.float32]:
        """Impute missing values with the training median and scale to [0, 1].

        Values outside the training range are clipped to [0, 1]; a constant feature
        maps to 0.
        """
        if self.median.size != len(CLINICAL_FEATURES):
            raise RuntimeError("ClinicalScaler.transform was called before fit.")
        values = np.array(encoded, dtype=np.float64, ndmin=2)
        values = np.where(np.isnan(values), self.median, values)
        span = self.maximum - self.minimum
        scaled = np.divide(
            values - self.minimum, span, out=np.zeros_like(values), where=span > 0
        )
        return np.clip(scaled, 0.0, 1.0).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        """Return the statistics as JSON-ready lists."""
        return {
            "features": list(CLINICAL_FEATURES),
            "median": self.median.tolist(),
            "minimum": self.minimum.tolist(),
            "maximum": self.maximum.tolist(),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ClinicalScaler:
        """Rebuild a scaler from :meth:`to_dict` output."""
        if list(values.get("features", [])) != list(CLINICAL_FEATURES):
            raise ValueError(
                f"Scaler features {values.get('features')!r} differ from {list(CLINICAL_FEATURES)}."
            )
        return cls(
            median=np.asarray(values["median"], dtype=np.float64),
            minimum=np.asarray(values["minimum"], dtype=np.float64),
            maximum=np.asarray(values["maximum"], dtype=np.float64),
        )


@dataclass
class ClinicalModelSelection:
    """The clinical models fitted on training data and the one chosen by tuning AUC.

    Attributes
    ----------
    selected : str
        Name of the model with the highest tuning AUC.
    models : dict
        Fitted scikit-learn classifier per name.
    tuning_auc : dict
        Tuning-set AUC per name.
    hyperparameters : dict
        The chosen hyperparameters per name.
    """

    selected: str
    models: dict[str, Any]
    tuning_auc: dict[str, float]
    hyperparameters: dict[str, dict[str, Any]]

    def predict_proba(self, scaled: NDArray[np.float32]) -> NDArray[np.float64]:
        """Return P(positive) of the selected model for scaled records (n, 12)."""
        return self.models[self.selected].predict_proba(np.array(scaled, ndmin=2))[:, 1]


def _candidates(seed: int) -> dict[str, list[tuple[dict[str, Any], Any]]]:
    # Platt scaling on internal cross-validation folds turns SVM margins into probabilities.
    svm = [
        (
            {"C": c, "kernel": kernel},
            CalibratedClassifierCV(SVC(C=c, kernel=kernel, random_state=seed), ensemble=False),
        )
        for kernel in ("linear", "rbf")
        for c in (0.1, 1.0, 10.0)
    ]
    forest = [
        ({"n_estimators": n}, RandomForestClassifier(n_estimators=n, random_state=seed))
        for n in (50, 100, 200)
    ]
    mlp = [
        (
            {"hidden_layer_sizes": [64, 64, 64]},
            MLPClassifier(hidden_layer_sizes=(64, 64, 64), max_iter=1000, random_state=seed),
        )
    ]
    return {"svm": svm, "random_forest": forest, "mlp": mlp}


def fit_clinical_models(
    train_x: NDArray[np.float32],
    train_y: Sequence[int] | NDArray[np.integer],
    tune_x: NDArray[np.float32],
    tune_y: Sequence[int] | NDArray[np.integer],
    *,
    seed: int = 0,
) -> ClinicalModelSelection:
    """Fit an SVM, a random forest and an MLP (3 x 64) and pick the best by tuning AUC.

    The SVM's C and kernel and the forest's number of trees are tuned on the same tuning
    set; ties go to the earlier of svm, random_forest, mlp.

    Parameters
    ----------
    train_x, tune_x : ndarray, shape (n, 12)
        Scaled clinical features.
    train_y, tune_y : sequence of {0, 1}
        Labels.
    seed : int
        Random state of every model.

    Returns
    -------
    ClinicalModelSelection
    """
    train_labels = np.asarray(train_y, dtype=np.int64)
    tune_labels = np.asarray(tune_y, dtype=np.int64)
    for name, labels in (("train_y", train_labels), ("tune_y", tune_labels)):
        if set(np.unique(labels).tolist()) != {0, 1}:
            raise ValueError(f"{name} must contain both classes 0 and 1, got {np.unique(labels)}.")

    models: dict[str, Any] = {}
    tuning_auc: dict[str, float] = {}
    hyperparameters: dict[str, dict[str, Any]] = {}
    for name, options in _candidates(seed).items():
        best: tuple[float, dict[str, Any], Any] = (-1.0, {}, None)
        for params, model in options:
            model.fit(train_x, train_labels)
            auc = float(roc_auc_score(tune_labels, model.predict_proba(tune_x)[:, 1]))
            if auc > best[0]:
                best = (auc, params, model)
        tuning_auc[name], hyperparameters[name], models[name] = best
    selected = max(tuning_auc, key=lambda key: tuning_auc[key])
    return ClinicalModelSelection(
        selected=selected, models=models, tuning_auc=tuning_auc, hyperparameters=hyperparameters
    )
