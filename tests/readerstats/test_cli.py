"""The ``python -m readerstats analyse`` command on wide and long CSVs."""

import json
from pathlib import Path

import pandas as pd
import pytest

from readerstats.__main__ import main

RESOURCES = Path(__file__).parent / "resources"


def _run(arguments, capsys):
    status = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def wide_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("wide")
    status = main(
        [
            "analyse",
            str(RESOURCES / "proc_reference_data.csv"),
            "--out",
            str(out),
            "--reference",
            "score_a",
            "--subgroup",
            "male",
            "--feature",
            "age",
            "--feature",
            "wbc",
        ]
    )
    assert status == 0
    return out, json.loads((out / "results.json").read_text())


def test_wide_per_rater_auc_matches_proc(wide_results, proc_reference):
    # R 4.2.2 / pROC 1.18.0 AUC and DeLong CI of each rater column.
    _, results = wide_results
    assert results["raters"] == ["score_a", "score_b", "rating", "call"]
    for rater in ("score_a", "rating"):
        auc = results["per_rater"][rater]["metrics"]["auc"]
        assert auc["auc"] == pytest.approx(proc_reference[f"{rater}_auc"], abs=1e-12)
        assert auc["lower"] == pytest.approx(proc_reference[f"{rater}_lower"], abs=1e-12)
    assert results["per_rater"]["call"]["kind"] == "binary"


def test_wide_comparison_matches_proc(wide_results, proc_reference):
    # R 4.2.2 / pROC 1.18.0 roc.test(paired, delong) of score_a vs score_b.
    _, results = wide_results
    comparison = results["comparisons"]["versus"]["score_b"]["auc"]
    assert comparison["z"] == pytest.approx(proc_reference["a_vs_b_z"], abs=1e-10)
    assert comparison["pvalue"] == pytest.approx(proc_reference["a_vs_b_p"], rel=1e-9)
    assert results["comparisons"]["versus"]["score_b"]["binary"]["sensitivity"]["pvalue"] <= 1.0


def test_wide_writes_every_table(wide_results):
    out, results = wide_results
    for name in (
        "per_rater",
        "roc_points",
        "comparisons",
        "subgroups",
        "agreement",
        "characteristics",
    ):
        assert (out / f"{name}.csv").is_file(), name
    per_rater = pd.read_csv(out / "per_rater.csv")
    assert list(per_rater["rater"]) == results["raters"]
    assert results["characteristics"]["hosmer_lemeshow"]["df"] == 8
    assert set(results["subgroups"]["male"]["positive_calls"]) == set(results["raters"])


def test_long_vandyke_mrmc_matches_printout(tmp_path, capsys):
    # OR-DBM MRMC 2.5 / MRMCaov: RRRC F = 4.46, ddf = 15.26, p = 0.0517 (jackknife covariance).
    reads = pd.read_csv(RESOURCES / "vandyke_long.csv").rename(columns={"rating": "score"})
    path = tmp_path / "vandyke.csv"
    reads.to_csv(path, index=False)
    status, _, err = _run(["analyse", path, "--out", tmp_path / "out", "--threshold", "3"], capsys)
    assert status == 0, err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    rrrc = results["mrmc"]["analyses"]["auc_jackknife"]["tests"]["RRRC"]
    assert rrrc["statistic"] == pytest.approx(4.46, abs=0.005)
    assert rrrc["df_denominator"] == pytest.approx(15.26, abs=0.005)
    assert rrrc["pvalue"] == pytest.approx(0.0517, abs=5e-5)
    assert results["mrmc"]["analyses"]["auc_jackknife"]["tests"]["FRRC"]["df_denominator"] is None
    assert "sensitivity_jackknife" in results["mrmc"]["analyses"]
    assert (tmp_path / "out" / "mrmc.csv").is_file()


def test_long_with_algorithm_reference_runs_standalone(tmp_path, capsys):
    reads = pd.read_csv(RESOURCES / "vandyke_long.csv").rename(columns={"rating": "score"})
    algorithm = reads[reads["reader"] == 3].assign(reader="ai")
    path = tmp_path / "with_ai.csv"
    pd.concat([reads, algorithm]).to_csv(path, index=False)
    status, _, err = _run(["analyse", path, "--out", tmp_path / "out", "--reference", "ai"], capsys)
    assert status == 0, err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["mrmc"]["readers"] == ["0", "1", "2", "3", "4"]
    standalone = results["mrmc"]["standalone_vs_readers"]["0"]
    # OR-DBM MRMC 2.5 AUCs of reader 3, modality 0 and 1, which the "ai" rows copy.
    assert standalone["algorithm"] == pytest.approx(0.97310789, abs=5e-9)
    modality_1 = results["mrmc"]["standalone_vs_readers"]["1"]
    assert modality_1["algorithm"] == pytest.approx(0.99935588, abs=5e-9)


def test_missing_scores_are_reported(tmp_path, capsys):
    data = pd.read_csv(RESOURCES / "proc_reference_data.csv")[
        ["case", "truth", "score_a", "score_b"]
    ]
    data.loc[[0, 1, 2], "score_b"] = None
    path = tmp_path / "missing.csv"
    data.to_csv(path, index=False)
    status, _, err = _run(
        ["analyse", path, "--out", tmp_path / "out", "--reference", "score_a"], capsys
    )
    assert status == 0, err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["per_rater"]["score_b"]["n_missing"] == 3
    assert results["comparisons"]["versus"]["score_b"]["auc"]["n_excluded_missing"] == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("case,score\n1,0.5\n", "Missing column 'truth'"),
        ("case,truth,ai\n1,1,0.5\n2,0,high\n", "Line 3, column 'ai': 'high' is not a number"),
        ("case,truth,ai\n1,1,0.5\n2,yes,0.2\n", "Line 3, column 'truth': 'yes' is not a number"),
        ("case,truth,ai\n1,1,0.5\n2,2,0.2\n", "Line 3, column 'truth': '2' is not 0 or 1"),
        ("case,truth,ai\n1,1,0.5\n2,1,0.2\n", "got 2 positive and 0 negative"),
        ("case,truth,ai\n1,1,0.5\n1,0,0.2\n", "case '1' appears twice"),
        ("reader,case,truth\nr1,1,1\n", "no 'score' column"),
    ],
)
def test_bad_input_exits_with_message(tmp_path, capsys, content, message):
    path = tmp_path / "reads.csv"
    path.write_text(content)
    status, _, err = _run(["analyse", path, "--out", tmp_path / "out"], capsys)
    assert status == 2
    assert message in err
    assert not (tmp_path / "out").exists()


def test_unknown_reference_exits_with_message(tmp_path, capsys):
    status, _, err = _run(
        [
            "analyse",
            RESOURCES / "proc_reference_data.csv",
            "--out",
            tmp_path / "out",
            "--reference",
            "model",
        ],
        capsys,
    )
    assert status == 2
    assert "Reference rater 'model' not found" in err


def test_invalid_threshold_exits_with_message(tmp_path, capsys):
    status, _, err = _run(
        [
            "analyse",
            RESOURCES / "proc_reference_data.csv",
            "--out",
            tmp_path / "out",
            "--threshold",
            "ai=high",
        ],
        capsys,
    )
    assert status == 2
    assert "RATER=NUMBER" in err
