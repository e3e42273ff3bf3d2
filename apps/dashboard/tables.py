"""The dashboard's results as flat tables, one row per line of output, for the exports.

Proportions are fractions in [0, 1]; every interval is 95% unless the analysis
used another alpha. Each table is a list of dicts with the same keys, so CSV,
XLSX and LaTeX share one source.
"""

from __future__ import annotations

from typing import Any

from apps.dashboard.analysis import DashboardResult, RaterResult
from readerstats.mrmc import ORResult, StandaloneResult

Row = dict[str, Any]

TABLE_TITLES = {
    "raters": "Accuracy of every rater",
    "comparisons": "Paired comparisons with the reference rater",
    "subgroups": "Positive calls among the positive cases of each subgroup",
    "reader_averaged": "Reader-averaged AUC per arm (Obuchowski–Rockette)",
    "mrmc": "Arm-versus-arm MRMC analyses (Obuchowski–Rockette)",
    "standalone": "Standalone model against the reader panel",
    "kappa": "Agreement of calls (kappa)",
    "characteristics": "Clinical characteristics by ground truth",
    "roc_points": "ROC curve points",
}


def _proportion(prefix: str, estimate: Any) -> Row:
    if estimate is None:
        return {prefix: None, f"{prefix}_lower": None, f"{prefix}_upper": None, f"{prefix}_n": None}
    return {
        prefix: estimate.estimate,
        f"{prefix}_lower": estimate.lower,
        f"{prefix}_upper": estimate.upper,
        f"{prefix}_n": f"{estimate.successes}/{estimate.total}",
    }


def _rater_row(row: RaterResult, result: DashboardResult) -> Row:
    rater = row.rater
    line: Row = {
        "rater": rater.label,
        "kind": rater.kind,
        "arm": rater.arm,
        "reads": rater.n_reads,
        "cases_with_truth": row.n_cases,
        "cases_missing": row.n_missing,
    }
    metrics = row.metrics
    counts = metrics.counts if metrics else None
    for name in ("true_positive", "false_negative", "false_positive", "true_negative"):
        line[name] = getattr(counts, name) if counts else None
    for name in ("sensitivity", "specificity", "accuracy", "ppv", "npv"):
        line.update(_proportion(name, getattr(metrics, name) if metrics else None))
    if rater.kind == "arm" and row.reader_averaged is not None:
        averaged = row.reader_averaged
        line.update(
            {
                "auc": averaged.estimate,
                "auc_lower": averaged.lower,
                "auc_upper": averaged.upper,
                "auc_se": averaged.se,
                "auc_method": "reader-averaged, OR RRRC",
            }
        )
    else:
        auc = row.auc
        line.update(
            {
                "auc": row.auc_point,
                "auc_lower": auc.lower if auc else None,
                "auc_upper": auc.upper if auc else None,
                "auc_se": auc.se if auc else None,
                "auc_method": "DeLong" if auc else "",
            }
        )
    # The one-point ROC area of the 0/1 calls, (sensitivity + specificity) / 2.
    calls_auc = metrics.auc if metrics else None
    line["auc_of_calls"] = calls_auc.auc if calls_auc else None
    line["auc_note"] = row.auc_note or row.metrics_note
    line["youden_threshold"] = row.youden.threshold if row.youden else None
    line["call_threshold"] = result.threshold if rater.kind == "ai" else None

    comparison = next((c for c in result.comparisons if c.rater is rater), None)
    line["reference"] = result.reference.label if result.reference else None
    if comparison is not None:
        line["delong_p"] = comparison.auc.pvalue if comparison.auc else None
        line["sensitivity_mcnemar_p"] = (
            comparison.binary.sensitivity.pvalue if comparison.binary else None
        )
        line["specificity_mcnemar_p"] = (
            comparison.binary.specificity.pvalue if comparison.binary else None
        )
        line["cases_left_out_missing"] = (
            comparison.auc.n_excluded_missing
            if comparison.auc
            else (comparison.binary.n_excluded_missing if comparison.binary else None)
        )
    else:
        line.update(
            {
                "delong_p": None,
                "sensitivity_mcnemar_p": None,
                "specificity_mcnemar_p": None,
                "cases_left_out_missing": None,
            }
        )
    return line


def _comparison_rows(result: DashboardResult) -> list[Row]:
    rows: list[Row] = []
    for comparison in result.comparisons:
        reference = result.reference.label if result.reference else None
        line: Row = {"reference": reference, "rater": comparison.rater.label}
        auc = comparison.auc
        line.update(
            {
                "auc_reference": auc.auc_first if auc else None,
                "auc_rater": auc.auc_second if auc else None,
                "auc_difference": auc.difference if auc else None,
                "auc_difference_lower": auc.lower if auc else None,
                "auc_difference_upper": auc.upper if auc else None,
                "delong_z": auc.z if auc else None,
                "delong_p": auc.pvalue if auc else None,
                "auc_cases_left_out_missing": auc.n_excluded_missing if auc else None,
                "auc_note": comparison.auc_note,
            }
        )
        binary = comparison.binary
        for name in ("sensitivity", "specificity"):
            test = getattr(binary, name) if binary else None
            line.update(
                {
                    f"{name}_both_right": test.table.both_right if test else None,
                    f"{name}_reference_right_only": test.table.first_right_only if test else None,
                    f"{name}_rater_right_only": test.table.second_right_only if test else None,
                    f"{name}_both_wrong": test.table.both_wrong if test else None,
                    f"{name}_mcnemar_p": test.pvalue if test else None,
                }
            )
        line["calls_cases_left_out_missing"] = binary.n_excluded_missing if binary else None
        line["calls_note"] = comparison.binary_note
        rows.append(line)
    return rows


def _subgroup_rows(result: DashboardResult) -> list[Row]:
    rows: list[Row] = []
    for subgroup in result.subgroups:
        for rater, calls in subgroup.calls.items():
            rows.append(
                {
                    "subgroup": subgroup.name,
                    "subgroup_cases": subgroup.n_cases,
                    "subgroup_positives": subgroup.n_positive,
                    "rater": rater,
                    **_proportion("called_positive", calls.called_positive),
                    "positives_without_call": calls.n_excluded_missing,
                }
            )
    return rows


def _reader_averaged_rows(result: DashboardResult) -> list[Row]:
    rows: list[Row] = []
    for arm, analysis in result.mrmc.per_arm.items():
        if not isinstance(analysis, ORResult):
            rows.append({"arm": arm, "note": analysis})
            continue
        for name, test in analysis.tests.items():
            estimate = test.modalities[0]
            rows.append(
                {
                    "arm": arm,
                    "analysis": name,
                    "readers": len(analysis.readers),
                    "cases": analysis.n_cases,
                    "auc": estimate.estimate,
                    "se": estimate.se,
                    "df": estimate.df,
                    "lower": estimate.lower,
                    "upper": estimate.upper,
                    "note": "",
                }
            )
    return rows


def _mrmc_rows(result: DashboardResult) -> list[Row]:
    rows: list[Row] = []
    for key, analysis in result.mrmc.analyses.items():
        for name, test in analysis.tests.items():
            base = {
                "analysis": key,
                "test": name,
                "statistic": test.statistic,
                "df_numerator": test.df_numerator,
                "df_denominator": test.df_denominator,
                "p": test.pvalue,
            }
            for modality in test.modalities:
                rows.append(
                    {
                        **base,
                        "row": f"arm {modality.modality}",
                        "estimate": modality.estimate,
                        "lower": modality.lower,
                        "upper": modality.upper,
                        "se": modality.se,
                    }
                )
            for difference in test.differences:
                rows.append(
                    {
                        **base,
                        "row": f"{difference.first} - {difference.second}",
                        "estimate": difference.estimate,
                        "lower": difference.lower,
                        "upper": difference.upper,
                        "se": difference.se,
                    }
                )
    for key, note in result.mrmc.analysis_notes.items():
        rows.append({"analysis": key, "note": note})
    return rows


def _standalone_rows(result: DashboardResult) -> list[Row]:
    rows: list[Row] = []
    for arm, standalone in result.mrmc.standalone.items():
        if not isinstance(standalone, StandaloneResult):
            rows.append({"arm": arm, "algorithm": result.mrmc.standalone_rater, "note": standalone})
            continue
        for name, difference in standalone.differences.items():
            rows.append(
                {
                    "arm": arm,
                    "algorithm": result.mrmc.standalone_rater,
                    "analysis": name,
                    "cases": standalone.n_cases,
                    "algorithm_auc": standalone.algorithm,
                    "reader_mean_auc": standalone.reader_mean,
                    "difference_reader_mean_minus_algorithm": difference.estimate,
                    "lower": difference.lower,
                    "upper": difference.upper,
                    "se": difference.se,
                    "df": difference.df,
                    "statistic": difference.statistic,
                    "p": difference.pvalue,
                    "note": "",
                }
            )
    return rows


def _kappa_rows(result: DashboardResult) -> list[Row]:
    return [
        {
            "raters": row.label,
            "kappa": row.kappa.kappa if row.kappa else None,
            "lower": row.kappa.lower if row.kappa else None,
            "upper": row.kappa.upper if row.kappa else None,
            "p": row.kappa.pvalue if row.kappa else None,
            "cases": row.kappa.n_subjects if row.kappa else None,
            "cases_left_out_missing": row.n_excluded,
            "note": row.note,
        }
        for row in result.mrmc.kappa
    ]


def _characteristics_rows(result: DashboardResult) -> list[Row]:
    table = result.characteristics
    if table is None:
        return []
    rows: list[Row] = []
    for feature in table.rows:
        row: Row = {
            "feature": result.characteristics_labels.get(feature.feature, feature.feature),
            "kind": feature.kind,
        }
        for group_name in ("positive", "negative"):
            group = getattr(feature, group_name)
            row.update(
                {
                    f"{group_name}_n": group.n,
                    f"{group_name}_missing": group.n_missing,
                    f"{group_name}_count": group.count,
                    f"{group_name}_percent": group.percent,
                    f"{group_name}_mean": group.mean,
                    f"{group_name}_sd": group.sd,
                    f"{group_name}_median": group.median,
                    f"{group_name}_q1": group.q1,
                    f"{group_name}_q3": group.q3,
                }
            )
        row.update(
            {
                "p_univariable": feature.pvalue_univariable,
                "p_multivariable": feature.pvalue_multivariable,
                "note": feature.note,
            }
        )
        rows.append(row)
    if table.hosmer_lemeshow is not None:
        test = table.hosmer_lemeshow
        rows.append(
            {
                "feature": f"Hosmer–Lemeshow test, {len(test.groups)} groups",
                "kind": "goodness of fit",
                "p_multivariable": test.pvalue,
                "note": (
                    f"chi-square {test.statistic:.3f} on {test.df} df, "
                    f"{table.n_complete} complete cases"
                ),
            }
        )
    return rows


def _roc_rows(result: DashboardResult) -> list[Row]:
    rows: list[Row] = []
    for row in result.per_rater:
        if row.roc is None:
            continue
        for threshold, fpr, tpr in zip(row.roc.thresholds, row.roc.fpr, row.roc.tpr, strict=True):
            rows.append({"rater": row.rater.label, "threshold": threshold, "fpr": fpr, "tpr": tpr})
    return rows


def rater_rows(result: DashboardResult) -> list[Row]:
    return [_rater_row(row, result) for row in result.per_rater]


def all_tables(result: DashboardResult) -> dict[str, list[Row]]:
    """Return every table by name (the keys of ``TABLE_TITLES``); a table may be empty."""
    return {
        "raters": rater_rows(result),
        "comparisons": _comparison_rows(result),
        "subgroups": _subgroup_rows(result),
        "reader_averaged": _reader_averaged_rows(result),
        "mrmc": _mrmc_rows(result),
        "standalone": _standalone_rows(result),
        "kappa": _kappa_rows(result),
        "characteristics": _characteristics_rows(result),
        "roc_points": _roc_rows(result),
    }
