"""The whole analysis of a reader study, from validated reads to one result tree.

:func:`analyse_reads` runs every statistic that applies to the data: per-rater
accuracy, paired comparisons with a reference rater, subgroups, MRMC analyses,
agreement and the characteristics table. A statistic that cannot be computed
for a subset (one class, too few cases) is recorded with the reason instead of
stopping the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from readerstats.agreement import cohens_kappa, fleiss_kappa
from readerstats.characteristics import characteristics_table
from readerstats.compare import compare_binary, paired_delong, subgroup_positive_calls
from readerstats.diagnostic import binary_metrics, continuous_metrics
from readerstats.errors import InputValidationError, ReaderStatsError
from readerstats.mrmc import obuchowski_rockette, standalone_vs_readers
from readerstats.reads import Reads
from readerstats.report import to_jsonable

__all__ = ["SCHEMA_VERSION", "analyse_reads"]

SCHEMA_VERSION = "1"


def _is_binary(values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    return bool(present.size) and bool(np.isin(present, (0.0, 1.0)).all())


def _skipped(error: ReaderStatsError) -> dict[str, str]:
    return {"skipped": str(error)}


def _rater_calls(
    scores: pd.DataFrame, truth: np.ndarray, thresholds: Mapping[str, float]
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Return 0/1 calls per rater (NaN where missing) and how each call was made."""
    calls: dict[str, np.ndarray] = {}
    how: dict[str, dict[str, Any]] = {}
    for rater in scores.columns:
        values = scores[rater].to_numpy(dtype=float)
        if _is_binary(values):
            calls[rater] = values
            how[rater] = {"source": "binary call", "threshold": None}
            continue
        present = ~np.isnan(values)
        if rater in thresholds:
            threshold = thresholds[rater]
            source = "given threshold"
        else:
            try:
                threshold = continuous_metrics(values[present], truth[present]).youden.threshold
            except ReaderStatsError:
                continue
            source = "Youden threshold"
        rater_calls = np.where(present, (values >= threshold).astype(float), np.nan)
        calls[rater] = rater_calls
        how[rater] = {"source": source, "threshold": threshold}
    return calls, how


def _per_rater(
    scores: pd.DataFrame, truth: np.ndarray, thresholds: Mapping[str, float], alpha: float
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for rater in scores.columns:
        values = scores[rater].to_numpy(dtype=float)
        present = ~np.isnan(values)
        entry: dict[str, Any] = {
            "n_cases": int(present.sum()),
            "n_missing": int((~present).sum()),
        }
        try:
            if _is_binary(values):
                entry["kind"] = "binary"
                entry["metrics"] = binary_metrics(values[present], truth[present], alpha=alpha)
            else:
                entry["kind"] = "continuous"
                entry["metrics"] = continuous_metrics(
                    values[present], truth[present], threshold=thresholds.get(rater), alpha=alpha
                )
        except ReaderStatsError as error:
            entry.update(_skipped(error))
        results[rater] = entry
    return results


def _comparisons(
    scores: pd.DataFrame,
    calls: Mapping[str, np.ndarray],
    truth: np.ndarray,
    reference: str,
    alpha: float,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for rater in scores.columns:
        if rater == reference:
            continue
        entry: dict[str, Any] = {}
        try:
            entry["auc"] = paired_delong(
                scores[reference].to_numpy(dtype=float),
                scores[rater].to_numpy(dtype=float),
                truth,
                alpha=alpha,
            )
        except ReaderStatsError as error:
            entry["auc"] = _skipped(error)
        if reference in calls and rater in calls:
            entry["binary"] = compare_binary(calls[reference], calls[rater], truth, alpha=alpha)
        results[rater] = entry
    return results


def _mrmc(
    reads: Reads,
    truth: np.ndarray,
    thresholds: Mapping[str, float],
    reference: str | None,
    alpha: float,
) -> dict[str, Any]:
    """Obuchowski–Rockette analyses of the readers who read every modality."""
    table = reads.reads
    if reference is not None:
        table = table[table["reader"] != reference]
    modalities = list(dict.fromkeys(table["modality"]))
    readers = list(dict.fromkeys(table["reader"]))
    if len(readers) < 2:
        return {
            "skipped": f"MRMC analysis needs at least 2 readers besides the reference, got {len(readers)}."
        }

    cube = table.pivot_table(
        index=["modality", "reader"], columns="case", values="score", aggfunc="first", dropna=False
    )
    cube = cube.reindex(
        index=pd.MultiIndex.from_product([modalities, readers], names=["modality", "reader"]),
        columns=reads.cases.index,
    )
    complete = cube.notna().all(axis=0).to_numpy()
    scores = cube.to_numpy(dtype=float)[:, complete].reshape(len(modalities), len(readers), -1)
    case_truth = truth[complete]
    result: dict[str, Any] = {
        "readers": readers,
        "modalities": modalities,
        "n_excluded_incomplete": int((~complete).sum()),
        "analyses": {},
    }

    binary = bool(np.isin(scores, (0.0, 1.0)).all())
    common_threshold = thresholds.get("*")
    for figure in ("auc", "sensitivity", "specificity"):
        if figure != "auc" and not binary and common_threshold is None:
            continue
        for method in ("jackknife", "delong"):
            key = f"{figure}_{method}"
            try:
                result["analyses"][key] = obuchowski_rockette(
                    scores,
                    case_truth,
                    modalities=modalities,
                    readers=readers,
                    figure_of_merit=figure,
                    covariance=method,
                    threshold=None if binary else common_threshold,
                    alpha=alpha,
                )
            except ReaderStatsError as error:
                result["analyses"][key] = _skipped(error)

    if reference is not None:
        standalone: dict[str, Any] = {}
        algorithm_reads = reads.reads[reads.reads["reader"] == reference]
        for index, modality in enumerate(modalities):
            # The algorithm's reads in this modality, or its only reads when it has one modality.
            in_modality = algorithm_reads[algorithm_reads["modality"] == modality]
            if in_modality.empty:
                in_modality = algorithm_reads[
                    algorithm_reads["modality"] == algorithm_reads["modality"].iloc[0]
                ]
            algorithm = (
                in_modality.set_index("case")["score"]
                .reindex(reads.cases.index)
                .to_numpy(dtype=float)
            )
            usable = complete & ~np.isnan(algorithm)
            block = slice(index * len(readers), (index + 1) * len(readers))
            panel = cube.to_numpy(dtype=float)[block][:, usable]
            try:
                standalone[modality] = standalone_vs_readers(
                    algorithm[usable], panel, truth[usable], covariance="jackknife", alpha=alpha
                )
            except ReaderStatsError as error:
                standalone[modality] = _skipped(error)
        result["standalone_vs_readers"] = standalone
    return result


def _agreement(calls: Mapping[str, np.ndarray], alpha: float) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for first, second in itertools.combinations(calls, 2):
        both = ~(np.isnan(calls[first]) | np.isnan(calls[second]))
        try:
            pairs[f"{first} | {second}"] = cohens_kappa(
                calls[first][both], calls[second][both], alpha=alpha
            )
        except ReaderStatsError as error:
            pairs[f"{first} | {second}"] = _skipped(error)
    result: dict[str, Any] = {"cohen": pairs}
    if len(calls) >= 3:
        matrix = np.column_stack(list(calls.values()))
        complete = ~np.isnan(matrix).any(axis=1)
        try:
            result["fleiss"] = {
                "raters": list(calls),
                "n_excluded_incomplete": int((~complete).sum()),
                "kappa": fleiss_kappa(matrix[complete], alpha=alpha),
            }
        except ReaderStatsError as error:
            result["fleiss"] = _skipped(error)
    return result


def analyse_reads(
    reads: Reads,
    *,
    reference: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    subgroups: Sequence[str] = (),
    features: Sequence[str] = (),
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Run every applicable statistic on validated reads.

    Parameters
    ----------
    reads : Reads
        From :func:`readerstats.reads.load_reads`.
    reference : str, optional
        Rater (wide layout) or reader (long layout) that every other rater is
        compared with, usually the AI model. In the long layout it is also
        analysed as a standalone algorithm against the other readers.
    thresholds : mapping of str to float, optional
        Cut-offs for continuous raters, by rater label; the key ``"*"`` applies
        to raters without their own. Without one, a continuous rater's calls
        for McNemar, subgroups and kappa use its Youden-optimal cut-off.
    subgroups : sequence of str
        Per-case 0/1 columns; each gives a subgroup analysis of its positive cases.
    features : sequence of str
        Per-case numeric columns for the characteristics table.
    alpha : float, default 0.05

    Returns
    -------
    dict
        JSON-compatible; docs/readerstats-json-schema.md describes every key.

    Raises
    ------
    InputValidationError
        If the reference rater, a subgroup or a feature column is unknown or a
        subgroup flag is not 0/1.
    """
    thresholds = dict(thresholds or {})
    scores = reads.score_table()
    truth = reads.cases["truth"].to_numpy(dtype=bool)
    rater_labels = list(scores.columns)
    if reference is not None:
        matches = [r for r in rater_labels if r == reference or r.split("@")[0] == reference]
        if not matches:
            raise InputValidationError(
                f"Reference rater {reference!r} not found; the raters are {rater_labels}."
            )
    unknown = [name for name in thresholds if name != "*" and name not in rater_labels]
    if unknown:
        raise InputValidationError(
            f"Threshold given for unknown rater(s) {unknown}; the raters are {rater_labels}."
        )
    if "*" in thresholds:
        for rater in rater_labels:
            thresholds.setdefault(rater, thresholds["*"])

    calls, call_rules = _rater_calls(scores, truth, thresholds)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "alpha": alpha,
        "layout": reads.layout,
        "n_cases": int(truth.size),
        "n_positive": int(truth.sum()),
        "n_negative": int((~truth).sum()),
        "raters": rater_labels,
        "reference": reference,
        "calls": call_rules,
        "per_rater": _per_rater(scores, truth, thresholds, alpha),
    }

    if reference is not None:
        for modality_rater in [
            r for r in rater_labels if r == reference or r.split("@")[0] == reference
        ][:1]:
            result["comparisons"] = {
                "reference": modality_rater,
                "versus": _comparisons(scores, calls, truth, modality_rater, alpha),
            }

    result["subgroups"] = {}
    for column in subgroups:
        flag = pd.to_numeric(reads.cases[column], errors="coerce")
        invalid = ~flag.isin((0.0, 1.0))
        if invalid.any():
            case = flag.index[invalid.to_numpy()][0]
            raise InputValidationError(
                f"Subgroup column {column!r} must be 0 or 1, but case {case!r} has "
                f"{reads.cases[column].loc[case]!r}."
            )
        result["subgroups"][column] = {
            "n_cases": int(flag.sum()),
            "n_positive": int(((flag.to_numpy() == 1.0) & truth).sum()),
            "positive_calls": subgroup_positive_calls(calls, truth, flag.to_numpy(), alpha=alpha),
        }

    if reads.layout == "long":
        result["mrmc"] = _mrmc(reads, truth, thresholds, reference, alpha)
    result["agreement"] = _agreement(calls, alpha)

    if features:
        table = pd.DataFrame(index=reads.cases.index)
        for column in features:
            raw = reads.cases[column]
            table[column] = pd.to_numeric(raw, errors="coerce")
            invalid = table[column].isna() & raw.notna()
            if invalid.any():
                case = raw.index[invalid.to_numpy()][0]
                raise InputValidationError(
                    f"Feature column {column!r} must be numeric, but case {case!r} has "
                    f"{raw.loc[case]!r}. Leave the cell empty when the value is missing."
                )
        table["truth"] = truth.astype(int)
        try:
            characteristics = characteristics_table(table, truth="truth", features=list(features))
            result["characteristics"] = {
                "n_positive": characteristics.n_positive,
                "n_negative": characteristics.n_negative,
                "n_complete": characteristics.n_complete,
                "rows": characteristics.rows,
                "hosmer_lemeshow": characteristics.hosmer_lemeshow,
            }
        except ReaderStatsError as error:
            result["characteristics"] = _skipped(error)
    return to_jsonable(result)
