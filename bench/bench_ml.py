"""Time each inference stage on the 148-slice P001 series and compare with a FLOP bound.

Usage::

    python bench/bench_ml.py [--package fixtures/model] [--threads 2] [--repeats 3]

Prints a markdown report: machine, command, the median seconds per stage over the
repeats, and for the network stages the ratio of measured time to the FLOP bound. The bound
is the networks' FLOPs (counted by ``torch.utils.flop_counter``) divided by the rate of a
2048 x 2048 float32 matrix product measured in the same run with the same threads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.machine import cpu_model
from ml import load_package, predict_case
from ml.dicom import read_series
from ml.preprocessing import segment_volume
from ml.scoring import to_model_input

CLINICAL = {
    "age": 39, "sex": "M", "exposure": True, "fever": True, "cough": True, "sputum": False,
    "temperature": 37.8, "wbc": 5.1, "neutrophils": 3.2, "lymphocytes": 1.3,
    "neutrophil_pct": 62.0, "lymphocyte_pct": 27.0,
}
NETWORK_STAGES = ("slice_selection", "ct_model", "joint_model")


def matmul_rate(size: int = 2048, repeats: int = 5) -> float:
    """Return the best observed float32 matrix-product rate in FLOP/s."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(repeats))
    return 2.0 * size**3 / best





def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def count_flops(package, segmented, selected: list[int]) -> dict[str, int]:
    """Count the FLOPs of each network stage on this case's inputs."""
    config = package.config
    kept = segmented.kept_indices
    scorer_input = to_model_input(segmented.lung_segmented(kept), config.scorer_image_size)
    images = to_model_input(segmented.lung_segmented(selected), config.image_size)
    clinical = torch.zeros(len(selected), config.n_clinical)
    flops = {}
    with torch.inference_mode():
        for stage, run in (
            ("slice_selection", lambda: package.scorer.network(scorer_input)),
            ("ct_model", lambda: package.ct_model(images)),
            ("joint_model", lambda: package.joint_model(images, clinical)),
        ):
            counter = FlopCounterMode(display=False)
            with counter:
                run()
            flops[stage] = counter.get_total_flops()
    return flops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", type=Path, default=ROOT / "fixtures" / "model")
    parser.add_argument("--series", type=Path, default=ROOT / "fixtures" / "dicom" / "P001")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per stage")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    read_seconds = _timed(lambda: read_series(args.series))
    series = read_series(args.series)
    package = load_package(args.package)
    predict_case(series.volume_hu, series.spacing, CLINICAL, package)  # warm-up

    runs = []
    totals = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        prediction = predict_case(series.volume_hu, series.spacing, CLINICAL, package)
        totals.append(time.perf_counter() - start)
        runs.append(prediction.timings)
    median = {stage: statistics.median(run[stage] for run in runs) for stage in runs[0]}
    rate = matmul_rate()
    flops = count_flops(package, segment_volume(series.volume_hu), prediction.selected_slices)

    command = "python bench/bench_ml.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "## ML inference benchmark",
        "",
        (
            f"- Machine: {cpu_model()}, {os.cpu_count()} CPU "
            f"cores visible, torch {torch.__version__}, {args.threads} threads"
        ),
        f"- Command: `{command.strip()}`",
        f"- Load average before the run: {os.getloadavg()[0]:.2f} (1 min)",
        (
            f"- Case: {args.series.name}, {series.volume_hu.shape[0]} slices of "
            f"{series.volume_hu.shape[1]} x {series.volume_hu.shape[2]}; "
            f"model input {package.config.image_size} px, {len(prediction.selected_slices)} "
            f"selected of {len(prediction.slice_scores)} kept slices"
        ),
        f"- Reading the DICOM series (not part of `predict_case`): {read_seconds:.2f} s",
        f"- Matrix-product rate (2048 x 2048 float32): {rate / 1e9:.1f} GFLOP/s",
        "",
        "| stage | median s | GFLOP | FLOP bound s | measured / bound |",
        "|---|---|---|---|---|",
    ]
    for stage, seconds in median.items():
        if stage in NETWORK_STAGES:
            bound = flops[stage] / rate
            lines.append(f"| {stage} | {seconds:.3f} | {flops[stage] / 1e9:.2f} | {bound:.3f} | "
                         f"{seconds / bound:.1f} |")
        else:
            lines.append(f"| {stage} | {seconds:.3f} | – | – | – |")
    network_seconds = sum(median[s] for s in NETWORK_STAGES)
    network_bound = sum(flops.values()) / rate
    lines += [
        (
            f"| networks together | {network_seconds:.3f} | {sum(flops.values()) / 1e9:.2f} | "
            f"{network_bound:.3f} | {network_seconds / network_bound:.1f} |"
        ),
        f"| **whole case** (median of {args.repeats}) | {statistics.median(totals):.3f} | | | |",
        "",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
