"""Benchmark the coordinator dashboard on 10 readers x 2 arms x 1,000 cases.

Builds the study in a throwaway SQLite database (migrated in a temporary
folder), then times separately:

1. the database fetch (``fetch_study_data``) and the change fingerprint that the
   refreshing page checks every 10 s;
2. the statistics (``analyse_study``: every rater, comparisons with P3,
   subgroups, the Obuchowski–Rockette analyses, standalone AI, kappa, Table 1),
   which should take at most 0.5 s;
3. the export tables, the ROC figure (SVG) and the whole page through the view.

Prints a markdown section with the machine, the command and the timings.
Run from the repository root: ``PYTHONPATH=. python bench/bench_dashboard.py``.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import DEFAULT_REPEATS, best_of, cpu_model, visible_cpus

READERS, ARMS, CASES = 10, 2, 1_000
TARGET_SECONDS = 0.5
REPEATS = DEFAULT_REPEATS


def machine() -> tuple[str, str]:
    """Return the CPU model name and the number of CPUs visible to this process."""
    return cpu_model(), str(visible_cpus())


def setup_django(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["READERSTUDY_VAR_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def build_study():
    """Create the study: P1-P3 for every case, every reader reads every case in both arms."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apps.cases.models import Case, ClinicalRecord, GroundTruth
    from apps.inference.models import ModelVersion, Prediction
    from apps.studies.models import Arm, Assignment, Read, ReaderStudy

    rng = np.random.default_rng(20260101)
    truth = rng.random(CASES) < 0.45
    difficulty = rng.normal(size=CASES)
    user_model = get_user_model()
    coordinator = user_model.objects.create_user(username="bench-coordinator", password="x")
    study = ReaderStudy.objects.create(title="Dashboard benchmark", seed=1)
    study.coordinators.add(coordinator)

    cases = Case.objects.bulk_create(
        Case(
            patient_key=f"bench-{i}",
            public_id=f"C-B{i:07d}",
            flags={"ct_normal": bool(rng.random() < 0.1)},
        )
        for i in range(CASES)
    )
    study.cases.add(*cases)
    GroundTruth.objects.bulk_create(
        GroundTruth(case=case, positive=bool(positive), source="bench")
        for case, positive in zip(cases, truth)
    )
    ClinicalRecord.objects.bulk_create(
        ClinicalRecord(
            case=case,
            age=float(45 + 12 * rng.normal()),
            sex="M" if rng.random() < 0.5 else "F",
            exposure=bool(rng.random() < (0.6 if positive else 0.3)),
            fever=bool(rng.random() < 0.6),
            cough=bool(rng.random() < 0.5),
            sputum=bool(rng.random() < 0.2),
            temperature=float(37.2 + 0.6 * rng.normal() + 0.3 * positive),
            wbc=float(6.5 + 1.8 * rng.normal() - 0.8 * positive),
            neutrophils=float(4 + rng.normal()),
            neutrophil_pct=float(62 + 8 * rng.normal()),
            lymphocytes=float(1.5 + 0.4 * rng.normal() - 0.2 * positive),
            lymphocyte_pct=float(27 + 7 * rng.normal()),
        )
        for case, positive in zip(cases, truth)
    )

    model_version = ModelVersion.objects.create(
        name="bench-model",
        version="1",
        package_path="/bench",
        manifest_sha256="0" * 64,
        is_active=True,
    )
    now = timezone.now()

    def probability(strength: float) -> np.ndarray:
        return 1 / (1 + np.exp(-(strength * (truth - 0.5) + difficulty + rng.normal(size=CASES))))

    p1, p2, p3 = probability(2.0), probability(1.2), probability(2.6)
    Prediction.objects.bulk_create(
        Prediction(
            case=case,
            model_version=model_version,
            status=Prediction.Status.DONE,
            finished_at=now,
            p1=float(p1[i]),
            p2=float(p2[i]),
            p3=float(p3[i]),
        )
        for i, case in enumerate(cases)
    )

    readers = [
        user_model.objects.create_user(username=f"bench-reader{j}", password="x")
        for j in range(READERS)
    ]
    for index in range(ARMS):
        arm = Arm.objects.create(study=study, name=f"arm {index}")
        for reader in readers:
            assignment = Assignment.objects.create(
                study=study, arm=arm, reader=reader, case_order=[c.pk for c in cases]
            )
            latent = 1.2 * truth + 0.3 * index + difficulty + rng.normal(scale=0.8, size=CASES)
            confidence = np.clip(np.round(40 * np.abs(latent - 0.6)), 0, 100).astype(int)
            Read.objects.bulk_create(
                Read(
                    assignment=assignment,
                    case=case,
                    call="positive" if latent[i] >= 0.6 else "negative",
                    confidence=int(confidence[i]),
                    opened_at=now,
                    submitted_at=now,
                    reading_seconds=20.0,
                )
                for i, case in enumerate(cases)
            )
    return study, coordinator


def statistics_parts(data, result) -> dict[str, float]:
    """Time the parts of ``analyse_study`` through its private steps, for the breakdown."""
    import numpy as np

    from apps.dashboard import analysis
    from readerstats.agreement import fleiss_kappa

    with_truth = ~np.isnan(data.truth)
    truth = data.truth[with_truth] == 1.0
    raters = result.raters
    readers = [r for r in raters if r.kind == "reader"]
    reference = result.reference
    arms = list(dict.fromkeys(r.arm for r in readers))
    panel = np.column_stack([r.calls for r in readers if r.arm == arms[0]])
    return {
        "every rater's metrics, AUC and ROC": best_of(
            lambda: [analysis._rater_result(r, truth, 0.05) for r in raters]
        ),
        "paired DeLong and McNemar against P3": best_of(
            lambda: [
                analysis._comparison(reference, r, truth, 0.05)
                for r in raters
                if r is not reference
            ]
        ),
        "MRMC, standalone AI and kappa": best_of(
            lambda: analysis._mrmc(raters, truth, reference, 0.05)
        ),
        "kappa alone (Cohen pairs, Fleiss per arm)": best_of(
            lambda: analysis._kappas(readers, arms, reference, 0.05)
        ),
        "one Fleiss' kappa (10 readers x 1,000 cases)": best_of(lambda: fleiss_kappa(panel)),
        "clinical characteristics and Hosmer–Lemeshow": best_of(
            lambda: analysis._characteristics(data, with_truth, truth)
        ),
    }


def main() -> None:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
        setup_django(Path(folder))
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.urls import reverse

        from apps.accounts.roles import Role, grant_role
        from apps.dashboard import figures
        from apps.dashboard.analysis import analyse_study
        from apps.dashboard.data import data_fingerprint, fetch_study_data
        from apps.dashboard.tables import all_tables

        start = time.perf_counter()
        study, coordinator = build_study()
        build_seconds = time.perf_counter() - start
        grant_role(coordinator, Role.COORDINATOR)

        data = fetch_study_data(study)
        result = analyse_study(data)
        fetch = best_of(lambda: fetch_study_data(study))
        fingerprint = best_of(lambda: data_fingerprint(study))
        statistics = best_of(lambda: analyse_study(data))
        parts = statistics_parts(data, result)
        tables = best_of(lambda: all_tables(result))
        figure = best_of(lambda: figures.render(figures.roc_figure(result), "svg", metadata={}))

        setup_test_environment()
        client = Client()
        client.force_login(coordinator)
        url = reverse("dashboard:study", args=[study.pk])
        assert client.get(url).status_code == 200
        page = best_of(lambda: client.get(url), repeats=3)

    load_after = os.getloadavg()[0]
    model, cores = machine()
    n_raters = len(result.raters)
    verdict = "meets" if statistics <= TARGET_SECONDS else "misses"
    lines = [
        "## Dashboard: 10 readers x 2 arms x 1,000 cases",
        "",
        (
            f"Machine: {model}, {cores} CPUs visible; Python {platform.python_version()}, "
            f"`OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}`."
        ),
        "",
        "Command: `OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python bench/bench_dashboard.py`",
        "",
        (
            f"The study has {CASES} cases with truth ({result.n_positive} positive), {READERS} "
            f"readers reading every case in each of {ARMS} arms ({READERS * ARMS * CASES:,} "
            "reads), P1-P3 for every case, a subgroup flag and 12 clinical features; "
            f"{n_raters} raters in the table. It is built in a throwaway SQLite database "
            f"({build_seconds:.1f} s). Times are the best of {REPEATS} runs (3 for the page)."
        ),
        "",
        "| step | seconds |",
        "|---|---|",
        f"| database fetch (`fetch_study_data`) | {fetch:.3f} |",
        f"| change fingerprint (each 10 s refresh of an unchanged study) | {fingerprint:.4f} |",
        f"| statistics (`analyse_study`) | {statistics:.3f} |",
        *[f"| &nbsp;&nbsp;of which {name} | {seconds:.3f} |" for name, seconds in parts.items()],
        f"| export tables (`all_tables`) | {tables:.3f} |",
        f"| ROC figure, SVG | {figure:.3f} |",
        f"| whole page through the view (fetch, statistics, figure, template) | {page:.3f} |",
        "",
        (
            f"The statistics {verdict} the {TARGET_SECONDS} s target. One-minute load average "
            f"{load_before:.1f} before and {load_after:.1f} after the run on {cores} CPUs: other "
            "processes on a shared machine lengthen every time above."
        ),
        "",
    ]
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main()
