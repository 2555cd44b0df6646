"""Casework writes: one function per step of the procedure (DOMAIN.md §7, §9, §10).

Each checks who may do it (via `workflow.transition` or `ensure_can`), validates,
writes and audits in one transaction, and keeps the step deadlines current.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.calendar import add_days
from jiuzhu.casework import deadlines, means_test
from jiuzhu.casework.models import (
    FINAL_STATES,
    Application,
    Assessment,
    Channel,
    ClockStop,
    Decision,
    DecisionKind,
    Enrolment,
    Intake,
    MissingItem,
    Notice,
    NoticeEntry,
    NoticeKind,
    Objection,
    RelativeDeclaration,
    State,
    Visit,
)
from jiuzhu.casework.programmes import programme_info
from jiuzhu.casework.workflow import ensure_may_handle, relatives_of, transition
from jiuzhu.registry.masking import mask_name
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.selectors import current_members
from jiuzhu.rules.errors import InvalidCase
from jiuzhu.rules.parameters import ParameterContext, default_tree
from jiuzhu.verification.services import consent_record


def today() -> dt.date:
    return timezone.localdate()


def _refresh_deadlines(application: Application, on: dt.date, *, notice_ends: dt.date | None = None) -> None:
    p = deadlines.procedure_parameters(application, on)
    step = deadlines.step_deadline(application, p, today=on, notice_ends=notice_ends)
    application.step_deadline = step.date if step else None
    application.step_deadline_provisional = bool(step and step.provisional)
    if application.accepted_on is not None:
        whole = deadlines.whole_deadline(application, p)
        application.final_deadline, application.final_deadline_provisional = whole.date, whole.provisional
    Application.objects.filter(pk=application.pk).update(
        step_deadline=application.step_deadline, step_deadline_provisional=application.step_deadline_provisional,
        final_deadline=application.final_deadline, final_deadline_provisional=application.final_deadline_provisional)


# -- intake -------------------------------------------------------------------------

@dataclass
class ConsentData:
    person: Person
    signature: str = ""
    scan: Any = None  # an UploadedFile


@transaction.atomic
def intake_submit(*, by: User, household: Household, applicant: Person, programmes: list[str], channel: str,
                  consents: list[ConsentData], truth_promise: bool, missing_items: list[str] | None = None,
                  facts: dict[str, Any] | None = None, on: dt.date | None = None) -> Intake:
    """一门受理: one intake, several programmes; consent of every adult member required."""
    on = on or today()
    ensure_can(by, Action.INTAKE, household.area_id)
    problems: dict[str, list[str]] = {}
    members = current_members(household) if hasattr(household, "_prefetched_objects_cache") else list(
        household.memberships.filter(end__isnull=True).select_related("person"))
    member_ids = {m.person_id for m in members}
    if applicant.pk not in member_ids:
        problems["applicant"] = [_("the applicant must be a member of the household")]
    if not programmes:
        problems["programmes"] = [_("choose at least one programme")]
    for code in programmes:
        if programme_info(household.area_id, code) is None:
            problems.setdefault("programmes", []).append(_("“%(code)s” is not offered in this area") % {"code": code})
    open_ = set(Application.objects.filter(household=household, programme__in=programmes)
                .exclude(state__in=FINAL_STATES).values_list("programme", flat=True))
    for code in sorted(open_):
        problems.setdefault("programmes", []).append(
            _("the household already has an open application for “%(code)s”") % {"code": code})
    if channel not in Channel.values:
        problems["channel"] = [_("choose a channel")]
    if not truth_promise:
        problems["truth_promise"] = [_("the applicant must sign the promise of truth")]
    given = {c.person.pk: c for c in consents if c.signature.strip() or c.scan}
    for m in members:
        if m.counted and m.person.age_on(on) >= 18 and m.person_id not in given:
            problems.setdefault("consents", []).append(
                _("%(name)s is an adult member: their consent to verification is needed") % {"name": m.person.name})
    if problems:
        raise ValidationError(problems)
    intake = Intake.objects.create(household=household, channel=channel, entered_by=by, applicant=applicant,
                                   truth_promise=True, facts=facts or {})
    intake.consents.set([consent_record(by=by, household=household, person=consent.person,
                                        signature=consent.signature, scan=consent.scan, on=on)
                         for consent in given.values()])
    for item in missing_items or []:
        if item.strip():
            MissingItem.objects.create(intake=intake, description=item.strip())
    flagged = bool(relatives_of(household.pk))
    received = timezone.now()
    for code in programmes:
        application = Application.objects.create(
            intake=intake, household=household, programme=code, area_code=household.area_id, entered_by=by,
            received_at=received, relative_flag=flagged)
        audit.record(actor=by, action="application.received", obj=application, area=household.area_id,
                     after=audit.snapshot(application))
    audit.record(actor=by, action="intake.create", obj=intake, area=household.area_id,
                 after={"programmes": programmes, "channel": channel, "missing_items": missing_items or [],
                        "consents": sorted(given)})
    return intake


@transaction.atomic
def accept(*, by: User, application: Application, on: dt.date | None = None, reason: str = "") -> Application:
    on = on or today()
    transition(application, to=State.ACCEPTED, by=by, reason=reason)
    application.accepted_by, application.accepted_on = by, on
    Application.objects.filter(pk=application.pk).update(accepted_by=by, accepted_on=on)
    _refresh_deadlines(application, on)
    return application


@transaction.atomic
def clock_stop(*, by: User, application: Application, reason: str, on: dt.date | None = None) -> ClockStop:
    """补正: ask for missing items; the clock stops until they arrive."""
    on = on or today()
    ensure_can(by, Action.REQUEST_ITEMS, application.area_code)
    ensure_may_handle(by, application)
    if application.state in FINAL_STATES or application.accepted_on is None:
        raise ValidationError(_("Only an accepted application that is still open has a clock to stop."))
    if application.clock_stopped:
        raise ValidationError(_("The clock is already stopped."))
    if not reason.strip():
        raise ValidationError({"reason": [_("say which items are asked for")]})
    stop = ClockStop.objects.create(application=application, started_on=on, reason=reason, by=by)
    Application.objects.filter(pk=application.pk).update(clock_stopped=True, version=F("version") + 1)
    application.clock_stopped, application.version = True, application.version + 1
    audit.record(actor=by, action="application.clock_stop", obj=application, area=application.area_code,
                 after={"started_on": on}, reason=reason)
    return stop


@transaction.atomic
def clock_resume(*, by: User, application: Application, on: dt.date | None = None) -> ClockStop:
    on = on or today()
    ensure_can(by, Action.REQUEST_ITEMS, application.area_code)
    stop = application.clock_stops.filter(ended_on__isnull=True).first()
    if stop is None:
        raise ValidationError(_("The clock is not stopped."))
    if on < stop.started_on:
        raise ValidationError({"on": [_("cannot be before the clock stopped")]})
    stop.ended_on = on
    stop.save(update_fields=["ended_on"])
    Application.objects.filter(pk=application.pk).update(clock_stopped=False, version=F("version") + 1)
    application.clock_stopped, application.version = False, application.version + 1
    audit.record(actor=by, action="application.clock_resume", obj=application, area=application.area_code,
                 after={"started_on": stop.started_on, "ended_on": on})
    _refresh_deadlines(application, on)
    return stop


# -- investigation and assessment -------------------------------------------------------

@transaction.atomic
def investigation_start(*, by: User, application: Application, on: dt.date | None = None) -> Application:
    on = on or today()
    transition(application, to=State.INVESTIGATING, by=by)
    _refresh_deadlines(application, on)
    return application


@transaction.atomic
def visit_record(*, by: User, application: Application, visited_on: dt.date, investigators: list[User],
                 findings: str, signed_by_household: str, signed_on: dt.date, county_visit: bool = False,
                 living_conditions: str = "") -> Visit:
    """入户调查: at least two investigators, each allowed to investigate in the area."""
    ensure_can(by, Action.INVESTIGATE, application.area_code)
    ensure_may_handle(by, application)
    problems: dict[str, list[str]] = {}
    if application.state not in (State.INVESTIGATING, State.ASSESSED, State.FIRST_REVIEW, State.OBJECTION,
                                 State.NOTICE, State.RECHECK):
        raise ValidationError(_("A visit is recorded while the application is being investigated or re-checked."))
    people = {u.pk: u for u in investigators}
    if len(people) < 2:
        problems["investigators"] = [_("a household visit needs at least two investigators")]
    for user in people.values():
        if not (user.covers(application.area_code) and user.may(Action.INVESTIGATE)):
            problems.setdefault("investigators", []).append(
                _("%(name)s may not investigate in this area") % {"name": user.get_full_name() or user.username})
        try:
            ensure_may_handle(user, application)
        except PermissionDenied as exc:
            problems.setdefault("investigators", []).append(str(exc))
    if county_visit and not any(u.area_id and len(u.area_id) <= 6 for u in people.values()):
        problems.setdefault("county_visit", []).append(_("a county visit needs an investigator from the county"))
    if visited_on > today():
        problems["visited_on"] = [_("cannot be in the future")]
    if signed_on < visited_on:
        problems["signed_on"] = [_("cannot be before the visit")]
    if not findings.strip():
        problems["findings"] = [_("is required")]
    if not signed_by_household.strip():
        problems["signed_by_household"] = [_("the household member who signed the record is required")]
    if problems:
        raise ValidationError(problems)
    visit = Visit.objects.create(application=application, visited_on=visited_on, findings=findings,
                                 living_conditions=living_conditions, signed_by_household=signed_by_household,
                                 signed_on=signed_on, county_visit=county_visit, recorded_by=by)
    visit.investigators.set(list(people.values()))
    audit.record(actor=by, action="visit.create", obj=visit, area=application.area_code,
                 after={**audit.snapshot(visit), "investigators": sorted(people)})
    return visit


def run_means_test(*, by: User, application: Application, on: dt.date) -> Assessment:
    """The engine on the household file as it is on `on`; everything it used and said is kept."""
    case, declared = means_test.application_case(application, on)
    try:
        result, zh, en = means_test.evaluate(case)
    except InvalidCase as exc:
        raise ValidationError([_("%(path)s: %(message)s") % {"path": p.path, "message": p.message()}
                               for p in exc.problems]) from exc
    eligible, annual = means_test.programme_amount(result, application.programme)
    info = programme_info(application.area_code, application.programme)
    monthly = means_test.monthly(annual) if info is None or info.monthly else Decimal("0.00")
    return Assessment.objects.create(application=application, ran_by=by, case=case, declared_paths=declared,
                                     result=result, explanation_zh=zh, explanation_en=en, eligible=eligible,
                                     annual_amount=annual, monthly_amount=monthly)


@transaction.atomic
def assess(*, by: User, application: Application, on: dt.date | None = None) -> Assessment:
    """Run the rules engine on the household file after the visit."""
    on = on or today()
    if not application.visits.exists():
        raise ValidationError(_("Record the household visit before the means test."))
    transition(application, to=State.ASSESSED, by=by)
    assessment = run_means_test(by=by, application=application, on=on)
    audit.record(actor=by, action="assessment.create", obj=assessment, area=application.area_code,
                 after={"eligible": assessment.eligible, "annual_amount": assessment.annual_amount,
                        "monthly_amount": assessment.monthly_amount, "declared_paths": assessment.declared_paths})
    _refresh_deadlines(application, on)
    return assessment


@transaction.atomic
def first_review(*, by: User, application: Application, opinion: str, reason: str,
                 on: dt.date | None = None) -> Application:
    on = on or today()
    if opinion not in ("approve", "refuse"):
        raise ValidationError({"opinion": [_("choose approve or refuse")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("give the reasons for the opinion")]})
    transition(application, to=State.FIRST_REVIEW, by=by, reason=reason)
    Application.objects.filter(pk=application.pk).update(opinion=opinion, opinion_reason=reason)
    application.opinion, application.opinion_reason = opinion, reason
    _refresh_deadlines(application, on)
    return application


# -- public notice and objections -------------------------------------------------------

def _notice_parameters(area_code: str, on: dt.date, area_type: str = "rural") -> ParameterContext:
    return ParameterContext(default_tree(), area_code, on, area_type)


@transaction.atomic
def notice_publish(*, by: User, applications: list[Application], kind: str = NoticeKind.FIRST_REVIEW,
                   on: dt.date | None = None) -> Notice:
    """公示: one notice per village; each entry only masked name, household size and amount (§10)."""
    on = on or today()
    if not applications:
        raise ValidationError(_("Choose the applications to put on the notice."))
    villages = {a.household.area_id for a in applications}
    if len(villages) != 1:
        raise ValidationError(_("A notice is posted in one village: choose applications of one village."))
    village = applications[0].household.area
    ensure_can(by, Action.PUBLISH_NOTICE, village.code)
    p = _notice_parameters(village.code, on)
    days = int(p.number("procedure.first_review_notice_days"))
    ends = add_days(on, days).date
    style = p.text("notice.name_mask")
    notice = Notice.objects.create(area=village, kind=kind, published_on=on, ends_on=ends, published_by=by)
    for application in applications:
        if kind == NoticeKind.FIRST_REVIEW:
            transition(application, to=State.NOTICE, by=by)
            _refresh_deadlines(application, on, notice_ends=ends)
        elif application.state not in (State.APPROVED, State.ENROLLED):
            raise ValidationError(_("Only approved applications are announced."))
        assessment = application.assessments.first()
        members = application.household.memberships.filter(end__isnull=True, counted=True)
        head = application.intake.applicant
        NoticeEntry.objects.create(
            notice=notice, application=application, masked_name=mask_name(head.name, style),
            household_size=members.count(),
            monthly_amount=assessment.monthly_amount if assessment else Decimal("0.00"),
            opinion=application.opinion)
    audit.record(actor=by, action="notice.publish", obj=notice, area=village.code,
                 after={"kind": kind, "applications": [a.pk for a in applications], "ends_on": ends})
    return notice


@transaction.atomic
def objection_record(*, by: User, application: Application, content: str, raised_by: str = "",
                     received_on: dt.date | None = None) -> Objection:
    received_on = received_on or today()
    if not content.strip():
        raise ValidationError({"content": [_("write down what the objection says")]})
    transition(application, to=State.OBJECTION, by=by, reason=content)
    entry = application.notice_entries.order_by("-id").first()
    objection = Objection.objects.create(application=application, notice_entry=entry, received_on=received_on,
                                         raised_by=raised_by, content=content, recorded_by=by)
    audit.record(actor=by, action="objection.create", obj=objection, area=application.area_code,
                 after=audit.snapshot(objection))
    _refresh_deadlines(application, received_on)
    return objection


@transaction.atomic
def objection_resolve(*, by: User, objection: Objection, method: str, outcome: str,
                      on: dt.date | None = None) -> Objection:
    """Re-investigation or democratic appraisal (民主评议), then the case goes to decision."""
    on = on or today()
    problems: dict[str, list[str]] = {}
    if method not in ("recheck", "appraisal"):
        problems["method"] = [_("choose re-investigation or democratic appraisal")]
    if not outcome.strip():
        problems["outcome"] = [_("record the outcome")]
    if problems:
        raise ValidationError(problems)
    application = objection.application
    transition(application, to=State.RECHECK, by=by, reason=outcome)
    objection.method, objection.outcome, objection.resolved_on = method, outcome, on
    objection.save(update_fields=["method", "outcome", "resolved_on"])
    audit.record(actor=by, action="objection.resolve", obj=objection, area=application.area_code,
                 after={"method": method, "outcome": outcome})
    _refresh_deadlines(application, on)
    return objection


# -- decision and enrolment ----------------------------------------------------------

@transaction.atomic
def decide(*, by: User, application: Application, approve: bool, reasons: str,
           on: dt.date | None = None) -> Decision:
    """审批: by someone who neither entered nor accepted the case; a flagged case needs a
    county visit; during the notice period no decision is taken."""
    on = on or today()
    problems: list[str] = []
    if not reasons.strip():
        raise ValidationError({"reasons": [_("write the reasons for the decision")]})
    if application.state == State.NOTICE:
        entry = application.notice_entries.select_related("notice").order_by("-id").first()
        if entry is not None and entry.notice.ends_on >= on:
            problems.append(_("The public notice runs until %(date)s; decide after it ends.")
                            % {"date": entry.notice.ends_on.isoformat()})
    if application.relative_flag and not application.visits.filter(county_visit=True).exists():
        problems.append(_("A relative of staff is in this household: the county must visit before the decision."))
    assessment = application.assessments.first()
    if assessment is None:
        problems.append(_("No means test has been run."))
    if approve and assessment is not None and not assessment.eligible:
        problems.append(_("The means test found the household not eligible; it cannot be approved as it stands."))
    if problems:
        raise ValidationError(problems)
    assert assessment is not None
    transition(application, to=State.APPROVED if approve else State.REFUSED, by=by, reason=reasons)
    decision = decision_from(assessment, kind=DecisionKind.APPROVE if approve else DecisionKind.REFUSE, by=by,
                             reasons=reasons,
                             monthly=assessment.monthly_amount if approve else Decimal("0.00"),
                             annual=assessment.annual_amount if approve else Decimal("0.00"),
                             effective_from=add_months(on.replace(day=1), 1) if approve else None)
    audit.record(actor=by, action="decision.create", obj=decision, area=application.area_code,
                 after={"kind": decision.kind, "annual_amount": decision.annual_amount,
                        "monthly_amount": decision.monthly_amount, "effective_from": decision.effective_from},
                 reason=reasons)
    _refresh_deadlines(application, on)
    return decision


def decision_from(assessment: Assessment, *, kind: str, by: User, reasons: str, monthly: Decimal, annual: Decimal,
                  effective_from: dt.date | None) -> Decision:
    """A decision carries the assessment it rests on whole: case, result, the parameters the
    trace used and the explanation, so it can be shown exactly as it was made."""
    application = assessment.application
    parameters = [entry for t in assessment.result.get("trace", []) for entry in t.get("parameters", [])]
    return Decision.objects.create(
        application=application, household=application.household, kind=kind, assessment=assessment,
        case=assessment.case, result=assessment.result, parameters=parameters,
        explanation_zh=assessment.explanation_zh, explanation_en=assessment.explanation_en,
        annual_amount=annual, monthly_amount=monthly, reasons=reasons, decided_by=by, effective_from=effective_from)


def review_interval(application: Application, on: dt.date) -> tuple[str, int]:
    """Tekun and stable households yearly; households with working-age members twice a year."""
    p = deadlines.procedure_parameters(application, on)
    if application.programme == "tekun":
        return "tekun", int(p.number("review.tekun_months"))
    working_age = any(18 <= m.person.age_on(on) < 60
                      for m in application.household.memberships.filter(end__isnull=True).select_related("person"))
    if working_age:
        return "unstable", int(p.number("review.unstable_months"))
    return "stable", int(p.number("review.stable_months"))


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


@transaction.atomic
def enrol(*, by: User, application: Application, on: dt.date | None = None) -> Enrolment:
    on = on or today()
    decision = application.decisions.filter(kind=DecisionKind.APPROVE).first()
    if decision is None:
        raise ValidationError(_("Only an approved application is enrolled."))
    transition(application, to=State.ENROLLED, by=by)
    review_class, months = review_interval(application, on)
    start = decision.effective_from or on
    enrolment = Enrolment.objects.create(household=application.household, application=application,
                                         programme=application.programme, monthly_amount=decision.monthly_amount,
                                         start_month=start, review_due=add_months(start, months),
                                         review_class=review_class)
    audit.record(actor=by, action="enrolment.create", obj=enrolment, area=application.area_code,
                 after=audit.snapshot(enrolment))
    _refresh_deadlines(application, on)
    return enrolment


@transaction.atomic
def withdraw(*, by: User, application: Application, reason: str, on: dt.date | None = None) -> Application:
    if not reason.strip():
        raise ValidationError({"reason": [_("record why the application is withdrawn")]})
    transition(application, to=State.WITHDRAWN, by=by, reason=reason)
    _refresh_deadlines(application, on or today())
    return application


# -- relatives register ------------------------------------------------------------

@transaction.atomic
def relative_declare(*, by: User, area_code: str, declarant: User | None, declarant_name: str, declarant_post: str,
                     relative_name: str, relative_id_number: str, relation: str) -> RelativeDeclaration:
    """近亲属备案. Open applications of the relative's household are flagged at once."""
    from jiuzhu.areas.models import Area
    from jiuzhu.registry.identity import check_resident_id, normalise_resident_id

    ensure_can(by, Action.DECLARE_RELATIVES, area_code)
    number = normalise_resident_id(relative_id_number)
    problems: dict[str, list[str]] = {}
    if not check_resident_id(number).valid:
        problems["relative_id_number"] = [_("is not a valid resident ID number")]
    for name, value in (("declarant_name", declarant_name), ("relative_name", relative_name),
                        ("relation", relation), ("declarant_post", declarant_post)):
        if not value.strip():
            problems[name] = [_("is required")]
    if problems:
        raise ValidationError(problems)
    declaration = RelativeDeclaration.objects.create(
        declarant=declarant, declarant_name=declarant_name, declarant_post=declarant_post,
        area=Area.objects.get(code=area_code), relative_name=relative_name, relative_id_number=number,
        relation=relation)
    households = Household.objects.filter(memberships__person__id_number=number, memberships__end__isnull=True)
    flagged = Application.objects.filter(household__in=households).exclude(state__in=FINAL_STATES)
    ids = list(flagged.values_list("pk", flat=True))
    flagged.update(relative_flag=True)
    audit.record(actor=by, action="relative.declare", obj=declaration, area=area_code,
                 after={**audit.snapshot(declaration), "flagged_applications": ids})
    return declaration
