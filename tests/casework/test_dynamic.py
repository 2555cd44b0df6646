"""Dynamic management: reassessment, increase / decrease / stop, gradual exit, death re-check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from jiuzhu.accounts import audit
from jiuzhu.casework import dynamic, services
from jiuzhu.casework.models import DecisionKind, Enrolment
from jiuzhu.registry.models import IncomeRecord, Source
from tests import factories as f
from tests.casework.test_procedure import _intake, _staff, _to_notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _enrolled() -> tuple[dict, Enrolment]:  # type: ignore[type-arg]
    staff = _staff()
    application = _to_notice(staff, _intake(staff))
    services.decide(by=staff["approver"], application=application, approve=True, reasons="公示无异议",
                    on=dt.date(2026, 11, 13))
    return staff, services.enrol(by=staff["officer"], application=application, on=dt.date(2026, 11, 16))


def test_a_working_age_household_is_reviewed_after_six_months() -> None:
    _staff, enrolment = _enrolled()
    assert enrolment.review_class == "unstable"
    assert enrolment.review_due == dt.date(2027, 6, 1)


def test_no_change_means_no_adjustment() -> None:
    staff, enrolment = _enrolled()
    assessment = dynamic.reassess(by=staff["officer"], enrolment=enrolment, on=dt.date(2027, 5, 20))
    decision = dynamic.review_decide(by=staff["approver"], enrolment=enrolment, assessment=assessment,
                                     reasons="复核无变化", on=dt.date(2027, 5, 21))
    assert decision.kind == DecisionKind.UNCHANGED
    enrolment.refresh_from_db()
    assert enrolment.active and enrolment.review_due == dt.date(2027, 11, 21)


def test_more_income_decreases_the_benefit() -> None:
    staff, enrolment = _enrolled()
    old = enrolment.monthly_amount
    IncomeRecord.objects.create(household=enrolment.household, kind="wage", amount=Decimal("1200"),
                                source=Source.VERIFIED)
    assessment = dynamic.reassess(by=staff["officer"], enrolment=enrolment, on=dt.date(2027, 5, 20))
    decision = dynamic.review_decide(by=staff["approver"], enrolment=enrolment, assessment=assessment,
                                     reasons="工资收入增加", on=dt.date(2027, 5, 21))
    enrolment.refresh_from_db()
    assert decision.kind == DecisionKind.DECREASE
    assert enrolment.monthly_amount == assessment.monthly_amount < old
    assert decision.effective_from == dt.date(2027, 6, 1)


def test_employment_over_the_standard_stops_after_the_gradual_exit_months() -> None:
    staff, enrolment = _enrolled()
    IncomeRecord.objects.create(household=enrolment.household, kind="wage", amount=Decimal("60000"),
                                source=Source.VERIFIED)
    assessment = dynamic.reassess(by=staff["officer"], enrolment=enrolment, on=dt.date(2027, 5, 20))
    decision = dynamic.review_decide(by=staff["approver"], enrolment=enrolment, assessment=assessment,
                                     reasons="就业后收入超过标准", employment=True, on=dt.date(2027, 5, 21))
    enrolment.refresh_from_db()
    assert decision.kind == DecisionKind.STOP
    assert enrolment.gradual_exit_until == dt.date(2027, 12, 1)  # June + 6 months
    assert enrolment.active  # still paid through the gradual exit


def test_the_officer_who_reassessed_does_not_decide() -> None:
    staff, enrolment = _enrolled()
    assessment = dynamic.reassess(by=staff["county"], enrolment=enrolment, on=dt.date(2027, 5, 20))
    with pytest.raises(PermissionDenied, match="reassessment"):
        dynamic.review_decide(by=staff["county"], enrolment=enrolment, assessment=assessment, reasons="x",
                              on=dt.date(2027, 5, 21))


def test_a_members_death_brings_the_review_forward_to_three_months() -> None:
    staff, enrolment = _enrolled()
    spouse = enrolment.household.memberships.get(relation="spouse").person
    report = dynamic.member_died(by=staff["officer"], person=spouse, on=dt.date(2027, 1, 10),
                                 reported_on=dt.date(2027, 1, 12))
    enrolment.refresh_from_db()
    assert report.recheck_due == dt.date(2027, 4, 10)
    assert enrolment.review_due == dt.date(2027, 4, 10)
    assert not enrolment.household.memberships.filter(person=spouse, end__isnull=True).exists()
    assert audit.verify().ok


def test_a_user_of_another_township_cannot_report_changes() -> None:
    from django.http import Http404

    _, enrolment = _enrolled()
    stranger = f.user("township_officer", f.OTHER_TOWNSHIP)
    with pytest.raises(Http404):
        dynamic.change_report(by=stranger, household=enrolment.household, kind="income",
                              occurred_on=dt.date(2027, 1, 1), description="x", reported_on=dt.date(2027, 1, 2))
