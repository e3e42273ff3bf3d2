"""Cohen's and Fleiss' kappa against statsmodels."""

import numpy as np
import pytest
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from readerstats.agreement import cohens_kappa, fleiss_kappa
from readerstats.errors import EmptySampleError, InputValidationError


@pytest.fixture(scope="module")
def three_raters():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, 150)
    noisy = [np.where(rng.random(150) < p, truth, rng.integers(0, 3, 150)) for p in (0.8, 0.6, 0.5)]
    return np.column_stack(noisy)


def test_cohens_kappa_matches_statsmodels(three_raters):
    # statsmodels 0.14 cohens_kappa on the 3x3 table: kappa, std_kappa, std_kappa0, CI.
    first, second = three_raters[:, 0], three_raters[:, 1]
    table = np.zeros((3, 3))
    np.add.at(table, (first, second), 1)
    expected = sm_cohens_kappa(table)
    result = cohens_kappa(first, second)
    assert result.kappa == pytest.approx(expected.kappa, abs=1e-12)
    assert result.se == pytest.approx(expected.std_kappa, abs=1e-12)
    assert result.se_null == pytest.approx(expected.std_kappa0, abs=1e-12)
    assert result.lower == pytest.approx(expected.kappa_low, abs=1e-12)
    assert result.upper == pytest.approx(expected.kappa_upp, abs=1e-12)
    assert result.pvalue == pytest.approx(expected.pvalue_two_sided, rel=1e-9)


def test_cohens_kappa_binary_textbook_value():
    # 2x2 table [[20, 5], [10, 15]]: po = 0.70, pe = 0.50, kappa = 0.40 by hand.
    first = [1] * 25 + [0] * 25
    second = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohens_kappa(first, second).kappa == pytest.approx(0.4, abs=1e-12)


def test_cohens_kappa_constant_raters_is_defined():
    result = cohens_kappa([1, 1, 1], [1, 1, 1])
    assert (result.kappa, result.se, result.pvalue) == (1.0, 0.0, 1.0)


def test_cohens_kappa_length_mismatch_raises():
    with pytest.raises(InputValidationError, match="same subjects"):
        cohens_kappa([1, 0], [1])


def test_cohens_kappa_empty_raises():
    with pytest.raises(EmptySampleError):
        cohens_kappa([], [])


def test_fleiss_kappa_matches_statsmodels(three_raters):
    # statsmodels 0.14 fleiss_kappa(method="fleiss") on the aggregated counts.
    expected = sm_fleiss_kappa(aggregate_raters(three_raters)[0], method="fleiss")
    result = fleiss_kappa(three_raters)
    assert result.kappa == pytest.approx(expected, abs=1e-12)
    assert result.lower < result.kappa < result.upper
    assert result.n_raters == 3


def test_fleiss_kappa_two_raters_equals_scott_pi():
    # With 2 raters Fleiss' kappa is Scott's pi: pooled marginals (0.55, 0.45) give
    # pe = 0.505, po = 0.70, pi = (0.70 - 0.505) / 0.495 = 0.39394, worked by hand.
    first = [1] * 25 + [0] * 25
    second = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    ratings = np.column_stack([first, second])
    assert fleiss_kappa(ratings).kappa == pytest.approx(0.195 / 0.495, abs=1e-12)


def test_fleiss_kappa_missing_rating_raises():
    ratings = np.array([[1, 0, None], [1, 1, 1]], dtype=object)
    with pytest.raises(InputValidationError, match="subject 0 has no rating from rater 2"):
        fleiss_kappa(ratings)
