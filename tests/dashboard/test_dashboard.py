"""Coordinator dashboard: per-reader accuracy with intervals, and who may see it."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.studies.models import Assignment

pytestmark = pytest.mark.django_db


def _read_all(client, study, reader, calls):
    assignment = Assignment.objects.get(study=study, reader=reader)
    client.force_login(reader)
    for case_id in assignment.case_order:
        case = study.cases.get(pk=case_id)
        call, confidence = calls(case)
        client.post(reverse("studies:read_case", args=[assignment.pk, case.public_id]),
                    {"call": call, "confidence": str(confidence)})
    client.logout()


def test_dashboard_counts_reads_with_exact_intervals(client, make_study, reader, coordinator):
    # 18 positives all called positive: Clopper-Pearson 95% CI for 18/18 is [0.8147, 1]
    # (statsmodels proportion_confint(18, 18, method="beta") gives 0.81469).
    study = make_study([reader], truths=[True] * 18 + [False] * 2)
    _read_all(client, study, reader,
              lambda case: ("positive", 90) if case.ground_truth.positive else ("negative", 70))
    client.force_login(coordinator)

    body = client.get(reverse("dashboard:study", args=[study.pk])).content.decode()

    assert "100.0% (81.5–100.0)" in body
    assert 'class="num reads">20' in body


def test_dashboard_auc_matches_mann_whitney(client, make_study, reader, coordinator):
    # Scores 90,90 for positives and 90,30 for negatives: AUC = (1 + 1 + 0.5 + 0.5) / 4 = 0.75
    # by counting pairs by hand, ties counted one half.
    study = make_study([reader], truths=[True, True, False, False])
    negatives = iter([("positive", 80), ("negative", 40)])

    def calls(case):
        return ("positive", 80) if case.ground_truth.positive else next(negatives)

    _read_all(client, study, reader, calls)
    client.force_login(coordinator)

    body = client.get(reverse("dashboard:study", args=[study.pk])).content.decode()

    assert "0.750 (" in body


def test_dashboard_is_for_coordinators(client, make_study, reader):
    study = make_study([reader])
    client.force_login(reader)
    assert client.get(reverse("dashboard:study", args=[study.pk])).status_code == 403


def test_dashboard_hides_other_coordinators_studies(client, make_study, reader, django_user_model):
    from apps.accounts.roles import Role, grant_role

    study = make_study([reader])
    stranger = django_user_model.objects.create_user(username="other-coord", password="x")
    grant_role(stranger, Role.COORDINATOR)
    client.force_login(stranger)

    assert client.get(reverse("dashboard:study", args=[study.pk])).status_code == 404


def test_reader_without_reads_has_no_mcnemar_p(client, make_study, reader, other_reader, coordinator):
    study = make_study([reader, other_reader], truths=[True, True, False, False])
    _read_all(client, study, reader,
              lambda case: ("positive", 80) if case.ground_truth.positive else ("negative", 80))
    client.force_login(coordinator)

    body = client.get(reverse("dashboard:study", args=[study.pk])).content.decode()
    row = body.split(f'data-reader="{other_reader.username}"', 1)[1].split("</tr>", 1)[0]

    assert 'class="num p-sensitivity">–<' in row
    assert 'class="num p-specificity">–<' in row
    assert "No case has calls from both raters" in body
