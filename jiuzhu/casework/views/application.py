"""The application page (申请详情): header, deadline, timeline, assessment, decisions, and the
action forms of the steps this user may take now.

Each step is a POST to its own URL that parses its form, calls the one service of the
step and redirects back (PRG). A refused step never becomes a 500: a validation problem
re-renders the page with the message beside the field (400), a duty the user lacks is
the 403 page with its reason, and a page someone else changed meanwhile answers 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Area
from jiuzhu.casework import services
from jiuzhu.casework.deadlines import urgency
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
from jiuzhu.casework.programmes import programme_info
from jiuzhu.casework.selectors import application_detail, due_soon_days
from jiuzhu.casework.workflow import allowed_next, check_transition, ensure_may_handle
from jiuzhu.registry.choices import LABELS
from jiuzhu.registry.services import StaleVersion

VISIT_STATES = frozenset({State.INVESTIGATING, State.ASSESSED, State.FIRST_REVIEW, State.OBJECTION, State.NOTICE,
                          State.RECHECK})


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def scoped_application(user: User, pk: int) -> Application:
    try:
        return application_detail(user, pk)
    except Application.DoesNotExist as exc:
        raise Http404(_("No such application in your area.")) from exc


def first_url(names: tuple[str, ...], *args: Any) -> str:
    """The first of these URL names that exists (pages built elsewhere may not exist yet), or ""."""
    for name in names:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def household_url(household_id: int) -> str:
    return first_url(("casework:household",), household_id)


# -- which steps the user may take now -----------------------------------------------------------

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


def _latest_assessment(application: Application) -> Any:
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


def _form(step: Step, application: Application, data: Any = None) -> StepForm:
    kwargs: dict[str, Any] = {"application": application}
    if step.form is DecideForm:
        assessment = _latest_assessment(application)
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


def declared_items(case: dict[str, Any], paths: list[str]) -> list[dict[str, Any]]:
    """The figures resting only on the household's word, read from the stored case by their paths."""
    found = []
    for path in paths:
        item: Any = None
        try:
            group, index = path.removeprefix("household.").rstrip("]").split("[")
            item = case["household"][group][int(index)]
        except (KeyError, IndexError, ValueError, TypeError):
            item = None
        if isinstance(item, dict):
            kind = str(item.get("kind", ""))
            amount = item.get("amount", item.get("value"))
            if kind == "imputed_wage":
                amount = f"{item.get('monthly_reference')} × {item.get('months')}"
            found.append({"path": path, "kind": LABELS.get(kind, kind), "amount": amount})
        else:
            found.append({"path": path, "kind": path, "amount": None})
    return found


def english() -> bool:
    return (get_language() or "").startswith("en")


def area_name(area: Area | None) -> str:
    """An area's name in the page's language (the Chinese one when it has no English name)."""
    if area is None:
        return ""
    return str(area.name_en) if english() and area.name_en else str(area.name_zh)


def unique_parameters(parameters: list[Any]) -> list[Any]:
    """The stored parameter entries, each shown once (the trace lists a parameter at every use)."""
    seen: list[Any] = []
    for entry in parameters:
        if entry not in seen:
            seen.append(entry)
    return seen


def form_messages(form: StepForm) -> list[str]:
    """Every error of a form as one line each, the field's label first."""
    lines: list[str] = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return lines


def page_context(request: HttpRequest, application: Application, *,
                 bound: tuple[str, StepForm] | None = None) -> dict[str, Any]:
    user = _user(request)
    today = services.today()
    info = programme_info(application.area_code, application.programme)
    assessment = _latest_assessment(application)
    actions = []
    problems: list[str] = []
    for step in STEPS:
        url = reverse(f"casework:{step.url_name}", args=[application.pk])
        available = step.available(user, application, today)
        if bound is not None and bound[0] == step.name:
            if available:
                actions.append({"step": step, "form": bound[1], "url": url, "open": True})
            else:  # the step is not open now: its messages go on top, without a form to retry in vain
                problems.extend(form_messages(bound[1]))
        elif available:
            actions.append({"step": step, "form": _form(step, application), "url": url,
                            "open": step.usual(application)})
    decisions = list(application.decisions.all())
    approved = next((d for d in decisions if d.kind == DecisionKind.APPROVE), None)
    refused = next((d for d in decisions if d.kind == DecisionKind.REFUSE), None)
    lang_en = english()
    may_decide_now = may_move(user, application, State.APPROVED) or may_move(user, application, State.REFUSED)
    notices_url = first_url(("casework:notices",))
    due = urgency(application, today, due_soon_days(application.area_code, today))
    return {
        "application": application,
        "problems": problems,
        "household": application.household,
        "village_name": area_name(application.household.area),
        "programme_name": info.name if info else application.programme,
        "household_url": household_url(application.household_id),
        "urgency": due,
        "days_left": abs(due.working_days_left) if due.working_days_left is not None else None,
        "today": today,
        "transitions": list(application.transitions.all()),
        "clock_stops": sorted(application.clock_stops.all(), key=lambda s: (s.started_on, s.pk)),
        "visits": list(application.visits.all()),
        "assessment": assessment,
        "assessment_explanation": (assessment.explanation_en if lang_en else assessment.explanation_zh)
        if assessment else [],
        "result_rows": [(label, assessment.result.get(key)) for key, label in RESULT_FIELDS
                        if assessment and key in assessment.result],
        "declared": declared_items(assessment.case, assessment.declared_paths) if assessment else [],
        "decisions": [{"decision": d, "explanation": d.explanation_en if lang_en else d.explanation_zh,
                       "parameters": unique_parameters(d.parameters)} for d in decisions],
        "objections": list(application.objections.all()),
        "notice_entries": list(application.notice_entries.all()),
        "missing_items": list(application.intake.missing_items.all()),
        "consents": list(application.intake.consents.all()),
        "actions": actions,
        "decide_blockers": decide_blockers(application, today) if may_decide_now else [],
        "publish_url": notices_url if (State.NOTICE in allowed_next(application)
                                       and may_move(user, application, State.NOTICE)) else "",
        "certificate": approved is not None and application.state in (State.APPROVED, State.ENROLLED),
        "refusal": refused is not None and application.state == State.REFUSED,
    }


def render_page(request: HttpRequest, application: Application, *, status: int = 200,
                bound: tuple[str, StepForm] | None = None, problems: list[str] | None = None,
                stale: bool = False) -> HttpResponse:
    context = page_context(request, application, bound=bound)
    context["problems"] = [*(problems or []), *context["problems"]]
    context["stale"] = stale
    return render(request, "casework/application.html", context, status=status)


@staff_required(Action.VIEW)
def application_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(request, scoped_application(_user(request), pk))


# -- one view per step ------------------------------------------------------------------------------

def _put_errors(form: StepForm, exc: ValidationError) -> None:
    """Messages beside their field where the form has it; the rest on top of the form."""
    loose: list[str] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                if field in form.fields:
                    form.add_error(field, message)
                else:
                    loose.append(message)
    else:
        loose.extend(exc.messages)
    for message in loose:
        form.add_error(None, message)


def step_view(step: Step) -> Callable[..., HttpResponse]:
    @staff_required(step.action)
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        user = _user(request)
        application = scoped_application(user, pk)
        form = _form(step, application, request.POST)
        if not form.is_valid():
            return render_page(request, application, status=400, bound=(step.name, form))
        seen = form.cleaned_data.get("version")
        try:
            if seen is not None and seen != application.version:
                raise StaleVersion(application, seen)
            step.run(user, application, form.cleaned_data)
        except ValidationError as exc:
            _put_errors(form, exc)
            return render_page(request, scoped_application(user, pk), status=400, bound=(step.name, form))
        except StaleVersion as exc:
            return render_page(request, scoped_application(user, pk), status=409, problems=[str(exc)], stale=True)
        messages.success(request, str(step.done))
        return redirect("casework:application", pk=pk)

    view.__name__ = f"application_{step.name}"
    view.__doc__ = f"POST: {step.title}."
    return view


STEP_VIEWS: dict[str, Callable[..., HttpResponse]] = {step.name: step_view(step) for step in STEPS}
