"""Time limits of the procedure in working days (DOMAIN.md §7; every limit a parameter).

The clock starts at acceptance. Each state has the deadline of its step; the whole
procedure has its own. While the applicant is asked for missing items the clock stops,
and on resumption both deadlines move by the working days it stood still.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from jiuzhu.areas.calendar import Deadline, add_days, add_working_days, working_days_between
from jiuzhu.casework.models import Application, State
from jiuzhu.rules.parameters import ParameterContext, default_tree


def procedure_parameters(application: Application, on: dt.date) -> ParameterContext:
    return ParameterContext(default_tree(), application.area_code, on, application.household.area_type)


def _limit(p: ParameterContext, name: str) -> int:
    return int(p.number(f"procedure.{name}"))


#: Which limit (counted from acceptance, in working days) ends each state's step.
STEP_LIMIT_FROM_ACCEPTANCE: dict[str, str] = {
    State.ACCEPTED: "investigation_start_working_days",
    State.INVESTIGATING: "assessment_working_days",
    State.ASSESSED: "assessment_working_days",
    State.FIRST_REVIEW: "assessment_working_days",
}


#: Programmes with their own limits (特困人员认定办法: 15 + 15 working days).
TEKUN = "tekun"


def _step_limit_name(application: Application, state: str) -> str:
    name = STEP_LIMIT_FROM_ACCEPTANCE[state]
    if application.programme == TEKUN and name == "assessment_working_days":
        return "tekun_assessment_working_days"
    return name


def whole_deadline(application: Application, p: ParameterContext) -> Deadline:
    assert application.accepted_on is not None
    if application.programme == TEKUN:
        name = "tekun_whole_working_days"
    else:
        name = "whole_working_days_delegated" if application.delegated else "whole_working_days"
    return add_working_days(application.accepted_on, _limit(p, name) + stopped_working_days(application))


def stopped_working_days(application: Application) -> int:
    """Working days the clock stood still in finished stops."""
    return sum(working_days_between(stop.started_on, stop.ended_on)
               for stop in application.clock_stops.all() if stop.ended_on is not None)


def step_deadline(application: Application, p: ParameterContext, *, today: dt.date,
                  notice_ends: dt.date | None = None) -> Deadline | None:
    """The deadline of the step the application is now in, or None when it has none."""
    state = application.state
    if application.accepted_on is None or state in (State.REFUSED, State.ENROLLED, State.WITHDRAWN):
        return None
    if state in STEP_LIMIT_FROM_ACCEPTANCE:
        step = add_working_days(application.accepted_on,
                                _limit(p, _step_limit_name(application, state)) + stopped_working_days(application))
        whole = whole_deadline(application, p)
        return step if step.date <= whole.date else whole
    if state == State.NOTICE:
        ends = notice_ends or add_days(today, _limit(p, "first_review_notice_days")).date
        return Deadline(ends, False)
    if state in (State.OBJECTION, State.RECHECK):
        decision = add_working_days(today, _limit(p, "decision_working_days"))
        whole = whole_deadline(application, p)
        return decision if decision.date <= whole.date else whole
    if state == State.APPROVED:
        return add_working_days(today, _limit(p, "enrolment_working_days"))
    return None


@dataclass(frozen=True)
class Urgency:
    """How a deadline shows in a queue: its colour and the words beside it."""

    level: str  # "overdue" | "due_soon" | "on_time" | "stopped" | "none"
    working_days_left: int | None


def urgency(application: Application, today: dt.date, due_soon: int) -> Urgency:
    if application.clock_stopped:
        return Urgency("stopped", None)
    due = application.step_deadline
    if due is None:
        return Urgency("none", None)
    if due < today:
        return Urgency("overdue", -working_days_between(due, today))
    left = working_days_between(today, due)
    return Urgency("due_soon" if left <= due_soon else "on_time", left)


def recompute_provisional() -> int:
    """Once a year's official schedule is entered, deadlines counted Monday–Friday through
    it are counted again. Only the limits that run from acceptance are recomputed; those
    counted from a later event keep their date until the application's next step."""
    changed = 0
    open_apps = (Application.objects.exclude(state__in=(State.REFUSED, State.ENROLLED, State.WITHDRAWN))
                 .filter(accepted_on__isnull=False)
                 .filter(models.Q(step_deadline_provisional=True) | models.Q(final_deadline_provisional=True))
                 .select_related("household").prefetch_related("clock_stops"))
    for application in open_apps:
        assert application.accepted_on is not None
        p = procedure_parameters(application, application.accepted_on)
        whole = whole_deadline(application, p)
        fields = {"final_deadline": whole.date, "final_deadline_provisional": whole.provisional}
        if application.state in STEP_LIMIT_FROM_ACCEPTANCE:
            step = add_working_days(application.accepted_on, _limit(p, _step_limit_name(application, application.state))
                                    + stopped_working_days(application))
            step = step if step.date <= whole.date else whole
            fields.update(step_deadline=step.date, step_deadline_provisional=step.provisional)
        Application.objects.filter(pk=application.pk).update(**fields)
        changed += 1
    return changed


def calendar_saved(**_signal: Any) -> None:
    """Connected to the calendar tables' saves (casework.apps): recompute after the commit."""
    transaction.on_commit(recompute_provisional)
