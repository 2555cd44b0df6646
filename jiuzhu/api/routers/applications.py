"""Applications: intake, the procedure's transitions, visits and the clock.

One route moves an application (`POST .../transitions` with the target state); each
target maps to the casework service that takes that step, so the API checks exactly
what the pages check — the transition table, role, area, separation of duties, the
relatives register. The `version` sent is compared before anything happens: a client
that read an older state gets 409, not a step taken on stale information.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, PathEx, Query, Router, Status

from jiuzhu.accounts.models import User
from jiuzhu.api import schemas as s
from jiuzhu.api.auth import user_of
from jiuzhu.casework import deadlines, services
from jiuzhu.casework.models import Application, State, Visit
from jiuzhu.casework.selectors import application_detail, applications_for, due_soon_days
from jiuzhu.casework.workflow import allowed_next, check_transition
from jiuzhu.registry.selectors import households_for
from jiuzhu.registry.services import StaleVersion

router = Router(tags=["applications"])

ApplicationId = PathEx[int, P(ge=1, le=s.MAX_ID)]


def _deadline(date: Any, provisional: bool) -> dict[str, Any] | None:
    return {"date": date, "provisional": provisional} if date else None


def item_out(application: Application) -> dict[str, Any]:
    return {"id": application.pk, "household": application.household_id,
            "household_number": application.household.number, "programme": application.programme,
            "state": application.state, "version": application.version, "area_code": application.area_code,
            "received_at": application.received_at,
            "step_deadline": _deadline(application.step_deadline, application.step_deadline_provisional),
            "clock_stopped": application.clock_stopped, "relative_flag": application.relative_flag}


def _name(user: User | None) -> str | None:
    return None if user is None else (user.get_full_name() or user.username)


def next_states_for(user: User, application: Application) -> list[str]:
    """The states this user may move the application to now (every check of the service)."""
    allowed = []
    for state in allowed_next(application):
        try:
            check_transition(user, application, state)
        except (PermissionDenied, ValidationError, Http404):
            continue
        allowed.append(str(state))
    return allowed


def application_out(user: User, application_id: int) -> dict[str, Any]:
    application = application_detail(user, application_id)
    today = timezone.localdate()
    urgency = deadlines.urgency(application, today, due_soon_days(application.area_code, today))
    return {
        **item_out(application), "intake": application.intake_id, "applicant": application.intake.applicant_id,
        "channel": application.intake.channel, "entered_by": _name(application.entered_by),
        "accepted_by": _name(application.accepted_by), "accepted_on": application.accepted_on,
        "final_deadline": _deadline(application.final_deadline, application.final_deadline_provisional),
        "urgency": urgency.level, "delegated": application.delegated, "opinion": application.opinion,
        "opinion_reason": application.opinion_reason, "allowed_next": next_states_for(user, application),
        "transitions": [{"from_state": t.from_state, "to_state": t.to_state, "by": _name(t.by), "at": t.at,
                         "reason": t.reason} for t in application.transitions.all()],
        "missing_items": [{"description": m.description, "received_on": m.received_on}
                          for m in application.intake.missing_items.all()],
        "visits": len(application.visits.all()),
        "decisions": [d.pk for d in application.decisions.all()],
    }


def for_write(user: User, application_id: int) -> Application:
    """A fresh row, without the page's prefetches: services query what they need."""
    return applications_for(user).select_related("household", "household__area", "intake").get(pk=application_id)


@router.get("/applications", response={200: s.ApplicationPage, **s.ERRORS})
def list_applications(request: HttpRequest, filters: Query[s.ApplicationFilter]) -> dict[str, Any]:
    """Applications in your area, the newest first."""
    qs = applications_for(user_of(request), state=filters.state).select_related("household")
    if filters.programme:
        qs = qs.filter(programme=filters.programme)
    qs = qs.order_by("-received_at", "-id")
    items = qs[filters.offset:filters.offset + filters.limit]
    return {"count": qs.count(), "items": [item_out(a) for a in items]}


@router.get("/applications/{application_id}", response={200: s.ApplicationOut, **s.ERRORS})
def get_application(request: HttpRequest, application_id: ApplicationId) -> dict[str, Any]:
    return application_out(user_of(request), application_id)


@router.post("/applications", response={201: s.IntakeOut, **s.WRITE_ERRORS})
def submit_intake(request: HttpRequest, payload: s.IntakeIn) -> Status[dict[str, Any]]:
    """One intake at the window: one application per programme, the consents of the adult
    members, the promise of truth, the missing items listed once."""
    user = user_of(request)
    household = households_for(user).get(pk=payload.household)  # another area's household: 404
    members = {m.person_id: m.person for m in household.memberships.filter(end__isnull=True).select_related("person")}
    problems: dict[str, list[str]] = {}
    not_member = _("is not a current member of this household")
    if payload.applicant not in members:
        problems["applicant"] = [not_member]
    consents = []
    for i, consent in enumerate(payload.consents):
        if consent.person not in members:
            problems[f"consents[{i}].person"] = [not_member]
        else:
            consents.append(services.ConsentData(members[consent.person], signature=consent.signature))
    if len(set(payload.programmes)) != len(payload.programmes):
        problems["programmes"] = [_("lists a programme twice")]
    for key in payload.facts.members:
        if int(key) not in members:
            problems[f"facts.members.{key}"] = [not_member]
    if problems:
        raise ValidationError(problems)
    intake = services.intake_submit(by=user, household=household, applicant=members[payload.applicant],
                                    programmes=list(payload.programmes), channel=payload.channel, consents=consents,
                                    truth_promise=payload.truth_promise, missing_items=list(payload.missing_items),
                                    facts=payload.facts.model_dump())
    applications = intake.applications.select_related("household").order_by("id")
    return Status(201, {"id": intake.pk, "household": household.pk,
                        "applications": [item_out(a) for a in applications]})


# -- transitions -------------------------------------------------------------------------

Step = Callable[[User, Application, s.TransitionIn], object]


def _visit(user: User, application: Application, visit: s.VisitIn) -> Visit:
    ids = list(dict.fromkeys(visit.investigators))
    found = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True)}
    unknown = [i for i, pk in enumerate(visit.investigators) if pk not in found]
    if unknown:
        raise ValidationError({f"investigators[{i}]": [_("No such user.")] for i in unknown})
    return services.visit_record(by=user, application=application, visited_on=visit.visited_on,
                                 investigators=[found[pk] for pk in ids], findings=visit.findings,
                                 signed_by_household=visit.signed_by_household, signed_on=visit.signed_on,
                                 county_visit=visit.county_visit, living_conditions=visit.living_conditions)


def _assess(user: User, application: Application, p: s.TransitionIn) -> object:
    if p.visit is not None:
        try:
            _visit(user, application, p.visit)
        except ValidationError as exc:
            raise ValidationError({f"visit.{k}": v for k, v in exc.message_dict.items()}
                                  if hasattr(exc, "error_dict") else exc.messages) from exc
    return services.assess(by=user, application=application)


def _first_review(user: User, application: Application, p: s.TransitionIn) -> object:
    if p.opinion is None:
        raise ValidationError({"opinion": [_("choose approve or refuse")]})
    return services.first_review(by=user, application=application, opinion=p.opinion, reason=p.reason)


def _objection(user: User, application: Application, p: s.TransitionIn) -> object:
    received = p.received_on
    if received is not None and received > timezone.localdate():
        raise ValidationError({"received_on": [_("cannot be in the future")]})
    if received is not None and received < timezone.localtime(application.received_at).date():
        raise ValidationError({"received_on": [_("cannot be before the application was received")]})
    return services.objection_record(by=user, application=application, content=p.content, raised_by=p.raised_by,
                                     received_on=p.received_on)


def _recheck(user: User, application: Application, p: s.TransitionIn) -> object:
    objection = application.objections.filter(resolved_on__isnull=True).order_by("-id").first()
    if objection is None:
        raise ValidationError(_("There is no open objection to resolve."))
    objection.application = application  # the instance whose version was checked
    return services.objection_resolve(by=user, objection=objection, method=p.method or "", outcome=p.outcome)


def _decide(user: User, application: Application, p: s.TransitionIn) -> object:
    return services.decide(by=user, application=application, approve=p.to == "approved",
                           reasons=p.reasons or p.reason)


STEPS: dict[str, Step] = {
    State.ACCEPTED: lambda u, a, p: services.accept(by=u, application=a, reason=p.reason),
    State.INVESTIGATING: lambda u, a, p: services.investigation_start(by=u, application=a),
    State.ASSESSED: _assess,
    State.FIRST_REVIEW: _first_review,
    State.NOTICE: lambda u, a, p: services.notice_publish(by=u, applications=[a]),
    State.OBJECTION: _objection,
    State.RECHECK: _recheck,
    State.APPROVED: _decide,
    State.REFUSED: _decide,
    State.ENROLLED: lambda u, a, p: services.enrol(by=u, application=a),
    State.WITHDRAWN: lambda u, a, p: services.withdraw(by=u, application=a, reason=p.reason),
}


def _check_version(application: Application, version: int) -> None:
    if application.version != version:
        raise StaleVersion(application, version)


@router.post("/applications/{application_id}/transitions", response={200: s.ApplicationOut, **s.WRITE_ERRORS})
def move(request: HttpRequest, application_id: ApplicationId, payload: s.TransitionIn) -> dict[str, Any]:
    """Take the next step of the procedure (see `allowed_next` of the application).
    accepted → accept, investigating → start the investigation, assessed → (record the
    `visit`, then) run the means test, first_review → the opinion, notice → publish the
    village notice, objection → record it, recheck → resolve the open objection,
    approved/refused → decide (not by whoever entered or accepted it), enrolled → enrol,
    withdrawn → withdraw."""
    user = user_of(request)
    application = for_write(user, application_id)
    _check_version(application, payload.version)
    if payload.to not in allowed_next(application):
        try:
            check_transition(user, application, payload.to)
        except ValidationError as exc:
            raise ValidationError({"to": exc.messages}) from exc
    step = STEPS.get(payload.to)
    if step is None:  # "received": never a target; check_transition said why above
        raise ValidationError({"to": [_("This state is not reached by a transition.")]})
    with transaction.atomic():
        step(user, application, payload)
    return application_out(user, application_id)


@router.post("/applications/{application_id}/visits", response={201: s.VisitOut, **s.WRITE_ERRORS})
def record_visit(request: HttpRequest, application_id: ApplicationId,
                 payload: s.VisitIn) -> Status[dict[str, Any]]:
    """入户调查: at least two investigators (user ids), the date, findings, who signed."""
    user = user_of(request)
    application = for_write(user, application_id)
    visit = _visit(user, application, payload)
    return Status(201, {"id": visit.pk, "visited_on": visit.visited_on, "county_visit": visit.county_visit,
                        "investigators": [_name(u) for u in visit.investigators.all()], "findings": visit.findings,
                        "signed_by_household": visit.signed_by_household, "signed_on": visit.signed_on})


@router.post("/applications/{application_id}/clock-stop", response={200: s.ApplicationOut, **s.WRITE_ERRORS})
def stop_clock(request: HttpRequest, application_id: ApplicationId, payload: s.ClockStopIn) -> dict[str, Any]:
    """补正: ask the applicant for missing items; the time limits stand still until resumed."""
    user = user_of(request)
    application = for_write(user, application_id)
    _check_version(application, payload.version)
    services.clock_stop(by=user, application=application, reason=payload.reason)
    return application_out(user, application_id)


@router.post("/applications/{application_id}/clock-resume", response={200: s.ApplicationOut, **s.WRITE_ERRORS})
def resume_clock(request: HttpRequest, application_id: ApplicationId, payload: s.ClockResumeIn) -> dict[str, Any]:
    user = user_of(request)
    application = for_write(user, application_id)
    _check_version(application, payload.version)
    services.clock_resume(by=user, application=application)
    return application_out(user, application_id)
