"""The application page (申请详情): header, deadline, timeline, assessment, decisions, and the
action forms of the steps this user may take now.

Each step is a POST to its own URL that parses its form, calls the one service of the
step and redirects back (PRG). A refused step never becomes a 500: a validation problem
re-renders the page with the message beside the field (400), a duty the user lacks is
the 403 page with its reason, and a page someone else changed meanwhile answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Area
from jiuzhu.casework import services
from jiuzhu.casework.deadlines import urgency
from jiuzhu.casework.forms_steps import (
    StepForm,
)
from jiuzhu.casework.models import Application, DecisionKind, State
from jiuzhu.casework.programmes import programme_info
from jiuzhu.casework.selectors import application_detail, due_soon_days
from jiuzhu.casework.views.application_steps import (
    RESULT_FIELDS,
    STEPS,
    Step,
    decide_blockers,
    latest_assessment,
    may_move,
    step_form,
)
from jiuzhu.casework.workflow import allowed_next
from jiuzhu.registry.choices import LABELS
from jiuzhu.registry.services import StaleVersion


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
    assessment = latest_assessment(application)
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
            actions.append({"step": step, "form": step_form(step, application), "url": url,
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
        form = step_form(step, application, request.POST)
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
