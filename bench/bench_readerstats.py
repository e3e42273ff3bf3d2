"""Benchmark readerstats: fast DeLong AUC and a full reader-study analysis.

Prints a markdown section with the machine, the command and the timings:

1. AUC with DeLong CI for 100,000 cases by the O(n log n) midrank algorithm,
   and the speed-up over the O(n^2) pairwise kernel on a subsample.
2. The whole analysis (per-rater metrics, comparisons with the AI, MRMC,
   agreement) of 10 readers x 2 arms x 1,000 cases plus an AI reader.

Run from the repository root: ``PYTHONPATH=. python bench/bench_readerstats.py``.
"""

from __future__ import annotations

import os
import platform
import sys

import numpy as np
import pandas as pd

from bench.machine import best_of, cpu_model, visible_cpus
from readerstats.analysis import analyse_reads
from readerstats.reads import reads_from_frame
from readerstats.roc import auc_delong

N_LARGE = 100_000
N_SUBSAMPLE = 5_000
READERS, ARMS, CASES = 10, 2, 1_000
TARGET_SECONDS = 0.5


def quadratic_delong(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong variance from the full m x n kernel matrix (DeLong et al. 1988)."""
    positives, negatives = scores[truth], scores[~truth]
    kernel = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    v10, v01 = kernel.mean(axis=1), kernel.mean(axis=0)
    return float(kernel.mean()), float(v10.var(ddof=1) / v10.size + v01.var(ddof=1) / v01.size)


def machine() -> tuple[str, str]:
    """Return the CPU model name and the number of CPUs visible to this process."""
    return cpu_model(), str(visible_cpus())


def study_reads(rng: np.random.Generator) -> pd.DataFrame:
    """Long reads: 10 readers x 2 arms giving 5-point ratings, plus an AI probability."""
    truth = rng.random(CASES) < 0.45
    difficulty = rng.normal(size=CASES)
    rows = []
    for arm in range(ARMS):
        for reader in range(READERS):
            latent = 1.2 * truth + 0.3 * arm + difficulty + rng.normal(scale=0.8, size=CASES)
            ratings = np.digitize(latent, [-0.5, 0.2, 0.8, 1.5]) + 1
            rows.append(
                pd.DataFrame(
                    {
                        "reader": f"r{reader}",
                        "modality": f"arm{arm}",
                        "case": np.arange(CASES),
                        "truth": truth.astype(int),
                        "score": ratings,
                    }
                )
            )
        ai = 1 / (1 + np.exp(-(1.5 * truth + difficulty + rng.normal(scale=0.7, size=CASES))))
        rows.append(
            pd.DataFrame(
                {
                    "reader": "ai",
                    "modality": f"arm{arm}",
                    "case": np.arange(CASES),
                    "truth": truth.astype(int),
                    "score": ai,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    rng = np.random.default_rng(2020)
    truth = rng.random(N_LARGE) < 0.46
    scores = np.round(rng.normal(size=N_LARGE) + 1.1 * truth, 3)

    fast_large = best_of(lambda: auc_delong(scores, truth), repeats=5)
    sub_scores, sub_truth = scores[:N_SUBSAMPLE], truth[:N_SUBSAMPLE]
    fast_small = best_of(lambda: auc_delong(sub_scores, sub_truth), repeats=5)
    slow_small = best_of(lambda: quadratic_delong(sub_scores, sub_truth), repeats=3)
    quadratic_auc, quadratic_variance = quadratic_delong(sub_scores, sub_truth)
    fast = auc_delong(sub_scores, sub_truth)
    agreement = max(abs(fast.auc - quadratic_auc), abs(fast.variance - quadratic_variance))
    # The kernel grows with n^2, so the full-size O(n^2) time is extrapolated, not run.
    slow_large_estimate = slow_small * (N_LARGE / N_SUBSAMPLE) ** 2
    large = auc_delong(scores, truth)

    frame = study_reads(rng)
    reads = reads_from_frame(frame.astype(str))
    # Ratings >= 3 and AI probabilities >= 0.5 count as positive calls.
    thresholds = {"*": 3.0, "ai@arm0": 0.5, "ai@arm1": 0.5}
    analysis_time = best_of(
        lambda: analyse_reads(reads, reference="ai", thresholds=thresholds), repeats=3
    )
    validation_time = best_of(lambda: reads_from_frame(frame.astype(str)), repeats=3)
    results = analyse_reads(reads, reference="ai", thresholds=thresholds)
    rrrc = results["mrmc"]["analyses"]["auc_jackknife"]["tests"]["RRRC"]

    model, cores = machine()
    print("## readerstats benchmark\n")
    print(
        f"- Machine: {model}, {cores} CPUs visible; Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}"
    )
    print(
        f"- Command: `{' '.join([os.path.basename(sys.executable), *sys.argv])}` "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})"
    )
    print("- Timings are the best of 3–5 runs of wall time.\n")
    print("### AUC with DeLong CI\n")
    print("| cases | method | time |")
    print("|---|---|---|")
    print(f"| {N_LARGE:,} | midrank (Sun & Xu), `auc_delong` | {fast_large * 1e3:.1f} ms |")
    print(f"| {N_SUBSAMPLE:,} | midrank, `auc_delong` | {fast_small * 1e3:.2f} ms |")
    print(f"| {N_SUBSAMPLE:,} | O(n^2) kernel matrix | {slow_small * 1e3:.1f} ms |")
    print(
        f"| {N_LARGE:,} | O(n^2) kernel, extrapolated x(n ratio)^2 | ~{slow_large_estimate:.0f} s (estimate) |\n"
    )
    print(
        f"- Speed-up on {N_SUBSAMPLE:,} cases: {slow_small / fast_small:.0f}x; at {N_LARGE:,} cases "
        f"about {slow_large_estimate / fast_large:,.0f}x (estimate from the extrapolation)."
    )
    print(
        f"- Largest difference between the two methods on the subsample (AUC, variance): {agreement:.1e}."
    )
    print(f"- AUC at {N_LARGE:,} cases: {large.auc:.4f} ({large.lower:.4f}–{large.upper:.4f}).\n")
    print(
        f"### Whole analysis: {READERS} readers x {ARMS} arms x {CASES:,} cases, plus an AI reader\n"
    )
    print(
        '`analyse_reads(reads, reference="ai", thresholds=...)`: per-rater metrics with intervals, ROC points and '
        "Youden cut-offs for 22 raters; DeLong and McNemar comparisons of 21 raters with the AI; "
        "OR MRMC for AUC, sensitivity and specificity with jackknife and DeLong covariances; "
        "standalone AI vs readers; Cohen's kappa for every pair and Fleiss' kappa.\n"
    )
    print("| step | time | target |")
    print("|---|---|---|")
    print(f"| validate the reads table (`reads_from_frame`) | {validation_time:.3f} s | |")
    status = "met" if analysis_time <= TARGET_SECONDS else "missed"
    print(
        f"| analysis (`analyse_reads`) | {analysis_time:.3f} s | <= {TARGET_SECONDS} s ({status}) |\n"
    )
    print(
        f"- MRMC AUC RRRC (jackknife): F = {rrrc['statistic']:.2f}, "
        f"df (1, {rrrc['df_denominator']:.1f}), p = {rrrc['pvalue']:.2g}; "
        f"{len(results['mrmc']['analyses'])} OR analyses in all."
    )


if __name__ == "__main__":
    main()
