"""Benchmark the prediction task: cases per minute for 20 cases with 1 and with 2 workers.

The two demo series are imported once. Each is then registered nine more times as a new
case and series that points at the same stored slices, so the batch contains 20 cases, 10
of each real volume. Every worker is a separate ``celery worker --concurrency=1`` process
with one PyTorch thread, on kombu's filesystem broker and SQLite in a temporary folder.
The clock runs from queueing the 20 predictions until the last one is done, so it
includes loading the model once in each worker process.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/bench_inference.py [--package fixtures/model] [--output FILE.md]

Without ``--package``, fixtures/model is used. The markdown section goes to stdout and to
``--output``. The run takes about 5 to 10 minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.machine import cpu_model, visible_cpus

REPO = Path(__file__).resolve().parent.parent
CASES_PER_SERIES = 10
WORKER_COUNTS = (1, 2)
TIMEOUT_SECONDS = 3600


def machine() -> str:
    """Return the CPU model, the number of CPUs visible to this process and the Python version."""
    return f"{cpu_model()}, {visible_cpus()} CPUs visible, Python {platform.python_version()}"


def setup_django(var_dir: Path) -> None:
    os.environ["READERSTUDY_VAR_DIR"] = str(var_dir)
    os.environ["READERSTUDY_MEDIA_ROOT"] = str(var_dir / "media")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def import_batch() -> list[int]:
    """Import the two demo series and clone each into 10 cases; return the case keys."""
    from apps.cases.models import Case
    from apps.imaging.importer import import_source
    from apps.imaging.models import Instance, Series

    fixtures = REPO / "fixtures" / "dicom"
    case_ids = []
    for folder in ("P001", "normal001"):
        report = import_source(source=fixtures / folder)
        original = Case.objects.get(public_id=report["cases"][0]["public_id"])
        series = Series.objects.get(case=original)
        instances = list(Instance.objects.filter(series=series))
        case_ids.append(original.pk)
        for _ in range(CASES_PER_SERIES - 1):
            clone = Case.objects.create(patient_key=original.patient_key)
            series_clone = Series.objects.get(pk=series.pk)
            series_clone.pk = None
            series_clone.case = clone
            series_clone.series_key = uuid.uuid4().hex
            series_clone.series_instance_uid = f"2.25.{uuid.uuid4().int}"
            series_clone.save()
            Instance.objects.bulk_create(
                Instance(series=series_clone, index=item.index, sop_instance_uid=f"2.25.{uuid.uuid4().int}",
                         position=item.position, file=item.file.name)
                for item in instances
            )
            case_ids.append(clone.pk)
    return case_ids


def start_workers(count: int, log_dir: Path) -> list[subprocess.Popen]:
    env = dict(os.environ, READERSTUDY_TORCH_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    workers = []
    for number in range(count):
        with open(log_dir / f"worker-{count}-{number}.log", "w") as log:
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
                 "-n", f"bench{number}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
    # Wait until each worker consumes, so that start-up is not counted.
    deadline = time.monotonic() + 120
    for number in range(count):
        log_path = log_dir / f"worker-{count}-{number}.log"
        while "ready." not in log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {number} did not start; see {log_path}")
            time.sleep(0.5)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        process.terminate()
    for process in workers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def run_batch(case_ids: list[int], version, worker_count: int, log_dir: Path) -> dict:
    from apps.inference.models import Prediction
    from apps.inference.services import queue_predictions_for_cases

    Prediction.objects.all().delete()
    workers = start_workers(worker_count, log_dir)
    try:
        start = time.perf_counter()
        queue_predictions_for_cases(case_ids, model_version=version)
        pending = Prediction.objects.exclude(status__in=["done", "failed"])
        while pending.exists():
            if time.perf_counter() - start > TIMEOUT_SECONDS:
                raise RuntimeError(f"{pending.count()} predictions unfinished after {TIMEOUT_SECONDS} s")
            time.sleep(0.5)
        elapsed = time.perf_counter() - start
        load = os.getloadavg()[0]
    finally:
        stop_workers(workers)

    predictions = list(Prediction.objects.all())
    failed = [p for p in predictions if p.status != "done"]
    if failed:
        raise RuntimeError(f"{len(failed)} predictions failed, e.g. {failed[0].error}")
    stage_means = {}
    for stage in ("preprocessing", "slice_selection", "ct_model", "joint_model", "model_loading"):
        stage_means[stage] = sum(p.timings.get(stage, 0.0) for p in predictions) / len(predictions)
    return {
        "workers": worker_count,
        "cases": len(predictions),
        "seconds": elapsed,
        "cases_per_minute": 60 * len(predictions) / elapsed,
        "load": load,
        "stages": stage_means,
    }


def render(results: list[dict], *, package: Path, config: dict, command: str) -> str:
    lines = [
        "## Inference: cases per minute",
        "",
        f"Machine: {machine()}.",
        "",
        f"Command: `{command}`",
        "",
        (
            f"Model package: `{package}` (image size {config.get('image_size')} px, "
            f"{config.get('slices_per_case')} slices per case). Batch: {CASES_PER_SERIES} copies "
            "each of the two demo series (148 and 154 slices of 512 x 512), 20 cases. Each worker "
            "is one `celery worker --concurrency=1` process with one PyTorch thread, on the "
            "filesystem broker and SQLite. The time runs from queueing to the last prediction "
            "stored, model loading included."
        ),
        "",
        "| workers | cases | seconds | cases per minute | load average at the end |",
        "|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result['workers']} | {result['cases']} | {result['seconds']:.1f} "
            f"| {result['cases_per_minute']:.2f} | {result['load']:.1f} |"
        )
    lines += ["", "Mean seconds per case by stage (from the prediction rows):", "",
              "| workers | " + " | ".join(results[0]["stages"]) + " |",
              "|---:|" + "---:|" * len(results[0]["stages"])]
    for result in results:
        lines.append(f"| {result['workers']} | " + " | ".join(f"{v:.2f}" for v in result["stages"].values()) + " |")
    lines += [
        "",
        (
            "Preprocessing (lung segmentation of every slice) takes most of the time. A second "
            "worker helps only as far as a second core is free. The load average (one minute, "
            "all processes on the machine) shows how busy the CPUs were. Above the CPU count, "
            "other jobs competed with the workers, and the numbers understate throughput."
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, default=REPO / "fixtures" / "model",
                        help="Model package folder (default fixtures/model).")
    parser.add_argument("--output", type=Path, default=None,
                        help="Also write the markdown section to this file (make bench collects stdout).")
    args = parser.parse_args()
    if not (args.package / "manifest.json").is_file():
        parser.error(f"{args.package} has no manifest.json; pass --package with a model package folder.")

    var_dir = Path(tempfile.mkdtemp(prefix="bench-inference-"))
    try:
        setup_django(var_dir)
        from apps.inference.services import register_model_version

        version, _ = register_model_version(args.package, activate=True)
        case_ids = import_batch()
        results = []
        for count in WORKER_COUNTS:
            result = run_batch(case_ids, version, count, var_dir)
            # Progress goes to stderr, because bench/run_all.py keeps stdout as the markdown section.
            print(f"{count} worker(s): {result['cases']} cases in {result['seconds']:.1f} s, "
                  f"{result['cases_per_minute']:.2f} cases/min", file=sys.stderr, flush=True)
            results.append(result)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)

    command = "PYTHONPATH=. .venv/bin/python bench/bench_inference.py" + (
        f" --package {args.package}" if args.package != REPO / "fixtures" / "model" else ""
    )
    text = render(results, package=args.package, config=version.manifest.get("config", {}), command=command)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
