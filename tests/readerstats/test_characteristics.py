"""Characteristics table and Hosmer–Lemeshow test against R glm."""

import numpy as np
import pandas as pd
import pytest

from readerstats.characteristics import characteristics_table, hosmer_lemeshow
from readerstats.errors import InputValidationError, SingleClassError


@pytest.fixture(scope="module")
def table(proc_data):
    return characteristics_table(proc_data, truth="truth", features=["age", "male", "wbc"])


@pytest.mark.parametrize("feature", ["age", "male", "wbc"])
def test_logistic_pvalues_match_r_glm(feature, table, proc_reference):
    # R 4.2.2 summary(glm(truth ~ ..., family = binomial)) Wald p; relative tolerance 1e-5
    # because both fits stop at their own convergence criteria.
    row = next(row for row in table.rows if row.feature == feature)
    assert row.pvalue_univariable == pytest.approx(
        proc_reference[f"{feature}_p_univariable"], rel=1e-5
    )
    assert row.pvalue_multivariable == pytest.approx(
        proc_reference[f"{feature}_p_multivariable"], rel=1e-5
    )


def test_hosmer_lemeshow_matches_r(table, proc_reference):
    # R 4.2.2, the ResourceSelection::hoslem.test algorithm written out in base R (10 groups).
    assert table.hosmer_lemeshow.statistic == pytest.approx(
        proc_reference["hosmer_lemeshow_statistic"], rel=1e-5
    )
    assert table.hosmer_lemeshow.pvalue == pytest.approx(
        proc_reference["hosmer_lemeshow_p"], rel=1e-5
    )
    assert table.hosmer_lemeshow.df == 8


def test_summaries_by_class(table, proc_data):
    positives = proc_data[proc_data["truth"] == 1]
    age = next(row for row in table.rows if row.feature == "age")
    male = next(row for row in table.rows if row.feature == "male")
    assert age.kind == "continuous"
    assert age.positive.mean == pytest.approx(positives["age"].mean(), abs=1e-12)
    assert age.positive.sd == pytest.approx(positives["age"].std(), abs=1e-12)
    assert age.positive.q1 == pytest.approx(positives["age"].quantile(0.25), abs=1e-12)
    assert male.kind == "binary"
    assert male.positive.count == int(positives["male"].sum())
    assert male.positive.percent == pytest.approx(100 * positives["male"].mean(), abs=1e-12)
    assert table.n_positive + table.n_negative == len(proc_data)


def test_frame_formats_rows(table):
    frame = table.to_frame()
    assert list(frame["feature"]) == ["age", "male", "wbc"]
    assert "±" in frame.loc[0, "positive"]
    assert "IQR" in frame.loc[0, "positive"]


def test_perfect_separation_gives_note_not_crash():
    data = pd.DataFrame({"x": [0.0, 1, 2, 3, 10, 11, 12, 13], "truth": [0, 0, 0, 0, 1, 1, 1, 1]})
    result = characteristics_table(data, truth="truth")
    assert result.rows[0].pvalue_univariable is None
    assert "separation" in result.rows[0].note


def test_missing_values_are_counted():
    data = pd.DataFrame({"x": [1.0, np.nan, 2, 3, 4, 2, 5, 1], "truth": [0, 0, 0, 1, 1, 1, 0, 1]})
    result = characteristics_table(data, truth="truth")
    assert result.rows[0].negative.n_missing == 1
    assert result.n_complete == 7


def test_non_numeric_feature_raises():
    data = pd.DataFrame({"sex": ["m", "f"], "truth": [0, 1]})
    with pytest.raises(InputValidationError, match="'sex' must be numeric"):
        characteristics_table(data, truth="truth")


def test_single_class_raises():
    with pytest.raises(SingleClassError):
        characteristics_table(pd.DataFrame({"x": [1.0, 2.0], "truth": [1, 1]}), truth="truth")


def test_hosmer_lemeshow_too_few_groups_raises():
    with pytest.raises(InputValidationError, match="at least 3 risk groups"):
        hosmer_lemeshow([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])
