"""Flat CSV tables derived from the JSON result tree of :func:`analyse_reads`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_tables"]


def _proportion_columns(prefix: str, estimate: dict[str, Any] | None) -> dict[str, Any]:
    if estimate is None:
        return {prefix: None, f"{prefix}_lower": None, f"{prefix}_upper": None, f"{prefix}_n": None}
    return {
        prefix: estimate["estimate"],
        f"{prefix}_lower": estimate["lower"],
        f"{prefix}_upper": estimate["upper"],
        f"{prefix}_n": f"{estimate['successes']}/{estimate['total']}",
    }


def _binary_columns(metrics: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"threshold": metrics["threshold"], **metrics["counts"]}
    for name in ("sensitivity", "specificity", "accuracy", "ppv", "npv"):
        row.update(_proportion_columns(name, metrics[name]))
    return row


def _per_rater_rows(results: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, points = [], []
    for rater, entry in results["per_rater"].items():
        row: dict[str, Any] = {
            "rater": rater,
            "kind": entry.get("kind"),
            "n_cases": entry["n_cases"],
            "n_missing": entry["n_missing"],
            "skipped": entry.get("skipped"),
        }
        metrics = entry.get("metrics")
        if metrics is not None and entry["kind"] == "binary":
            auc = metrics["auc"] or {}
            row.update({"operating_point": "binary call", **_binary_columns(metrics)})
        elif metrics is not None:
            auc = metrics["auc"]
            chosen = metrics["at_threshold"] or metrics["at_youden"]
            row.update(
                {
                    "operating_point": "given threshold" if metrics["at_threshold"] else "Youden",
                    **_binary_columns(chosen),
                }
            )
            roc = metrics["roc"]
            for threshold, fpr, tpr in zip(roc["thresholds"], roc["fpr"], roc["tpr"], strict=True):
                points.append({"rater": rater, "threshold": threshold, "fpr": fpr, "tpr": tpr})
        else:
            auc = {}
        row.update(
            {
                "auc": auc.get("auc"),
                "auc_lower": auc.get("lower"),
                "auc_upper": auc.get("upper"),
                "auc_se": auc.get("se"),
                "perfect_separation": auc.get("perfect_separation"),
            }
        )
        rows.append(row)
    return rows, points


def _comparison_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    comparisons = results.get("comparisons")
    if not comparisons:
        return []
    rows = []
    for rater, entry in comparisons["versus"].items():
        auc = entry["auc"]
        row: dict[str, Any] = {"reference": comparisons["reference"], "rater": rater}
        if "skipped" in auc:
            row["auc_skipped"] = auc["skipped"]
        else:
            row.update(
                {
                    "auc_reference": auc["auc_first"],
                    "auc_rater": auc["auc_second"],
                    "auc_difference": auc["difference"],
                    "auc_difference_lower": auc["lower"],
                    "auc_difference_upper": auc["upper"],
                    "delong_z": auc["z"],
                    "delong_p": auc["pvalue"],
                    "auc_n_excluded_missing": auc["n_excluded_missing"],
                }
            )
        binary = entry.get("binary")
        if binary:
            for name in ("sensitivity", "specificity"):
                test = binary[name]
                row.update(
                    {
                        f"{name}_mcnemar_p": test["pvalue"],
                        f"{name}_both_right": test["table"]["both_right"],
                        f"{name}_reference_right_only": test["table"]["first_right_only"],
                        f"{name}_rater_right_only": test["table"]["second_right_only"],
                        f"{name}_both_wrong": test["table"]["both_wrong"],
                    }
                )
            row["binary_n_excluded_missing"] = binary["n_excluded_missing"]
        rows.append(row)
    return rows


def _mrmc_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    mrmc = results.get("mrmc") or {}
    rows = []
    for key, analysis in (mrmc.get("analyses") or {}).items():
        if "skipped" in analysis:
            rows.append({"analysis": key, "skipped": analysis["skipped"]})
            continue
        for name, test in analysis["tests"].items():
            base = {
                "analysis": key,
                "test": name,
                "statistic": test["statistic"],
                "df_numerator": test["df_numerator"],
                "df_denominator": test["df_denominator"],
                "p": test["pvalue"],
            }
            for modality in test["modalities"]:
                rows.append(
                    {
                        **base,
                        "row": f"modality {modality['modality']}",
                        "estimate": modality["estimate"],
                        "lower": modality["lower"],
                        "upper": modality["upper"],
                        "se": modality["se"],
                    }
                )
            for difference in test["differences"]:
                rows.append(
                    {
                        **base,
                        "row": f"{difference['first']} - {difference['second']}",
                        "estimate": difference["estimate"],
                        "lower": difference["lower"],
                        "upper": difference["upper"],
                        "se": difference["se"],
                    }
                )
    for modality, standalone in (mrmc.get("standalone_vs_readers") or {}).items():
        if "skipped" in standalone:
            rows.append({"analysis": f"standalone {modality}", "skipped": standalone["skipped"]})
            continue
        for name, difference in standalone["differences"].items():
            rows.append(
                {
                    "analysis": f"standalone_auc_jackknife modality {modality}",
                    "test": name,
                    "row": "reader mean - algorithm",
                    "estimate": difference["estimate"],
                    "lower": difference["lower"],
                    "upper": difference["upper"],
                    "se": difference["se"],
                    "df_denominator": difference["df"],
                    "statistic": difference["statistic"],
                    "p": difference["pvalue"],
                }
            )
    return rows


def write_tables(results: dict[str, Any], directory: Path) -> list[Path]:
    """Write the CSV tables for a result tree; return the paths written.

    Tables: per_rater.csv, roc_points.csv, comparisons.csv, subgroups.csv,
    mrmc.csv, agreement.csv and characteristics.csv, each only when the
    analysis produced rows for it.
    """
    per_rater, points = _per_rater_rows(results)
    tables: dict[str, list[dict[str, Any]]] = {
        "per_rater": per_rater,
        "roc_points": points,
        "comparisons": _comparison_rows(results),
        "mrmc": _mrmc_rows(results),
        "subgroups": [
            {
                "subgroup": name,
                "rater": rater,
                "n_excluded_missing": calls["n_excluded_missing"],
                **_proportion_columns("called_positive", calls["called_positive"]),
            }
            for name, subgroup in results.get("subgroups", {}).items()
            for rater, calls in subgroup["positive_calls"].items()
        ],
        "agreement": [
            {
                "raters": pair,
                **(
                    {"skipped": kappa["skipped"]}
                    if "skipped" in kappa
                    else {
                        key: kappa[key]
                        for key in ("kappa", "lower", "upper", "pvalue", "n_subjects")
                    }
                ),
            }
            for pair, kappa in results.get("agreement", {}).get("cohen", {}).items()
        ],
        "characteristics": [
            {
                "feature": row["feature"],
                "kind": row["kind"],
                **{f"positive_{k}": v for k, v in row["positive"].items()},
                **{f"negative_{k}": v for k, v in row["negative"].items()},
                "p_univariable": row["pvalue_univariable"],
                "p_multivariable": row["pvalue_multivariable"],
                "note": row["note"],
            }
            for row in (results.get("characteristics") or {}).get("rows", [])
        ],
    }
    fleiss = results.get("agreement", {}).get("fleiss")
    if fleiss and "kappa" in fleiss:
        kappa = fleiss["kappa"]
        tables["agreement"].append(
            {
                "raters": " | ".join(fleiss["raters"]) + " (Fleiss)",
                **{key: kappa[key] for key in ("kappa", "lower", "upper", "pvalue", "n_subjects")},
            }
        )

    written = []
    for name, rows in tables.items():
        if rows:
            path = directory / f"{name}.csv"
            pd.DataFrame.from_records(rows).to_csv(path, index=False)
            written.append(path)
    return written
