"""Dynamic management (动态管理, DOMAIN.md §9): change reports, periodic review,
reassessment with the engine and the increase / decrease / stop decision that follows.

A review is two steps by two people, like the first decision: an officer reassesses
(the engine on the household file as it is now), an approver who did not run the
reassessment decides. No change → no adjustment; a stop after employment lifted income
over the standard keeps paying through the gradual-exit months (渐退).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import deadlines
from jiuzhu.casework.models import Assessment, ChangeReport, Decision, DecisionKind, Enrolment
from jiuzhu.casework.services import add_months, decision_from, review_interval, run_means_test, today
from jiuzhu.casework.workflow import ensure_may_handle
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.services import person_record_death

CHANGE_KINDS = ("income", "members", "death", "assets", "other")


@transaction.atomic
def change_report(*, by: User, household: Household, kind: str, occurred_on: dt.date, description: str,
                  reported_on: dt.date | None = None) -> ChangeReport:
    """A change the household reported. A death must be re-checked within the months the
    parameter `review.death_recheck_months` gives; other changes at the next review."""
    reported_on = reported_on or today()
    ensure_can(by, Action.EDIT_HOUSEHOLD, household.area_id)
    problems: dict[str, list[str]] = {}
    if kind not in CHANGE_KINDS:
        problems["kind"] = [_("choose what changed")]
    if occurred_on > reported_on:
        problems["occurred_on"] = [_("cannot be after the day it was reported")]
    if not description.strip():
        problems["description"] = [_("describe the change")]
    if problems:
        raise ValidationError(problems)
    recheck_due = None
    if kind == "death":
        enrolment = household.enrolments.filter(active=True).select_related("application").first()
        if enrolment is not None:
            p = deadlines.procedure_parameters(enrolment.application, occurred_on)
            recheck_due = add_months(occurred_on, int(p.number("review.death_recheck_months")))
            if enrolment.review_due is None or recheck_due < enrolment.review_due:
                Enrolment.objects.filter(household=household, active=True).update(review_due=recheck_due)
    report = ChangeReport.objects.create(household=household, kind=kind, occurred_on=occurred_on,
                                         reported_on=reported_on, description=description, recorded_by=by,
                                         recheck_due=recheck_due)
    audit.record(actor=by, action="change_report.create", obj=report, area=household.area_id,
                 after=audit.snapshot(report))
    return report


@transaction.atomic
def member_died(*, by: User, person: Person, on: dt.date, reported_on: dt.date | None = None) -> ChangeReport:
    """A member's death ends the membership and brings the household's review forward."""
    membership = person.memberships.filter(end__isnull=True).select_related("household").first()
    if membership is None:
        raise ValidationError({"person": [_("this person belongs to no household now")]})
    household = membership.household
    person_record_death(by=by, person=person, on=on, area_code=household.area_id)
    return change_report(by=by, household=household, kind="death", occurred_on=on,
                         description=_("%(name)s died") % {"name": person.name}, reported_on=reported_on)


@transaction.atomic
def reassess(*, by: User, enrolment: Enrolment, on: dt.date | None = None) -> Assessment:
    """The engine on the household file as it is today, kept whole like the first assessment."""
    on = on or today()
    application = enrolment.application
    ensure_can(by, Action.REVIEW, application.area_code)
    ensure_may_handle(by, application)
    if not enrolment.active:
        raise ValidationError(_("This benefit has stopped; there is nothing to review."))
    assessment = run_means_test(by=by, application=application, on=on)
    audit.record(actor=by, action="assessment.review", obj=assessment, area=application.area_code,
                 after={"eligible": assessment.eligible, "monthly_amount": assessment.monthly_amount,
                        "enrolment": enrolment.pk})
    return assessment


def proposed_kind(enrolment: Enrolment, assessment: Assessment) -> str:
    if not assessment.eligible or assessment.monthly_amount <= 0:
        return DecisionKind.STOP
    if assessment.monthly_amount > enrolment.monthly_amount:
        return DecisionKind.INCREASE
    if assessment.monthly_amount < enrolment.monthly_amount:
        return DecisionKind.DECREASE
    return DecisionKind.UNCHANGED


@transaction.atomic
def review_decide(*, by: User, enrolment: Enrolment, assessment: Assessment, reasons: str,
                  employment: bool = False, on: dt.date | None = None) -> Decision:
    """增发、减发、停发 by an approver who did not run the reassessment."""
    on = on or today()
    application = enrolment.application
    ensure_can(by, Action.DECIDE, application.area_code)
    ensure_may_handle(by, application)
    if assessment.application_id != application.pk:
        raise ValidationError(_("This reassessment belongs to another application."))
    if assessment.ran_by_id == by.pk:
        raise PermissionDenied(_("You ran this reassessment, so someone else must decide on it."))
    if not reasons.strip():
        raise ValidationError({"reasons": [_("write the reasons for the decision")]})
    kind = proposed_kind(enrolment, assessment)
    next_month = add_months(on.replace(day=1), 1)
    before = audit.snapshot(enrolment)
    monthly = assessment.monthly_amount
    if kind == DecisionKind.STOP:
        monthly = Decimal("0.00")
        if employment:
            p = deadlines.procedure_parameters(application, on)
            months = int(p.number("dibao.gradual_exit_months"))
            enrolment.gradual_exit_until = add_months(next_month, months)
            enrolment.end_month = enrolment.gradual_exit_until
        else:
            enrolment.end_month = next_month
            enrolment.active = False
    elif kind != DecisionKind.UNCHANGED:
        enrolment.monthly_amount = monthly
    if enrolment.active and not enrolment.gradual_exit_until:
        review_class, months = review_interval(application, on)
        enrolment.review_due, enrolment.review_class = add_months(on, months), review_class
    elif enrolment.gradual_exit_until:
        enrolment.review_due = enrolment.gradual_exit_until
    enrolment.save()
    decision = decision_from(assessment, kind=kind, by=by, reasons=reasons, monthly=monthly, annual=monthly * 12,
                             effective_from=enrolment.end_month if kind == DecisionKind.STOP else next_month)
    ChangeReport.objects.filter(household=enrolment.household, handled=False).update(handled=True)
    audit.record(actor=by, action=f"decision.{kind}", obj=decision, area=application.area_code, before=before,
                 after={**audit.snapshot(enrolment), "decision": decision.pk, "kind": kind}, reason=reasons)
    return decision
