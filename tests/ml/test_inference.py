from __future__ import annotations

import numpy as np
import pytest

from ml import NoLungSliceError, predict_case


@pytest.fixture(scope="module")
def p001_prediction(p001_series, quick_package):
    clinical = {
        "age": 39, "sex": "M", "exposure": True, "fever": True, "cough": True, "sputum": False,
        "temperature": 37.8, "wbc": 5.1, "neutrophils": 3.2, "lymphocytes": None,
        "neutrophil_pct": 62.0, "lymphocyte_pct": 27.0,
    }
    return predict_case(p001_series.volume_hu, p001_series.spacing, clinical, quick_package,
                        gradcam=True)


def test_probabilities_in_unit_interval(p001_prediction):
    for value in (p001_prediction.p1, p001_prediction.p2, p001_prediction.p3):
        assert 0.0 <= value <= 1.0


def test_ten_most_abnormal_slices_selected(p001_prediction, p001_segmented):
    selected = p001_prediction.selected_slices
    assert len(selected) == 10
    assert set(selected) <= set(p001_segmented.kept_indices.tolist())
    assert set(p001_prediction.slice_scores) == set(p001_segmented.kept_indices.tolist())
    scores = [p001_prediction.slice_scores[i] for i in selected]
    assert scores == sorted(scores, reverse=True)
    unselected = set(p001_prediction.slice_scores) - set(selected)
    assert min(scores) >= max(p001_prediction.slice_scores[i] for i in unselected)


def test_p1_is_mean_of_slice_probabilities(p001_prediction):
    probabilities = list(p001_prediction.slice_probabilities.values())
    assert len(probabilities) == 10
    assert p001_prediction.p1 == pytest.approx(np.mean(probabilities))


def test_heatmaps_have_slice_shape_and_lung_mask(p001_prediction, p001_segmented):
    assert set(p001_prediction.heatmaps) == set(p001_prediction.selected_slices)
    for index, heatmap in p001_prediction.heatmaps.items():
        assert heatmap.shape == (512, 512)
        assert heatmap.dtype == np.float32
        assert not heatmap[~p001_segmented.lung[index]].any()
    for index, heatmap in p001_prediction.joint_heatmaps.items():
        assert heatmap.shape == (512, 512)
        assert not heatmap[~p001_segmented.lung[index]].any()


def test_timings_cover_every_stage(p001_prediction):
    expected = {"preprocessing", "slice_selection", "ct_model", "clinical_model", "joint_model", "gradcam"}
    assert set(p001_prediction.timings) == expected
    assert all(value >= 0 for value in p001_prediction.timings.values())


def test_missing_clinical_values_accepted(p001_series, quick_package, illustrative_clinical):
    nothing = {key: None for key in illustrative_clinical}
    volume = p001_series.volume_hu[60:80]
    prediction = predict_case(volume, p001_series.spacing, nothing, quick_package)
    assert 0.0 <= prediction.p2 <= 1.0
    assert len(prediction.selected_slices) == 10


def test_abdominal_slice_raises_no_lung_slice(quick_package, read_slice, resources, illustrative_clinical):
    volume = read_slice(resources / "sbu_abdomen.dcm")
    with pytest.raises(NoLungSliceError, match="expected a chest CT"):
        predict_case(volume, (2.5, 0.7, 0.7), illustrative_clinical, quick_package)


@pytest.mark.parametrize(
    ("volume", "spacing", "message"),
    [(np.zeros((4, 4)), (1.0, 1.0, 1.0), "shape \\(z, y, x\\)"),
     (np.zeros((2, 4, 4)), (1.0, 0.0, 1.0), "spacing must be three positive")],
)
def test_invalid_volume_or_spacing_rejected(quick_package, illustrative_clinical, volume, spacing, message):
    with pytest.raises(ValueError, match=message):
        predict_case(volume, spacing, illustrative_clinical, quick_package)


def test_fewer_kept_slices_than_ten_all_selected(p001_series, quick_package, illustrative_clinical):
    volume = p001_series.volume_hu[70:75]
    prediction = predict_case(volume, p001_series.spacing, illustrative_clinical, quick_package)
    assert sorted(prediction.selected_slices) == [0, 1, 2, 3, 4]
    assert len(prediction.heatmaps) == 5
