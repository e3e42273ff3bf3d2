"""The dashboard's numbers against independent sources, its edge cases and its options."""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.urls import reverse
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from apps.dashboard.analysis import analyse_study
from apps.dashboard.data import fetch_study_data
from readerstats.compare import paired_delong
from tests.dashboard.helpers import (
    CellReader,
    build_study,
    make_model_version,
    study_from_agreement_counts,
)

pytestmark = pytest.mark.django_db


def _page(client, coordinator, study, **params):
    client.force_login(coordinator)
    response = client.get(reverse("dashboard:study", args=[study.pk]), params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


@pytest.fixture
def agreement_study(coordinator, reader):
    return study_from_agreement_counts(coordinator, reader, make_model_version())


def _reader_key(study, reader):
    return f"reader:{study.assignments.get(reader=reader).pk}"


def test_agreement_counts_give_printed_intervals(client, coordinator, reader, agreement_study):
    cells = CellReader(_page(client, coordinator, agreement_study)).cells
    reader_key = _reader_key(agreement_study, reader)

    # Joint model 113/134 and 120/145. statsmodels proportion_confint(method="beta") gives
    # 0.77047-0.90029 and 0.75596-0.88518. Mei et al., Nat Med 26:1224 (2020) print 77.1 as
    # the lower bound of the sensitivity, one digit off the exact 77.0.
    assert cells[("P3", "sensitivity")] == "84.3% (77.0–90.0)"
    assert cells[("P3", "specificity")] == "82.8% (75.6–88.5)"
    # Senior radiologist 100/134 and 136/145, printed there as 74.6% (66.4–81.7) and
    # 93.8% (88.5–97.1).
    assert cells[(reader_key, "sensitivity")] == "74.6% (66.4–81.7)"
    assert cells[(reader_key, "specificity")] == "93.8% (88.5–97.1)"


@pytest.mark.parametrize(
    ("successes", "total", "cell"), [(113, 134, "sensitivity"), (120, 145, "specificity")]
)
def test_model_intervals_match_statsmodels(
    client, coordinator, agreement_study, successes, total, cell
):
    lower, upper = proportion_confint(successes, total, alpha=0.05, method="beta")
    expected = f"{100 * successes / total:.1f}% ({100 * lower:.1f}–{100 * upper:.1f})"
    assert CellReader(_page(client, coordinator, agreement_study)).cells[("P3", cell)] == expected


def test_mcnemar_p_values_match_statsmodels(client, coordinator, reader, agreement_study):
    cells = CellReader(_page(client, coordinator, agreement_study)).cells
    reader_key = _reader_key(agreement_study, reader)

    # statsmodels mcnemar(exact=True): specificity 7 vs 23 discordant gives 0.005223 (Mei et
    # al. print P = 0.005); sensitivity 23 vs 10 gives 0.035082.
    specificity_p = mcnemar([[113, 7], [23, 2]], exact=True).pvalue
    sensitivity_p = mcnemar([[90, 23], [10, 11]], exact=True).pvalue
    assert round(specificity_p, 5) == 0.00522
    assert cells[(reader_key, "p-specificity")] == f"{specificity_p:.4f}"
    assert cells[(reader_key, "p-sensitivity")] == f"{sensitivity_p:.4f}"


def test_agreement_table_rebuilds_counts(client, coordinator, reader, agreement_study):
    body = _page(client, coordinator, agreement_study)
    reader_key = _reader_key(agreement_study, reader)
    section = body[body.index('id="agreement"') : body.index('id="subgroups"')]
    row = section[section.index(f'data-rater="{reader_key}"') :]
    row = row[: row.index("</tr>")]
    numbers = [cell.split("<")[0] for cell in row.split('<td class="num">')[1:11]]
    assert numbers == [
        "90",
        "23",
        "10",
        "11",
        f"{mcnemar([[90, 23], [10, 11]], exact=True).pvalue:.4f}",
        "113",
        "7",
        "23",
        "2",
        f"{mcnemar([[113, 7], [23, 2]], exact=True).pvalue:.4f}",
    ]


def test_auc_comparison_equals_readerstats(client, coordinator, reader, agreement_study):
    cells = CellReader(_page(client, coordinator, agreement_study)).cells
    data = fetch_study_data(agreement_study)
    reads = data.readers[0]
    expected = paired_delong(data.ai["P3"], reads.scores, data.truth)

    assert cells[(_reader_key(agreement_study, reader), "p-auc")] == f"{expected.pvalue:.4f}"
    # Two-valued scores: AUC = (sensitivity + specificity) / 2 = (113/134 + 120/145) / 2.
    assert cells[("P3", "auc")].startswith(f"{(113 / 134 + 120 / 145) / 2:.3f} (")


def test_reference_rater_can_be_a_reader(client, coordinator, reader, agreement_study):
    reader_key = _reader_key(agreement_study, reader)
    cells = CellReader(_page(client, coordinator, agreement_study, reference=reader_key)).cells

    # The McNemar test is symmetric, so the P3 row now carries the same p-value.
    assert (
        cells[("P3", "p-specificity")] == f"{mcnemar([[113, 7], [23, 2]], exact=True).pvalue:.4f}"
    )
    assert cells[(reader_key, "p-specificity")] == "–"


def test_threshold_changes_ai_calls(client, coordinator, agreement_study):
    # At 0.95 no case reaches the threshold, so P3 calls every case negative.
    cells = CellReader(_page(client, coordinator, agreement_study, threshold="0.95")).cells
    assert cells[("P3", "sensitivity")].startswith("0.0% (")
    assert cells[("P3", "specificity")].startswith("100.0% (")


@pytest.mark.parametrize("threshold", ["1.5", "-0.1", "half", "nan"])
def test_invalid_threshold_is_400(client, coordinator, agreement_study, threshold):
    client.force_login(coordinator)
    response = client.get(
        reverse("dashboard:study", args=[agreement_study.pk]), {"threshold": threshold}
    )
    assert response.status_code == 400
    assert threshold in response.content.decode()
    assert "from 0 to 1" in response.content.decode()


def test_unknown_reference_is_400(client, coordinator, agreement_study):
    client.force_login(coordinator)
    response = client.get(
        reverse("dashboard:study", args=[agreement_study.pk]), {"reference": "P9"}
    )
    assert response.status_code == 400
    assert "'P9'" in response.content.decode()
    assert "P3" in response.content.decode()


def test_missing_scores_left_out_for_both(client, coordinator, reader):
    # Eight cases; P3 is missing for two of them (one positive, one negative).
    truths = [True, True, True, True, False, False, False, False]
    p3 = [0.9, 0.8, 0.3, None, 0.2, 0.1, 0.7, None]
    calls = [
        ("positive", 70),
        ("negative", 60),
        ("positive", 90),
        ("positive", 50),
        ("negative", 80),
        ("negative", 40),
        ("positive", 30),
        ("negative", 20),
    ]
    study = build_study(
        coordinator,
        [{"truth": t, "p3": p} for t, p in zip(truths, p3, strict=True)],
        readers={reader: calls},
        model_version=make_model_version(),
    )
    reader_key = _reader_key(study, reader)
    body = _page(client, coordinator, study)
    cells = CellReader(body).cells

    assert cells[("P3", "missing")] == "2"
    assert "P3 (joint model): 2 of 8 cases with truth have no prediction yet" in body
    assert cells[(reader_key, "left-out")] == "2"
    # The reader's own metrics still use all 8 reads: 3 of 4 positives called positive.
    assert cells[(reader_key, "sensitivity")].startswith("75.0% (")
    # The comparison uses the 6 cases both have: reader right on 2 of 3 positives there.
    result = analyse_study(fetch_study_data(study))
    comparison = next(c for c in result.comparisons if c.rater.key == reader_key)
    assert comparison.binary.n_excluded_missing == 2
    assert comparison.binary.sensitivity.second.total == 3
    assert comparison.auc.n_excluded_missing == 2


def test_no_predictions_reference_is_first_reader(client, coordinator, reader, other_reader):
    truths = [True, False, True, False, True, False]
    calls = [
        ("positive", 80),
        ("negative", 80),
        ("negative", 20),
        ("negative", 90),
        ("positive", 60),
        ("positive", 10),
    ]
    study = build_study(
        coordinator,
        [{"truth": t} for t in truths],
        readers={reader: calls, other_reader: list(reversed(calls))},
    )
    body = _page(client, coordinator, study)

    assert 'id="no-predictions"' in body
    assert 'data-rater="P3"' not in body
    assert "reader-a</strong>" in body
    assert f'data-rater="{_reader_key(study, other_reader)}"' in body


def test_no_truth_renders_sentence(client, coordinator, reader):
    study = build_study(
        coordinator, [{"truth": None}] * 3, readers={reader: [("positive", 50)] * 3}
    )
    body = _page(client, coordinator, study)

    assert "No case of this study has ground truth yet" in body
    cells = CellReader(body).cells
    assert cells[(_reader_key(study, reader), "reads")].startswith("3")


def test_one_class_renders_sentence(client, coordinator, reader):
    study = build_study(
        coordinator, [{"truth": True}] * 4, readers={reader: [("positive", 50)] * 4}
    )
    body = _page(client, coordinator, study)

    assert "Every case with ground truth is positive (4 cases)" in body
    # 4/4: Clopper-Pearson [0.3976, 1] (statsmodels proportion_confint(4, 4, method="beta")).
    assert (
        CellReader(body).cells[(_reader_key(study, reader), "sensitivity")] == "100.0% (39.8–100.0)"
    )


def test_no_reads_and_no_readers(client, coordinator):
    study = build_study(coordinator, [{"truth": True}, {"truth": False}])
    body = _page(client, coordinator, study)
    assert "No reader is assigned to this study and no AI prediction is available yet." in body


def test_one_reader_mrmc_explains(client, coordinator, reader):
    truths = [True, False] * 4
    calls = [("positive", 80), ("negative", 70)] * 3 + [("negative", 60), ("positive", 40)]
    study = build_study(coordinator, [{"truth": t} for t in truths], readers={reader: calls})
    body = _page(client, coordinator, study)
    assert (
        "An MRMC analysis needs at least 2 readers who read in every arm; this study has 1." in body
    )


def _two_arm_study(coordinator, readers, *, n_cases=40, seed=3):
    rng = np.random.default_rng(seed)
    truths = [bool(i % 2) for i in range(n_cases)]
    cases = []
    for i, truth in enumerate(truths):
        cases.append(
            {
                "truth": truth,
                "p1": float(np.clip(0.5 + (0.25 if truth else -0.25) + rng.normal(0, 0.2), 0, 1)),
                "p2": float(np.clip(0.5 + (0.15 if truth else -0.15) + rng.normal(0, 0.2), 0, 1)),
                "p3": float(np.clip(0.5 + (0.3 if truth else -0.3) + rng.normal(0, 0.2), 0, 1)),
                "flags": {"ct_normal": i % 5 == 0},
                "clinical": {
                    "age": float(40 + rng.normal(0, 10)),
                    "sex": "M" if i % 3 else "F",
                    "fever": bool(rng.random() < (0.7 if truth else 0.4)),
                    "wbc": float(6 + rng.normal(0, 1.5) - (1 if truth else 0)),
                    "illustrative": True,
                },
            }
        )
    reads = {}
    for arm, shift in (("Unaided", 0.0), ("AI-aided", 10.0)):
        for user in readers:
            calls = []
            for truth in truths:
                score = float(
                    np.clip(50 + (20 + shift if truth else -20 - shift) + rng.normal(0, 25), 0, 100)
                )
                calls.append(
                    ("positive", round(2 * (score - 50)))
                    if score >= 50
                    else ("negative", round(2 * (50 - score)))
                )
            reads[(user, arm)] = calls
    return build_study(coordinator, cases, readers=reads, model_version=make_model_version())


@pytest.fixture
def panel_readers(django_user_model, reader, other_reader):
    from apps.accounts.roles import Role, grant_role

    third = django_user_model.objects.create_user(username="reader-c", password="x")
    grant_role(third, Role.READER)
    return [reader, other_reader, third]


def test_full_study_renders_every_section(client, coordinator, panel_readers):
    study = _two_arm_study(coordinator, panel_readers)
    body = _page(client, coordinator, study)
    result = analyse_study(fetch_study_data(study))

    for section in (
        'id="roc"',
        'id="agreement"',
        'id="subgroups"',
        'id="mrmc"',
        'id="characteristics"',
    ):
        assert section in body
    assert "<svg" in body
    assert "ct_normal: 8 cases" in body
    assert "(Fleiss)" in body
    assert "Hosmer–Lemeshow test" in body
    assert "made-up values" in body
    # The arm-versus-arm analyses and the standalone comparison all ran.
    assert set(result.mrmc.analyses) == {
        f"{f}_{m}" for f in ("auc", "sensitivity", "specificity") for m in ("jackknife", "delong")
    }
    rrrc = result.mrmc.analyses["auc_jackknife"].tests["RRRC"].differences[0]
    assert f"{rrrc.estimate:.3f} ({rrrc.lower:.3f} to {rrrc.upper:.3f})" in body
    assert all(not isinstance(value, str) for value in result.mrmc.standalone.values())


def test_pooled_arm_rows_count_every_read(client, coordinator, panel_readers):
    study = _two_arm_study(coordinator, panel_readers)
    result = analyse_study(fetch_study_data(study))
    pooled = next(row for row in result.per_rater if row.rater.key == "arm:Unaided")
    readers = [
        row for row in result.per_rater if row.rater.kind == "reader" and row.rater.arm == "Unaided"
    ]

    assert pooled.metrics.counts.true_positive == sum(
        r.metrics.counts.true_positive for r in readers
    )
    assert pooled.metrics.sensitivity.total == 3 * 20
    averaged = result.mrmc.per_arm["Unaided"].tests["RRRC"].modalities[0]
    assert pooled.reader_averaged.estimate == pytest.approx(
        np.mean([r.auc.auc for r in readers]), abs=1e-12
    )
    assert averaged.estimate == pooled.reader_averaged.estimate


def test_panel_returns_204_until_a_read_arrives(client, coordinator, reader, other_reader):
    from django.utils import timezone

    from apps.studies.models import Assignment, Read

    truths = [True, False, True, False]
    study = build_study(
        coordinator,
        [{"truth": t} for t in truths],
        readers={reader: [("positive", 80), None, None, None]},
    )
    client.force_login(coordinator)
    url = reverse("dashboard:panel", args=[study.pk])
    first = client.get(url)
    fingerprint = first.content.decode().split('data-fingerprint="')[1].split('"')[0]

    assert first.status_code == 200
    assert client.get(url, {"fingerprint": fingerprint}).status_code == 204

    assignment = Assignment.objects.get(study=study, reader=reader)
    case = study.cases.order_by("pk")[1]
    now = timezone.now()
    Read.objects.create(
        assignment=assignment,
        case=case,
        call="negative",
        confidence=70,
        opened_at=now,
        submitted_at=now,
        reading_seconds=5.0,
    )
    updated = client.get(url, {"fingerprint": fingerprint})
    cells = CellReader(updated.content.decode()).cells

    assert updated.status_code == 200
    assert cells[(_reader_key(study, reader), "reads")] == "2"


def test_panel_permissions(client, coordinator, reader, django_user_model):
    from apps.accounts.roles import Role, grant_role

    study = build_study(coordinator, [{"truth": True}, {"truth": False}])
    url = reverse("dashboard:panel", args=[study.pk])
    client.force_login(reader)
    assert client.get(url).status_code == 403
    stranger = django_user_model.objects.create_user(username="coord-3", password="x")
    grant_role(stranger, Role.COORDINATOR)
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_page_loads_nothing_from_other_hosts(client, coordinator, panel_readers):
    body = _page(client, coordinator, _two_arm_study(coordinator, panel_readers, n_cases=12))
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)

    assert sources
    assert all(not source.startswith(("http:", "https:", "//")) for source in sources)
    assert "/static/dashboard/refresh.js" in sources


def test_likert_ratings_and_unscored_reads(client, coordinator, reader):
    from django.utils import timezone

    from apps.studies.models import Read

    # Ratings 5, 4, 3 on positives and 1, 2, 4 on negatives: 4 and 5 count as positive calls.
    truths = [True, True, True, False, False, False]
    ratings = [("rating", r) for r in (5, 4, 3, 1, 2, 4)]
    study = build_study(coordinator, [{"truth": t} for t in truths], readers={reader: ratings})
    assignment = study.assignments.get(reader=reader)
    first_case = study.cases.order_by("pk")[0]
    now = timezone.now()
    # A superseded version and a training read must not count.
    Read.objects.create(
        assignment=assignment,
        case=first_case,
        call="",
        rating=1,
        version=0,
        is_current=False,
        opened_at=now,
        submitted_at=now,
        reading_seconds=1.0,
    )
    Read.objects.create(
        assignment=assignment,
        case=first_case,
        call="",
        rating=1,
        stage="aided",
        is_training=True,
        opened_at=now,
        submitted_at=now,
        reading_seconds=1.0,
    )
    cells = CellReader(_page(client, coordinator, study)).cells
    key = _reader_key(study, reader)

    assert cells[(key, "reads")] == "6"
    assert cells[(key, "sensitivity")].startswith("66.7% (")
    assert cells[(key, "specificity")].startswith("66.7% (")
    # Scores 100, 75, 50 against 0, 25, 75, pair by pair: 3 + 2.5 + 2 = 7.5 of 9 pairs ranked
    # right (the 75-75 tie counts 1/2, the 50-75 pair 0).
    assert cells[(key, "auc")].startswith(f"{7.5 / 9:.3f} (")


def test_youden_threshold_is_shown(client, coordinator, agreement_study):
    body = _page(client, coordinator, agreement_study)
    result = analyse_study(fetch_study_data(agreement_study))
    youden = next(row.youden for row in result.per_rater if row.rater.key == "P3")

    # P3 takes the values 0.1 and 0.9 only, so the best cut-off separates them at 0.9.
    assert youden.threshold == 0.9
    assert "P3 0.9 (sensitivity 84.3%, specificity 82.8%)" in body
