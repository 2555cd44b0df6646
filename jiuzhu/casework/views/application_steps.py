"""The steps of the application page: who may take each one now, its form and its service.

`STEPS` is the table the page and the URL patterns are built from, so a step's duty check,
form and service call stand together in one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import services
from jiuzhu.casework.forms_steps import (
    AcceptForm,
    AssessForm,
    ClockResumeForm,
    ClockStopForm,
    DecideForm,
    EnrolForm,
    FirstReviewForm,
    InvestigationStartForm,
    ObjectionForm,
    ObjectionResolveForm,
    StepForm,
    VisitForm,
    WithdrawForm,
)
from jiuzhu.casework.models import FINAL_STATES, Application, DecisionKind, State
from jiuzhu.casework.workflow import allowed_next, check_transition, ensure_may_handle

VISIT_STATES = frozenset({State.INVESTIGATING, State.ASSESSED, State.FIRST_REVIEW, State.OBJECTION, State.NOTICE,
                          State.RECHECK})


def may_move(user: User, application: Application, to: str) -> bool:
    """True when the table allows the move and every check of the transition passes for this user."""
    if to not in allowed_next(application):
        return False
    try:
        check_transition(user, application, to)
    except (PermissionDenied, ValidationError, Http404):
        return False
    return True


def may_handle(user: User, application: Application) -> bool:
    try:
        ensure_may_handle(user, application)
    except PermissionDenied:
        return False
    return user.covers(application.area_code)


def decide_blockers(application: Application, today: dt.date) -> list[str]:
    """Why no decision can be taken yet, in the service's own terms (so no form is shown in vain)."""
    blockers = []
    if application.state == State.NOTICE:
        entries = sorted(application.notice_entries.all(), key=lambda e: e.pk, reverse=True)
        if entries and entries[0].notice.ends_on >= today:
            blockers.append(_("The public notice runs until %(date)s; decide after it ends.")
                            % {"date": entries[0].notice.ends_on.isoformat()})
    if application.relative_flag and not any(v.county_visit for v in application.visits.all()):
        blockers.append(_("A relative of staff is in this household: the county must visit before the decision."))
    if not application.assessments.all():
        blockers.append(_("No means test has been run."))
    return blockers


def latest_assessment(application: Application) -> Any:
    found = list(application.assessments.all())
    return found[0] if found else None


@dataclass(frozen=True)
class Step:
    """One action of the page: its URL, the duty its view demands, its form and its service."""

    name: str
    slug: str
    action: str
    form: type[StepForm]
    title: str | Promise
    button: str | Promise
    done: str | Promise
    run: Callable[[User, Application, dict[str, Any]], object]
    available: Callable[[User, Application, dt.date], bool]
    danger: bool = False
    #: False for a step taken only now and then (withdrawal, a clock stop, a second visit): its form
    #: starts folded, so the step that moves the case on stands out.
    usual: Callable[[Application], bool] = lambda application: True

    @property
    def url_name(self) -> str:
        return f"application_{self.name}"


def _moves(to: str) -> Callable[[User, Application, dt.date], bool]:
    return lambda user, application, today: may_move(user, application, to)


def _may_decide(user: User, application: Application, today: dt.date) -> bool:
    return ((may_move(user, application, State.APPROVED) or may_move(user, application, State.REFUSED))
            and not decide_blockers(application, today))


def _may_stop_clock(user: User, application: Application, today: dt.date) -> bool:
    return (user.may(Action.REQUEST_ITEMS) and may_handle(user, application) and application.accepted_on is not None
            and application.state not in FINAL_STATES and not application.clock_stopped)


def _may_resume_clock(user: User, application: Application, today: dt.date) -> bool:
    return user.may(Action.REQUEST_ITEMS) and user.covers(application.area_code) and application.clock_stopped


def _may_visit(user: User, application: Application, today: dt.date) -> bool:
    return user.may(Action.INVESTIGATE) and application.state in VISIT_STATES and may_handle(user, application)


def _may_assess(user: User, application: Application, today: dt.date) -> bool:
    return may_move(user, application, State.ASSESSED) and bool(application.visits.all())


def _may_resolve(user: User, application: Application, today: dt.date) -> bool:
    return (may_move(user, application, State.RECHECK)
            and any(o.resolved_on is None for o in application.objections.all()))


def _may_enrol(user: User, application: Application, today: dt.date) -> bool:
    return (may_move(user, application, State.ENROLLED)
            and any(d.kind == DecisionKind.APPROVE for d in application.decisions.all()))


def _run_visit(by: User, application: Application, data: dict[str, Any]) -> object:
    return services.visit_record(
        by=by, application=application, visited_on=data["visited_on"], investigators=list(data["investigators"]),
        findings=data["findings"], signed_by_household=data["signed_by_household"], signed_on=data["signed_on"],
        county_visit=data["county_visit"], living_conditions=data["living_conditions"])


STEPS: tuple[Step, ...] = (
    Step("accept", "accept", Action.ACCEPT, AcceptForm, gettext_lazy("Accept the application"),
         gettext_lazy("Accept"), gettext_lazy("The application is accepted; the time limits run from today."),
         lambda by, a, d: services.accept(by=by, application=a, reason=d["reason"]), _moves(State.ACCEPTED)),
    Step("clock_stop", "request-items", Action.REQUEST_ITEMS, ClockStopForm,
         gettext_lazy("Ask for missing items (the clock stops)"), gettext_lazy("Stop the clock"),
         gettext_lazy("The clock is stopped until the items arrive."),
         lambda by, a, d: services.clock_stop(by=by, application=a, reason=d["reason"]), _may_stop_clock,
         usual=lambda a: False),
    Step("clock_resume", "items-received", Action.REQUEST_ITEMS, ClockResumeForm,
         gettext_lazy("The missing items have arrived"), gettext_lazy("Resume the clock"),
         gettext_lazy("The clock runs again; the deadlines moved by the days it stood still."),
         lambda by, a, d: services.clock_resume(by=by, application=a), _may_resume_clock),
    Step("investigate", "investigate", Action.INVESTIGATE, InvestigationStartForm,
         gettext_lazy("Start the investigation"), gettext_lazy("Start the investigation"),
         gettext_lazy("The investigation has started."),
         lambda by, a, d: services.investigation_start(by=by, application=a), _moves(State.INVESTIGATING)),
    Step("visit", "visit", Action.INVESTIGATE, VisitForm, gettext_lazy("Record the household visit"),
         gettext_lazy("Record the visit"), gettext_lazy("The household visit is recorded."), _run_visit, _may_visit,
         usual=lambda a: not a.visits.all()),
    Step("assess", "assess", Action.ASSESS, AssessForm, gettext_lazy("Run the means test"),
         gettext_lazy("Run the means test"), gettext_lazy("The means test has run; its result is below."),
         lambda by, a, d: services.assess(by=by, application=a), _may_assess),
    Step("first_review", "first-review", Action.FIRST_REVIEW, FirstReviewForm,
         gettext_lazy("First-review opinion"), gettext_lazy("Give the opinion"),
         gettext_lazy("The first-review opinion is recorded; it goes on the village notice next."),
         lambda by, a, d: services.first_review(by=by, application=a, opinion=d["opinion"], reason=d["reason"]),
         _moves(State.FIRST_REVIEW)),
    Step("objection", "objection", Action.RECORD_OBJECTION, ObjectionForm, gettext_lazy("Record an objection"),
         gettext_lazy("Record the objection"), gettext_lazy("The objection is recorded."),
         lambda by, a, d: services.objection_record(by=by, application=a, content=d["content"],
                                                    raised_by=d["raised_by"], received_on=d["received_on"]),
         _moves(State.OBJECTION), usual=lambda a: False),
    Step("objection_resolve", "resolve-objection", Action.FIRST_REVIEW, ObjectionResolveForm,
         gettext_lazy("Resolve the objection"), gettext_lazy("Record the outcome"),
         gettext_lazy("The objection is resolved; the application goes to decision."),
         lambda by, a, d: services.objection_resolve(by=by, objection=d["objection"], method=d["method"],
                                                     outcome=d["outcome"]), _may_resolve),
    Step("decide", "decide", Action.DECIDE, DecideForm, gettext_lazy("Decide"), gettext_lazy("Record the decision"),
         gettext_lazy("The decision is recorded."),
         lambda by, a, d: services.decide(by=by, application=a, approve=d["outcome"] == "approve",
                                          reasons=d["reasons"]), _may_decide),
    Step("enrol", "enrol", Action.ENROL, EnrolForm, gettext_lazy("Enrol in payment"), gettext_lazy("Enrol"),
         gettext_lazy("The household is enrolled; payments start in the month the decision took effect."),
         lambda by, a, d: services.enrol(by=by, application=a), _may_enrol),
    Step("withdraw", "withdraw", Action.WITHDRAW, WithdrawForm, gettext_lazy("Withdraw the application"),
         gettext_lazy("Withdraw"), gettext_lazy("The application is withdrawn."),
         lambda by, a, d: services.withdraw(by=by, application=a, reason=d["reason"]), _moves(State.WITHDRAWN),
         danger=True, usual=lambda a: False),
)
STEPS_BY_NAME = {step.name: step for step in STEPS}


def step_form(step: Step, application: Application, data: Any = None) -> StepForm:
    kwargs: dict[str, Any] = {"application": application}
    if step.form is DecideForm:
        assessment = latest_assessment(application)
        kwargs["may_approve"] = bool(assessment and assessment.eligible)
    return step.form(data, **kwargs)


# -- what the page shows ------------------------------------------------------------------------------

#: The engine's headline figures, in the order a caseworker reads them.
RESULT_FIELDS: tuple[tuple[str, str | Promise], ...] = (
    ("standard", gettext_lazy("Standard (yuan per person per year)")),
    ("size", gettext_lazy("Counted members")),
    ("working_capacity_index", gettext_lazy("Working capacity index")),
    ("counted_income", gettext_lazy("Counted income (yuan per year)")),
    ("necessary_expenditure", gettext_lazy("Necessary expenditure")),
    ("net_income", gettext_lazy("Net income")),
    ("per_capita_net_income", gettext_lazy("Per-capita net income")),
    ("assets_within_limit", gettext_lazy("Assets within the limit")),
    ("topup", gettext_lazy("Top-up")),
    ("classified", gettext_lazy("Classified assistance")),
    ("total_annual", gettext_lazy("Total per year")),
    ("total_monthly", gettext_lazy("Total per month")),
)
