"""Obuchowski–Rockette MRMC analysis against the Van Dyke printouts."""

import numpy as np
import pytest
from scipy import stats

from readerstats.errors import InputValidationError
from readerstats.mrmc import figure_of_merit_covariance, obuchowski_rockette, standalone_vs_readers
from readerstats.roc import auc_delong


@pytest.fixture(scope="module")
def vandyke_or(vandyke):
    ratings, truth = vandyke
    return obuchowski_rockette(ratings, truth, covariance="jackknife")


def test_vandyke_reader_aucs_match_printout(vandyke_or):
    # OR-DBM MRMC 2.5 printout, empirical AUCs to 8 decimals (first and last reader-modality).
    assert vandyke_or.values[0, 0] == pytest.approx(0.91964573, abs=5e-9)
    assert vandyke_or.values[1, 4] == pytest.approx(0.92995169, abs=5e-9)


def test_vandyke_modality_means_match_printout(vandyke_or):
    # OR-DBM MRMC 2.5: reader-averaged AUC 0.89703704 (modality 0), 0.94083736 (modality 1).
    rrrc = vandyke_or.tests["RRRC"]
    assert rrrc.modalities[0].estimate == pytest.approx(0.89703704, abs=5e-9)
    assert rrrc.modalities[1].estimate == pytest.approx(0.94083736, abs=5e-9)


def test_vandyke_rrrc_matches_printout(vandyke_or):
    # OR-DBM MRMC 2.5 / MRMCaov (Smith & Hillis, J Stat Softw): F = 4.46, ddf = 15.26,
    # p = 0.0517, difference CI (-0.08796, 0.00036); tolerances are half the last printed digit.
    rrrc = vandyke_or.tests["RRRC"]
    assert rrrc.statistic == pytest.approx(4.46, abs=0.005)
    assert rrrc.df_numerator == 1
    assert rrrc.df_denominator == pytest.approx(15.26, abs=0.005)
    assert rrrc.pvalue == pytest.approx(0.0517, abs=5e-5)
    difference = rrrc.differences[0]
    assert difference.estimate == pytest.approx(0.89703704 - 0.94083736, abs=1e-8)
    assert difference.lower == pytest.approx(-0.08796, abs=5e-6)
    assert difference.upper == pytest.approx(0.00036, abs=5e-6)


def test_vandyke_frrc_matches_printout(vandyke_or):
    # OR-DBM MRMC 2.5: fixed readers, chi-square = 5.47595 on 1 df, p = 0.0193.
    frrc = vandyke_or.tests["FRRC"]
    assert frrc.statistic == pytest.approx(5.47595, abs=5e-6)
    assert frrc.pvalue == pytest.approx(0.0193, abs=5e-5)


def test_vandyke_rrfc_matches_printout(vandyke_or):
    # OR-DBM MRMC 2.5: fixed cases, F = 8.70 on (1, 4) df, p = 0.0420.
    rrfc = vandyke_or.tests["RRFC"]
    assert rrfc.statistic == pytest.approx(8.70, abs=0.005)
    assert (rrfc.df_numerator, rrfc.df_denominator) == (1, 4)
    assert rrfc.pvalue == pytest.approx(0.0420, abs=5e-5)


def test_vandyke_sensitivity_at_rating_three(vandyke):
    # MRMCaov (Smith & Hillis) per-reader sensitivity at rating >= 3, printed to 3 decimals.
    ratings, truth = vandyke
    result = obuchowski_rockette(ratings, truth, figure_of_merit="sensitivity", threshold=3)
    expected = [[0.889, 0.778, 0.822, 0.933, 0.689], [0.978, 0.822, 0.911, 1.000, 0.889]]
    np.testing.assert_allclose(result.values, expected, atol=5e-4)
    assert result.tests["RRRC"].pvalue < 1.0


def test_rrfc_interval_is_t_interval(vandyke, vandyke_or):
    # With cases fixed, the per-modality interval is the t interval of the reader AUCs (scipy).
    lower, upper = stats.t.interval(
        0.95, 4, loc=vandyke_or.values[0].mean(), scale=stats.sem(vandyke_or.values[0])
    )
    modality = vandyke_or.tests["RRFC"].modalities[0]
    assert modality.lower == pytest.approx(lower, abs=1e-12)
    assert modality.upper == pytest.approx(upper, abs=1e-12)


def test_jackknife_covariance_matches_brute_force(vandyke):
    ratings, truth = vandyke
    scores = ratings[:, :2].reshape(4, -1)
    fast = figure_of_merit_covariance(scores, truth, covariance="jackknife")
    leave_one_out = np.array(
        [
            [auc_delong(np.delete(row, k), np.delete(truth, k)).auc for k in range(truth.size)]
            for row in scores
        ]
    )
    centred = leave_one_out - leave_one_out.mean(axis=1, keepdims=True)
    brute = (truth.size - 1) / truth.size * centred @ centred.T
    np.testing.assert_allclose(fast.covariance, brute, atol=1e-14)


def test_delong_covariance_diagonal_equals_auc_variance(vandyke):
    ratings, truth = vandyke
    result = figure_of_merit_covariance(ratings.reshape(10, -1), truth, covariance="delong")
    variances = [auc_delong(row, truth).variance for row in ratings.reshape(10, -1)]
    np.testing.assert_allclose(np.diag(result.covariance), variances, rtol=1e-12)


def test_delong_and_jackknife_analyses_agree_closely(vandyke, vandyke_or):
    ratings, truth = vandyke
    delong = obuchowski_rockette(ratings, truth, covariance="delong")
    assert delong.tests["RRRC"].pvalue == pytest.approx(vandyke_or.tests["RRRC"].pvalue, abs=0.002)


def test_standalone_rrfc_is_paired_t_test(vandyke):
    ratings, truth = vandyke
    algorithm, panel = ratings[1, 3], ratings[0]
    result = standalone_vs_readers(algorithm, panel, truth)
    reader_aucs = np.array([auc_delong(row, truth).auc for row in panel])
    algorithm_auc = auc_delong(algorithm, truth).auc
    expected = stats.ttest_1samp(reader_aucs - algorithm_auc, 0.0)
    rrfc = result.differences["RRFC"]
    assert rrfc.statistic == pytest.approx(expected.statistic, abs=1e-10)
    assert rrfc.pvalue == pytest.approx(expected.pvalue, abs=1e-10)
    assert result.algorithm == pytest.approx(algorithm_auc, abs=1e-12)
    assert result.reader_mean == pytest.approx(reader_aucs.mean(), abs=1e-12)


def test_standalone_rrrc_df_at_least_four(vandyke):
    # Hillis's df is never below (readers - 1) = 4.
    ratings, truth = vandyke
    rrrc = standalone_vs_readers(ratings[1, 3], ratings[0], truth).differences["RRRC"]
    assert rrrc.df >= 4
    assert rrrc.lower < rrrc.estimate < rrrc.upper
    assert 0.0 <= rrrc.pvalue <= 1.0


def test_single_reader_is_rejected(vandyke):
    ratings, truth = vandyke
    with pytest.raises(InputValidationError, match="at least 2 readers"):
        obuchowski_rockette(ratings[:, :1], truth)


def test_missing_score_is_rejected(vandyke):
    ratings, truth = vandyke
    broken = ratings.astype(float).copy()
    broken[0, 0, 3] = np.nan
    with pytest.raises(InputValidationError, match="finite"):
        obuchowski_rockette(broken, truth)


def test_sensitivity_of_continuous_scores_needs_threshold(vandyke):
    ratings, truth = vandyke
    with pytest.raises(InputValidationError, match="threshold"):
        obuchowski_rockette(ratings, truth, figure_of_merit="sensitivity")


def test_standalone_rrrc_equals_replicated_algorithm(vandyke):
    # Chakraborty (2017), "Standalone CAD vs. radiologists": 1T-RRRC gives the same F, ddf
    # and p as a two-modality OR analysis in which the algorithm's reads are copied to
    # every reader of the second modality (2T-RRRC).
    ratings, truth = vandyke
    algorithm, panel = ratings[1, 3], ratings[0]
    standalone = standalone_vs_readers(algorithm, panel, truth).differences["RRRC"]
    replicated = np.stack([panel, np.tile(algorithm, (panel.shape[0], 1))])
    two_modality = obuchowski_rockette(replicated, truth).tests["RRRC"]
    assert standalone.statistic**2 == pytest.approx(two_modality.statistic, rel=1e-10)
    assert standalone.df == pytest.approx(two_modality.df_denominator, rel=1e-10)
    assert standalone.pvalue == pytest.approx(two_modality.pvalue, rel=1e-10)
