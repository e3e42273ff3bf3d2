"""Per-rater metrics: counts, intervals, one-point AUC and cut-offs."""

import numpy as np
import pytest

from readerstats.diagnostic import binary_metrics, continuous_metrics, metrics_at_threshold
from readerstats.errors import InputValidationError, SingleClassError
from readerstats.proportions import clopper_pearson, logit_interval
from readerstats.roc import auc_delong


def _senior_radiologist_calls():
    """Calls with the senior radiologist's counts in Mei et al. (2020): 100/134 and 136/145."""
    truth = np.array([1] * 134 + [0] * 145)
    calls = np.array([1] * 100 + [0] * 34 + [0] * 136 + [1] * 9, dtype=float)
    return calls, truth


def test_binary_metrics_counts_and_intervals():
    calls, truth = _senior_radiologist_calls()
    metrics = binary_metrics(calls, truth)
    counts = metrics.counts
    assert (
        counts.true_positive,
        counts.false_negative,
        counts.false_positive,
        counts.true_negative,
    ) == (100, 34, 9, 136)
    # Mei et al., Nat Med 26:1224 (2020): 74.6% (66.4-81.7) and 93.8% (88.5-97.1).
    assert [
        round(100 * v, 1)
        for v in (
            metrics.sensitivity.estimate,
            metrics.sensitivity.lower,
            metrics.sensitivity.upper,
        )
    ] == [74.6, 66.4, 81.7]
    assert [
        round(100 * v, 1)
        for v in (
            metrics.specificity.estimate,
            metrics.specificity.lower,
            metrics.specificity.upper,
        )
    ] == [93.8, 88.5, 97.1]
    assert metrics.accuracy == clopper_pearson(236, 279)
    assert metrics.ppv == logit_interval(100, 109)
    assert metrics.npv == logit_interval(136, 170)


def test_one_point_auc_is_mean():
    # The one-point ROC AUC equals (sensitivity + specificity) / 2.
    calls, truth = _senior_radiologist_calls()
    metrics = binary_metrics(calls, truth)
    assert metrics.auc.auc == pytest.approx((100 / 134 + 136 / 145) / 2, abs=1e-12)


def test_binary_metrics_call_auc_matches_proc(proc_data, proc_reference):
    # R 4.2.2 / pROC 1.18.0 on the binary column "call": AUC and DeLong CI.
    metrics = binary_metrics(proc_data["call"], proc_data["truth"])
    assert metrics.auc.auc == pytest.approx(proc_reference["call_auc"], abs=1e-12)
    assert metrics.auc.lower == pytest.approx(proc_reference["call_lower"], abs=1e-12)


def test_binary_metrics_undefined_values_are_none():
    metrics = binary_metrics([0, 0, 0], [1, 1, 1])
    assert metrics.sensitivity.estimate == 0.0
    assert metrics.specificity is None
    assert metrics.ppv is None
    assert metrics.npv.estimate == 0.0
    assert metrics.auc is None


def test_binary_metrics_rejects_scores():
    with pytest.raises(InputValidationError, match="position 1 is 0.4"):
        binary_metrics([1, 0.4], [1, 0])


def test_metrics_at_threshold_uses_greater_or_equal():
    metrics = metrics_at_threshold([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1], threshold=0.5)
    assert metrics.threshold == 0.5
    assert (metrics.counts.true_positive, metrics.counts.false_positive) == (2, 1)


def test_continuous_metrics_reports_curve_and_cut_offs(proc_data):
    result = continuous_metrics(proc_data["score_a"], proc_data["truth"], threshold=0.0)
    assert result.auc == auc_delong(proc_data["score_a"], proc_data["truth"])
    assert result.at_youden.threshold == result.youden.threshold
    assert result.at_youden.sensitivity.estimate == pytest.approx(
        result.youden.sensitivity, abs=1e-12
    )
    assert result.at_threshold.threshold == 0.0
    assert result.roc.fpr.size == result.roc.thresholds.size


def test_continuous_metrics_single_class_raises():
    with pytest.raises(SingleClassError):
        continuous_metrics([0.2, 0.4], [0, 0])
