"""AUC, DeLong variance, ROC points and Youden cut-off against pROC."""

import numpy as np
import pytest

from readerstats.errors import InputValidationError, InsufficientCasesError, SingleClassError
from readerstats.roc import auc_delong, delong_components, roc_curve, youden_threshold


def test_auc_ndka_matches_proc(asah):
    # pROC 1.18/1.19: auc(roc(aSAH$outcome, aSAH$ndka)) and ci.auc(method = "delong").
    estimate = auc_delong(asah["ndka"], asah["poor"])
    assert estimate.auc == pytest.approx(0.611957994579946, abs=1e-12)
    assert estimate.lower == pytest.approx(0.501244999271703, abs=1e-12)
    assert estimate.upper == pytest.approx(0.722670989888189, abs=1e-12)
    assert (estimate.n_positive, estimate.n_negative) == (41, 72)
    assert estimate.perfect_separation is False


def test_auc_wfns_matches_proc(asah):
    # pROC 1.18/1.19: auc(roc(aSAH$outcome, aSAH$wfns)); wfns is an ordinal 1-5 scale with ties.
    assert auc_delong(asah["wfns"], asah["poor"]).auc == pytest.approx(0.823678861788618, abs=1e-12)


@pytest.mark.parametrize("column", ["score_a", "score_b", "rating", "call"])
def test_auc_matches_proc_on_generated_reads(column, proc_data, proc_reference):
    # R 4.2.2 / pROC 1.18.0 auc, var(method = "delong"), ci.auc; printed to 15 digits.
    estimate = auc_delong(proc_data[column], proc_data["truth"])
    assert estimate.auc == pytest.approx(proc_reference[f"{column}_auc"], abs=1e-12)
    assert estimate.variance == pytest.approx(proc_reference[f"{column}_var"], rel=1e-9)
    assert estimate.lower == pytest.approx(proc_reference[f"{column}_lower"], abs=1e-12)
    assert estimate.upper == pytest.approx(proc_reference[f"{column}_upper"], abs=1e-12)


def test_delong_components_match_quadratic_definition():
    # The placement values by definition: V10_i = mean_j psi(x_i, y_j), psi = 1, 1/2, 0.
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2, 60)
    scores = rng.integers(0, 6, 60).astype(float)
    positives, negatives = scores[truth == 1], scores[truth == 0]
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    components = delong_components(scores, truth)
    np.testing.assert_allclose(components.v10, psi.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(components.v01, psi.mean(axis=0), atol=1e-12)
    assert components.auc == pytest.approx(psi.mean(), abs=1e-12)


def test_auc_backwards_rater_is_not_flipped():
    truth = [1, 1, 1, 0, 0, 0]
    scores = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]
    estimate = auc_delong(scores, truth)
    assert estimate.auc == 0.0
    assert estimate.perfect_separation is True


def test_auc_perfect_separator_has_zero_se():
    estimate = auc_delong([0.9, 0.8, 0.7, 0.2, 0.1], [True, True, True, False, False])
    assert estimate.auc == 1.0
    assert estimate.se == 0.0
    assert estimate.variance == 0.0
    assert (estimate.lower, estimate.upper) == (1.0, 1.0)
    assert estimate.perfect_separation is True


def test_auc_interval_is_clipped_to_unit_range():
    estimate = auc_delong([0.9, 0.8, 0.7, 0.75, 0.1, 0.2], [1, 1, 1, 0, 0, 0])
    assert 0.0 <= estimate.lower <= estimate.auc <= estimate.upper <= 1.0
    assert estimate.upper == 1.0


@pytest.mark.parametrize("truth", [[1, 1, 1], [0, 0, 0]])
def test_auc_single_class_raises_with_counts(truth):
    with pytest.raises(SingleClassError, match=r"got [03] positive and [03] negative"):
        auc_delong([0.1, 0.5, 0.9], truth)
    assert issubclass(SingleClassError, ValueError)


def test_auc_one_case_in_a_class_raises():
    with pytest.raises(InsufficientCasesError, match="1 positive and 3 negative"):
        auc_delong([0.9, 0.1, 0.2, 0.3], [1, 0, 0, 0])


@pytest.mark.parametrize(
    ("scores", "truth", "message"),
    [
        ([0.1, float("nan")], [0, 1], "position 1"),
        ([0.1, 0.2], [0, 2], "only 0 and 1"),
        ([0.1, 0.2, 0.3], [0, 1], "same length"),
        (["a", "b"], [0, 1], "numeric"),
    ],
)
def test_auc_invalid_input_raises(scores, truth, message):
    with pytest.raises(InputValidationError, match=message):
        auc_delong(scores, truth)


def test_roc_curve_area_equals_auc(proc_data):
    curve = roc_curve(proc_data["rating"], proc_data["truth"])
    area = np.trapezoid(curve.tpr, curve.fpr)
    assert area == pytest.approx(auc_delong(proc_data["rating"], proc_data["truth"]).auc, abs=1e-12)
    assert (curve.fpr[0], curve.tpr[0], curve.fpr[-1], curve.tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert curve.thresholds.size == np.unique(proc_data["rating"]).size + 1


def test_youden_matches_proc_coords_best(proc_data, proc_reference):
    # pROC 1.18.0 coords(x = "best", best.method = "youden") reports the midpoint
    # between the chosen score and the next lower one; both give the same calls.
    best = youden_threshold(proc_data["score_a"], proc_data["truth"])
    midpoint = proc_reference["score_a_youden_threshold_midpoint"]
    lower_scores = proc_data["score_a"][proc_data["score_a"] < best.threshold]
    assert best.threshold > midpoint > lower_scores.max()
    assert best.sensitivity == pytest.approx(
        proc_reference["score_a_youden_sensitivity"], abs=1e-12
    )
    assert best.specificity == pytest.approx(
        proc_reference["score_a_youden_specificity"], abs=1e-12
    )


def test_delong_fast_agrees_with_quadratic_variance():
    # DeLong (1988) variance from the O(n^2) kernel matrix, written out directly.
    rng = np.random.default_rng(11)
    truth = rng.random(400) < 0.3
    scores = np.round(rng.normal(size=400) + truth, 1)
    positives, negatives = scores[truth], scores[~truth]
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    variance = (
        psi.mean(axis=1).var(ddof=1) / positives.size
        + psi.mean(axis=0).var(ddof=1) / negatives.size
    )
    assert auc_delong(scores, truth).variance == pytest.approx(variance, rel=1e-10)
