"""Paired DeLong and exact McNemar tests against pROC, R, statsmodels and the study."""

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from readerstats.compare import (
    compare_binary,
    mcnemar_exact,
    paired_delong,
    subgroup_positive_calls,
)
from readerstats.errors import InputValidationError, SingleClassError


def test_paired_delong_wfns_vs_s100b_matches_proc(asah):
    # pROC 1.18/1.19: roc.test(roc(outcome, wfns), roc(outcome, s100b), method = "delong").
    result = paired_delong(asah["wfns"], asah["s100b"], asah["poor"])
    assert result.z == pytest.approx(2.20898359144091, abs=1e-10)
    assert result.pvalue == pytest.approx(0.0271757822291882, abs=1e-12)
    assert result.auc_first == pytest.approx(0.823678861788618, abs=1e-12)
    assert result.n_excluded_missing == 0


@pytest.mark.parametrize(
    ("first", "second", "key"),
    [("score_a", "score_b", "a_vs_b"), ("score_a", "rating", "a_vs_rating")],
)
def test_paired_delong_matches_proc_on_generated_reads(
    first, second, key, proc_data, proc_reference
):
    # R 4.2.2 / pROC 1.18.0 roc.test(paired = TRUE, method = "delong"): statistic, p, conf.int.
    result = paired_delong(proc_data[first], proc_data[second], proc_data["truth"])
    assert result.z == pytest.approx(proc_reference[f"{key}_z"], abs=1e-10)
    assert result.pvalue == pytest.approx(proc_reference[f"{key}_p"], rel=1e-9)
    assert result.lower == pytest.approx(proc_reference[f"{key}_diff_lower"], abs=1e-12)
    assert result.upper == pytest.approx(proc_reference[f"{key}_diff_upper"], abs=1e-12)


def test_paired_delong_drops_missing_for_both_raters(asah):
    first = asah["wfns"].to_numpy(dtype=float).copy()
    second = asah["s100b"].to_numpy(dtype=float).copy()
    first[[0, 5]] = np.nan
    second[[5, 9]] = np.nan
    keep = np.ones(first.size, dtype=bool)
    keep[[0, 5, 9]] = False
    result = paired_delong(first, second, asah["poor"])
    expected = paired_delong(first[keep], second[keep], asah["poor"][keep])
    assert result.n_excluded_missing == 3
    assert result.z == pytest.approx(expected.z, abs=1e-12)
    assert result.n_positive + result.n_negative == keep.sum()


def test_paired_delong_identical_raters_gives_p_one():
    scores = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2]
    result = paired_delong(scores, scores, [0, 0, 1, 1, 1, 0])
    assert (result.difference, result.se, result.z, result.pvalue) == (0.0, 0.0, 0.0, 1.0)


def test_paired_delong_single_class_raises():
    with pytest.raises(SingleClassError):
        paired_delong([0.1, 0.2], [0.3, 0.4], [1, 1])


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [(0, 0, 1.0), (1, 1, 1.0), (0, 5, 0.0625), (5, 0, 0.0625), (3, 3, 1.0)],
)
def test_mcnemar_exact_edge_cases(b, c, expected):
    # 0 vs 5: 2 * 0.5**5 = 0.0625 exactly; equal counts give 1, never above.
    assert mcnemar_exact(b, c) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(("b", "c"), [(23, 10), (7, 23), (4, 9), (12, 1)])
def test_mcnemar_exact_matches_statsmodels(b, c):
    # statsmodels 0.14 mcnemar(table, exact=True); tolerance 1e-12.
    expected = mcnemar([[5, b], [c, 5]], exact=True).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, abs=1e-12)


def _study_calls():
    """Per-case calls rebuilt from the study's agreement counts (joint model first)."""
    # Positives: both right 90, model only 23, reader only 10, both wrong 11.
    # Negatives: both right 113, model only 7, reader only 23, both wrong 2.
    positives = [(1, 1)] * 90 + [(1, 0)] * 23 + [(0, 1)] * 10 + [(0, 0)] * 11
    negatives = [(0, 0)] * 113 + [(0, 1)] * 7 + [(1, 0)] * 23 + [(1, 1)] * 2
    pairs = np.array(positives + negatives, dtype=float)
    truth = np.array([1] * len(positives) + [0] * len(negatives))
    return pairs[:, 0], pairs[:, 1], truth


def test_compare_binary_rebuilds_study_agreement_tables():
    model, reader, truth = _study_calls()
    result = compare_binary(model, reader, truth)
    sensitivity, specificity = result.sensitivity.table, result.specificity.table
    assert (
        sensitivity.both_right,
        sensitivity.first_right_only,
        sensitivity.second_right_only,
        sensitivity.both_wrong,
    ) == (90, 23, 10, 11)
    assert (
        specificity.both_right,
        specificity.first_right_only,
        specificity.second_right_only,
        specificity.both_wrong,
    ) == (113, 7, 23, 2)


def test_compare_binary_study_proportions_and_specificity_p():
    # Mei et al., Nat Med 26:1224 (2020): joint model 84.3% / 82.8%, senior radiologist
    # 74.6% / 93.8%, specificity McNemar P = 0.005 (printed to 3 decimals).
    model, reader, truth = _study_calls()
    result = compare_binary(model, reader, truth)
    assert round(100 * result.sensitivity.first.estimate, 1) == 84.3
    assert round(100 * result.specificity.first.estimate, 1) == 82.8
    assert round(100 * result.sensitivity.second.estimate, 1) == 74.6
    assert round(100 * result.specificity.second.estimate, 1) == 93.8
    assert round(result.specificity.pvalue, 3) == 0.005


def test_compare_binary_study_sensitivity_p(proc_reference):
    # The study prints P = 0.0501 for the sensitivity comparison, but its own agreement
    # counts (23 vs 10 discordant positives) give the exact two-sided p 0.03508
    # (R 4.2.2 binom.test(10, 33)). The printed value is what 22 vs 10 discordant pairs
    # give (0.050102), so the published table and counts disagree by one case.
    model, reader, truth = _study_calls()
    result = compare_binary(model, reader, truth)
    assert result.sensitivity.pvalue == pytest.approx(
        proc_reference["mcnemar_exact_23_10_p"], abs=1e-12
    )
    assert round(mcnemar_exact(22, 10), 4) == 0.0501


def test_compare_binary_drops_missing_calls():
    model, reader, truth = _study_calls()
    reader = reader.copy()
    reader[[0, 200]] = np.nan
    result = compare_binary(model, reader, truth)
    assert result.n_excluded_missing == 2
    assert result.sensitivity.table.total == 133
    assert result.specificity.table.total == 144


def test_compare_binary_rejects_continuous_scores():
    with pytest.raises(InputValidationError, match="0 or 1"):
        compare_binary([0.2, 1.0], [1, 0], [1, 0])


def test_subgroup_positive_calls_counts_normal_ct_positives():
    # Mei et al. (2020) normal-CT subgroup: 25 positives, joint model 17/25, radiologist 0/25.
    truth = np.array([1] * 25 + [1] * 10 + [0] * 10)
    flag = np.array([1] * 25 + [0] * 10 + [1] * 10)
    model = np.array([1] * 17 + [0] * 8 + [1] * 10 + [0] * 10, dtype=float)
    radiologist = np.array([0] * 25 + [1] * 10 + [0] * 10, dtype=float)
    radiologist[0] = np.nan
    result = subgroup_positive_calls({"joint": model, "senior": radiologist}, truth, flag)
    assert (result["joint"].called_positive.successes, result["joint"].called_positive.total) == (
        17,
        25,
    )
    assert round(100 * result["joint"].called_positive.estimate) == 68
    assert (result["senior"].called_positive.successes, result["senior"].called_positive.total) == (
        0,
        24,
    )
    assert result["senior"].n_excluded_missing == 1
    assert result["senior"].called_positive.lower == 0.0


def test_subgroup_without_positives_gives_none():
    result = subgroup_positive_calls({"ai": [1, 0]}, [0, 0], [1, 1])
    assert result["ai"].called_positive is None
