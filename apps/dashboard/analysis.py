"""The dashboard's statistics: every rater, the comparisons, MRMC and Table 1.

All numbers come from :mod:`readerstats`; this module only chooses the cases,
raters and calls to pass in. A statistic that cannot be computed on the current
reads (one class, too few cases, one reader) becomes a sentence in ``note``, so
the page always renders.

Raters:

* ``P1``, ``P2``, ``P3``: the active model version's outputs. Calls are
  ``probability >= threshold`` (0.5 unless the coordinator sets another).
* ``reader:<assignment id>``: one reader in one arm. Calls are the reader's
  positive/negative calls; the AUC uses the confidence score (0–100, 100 sure
  positive), a full ROC curve.
* ``arm:<name>``: an arm's readers, with their reads pooled for the counts and
  proportions, and the reader-averaged AUC of the Obuchowski–Rockette model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.dashboard.data import AI_OUTPUTS, CLINICAL_COLUMNS, StudyData
from readerstats.agreement import KappaEstimate, cohens_kappa, fleiss_kappa
from readerstats.characteristics import CharacteristicsTable, characteristics_table
from readerstats.compare import (
    PairedAUCComparison,
    PairedBinaryComparison,
    SubgroupCalls,
    compare_binary,
    paired_delong,
    subgroup_positive_calls,
)
from readerstats.diagnostic import BinaryMetrics, binary_metrics
from readerstats.errors import ReaderStatsError
from readerstats.mrmc import (
    CovarianceMethod,
    FigureOfMerit,
    ORResult,
    StandaloneResult,
    obuchowski_rockette,
    standalone_vs_readers,
)
from readerstats.roc import (
    AUCEstimate,
    ROCCurve,
    YoudenThreshold,
    auc_delong,
    delong_components,
    roc_curve,
    youden_threshold,
)

DEFAULT_THRESHOLD = 0.5


@dataclass
class Rater:
    """Scores and 0/1 calls of one rater over the cases with truth; NaN where missing."""

    key: str
    label: str
    kind: str
    """``"ai"``, ``"reader"`` or ``"arm"``."""
    scores: np.ndarray
    calls: np.ndarray
    reader: str = ""
    arm: str = ""
    n_reads: int = 0
    """Reads or predictions including cases without truth."""


@dataclass
class RaterResult:
    rater: Rater
    n_cases: int
    n_missing: int
    metrics: BinaryMetrics | None = None
    metrics_note: str = ""
    auc: AUCEstimate | None = None
    auc_point: float | None = None
    auc_note: str = ""
    roc: ROCCurve | None = None
    youden: YoudenThreshold | None = None
    reader_averaged: Any = None
    """For an arm: the RRRC reader-averaged AUC (a ``ModalityEstimate``)."""


@dataclass
class Comparison:
    rater: Rater
    auc: PairedAUCComparison | None = None
    auc_note: str = ""
    binary: PairedBinaryComparison | None = None
    binary_note: str = ""


@dataclass
class Subgroup:
    name: str
    n_cases: int
    n_positive: int
    calls: dict[str, SubgroupCalls]


@dataclass
class KappaRow:
    label: str
    kappa: KappaEstimate | None
    note: str = ""
    n_excluded: int = 0


@dataclass
class MRMCResult:
    note: str = ""
    readers: list[str] = field(default_factory=list)
    arms: list[str] = field(default_factory=list)
    n_cases: int = 0
    n_excluded_incomplete: int = 0
    analyses: dict[str, ORResult] = field(default_factory=dict)
    analysis_notes: dict[str, str] = field(default_factory=dict)
    per_arm: dict[str, ORResult | str] = field(default_factory=dict)
    """Single-arm OR analysis of all the arm's readers, or the reason it was skipped."""
    standalone_rater: str = ""
    standalone: dict[str, StandaloneResult | str] = field(default_factory=dict)
    kappa: list[KappaRow] = field(default_factory=list)


@dataclass
class DashboardResult:
    data: StudyData
    n_with_truth: int
    n_positive: int
    n_negative: int
    threshold: float
    note: str = ""
    """Set when nothing beyond counts can be computed (no truth, one class)."""
    raters: list[Rater] = field(default_factory=list)
    per_rater: list[RaterResult] = field(default_factory=list)
    reference: Rater | None = None
    comparisons: list[Comparison] = field(default_factory=list)
    subgroups: list[Subgroup] = field(default_factory=list)
    mrmc: MRMCResult = field(default_factory=MRMCResult)
    characteristics: CharacteristicsTable | None = None
    characteristics_note: str = ""
    characteristics_labels: dict[str, str] = field(default_factory=dict)

    def rater(self, key: str) -> Rater | None:
        return next((r for r in self.raters if r.key == key), None)


def build_raters(data: StudyData, with_truth: np.ndarray, threshold: float) -> list[Rater]:
    """Return the AI outputs, each reader-arm and each arm, restricted to cases with truth."""
    raters: list[Rater] = []
    for name, values in data.ai.items():
        scores = values[with_truth]
        raters.append(
            Rater(
                key=name,
                label=f"{name} ({AI_OUTPUTS[name]})",
                kind="ai",
                scores=scores,
                calls=np.where(np.isnan(scores), np.nan, (scores >= threshold).astype(float)),
                n_reads=int(np.count_nonzero(~np.isnan(values))),
            )
        )
    several_arms = len({reads.arm for reads in data.readers}) > 1
    for reads in data.readers:
        raters.append(
            Rater(
                key=f"reader:{reads.assignment_id}",
                label=f"{reads.reader} ({reads.arm})" if several_arms else reads.reader,
                kind="reader",
                scores=reads.scores[with_truth],
                calls=reads.calls[with_truth],
                reader=reads.reader,
                arm=reads.arm,
                n_reads=reads.n_reads,
            )
        )
    return raters


def _rater_result(rater: Rater, truth: np.ndarray, alpha: float) -> RaterResult:
    present = ~np.isnan(rater.scores)
    result = RaterResult(rater=rater, n_cases=int(present.sum()), n_missing=int((~present).sum()))
    scores, calls, rater_truth = rater.scores[present], rater.calls[present], truth[present]
    try:
        result.metrics = binary_metrics(calls, rater_truth, alpha=alpha)
    except ReaderStatsError as error:
        result.metrics_note = str(error)
    try:
        result.auc = auc_delong(scores, rater_truth, alpha=alpha)
        result.auc_point = result.auc.auc
    except ReaderStatsError as error:
        result.auc_note = str(error)
        if rater_truth.any() and not rater_truth.all():
            # Both classes are present but too few for a variance: the point estimate still holds.
            result.auc_point = delong_components(scores, rater_truth).auc
    if rater.kind == "ai" and rater_truth.any() and not rater_truth.all():
        result.roc = roc_curve(scores, rater_truth)
        result.youden = youden_threshold(scores, rater_truth)
    elif rater.kind == "reader" and result.auc_point is not None:
        result.roc = roc_curve(scores, rater_truth)
    return result


def _arm_result(arm: str, readers: list[Rater], truth: np.ndarray, alpha: float) -> RaterResult:
    """Pool an arm's reads for counts and proportions; the AUC comes from the MRMC panel."""
    calls = np.concatenate([r.calls for r in readers])
    pooled_truth = np.tile(truth, len(readers))
    present = ~np.isnan(calls)
    rater = Rater(
        key=f"arm:{arm}",
        label=f"{arm}: {len(readers)} readers pooled",
        kind="arm",
        scores=np.full(truth.size, np.nan),
        calls=np.full(truth.size, np.nan),
        arm=arm,
        n_reads=sum(r.n_reads for r in readers),
    )
    result = RaterResult(rater=rater, n_cases=int(present.sum()), n_missing=int((~present).sum()))
    try:
        result.metrics = binary_metrics(calls[present], pooled_truth[present], alpha=alpha)
    except ReaderStatsError as error:
        result.metrics_note = str(error)
    return result


def _comparison(reference: Rater, rater: Rater, truth: np.ndarray, alpha: float) -> Comparison:
    comparison = Comparison(rater=rater)
    try:
        comparison.auc = paired_delong(reference.scores, rater.scores, truth, alpha=alpha)
    except ReaderStatsError as error:
        comparison.auc_note = str(error)
    try:
        comparison.binary = compare_binary(reference.calls, rater.calls, truth, alpha=alpha)
    except ReaderStatsError as error:
        comparison.binary_note = str(error)
    if comparison.binary is not None and comparison.binary.n_excluded_missing >= len(truth):
        # McNemar's p of 1 for zero discordant pairs would read as "no difference" here,
        # though no case had calls from both raters.
        comparison.binary = None
        comparison.binary_note = "No case has calls from both raters, so there is no McNemar test."
    return comparison


def _complete_panel(readers: list[Rater], arms: list[str]) -> tuple[list[str], list[list[Rater]]]:
    """Readers assigned to every arm, and their raters as [arm][reader]."""
    by_arm = {arm: {r.reader: r for r in readers if r.arm == arm} for arm in arms}
    names = [
        name
        for name in dict.fromkeys(r.reader for r in readers)
        if all(name in by_arm[a] for a in arms)
    ]
    return names, [[by_arm[arm][name] for name in names] for arm in arms]


def _mrmc(
    raters: list[Rater], truth: np.ndarray, reference: Rater | None, alpha: float
) -> MRMCResult:
    readers = [r for r in raters if r.kind == "reader"]
    arms = list(dict.fromkeys(r.arm for r in readers))
    result = MRMCResult(arms=arms)

    # Per arm: the reader-averaged AUC of every reader of that arm, on the cases all of them read.
    for arm in arms:
        arm_readers = [r for r in readers if r.arm == arm]
        arm_scores = np.vstack([r.scores for r in arm_readers])
        arm_complete = ~np.isnan(arm_scores).any(axis=0)
        try:
            result.per_arm[arm] = obuchowski_rockette(
                arm_scores[None, :, arm_complete],
                truth[arm_complete],
                modalities=[arm],
                readers=[r.reader for r in arm_readers],
                alpha=alpha,
            )
        except ReaderStatsError as error:
            result.per_arm[arm] = str(error)

    names, panel = _complete_panel(readers, arms)
    result.readers = names
    if len(names) < 2:
        result.note = (
            "An MRMC analysis needs at least 2 readers who read in every arm; "
            f"this study has {len(names)}."
        )
    else:
        scores = np.array([[r.scores for r in arm_panel] for arm_panel in panel])
        calls = np.array([[r.calls for r in arm_panel] for arm_panel in panel])
        complete = ~np.isnan(scores).any(axis=(0, 1))
        result.n_cases = int(complete.sum())
        result.n_excluded_incomplete = int((~complete).sum())
        if len(arms) < 2:
            result.analysis_notes["arms"] = (
                "The study has one arm, so there is no arm-versus-arm test; the reader-averaged "
                "AUC is below."
            )
        else:
            figures: tuple[tuple[FigureOfMerit, np.ndarray], ...] = (
                ("auc", scores),
                ("sensitivity", calls),
                ("specificity", calls),
            )
            methods: tuple[CovarianceMethod, ...] = ("jackknife", "delong")
            for figure, values in figures:
                for method in methods:
                    key = f"{figure}_{method}"
                    try:
                        result.analyses[key] = obuchowski_rockette(
                            values[:, :, complete],
                            truth[complete],
                            modalities=arms,
                            readers=names,
                            figure_of_merit=figure,
                            covariance=method,
                            alpha=alpha,
                        )
                    except ReaderStatsError as error:
                        result.analysis_notes[key] = str(error)

    # The standalone model against each arm's readers, on the cases all of them have a score for.
    algorithm: Rater | None
    if reference is not None and reference.kind == "ai":
        algorithm = reference
    else:
        algorithm = next((r for r in raters if r.key == "P3"), None)
    if algorithm is not None:
        result.standalone_rater = algorithm.label
        for arm in arms:
            panel_raters = [r for r in readers if r.arm == arm]
            matrix = np.vstack([r.scores for r in panel_raters])
            usable = ~np.isnan(matrix).any(axis=0) & ~np.isnan(algorithm.scores)
            try:
                result.standalone[arm] = standalone_vs_readers(
                    algorithm.scores[usable], matrix[:, usable], truth[usable], alpha=alpha
                )
            except ReaderStatsError as error:
                result.standalone[arm] = str(error)

    result.kappa = _kappas(readers, arms, reference, alpha)
    return result


def _kappas(
    readers: list[Rater], arms: list[str], reference: Rater | None, alpha: float
) -> list[KappaRow]:
    rows: list[KappaRow] = []
    pairs = [
        (a, b)
        for arm in arms
        for a, b in itertools.combinations([r for r in readers if r.arm == arm], 2)
    ]
    if reference is not None:
        pairs = [(reference, r) for r in readers if r is not reference] + pairs
    for first, second in pairs:
        both = ~(np.isnan(first.calls) | np.isnan(second.calls))
        label = f"{first.label} | {second.label}"
        try:
            rows.append(
                KappaRow(
                    label,
                    cohens_kappa(first.calls[both], second.calls[both], alpha=alpha),
                    n_excluded=int((~both).sum()),
                )
            )
        except ReaderStatsError as error:
            rows.append(KappaRow(label, None, str(error)))
    for arm in arms:
        panel = [r for r in readers if r.arm == arm]
        if len(panel) < 3:
            continue
        matrix = np.column_stack([r.calls for r in panel])
        complete = ~np.isnan(matrix).any(axis=1)
        label = f"{arm}: {len(panel)} readers (Fleiss)"
        try:
            rows.append(
                KappaRow(
                    label,
                    fleiss_kappa(matrix[complete], alpha=alpha),
                    n_excluded=int((~complete).sum()),
                )
            )
        except ReaderStatsError as error:
            rows.append(KappaRow(label, None, str(error)))
    return rows


def _characteristics(
    data: StudyData, with_truth: np.ndarray, truth: np.ndarray
) -> tuple[CharacteristicsTable | None, str]:
    if data.clinical is None:
        return None, "No case of this study has a clinical record."
    table = data.clinical.loc[with_truth].reset_index(drop=True)
    empty = [column for column in table.columns if table[column].notna().sum() == 0]
    table = table.drop(columns=empty)
    if table.shape[1] == 0:
        return None, "The clinical records of the cases with truth have no values."
    table["truth"] = truth.astype(int)
    try:
        result = characteristics_table(
            table, truth="truth", features=[c for c in table.columns if c != "truth"]
        )
    except ReaderStatsError as error:
        return None, str(error)
    note = ""
    if empty:
        note = (
            "Left out because no case with truth has a value: "
            + ", ".join(CLINICAL_COLUMNS[c] for c in empty)
            + "."
        )
    return result, note


def analyse_study(
    data: StudyData,
    *,
    reference_key: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = 0.05,
) -> DashboardResult:
    """Compute everything the dashboard shows.

    Parameters
    ----------
    data : StudyData
    reference_key : str, optional
        Key of the rater every other rater is compared with; default P3 when the
        study has joint-model predictions, else the first reader. An unknown key
        falls back to the default (the view validates the choice).
    threshold : float
        Probability at or above which an AI output counts as a positive call.
    """
    with_truth = ~np.isnan(data.truth)
    truth = data.truth[with_truth] == 1.0
    n_positive = int(truth.sum())
    result = DashboardResult(
        data=data,
        n_with_truth=int(with_truth.sum()),
        n_positive=n_positive,
        n_negative=int(truth.size - n_positive),
        threshold=threshold,
    )
    result.raters = build_raters(data, with_truth, threshold)
    if result.n_with_truth == 0:
        result.note = "No case of this study has ground truth yet, so no accuracy can be computed."
        result.per_rater = [RaterResult(rater=r, n_cases=0, n_missing=0) for r in result.raters]
        return result

    result.per_rater = [_rater_result(r, truth, alpha) for r in result.raters]
    readers = [r for r in result.raters if r.kind == "reader"]
    for arm in dict.fromkeys(r.arm for r in readers):
        arm_readers = [r for r in readers if r.arm == arm]
        if len(arm_readers) > 1:
            result.per_rater.append(_arm_result(arm, arm_readers, truth, alpha))

    if result.n_positive == 0 or result.n_negative == 0:
        present = "positive" if result.n_positive else "negative"
        result.note = (
            f"Every case with ground truth is {present} ({result.n_with_truth} cases), so only "
            f"{'sensitivity' if result.n_positive else 'specificity'} can be computed: AUC, "
            "comparisons, MRMC and the characteristics table need both classes."
        )
        return result

    result.reference = _choose_reference(result.raters, reference_key)
    if result.reference is not None:
        result.comparisons = [
            _comparison(result.reference, r, truth, alpha)
            for r in result.raters
            if r is not result.reference
        ]

    called = {r.label: r.calls for r in result.raters}
    for name, flag in data.flags.items():
        in_subgroup = flag[with_truth]
        result.subgroups.append(
            Subgroup(
                name=name,
                n_cases=int(in_subgroup.sum()),
                n_positive=int((in_subgroup & truth).sum()),
                calls=subgroup_positive_calls(called, truth, in_subgroup, alpha=alpha),
            )
        )

    if readers:
        result.mrmc = _mrmc(result.raters, truth, result.reference, alpha)
        for row in result.per_rater:
            if row.rater.kind == "arm":
                arm_result = result.mrmc.per_arm.get(row.rater.arm)
                if isinstance(arm_result, ORResult):
                    row.reader_averaged = arm_result.tests["RRRC"].modalities[0]
                else:
                    row.auc_note = arm_result or ""
    else:
        result.mrmc.note = "No reader is assigned to this study yet."

    result.characteristics, result.characteristics_note = _characteristics(data, with_truth, truth)
    result.characteristics_labels = dict(CLINICAL_COLUMNS)
    return result


def default_reference(raters: list[Rater]) -> Rater | None:
    return (
        next((r for r in raters if r.key == "P3"), None)
        or next((r for r in raters if r.kind == "reader"), None)
        or (raters[0] if raters else None)
    )


def _choose_reference(raters: list[Rater], key: str | None) -> Rater | None:
    chosen = next((r for r in raters if r.key == key), None) if key else None
    return chosen or default_reference(raters)
