from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ml.clinical import CLINICAL_FEATURES, ClinicalScaler, encode_clinical, fit_clinical_models


def test_encode_label_encodes_categories(illustrative_clinical):
    encoded = encode_clinical(illustrative_clinical)
    assert encoded.shape == (12,)
    assert encoded[CLINICAL_FEATURES.index("sex")] == 1.0
    assert encoded[CLINICAL_FEATURES.index("sputum")] == 0.0
    assert encoded[CLINICAL_FEATURES.index("temperature")] == 37.8


def test_encode_none_becomes_nan(illustrative_clinical):
    record = dict(illustrative_clinical, wbc=None, sex=None)
    encoded = encode_clinical(record)
    assert math.isnan(encoded[CLINICAL_FEATURES.index("wbc")])
    assert math.isnan(encoded[CLINICAL_FEATURES.index("sex")])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("sex", "male", "'M', 'F' or None"), ("fever", 1, "True, False or None"),
     ("age", "39", "a number or None"), ("wbc", float("inf"), "finite")],
)
def test_encode_rejects_invalid_values(illustrative_clinical, key, value, message):
    with pytest.raises(ValueError, match=message):
        encode_clinical(dict(illustrative_clinical, **{key: value}))


def test_encode_rejects_missing_key(illustrative_clinical):
    record = dict(illustrative_clinical)
    del record["cough"]
    with pytest.raises(ValueError, match=r"missing \['cough'\]"):
        encode_clinical(record)


def test_scaler_imputes_training_median_and_scales():
    train = np.tile(np.arange(1.0, 13.0), (3, 1)) * np.array([[1.0], [2.0], [3.0]])
    scaler = ClinicalScaler().fit(train)
    record = np.full(12, np.nan)
    record[0] = 3.0  # the training maximum of the first feature
    scaled = scaler.transform(record)[0]
    assert scaled[0] == 1.0
    # The median of (x, 2x, 3x) is 2x, halfway between the minimum x and maximum 3x.
    assert np.allclose(scaled[1:], 0.5)


def test_scaler_clips_values_outside_training_range():
    scaler = ClinicalScaler().fit(np.array([np.zeros(12), np.ones(12)]))
    scaled = scaler.transform(np.full(12, 2.0))
    assert np.all(scaled == 1.0)


def test_scaler_round_trips_through_dict(clinical_table):
    scaler = ClinicalScaler().fit(clinical_table()[0])
    rebuilt = ClinicalScaler.from_dict(scaler.to_dict())
    record = clinical_table(seed=3)[0][:5]
    assert np.array_equal(scaler.transform(record), rebuilt.transform(record))


def test_model_selection_picks_highest_tuning_auc(clinical_table):
    table, labels = clinical_table()
    scaled = ClinicalScaler().fit(table[:80]).transform(table)
    selection = fit_clinical_models(scaled[:80], labels[:80], scaled[80:], labels[80:], seed=0)
    assert set(selection.tuning_auc) == {"svm", "random_forest", "mlp"}
    assert selection.tuning_auc[selection.selected] == max(selection.tuning_auc.values())
    for name, model in selection.models.items():
        recomputed = roc_auc_score(labels[80:], model.predict_proba(scaled[80:])[:, 1])
        assert selection.tuning_auc[name] == pytest.approx(recomputed)
    # White cell count separates the classes by about two standard deviations.
    assert selection.tuning_auc[selection.selected] > 0.8
    assert selection.hyperparameters["mlp"] == {"hidden_layer_sizes": [64, 64, 64]}
