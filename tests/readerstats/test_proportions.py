"""Clopper–Pearson and logit intervals against R, statsmodels and the published study."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from readerstats.errors import EmptySampleError, InputValidationError
from readerstats.proportions import ProportionEstimate, clopper_pearson, logit_interval


@pytest.mark.parametrize(("successes", "total"), [(0, 18), (18, 18), (113, 134), (7, 41)])
def test_clopper_pearson_matches_r_binom_test(successes, total, proc_reference):
    # R 4.2.2 binom.test(x, n)$conf.int, printed to 15 digits; tolerance 1e-12.
    estimate = clopper_pearson(successes, total)
    key = f"binom_{successes}_of_{total}"
    assert estimate.lower == pytest.approx(proc_reference[f"{key}_lower"], abs=1e-12)
    assert estimate.upper == pytest.approx(proc_reference[f"{key}_upper"], abs=1e-12)


def test_clopper_pearson_zero_of_18():
    # Exact bound 1 - 0.025**(1/18) = 0.18530; printed to 4 decimals as 0.1853.
    estimate = clopper_pearson(0, 18)
    assert estimate.estimate == 0.0
    assert estimate.lower == 0.0
    assert estimate.upper == pytest.approx(0.1853, abs=5e-5)


def test_clopper_pearson_18_of_18():
    estimate = clopper_pearson(18, 18)
    assert estimate.estimate == 1.0
    assert estimate.lower == pytest.approx(0.8147, abs=5e-5)
    assert estimate.upper == 1.0


@pytest.mark.parametrize(("successes", "total"), [(1, 2), (5, 37), (50, 51), (300, 1000), (0, 3)])
def test_clopper_pearson_matches_statsmodels_beta(successes, total):
    # statsmodels 0.14 proportion_confint(method="beta"); tolerance 1e-12.
    lower, upper = proportion_confint(successes, total, alpha=0.05, method="beta")
    estimate = clopper_pearson(successes, total)
    assert estimate.lower == pytest.approx(lower, abs=1e-12)
    assert estimate.upper == pytest.approx(upper, abs=1e-12)


@pytest.mark.parametrize(
    ("successes", "total", "printed"),
    [
        # Mei et al., Nat Med 26:1224 (2020), results table: joint model specificity,
        # senior radiologist sensitivity and specificity; printed in % to 1 decimal.
        (120, 145, (82.8, 75.6, 88.5)),
        (100, 134, (74.6, 66.4, 81.7)),
        (136, 145, (93.8, 88.5, 97.1)),
    ],
)
def test_clopper_pearson_reproduces_study_table(successes, total, printed):
    estimate = clopper_pearson(successes, total)
    assert round(100 * estimate.estimate, 1) == printed[0]
    assert round(100 * estimate.lower, 1) == printed[1]
    assert round(100 * estimate.upper, 1) == printed[2]


def test_clopper_pearson_joint_model_sensitivity():
    # Mei et al. (2020) print 84.3% (77.1-90.0) for 113/134. The exact lower bound is
    # 77.047% (R binom.test agrees), which rounds to 77.0. The printed 77.1 is off by one
    # in the last digit, so the tolerance here is 0.1 percentage point.
    estimate = clopper_pearson(113, 134)
    assert round(100 * estimate.estimate, 1) == 84.3
    assert 100 * estimate.lower == pytest.approx(77.1, abs=0.1)
    assert round(100 * estimate.upper, 1) == 90.0


def test_proportion_estimate_is_frozen():
    estimate = clopper_pearson(3, 10)
    assert isinstance(estimate, ProportionEstimate)
    with pytest.raises(AttributeError):
        estimate.lower = 0.0  # type: ignore[misc]


def test_clopper_pearson_zero_total_raises():
    with pytest.raises(EmptySampleError, match="total is 0"):
        clopper_pearson(0, 0)
    assert issubclass(EmptySampleError, ValueError)


@pytest.mark.parametrize(("successes", "total"), [(5, 3), (-1, 3), (1.5, 3)])
def test_clopper_pearson_invalid_counts_raise(successes, total):
    with pytest.raises(InputValidationError):
        clopper_pearson(successes, total)


def test_clopper_pearson_alpha_out_of_range_raises():
    with pytest.raises(InputValidationError, match="alpha"):
        clopper_pearson(3, 10, alpha=1.5)


def test_logit_interval_matches_formula_by_hand():
    # 30/40: logit 1.0986, se sqrt(1/30 + 1/10) = 0.36515, z = 1.959964;
    # expit(1.0986 ± 0.71569) = (0.59458, 0.85988), worked by hand from the formula.
    estimate = logit_interval(30, 40)
    assert estimate.method == "logit"
    assert estimate.lower == pytest.approx(0.59458, abs=1e-5)
    assert estimate.upper == pytest.approx(0.85988, abs=1e-5)


@pytest.mark.parametrize(("successes", "total"), [(0, 12), (12, 12)])
def test_logit_interval_falls_back_at_boundaries(successes, total):
    estimate = logit_interval(successes, total)
    exact = clopper_pearson(successes, total)
    assert estimate.method == "clopper-pearson"
    assert (estimate.lower, estimate.upper) == (exact.lower, exact.upper)
