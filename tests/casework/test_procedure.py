"""The statutory procedure end to end, and the duties and limits that guard it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiuzhu.accounts import audit
from jiuzhu.accounts.roles import Role
from jiuzhu.casework import services
from jiuzhu.casework.models import Application, DecisionKind, State
from jiuzhu.casework.workflow import transition
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MONDAY = dt.date(2026, 11, 2)


def _staff() -> dict[str, object]:
    f.county_tree()
    return {
        "worker": f.user(Role.VILLAGE_WORKER, f.VILLAGE),
        "officer": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "officer2": f.user(Role.TOWNSHIP_OFFICER, f.TOWNSHIP),
        "approver": f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP),
        "county": f.user(Role.COUNTY_SUPERVISOR, f.COUNTY),
    }


def _intake(staff: dict, household=None, programmes=("dibao",)) -> Application:  # type: ignore[no-untyped-def]
    household = household or f.poor_family()
    members = household.memberships.select_related("person")
    adults = [services.ConsentData(m.person, signature="签名") for m in members if m.person.age_on(MONDAY) >= 18]
    head = members.get(relation="head").person
    intake = services.intake_submit(by=staff["worker"], household=household, applicant=head,
                                    programmes=list(programmes), channel="village", consents=adults,
                                    truth_promise=True, missing_items=["户口簿复印件"], on=MONDAY)
    return intake.applications.get(programme=programmes[0])


def _to_notice(staff: dict, application: Application) -> Application:  # type: ignore[no-untyped-def]
    services.accept(by=staff["officer"], application=application, on=MONDAY)
    services.investigation_start(by=staff["officer"], application=application, on=MONDAY)
    services.visit_record(by=staff["officer"], application=application, visited_on=dt.date(2026, 11, 3),
                          investigators=[staff["officer"], staff["worker"]], findings="家中无劳动力",
                          signed_by_household="王大明", signed_on=dt.date(2026, 11, 3))
    assessment = services.assess(by=staff["officer"], application=application, on=dt.date(2026, 11, 4))
    assert assessment.eligible
    services.first_review(by=staff["officer"], application=application, opinion="approve", reason="符合条件",
                          on=dt.date(2026, 11, 4))
    services.notice_publish(by=staff["officer"], applications=[application], on=dt.date(2026, 11, 5))
    application.refresh_from_db()
    return application


def test_an_application_goes_from_intake_to_enrolment_with_a_decision_by_another_user() -> None:
    staff = _staff()
    application = _to_notice(staff, _intake(staff))
    assert application.state == State.NOTICE
    decision = services.decide(by=staff["approver"], application=application, approve=True, reasons="公示无异议",
                               on=dt.date(2026, 11, 13))
    assert decision.kind == DecisionKind.APPROVE
    assert decision.monthly_amount > 0
    assert decision.effective_from == dt.date(2026, 12, 1)
    assert decision.explanation_zh and decision.parameters
    enrolment = services.enrol(by=staff["officer"], application=application, on=dt.date(2026, 11, 16))
    application.refresh_from_db()
    assert application.state == State.ENROLLED
    assert enrolment.monthly_amount == decision.monthly_amount
    states = list(application.transitions.values_list("to_state", flat=True))
    assert states == ["accepted", "investigating", "assessed", "first_review", "notice", "approved", "enrolled"]
    assert audit.verify().ok


def test_the_user_who_entered_or_accepted_cannot_approve() -> None:
    staff = _staff()
    staff["approver_entered"] = f.user(Role.TOWNSHIP_APPROVER, f.TOWNSHIP)
    application = _to_notice(staff, _intake(staff))
    application.entered_by = staff["approver_entered"]
    Application.objects.filter(pk=application.pk).update(entered_by=staff["approver_entered"])
    with pytest.raises(PermissionDenied, match="entered"):
        services.decide(by=staff["approver_entered"], application=application, approve=True, reasons="ok",
                        on=dt.date(2026, 11, 13))
    Application.objects.filter(pk=application.pk).update(accepted_by=staff["approver"])
    application.refresh_from_db()
    with pytest.raises(PermissionDenied, match="accepted"):
        services.decide(by=staff["approver"], application=application, approve=True, reasons="ok",
                        on=dt.date(2026, 11, 13))


def test_no_decision_while_the_notice_runs() -> None:
    staff = _staff()
    application = _to_notice(staff, _intake(staff))
    with pytest.raises(ValidationError, match="notice runs until 2026-11-12"):
        services.decide(by=staff["approver"], application=application, approve=True, reasons="ok",
                        on=dt.date(2026, 11, 10))


def test_an_illegal_transition_is_refused_with_the_states_named() -> None:
    staff = _staff()
    application = _intake(staff)
    with pytest.raises(ValidationError, match="cannot become"):
        transition(application, to=State.APPROVED, by=staff["approver"])
    application.refresh_from_db()
    assert application.state == State.RECEIVED


def test_a_user_of_another_township_does_not_find_the_application() -> None:
    staff = _staff()
    stranger = f.user(Role.TOWNSHIP_OFFICER, f.OTHER_TOWNSHIP)
    application = _intake(staff)
    with pytest.raises(Http404):
        services.accept(by=stranger, application=application, on=MONDAY)


def test_a_village_worker_may_not_accept() -> None:
    staff = _staff()
    application = _intake(staff)
    with pytest.raises(PermissionDenied, match="may not"):
        services.accept(by=staff["worker"], application=application, on=MONDAY)


def test_a_visit_needs_two_investigators() -> None:
    staff = _staff()
    application = _intake(staff)
    services.accept(by=staff["officer"], application=application, on=MONDAY)
    services.investigation_start(by=staff["officer"], application=application, on=MONDAY)
    with pytest.raises(ValidationError) as error:
        services.visit_record(by=staff["officer"], application=application, visited_on=MONDAY,
                              investigators=[staff["officer"]], findings="x", signed_by_household="王大明",
                              signed_on=MONDAY)
    assert "investigators" in error.value.message_dict


def test_a_relative_of_staff_is_flagged_cannot_be_handled_by_the_relative_and_needs_a_county_visit() -> None:
    staff = _staff()
    household = f.poor_family()
    head = household.memberships.get(relation="head").person
    services.relative_declare(by=staff["officer2"], area_code=f.TOWNSHIP, declarant=staff["officer2"],
                              declarant_name="赵干部", declarant_post="乡镇干部", relative_name=head.name,
                              relative_id_number=head.id_number, relation="兄弟")
    application = _intake(staff, household)
    assert application.relative_flag
    with pytest.raises(PermissionDenied, match="relative"):
        services.accept(by=staff["officer2"], application=application, on=MONDAY)
    application = _to_notice(staff, application)
    with pytest.raises(ValidationError, match="county must visit"):
        services.decide(by=staff["approver"], application=application, approve=True, reasons="ok",
                        on=dt.date(2026, 11, 13))


def test_adult_members_must_consent_and_the_truth_promise_is_signed() -> None:
    staff = _staff()
    household = f.poor_family()
    head = household.memberships.get(relation="head").person
    with pytest.raises(ValidationError) as error:
        services.intake_submit(by=staff["worker"], household=household, applicant=head, programmes=["dibao"],
                               channel="village", consents=[services.ConsentData(head, signature="签名")],
                               truth_promise=False, on=MONDAY)
    assert set(error.value.message_dict) == {"consents", "truth_promise"}
    assert "李秀兰" in error.value.message_dict["consents"][0]
    assert not Application.objects.exists()


def test_deadlines_run_in_working_days_and_stop_while_items_are_missing() -> None:
    staff = _staff()
    application = _intake(staff)
    services.accept(by=staff["officer"], application=application, on=dt.date(2026, 9, 29))
    application.refresh_from_db()
    # 3 working days after Tue 29 Sep 2026: Wed 30 Sep, then the National Day week, Thu 8 Oct, Fri 9 Oct.
    assert application.step_deadline == dt.date(2026, 10, 9)
    assert not application.step_deadline_provisional
    whole = application.final_deadline
    services.clock_stop(by=staff["officer"], application=application, reason="缺少病历", on=dt.date(2026, 10, 12))
    services.clock_resume(by=staff["officer"], application=application, on=dt.date(2026, 10, 14))
    application.refresh_from_db()
    assert application.final_deadline > whole
    assert application.clock_stops.get().ended_on == dt.date(2026, 10, 14)


def test_deadlines_into_a_year_without_a_schedule_are_provisional_until_it_is_entered(
        django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from jiuzhu.areas.services import calendar_enter_year

    staff = _staff()
    admin = f.user(Role.COUNTY_ADMIN, f.COUNTY)
    application = _intake(staff)
    services.accept(by=staff["officer"], application=application, on=dt.date(2026, 12, 21))
    application.refresh_from_db()
    assert application.final_deadline_provisional  # 30 working days run into 2027
    with django_capture_on_commit_callbacks(execute=True):
        calendar_enter_year(by=admin, year=2027, holidays=[(dt.date(2027, 1, 1), "元旦")], working_weekends=[],
                            source="国务院办公厅通知 2027")
    application.refresh_from_db()
    assert not application.final_deadline_provisional and not application.step_deadline_provisional


def test_tekun_runs_on_its_own_limits_of_fifteen_plus_fifteen_working_days() -> None:
    from jiuzhu.areas.calendar import add_working_days

    staff = _staff()
    application = _intake(staff, programmes=("tekun",))
    services.accept(by=staff["officer"], application=application, on=MONDAY)
    services.investigation_start(by=staff["officer"], application=application, on=MONDAY)
    application.refresh_from_db()
    assert application.step_deadline == add_working_days(MONDAY, 15).date
    assert application.final_deadline == add_working_days(MONDAY, 30).date
    dibao = _intake(staff, f.poor_family())
    services.accept(by=staff["officer"], application=dibao, on=MONDAY)
    dibao.refresh_from_db()
    assert dibao.final_deadline == add_working_days(MONDAY, 20).date  # delegated to the township
