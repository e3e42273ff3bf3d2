"""Study rules: training cases, navigation, answer scales, sequential arms, washout, corrections."""
from __future__ import annotations

import copy
import datetime
import sys
import types

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role, grant_role
from apps.cases.access import can_view_case
from apps.cases.models import Case, GroundTruth
from apps.studies import services
from apps.studies.models import Assignment, Read, ReaderStudy

pytestmark = pytest.mark.django_db


def _assignment(study, user, arm_name="Unaided") -> Assignment:
    return Assignment.objects.select_related("study", "arm").get(study=study, reader=user, arm__name=arm_name)


def _case_url(assignment, case) -> str:
    return reverse("studies:read_case", args=[assignment.pk, case.public_id])


def _read_all(client, assignment, answer=None):
    answer = answer or {"call": "negative", "confidence": "40"}
    while (case := services.next_case(assignment)) is not None:
        response = client.post(_case_url(assignment, case), answer)
        assert response.status_code == 302, response.content.decode()[:500]


def test_training_cases_come_first_and_are_not_scored(client, make_study, reader):
    study = make_study([], truths=[True, False, True])
    training = Case.objects.create(patient_key="training-1")
    GroundTruth.objects.create(case=training, positive=True)
    study.cases.add(training)
    study.training_cases.add(training)
    arm = study.arms.get()
    assignment = Assignment(study=study, arm=arm, reader=reader)
    assignment.shuffle_cases()
    assignment.save()
    client.force_login(reader)

    first = client.get(reverse("studies:next_case", args=[assignment.pk]))
    page = client.get(first["Location"])
    client.post(_case_url(assignment, training), {"call": "positive", "confidence": "90"})

    assert training.public_id in first["Location"]
    assert "Training case 1: it is not scored." in page.content.decode()
    assert services.progress(assignment).done == 0
    training_read = Read.objects.get(case=training)
    assert training_read.is_training
    assert not Read.objects.scored().exists()
    assert services.next_case(assignment).pk == assignment.case_order[0]
    assert training.pk not in assignment.case_order
    assert services.progress(assignment).total == 3
    assert can_view_case(reader, training)


def test_forward_navigation_blocks_other_cases(client, make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    later = Case.objects.get(pk=assignment.case_order[2])
    first = Case.objects.get(pk=assignment.case_order[0])
    client.force_login(reader)

    ahead = client.get(_case_url(assignment, later))
    post_ahead = client.post(_case_url(assignment, later), {"call": "positive", "confidence": "70"}, follow=True)
    client.post(_case_url(assignment, first), {"call": "positive", "confidence": "70"})
    back = client.get(_case_url(assignment, first))

    assert ahead.status_code == 302
    assert ahead["Location"] == reverse("studies:next_case", args=[assignment.pk])
    assert "read forward only" in post_ahead.content.decode()
    assert not Read.objects.filter(case=later).exists()
    assert back.status_code == 302


def test_free_navigation_allows_any_order(client, make_study, reader):
    study = make_study([reader])
    study.navigation = ReaderStudy.Navigation.FREE
    study.save()
    assignment = _assignment(study, reader)
    last = Case.objects.get(pk=assignment.case_order[-1])
    client.force_login(reader)

    page = client.get(_case_url(assignment, last))
    client.post(_case_url(assignment, last), {"call": "positive", "confidence": "70"})
    again = client.get(_case_url(assignment, last))

    assert page.status_code == 200
    assert 'id="case-list"' in page.content.decode()
    assert Read.objects.filter(case=last).count() == 1
    assert again.status_code == 200
    assert "Reads are locked once submitted." in again.content.decode()
    assert services.next_case(assignment).pk == assignment.case_order[0]


def test_likert_scale_takes_a_rating(client, make_study, reader):
    study = make_study([reader])
    study.answer_scale = ReaderStudy.AnswerScale.LIKERT
    study.save()
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    client.force_login(reader)

    missing = client.post(_case_url(assignment, case), {"call": "positive", "confidence": "70"})
    stored = client.post(_case_url(assignment, case), {"rating": "4"})

    assert missing.status_code == 400
    assert "Choose a rating from 1 (definitely negative) to 5" in missing.content.decode()
    assert stored.status_code == 302
    read = Read.objects.get(case=case)
    assert (read.rating, read.call, read.confidence) == (4, "", None)
    assert read.score == 75.0


@pytest.fixture
def fake_reader_ai(monkeypatch, settings, tmp_path):
    """Stand in for apps.inference.reader_ai and its panel, recording each call."""
    calls: list[tuple[str, bool]] = []
    module = types.ModuleType("apps.inference.reader_ai")

    def reader_ai_context(assignment, case, *, unaided_read_locked):
        calls.append((case.public_id, unaided_read_locked))
        return {"probability": 0.87}

    module.reader_ai_context = reader_ai_context
    monkeypatch.setitem(sys.modules, "apps.inference.reader_ai", module)
    (tmp_path / "inference").mkdir()
    (tmp_path / "inference" / "_reader_ai_panel.html").write_text('<p id="ai-panel">AI {{ ai.probability }}</p>')
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    return calls


def test_sequential_arm_takes_unaided_then_aided_call(client, make_study, add_arm, reader, fake_reader_ai):
    study = make_study([], truths=[True, False])
    arm = add_arm(study, "AI-aided", [reader], shows_ai_probability=True, ai_after_unaided_call=True)
    assignment = Assignment.objects.get(arm=arm, reader=reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    client.force_login(reader)

    before = client.get(_case_url(assignment, case)).content.decode()
    no_stage = client.post(_case_url(assignment, case), {"call": "negative", "confidence": "60"}, follow=True)
    unaided = client.post(_case_url(assignment, case), {"call": "negative", "confidence": "60", "stage": "unaided"})
    retry = client.post(_case_url(assignment, case), {"call": "positive", "confidence": "90", "stage": "unaided"})
    middle = client.get(_case_url(assignment, case)).content.decode()
    aided = client.post(_case_url(assignment, case), {"call": "positive", "confidence": "80", "stage": "aided"})

    assert "First your unaided call" in before
    assert 'id="ai-panel"' not in before
    assert "say which one this is with stage" in no_stage.content.decode()
    assert unaided["Location"] == _case_url(assignment, case)
    assert retry["Location"] == _case_url(assignment, case)
    assert "Your unaided call: <strong>COVID-19 negative with confidence 60</strong>" in middle
    assert "Now your call with the AI output." in middle
    assert '<p id="ai-panel">AI 0.87</p>' in middle
    assert (case.public_id, False) not in fake_reader_ai
    assert (case.public_id, True) in fake_reader_ai
    assert aided["Location"] == reverse("studies:next_case", args=[assignment.pk])
    reads = {read.stage: read for read in Read.objects.filter(case=case)}
    assert reads["unaided"].call == "negative"
    assert not reads["unaided"].is_final
    assert reads["aided"].call == "positive"
    assert reads["aided"].is_final
    assert list(Read.objects.scored()) == [reads["aided"]]
    assert services.progress(assignment).done == 1


def test_concurrent_ai_arm_shows_panel_at_once(client, make_study, add_arm, reader, fake_reader_ai):
    study = make_study([], truths=[True])
    arm = add_arm(study, "AI-aided", [reader], shows_heatmap=True, ai_after_unaided_call=False)
    assignment = Assignment.objects.get(arm=arm, reader=reader)
    case = study.cases.get()
    client.force_login(reader)

    page = client.get(_case_url(assignment, case)).content.decode()
    client.post(_case_url(assignment, case), {"call": "positive", "confidence": "80"})

    assert '<p id="ai-panel">AI 0.87</p>' in page
    assert fake_reader_ai == [(case.public_id, False)]
    assert Read.objects.get().stage == "aided"


def test_arm_hiding_ai_never_calls_the_hook(client, make_study, reader, fake_reader_ai):
    study = make_study([reader], truths=[True])
    assignment = _assignment(study, reader)
    case = study.cases.get()
    client.force_login(reader)

    page = client.get(_case_url(assignment, case)).content.decode()
    client.post(_case_url(assignment, case), {"call": "positive", "confidence": "80"})
    after = client.get(reverse("studies:worklist")).content.decode()

    assert 'id="ai-panel"' not in page
    assert 'id="ai-panel"' not in after
    assert fake_reader_ai == []


def test_aided_call_needs_the_unaided_call_first(make_study, add_arm, reader):
    study = make_study([], truths=[True])
    arm = add_arm(study, "AI-aided", [reader], shows_heatmap=True, ai_after_unaided_call=True)
    assignment = Assignment.objects.get(arm=arm, reader=reader)
    case = study.cases.get()

    with pytest.raises(services.ReadRejected, match="before the aided call"):
        services.submit_read(assignment=assignment, case=case, stage="aided",
                             answer=services.Answer(call="positive", confidence=50))
    assert not Read.objects.exists()


def test_washout_is_enforced_by_date(client, make_study, add_arm, reader):
    study = make_study([reader], truths=[True, False])
    study.washout_days = 28
    study.save()
    aided = add_arm(study, "AI-aided", [reader], position=1, shows_ai_probability=True, ai_after_unaided_call=False)
    first = _assignment(study, reader)
    second = Assignment.objects.get(arm=aided, reader=reader)
    client.force_login(reader)

    with pytest.raises(services.ReadRejected, match="Finish the arm 'Unaided' first"):
        services.check_can_read(second)
    _read_all(client, first)
    with pytest.raises(services.ReadRejected, match="washout between arms ends on"):
        services.check_can_read(second)
    blocked = client.get(reverse("studies:next_case", args=[second.pk]), follow=True)
    assert "washout between arms ends on" in blocked.content.decode()

    past = timezone.now() - datetime.timedelta(days=29)
    Read.objects.filter(assignment=first).update(submitted_at=past)
    services.check_can_read(second)
    opened = client.get(reverse("studies:next_case", args=[second.pk]))
    assert "/cases/" in opened["Location"]


def test_stored_huge_washout_never_errors(client, make_study, add_arm, reader):
    study = make_study([reader], truths=[True])
    aided = add_arm(study, "AI-aided", [reader], position=1, shows_ai_probability=True, ai_after_unaided_call=False)
    first = _assignment(study, reader)
    second = Assignment.objects.get(arm=aided, reader=reader)
    client.force_login(reader)
    _read_all(client, first)
    # Values like these were stored before washout_days had a maximum; update() skips validation.
    # Only SQLite stores them: PostgreSQL's smallint column rejects anything above 32767.
    case = study.cases.get()
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite can store a washout_days value that overflows a date")

    for washout_days in (5_000_000, 10**18):
        ReaderStudy.objects.filter(pk=study.pk).update(washout_days=washout_days)
        second.refresh_from_db()
        second.study.refresh_from_db()

        assert services.washout_ends_at(second).year == 9999
        worklist = client.get(reverse("studies:worklist"))
        next_page = client.get(reverse("studies:next_case", args=[second.pk]), follow=True)
        api_next = client.get(f"/api/assignments/{second.pk}/next/")
        api_cases = client.get(f"/api/assignments/{second.pk}/cases/")
        api_read = client.post("/api/reads/", {"assignment": second.pk, "case": case.public_id, "call": "positive",
                                               "confidence": 60}, content_type="application/json")

        assert worklist.status_code == 200
        assert "washout between arms ends on 9999-12-31" in worklist.content.decode()
        assert next_page.status_code == 200
        assert "washout between arms ends on 9999-12-31" in next_page.content.decode()
        assert api_next.status_code == 409
        assert api_cases.status_code == 200
        assert api_read.status_code == 409
        assert not Read.objects.filter(assignment=second).exists()


def test_correction_adds_a_version_with_reason(client, make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.navigation = ReaderStudy.Navigation.FREE
    study.save()
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    client.force_login(reader)
    client.post(_case_url(assignment, case), {"call": "positive", "confidence": "70"})
    correct_url = reverse("studies:correct_read", args=[assignment.pk, case.public_id])

    no_reason = client.post(correct_url, {"call": "negative", "confidence": "55"})
    corrected = client.post(correct_url, {"call": "negative", "confidence": "55", "reason": "Misclicked."})
    page = client.get(_case_url(assignment, case)).content.decode()

    assert no_reason.status_code == 400
    assert "Give the reason for the correction" in no_reason.content.decode()
    assert corrected.status_code == 302
    versions = list(Read.objects.filter(case=case).order_by("version"))
    assert [(v.version, v.call, v.is_current) for v in versions] == [(1, "positive", False), (2, "negative", True)]
    assert versions[1].supersedes == versions[0]
    assert versions[1].correction_reason == "Misclicked."
    assert "(version 2)" in page
    assert services.progress(assignment).done == 1


def test_locked_study_rejects_correction(make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    read, _ = services.submit_read(assignment=assignment, case=case,
                                   answer=services.Answer(call="positive", confidence=70))

    with pytest.raises(services.ReadRejected, match="locked once submitted"):
        services.correct_read(read=read, answer=services.Answer(call="negative", confidence=10), reason="Oops")
    assert Read.objects.count() == 1


def test_stored_read_cannot_be_saved_again(make_study, reader):
    study = make_study([reader])
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    read, _ = services.submit_read(assignment=assignment, case=case,
                                   answer=services.Answer(call="positive", confidence=70))
    read.confidence = 10

    with pytest.raises(ValueError, match="cannot be changed; submit a correction"):
        read.save()
    assert Read.objects.get().confidence == 70


def test_closed_study_freezes_reads_and_corrections(make_study, reader):
    study = make_study([reader])
    study.edit_rule = ReaderStudy.EditRule.CORRECTABLE
    study.save()
    assignment = _assignment(study, reader)
    case = Case.objects.get(pk=assignment.case_order[0])
    read, _ = services.submit_read(assignment=assignment, case=case,
                                   answer=services.Answer(call="positive", confidence=70))
    study.status = ReaderStudy.Status.CLOSED
    study.save()
    assignment.refresh_from_db()

    with pytest.raises(services.ReadRejected, match="is closed, so it accepts no reads"):
        services.correct_read(read=read, answer=services.Answer(call="negative", confidence=10), reason="Late")
    with pytest.raises(services.ReadRejected, match="is closed, so it accepts no reads"):
        services.submit_read(assignment=assignment, case=Case.objects.get(pk=assignment.case_order[1]),
                             answer=services.Answer(call="positive", confidence=70))
    assert Read.objects.count() == 1


def test_coordinator_who_reads_counts_as_reader(client, make_study, coordinator):
    from apps.dashboard.metrics import summarise_study

    grant_role(coordinator, Role.READER)
    study = make_study([coordinator], truths=[True, False])
    assignment = _assignment(study, coordinator)
    client.force_login(coordinator)
    truth_before = dict(GroundTruth.objects.values_list("case_id", "positive"))

    _read_all(client, assignment, {"call": "positive", "confidence": "80"})

    assert services.progress(assignment).done == 2
    assert Read.objects.filter(assignment__reader=coordinator).count() == 2
    assert dict(GroundTruth.objects.values_list("case_id", "positive")) == truth_before
    summaries = {summary.assignment.reader_id: summary for summary in summarise_study(study)}
    assert summaries[coordinator.pk].reads == 2
    assert summaries[coordinator.pk].true_positive == 1
    assert summaries[coordinator.pk].false_positive == 1
