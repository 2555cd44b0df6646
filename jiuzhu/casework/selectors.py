"""Reads of casework, always through the user's area scope (an object outside it is 404)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from jiuzhu.accounts.models import User
from jiuzhu.areas.models import Area, Level
from jiuzhu.casework.deadlines import Urgency, urgency
from jiuzhu.casework.models import (
    FINAL_STATES,
    Application,
    ChangeReport,
    Decision,
    Enrolment,
    Notice,
    NoticeEntry,
    NoticeKind,
    Objection,
    RelativeDeclaration,
    State,
    Transition,
    Visit,
)
from jiuzhu.rules.parameters import ParameterContext, default_tree


def applications_for(user: User, *, state: str | None = None) -> QuerySet[Application]:
    qs = Application.objects.filter(area_code__startswith=user.scope_code)
    return qs.filter(state=state) if state else qs


def open_applications_for(user: User) -> QuerySet[Application]:
    return applications_for(user).exclude(state__in=FINAL_STATES)


def due_soon_days(area_code: str, on: dt.date) -> int:
    return int(ParameterContext(default_tree(), area_code or "220882", on, "rural")
               .number("procedure.due_soon_working_days"))


@dataclass(frozen=True)
class QueueRow:
    application: Application
    urgency: Urgency


def open_count(user: User, *, state: str = "", programme: str = "") -> int:
    qs = open_applications_for(user)
    if state:
        qs = qs.filter(state=state)
    if programme:
        qs = qs.filter(programme=programme)
    return qs.count()


def work_queue(user: User, today: dt.date, *, limit: int = 200, state: str = "",
               programme: str = "") -> list[QueueRow]:
    """我的待办: open applications in the user's area, the nearest deadline first; those
    without a deadline (not yet accepted) after, oldest first."""
    qs = open_applications_for(user)
    if state:
        qs = qs.filter(state=state)
    if programme:
        qs = qs.filter(programme=programme)
    qs = (qs.select_related("household", "household__area", "intake__applicant")
          .order_by("clock_stopped", "step_deadline", "received_at")[:limit])
    soon = due_soon_days(user.scope_code, today)
    rows = [QueueRow(a, urgency(a, today, soon)) for a in qs]
    return sorted(rows, key=lambda r: (r.application.step_deadline is None, r.application.clock_stopped,
                                       r.application.step_deadline or dt.date.max, r.application.received_at))


def application_detail(user: User, pk: int) -> Application:
    """One application with what its page shows, in a fixed number of queries."""
    return (applications_for(user)
            .select_related("household", "household__area", "intake", "intake__applicant", "entered_by",
                            "accepted_by")
            .prefetch_related(Prefetch("transitions", queryset=Transition.objects.select_related("by")),
                              Prefetch("visits", queryset=Visit.objects.prefetch_related("investigators")),
                              "assessments", "clock_stops", "intake__missing_items", "intake__consents__person",
                              Prefetch("decisions", queryset=Decision.objects.select_related("decided_by")),
                              Prefetch("objections", queryset=Objection.objects.select_related("recorded_by")),
                              "notice_entries__notice")
            .get(pk=pk))


@dataclass(frozen=True)
class OverdueRow:
    township: Area
    overdue: int
    open: int


def overdue_by_township(user: User, today: dt.date) -> list[OverdueRow]:
    """超期: open applications past their step deadline, counted per township in scope."""
    open_apps = open_applications_for(user).filter(clock_stopped=False)
    overdue = Counter(code[:9] for code in open_apps.filter(step_deadline__lt=today)
                      .values_list("area_code", flat=True))
    total = Counter(code[:9] for code in open_apps.values_list("area_code", flat=True))
    townships = Area.objects.filter(level=Level.TOWNSHIP, code__startswith=user.scope_code[:9])
    return sorted((OverdueRow(t, overdue.get(t.code, 0), total.get(t.code, 0)) for t in townships),
                  key=lambda r: (-r.overdue, r.township.code))


def overdue_applications(user: User, today: dt.date) -> QuerySet[Application]:
    return (open_applications_for(user).filter(clock_stopped=False, step_deadline__lt=today)
            .select_related("household", "household__area", "intake__applicant").order_by("step_deadline"))


def household_casework(user: User, household_id: int) -> dict[str, object]:
    """What the household file shows from casework: applications, decisions, enrolments, reports."""
    applications = (applications_for(user).filter(household_id=household_id)
                    .order_by("-received_at"))
    return {
        "applications": list(applications),
        "decisions": list(Decision.objects.filter(household_id=household_id, application__in=applications)
                          .select_related("decided_by", "application")),
        "enrolments": list(Enrolment.objects.filter(household_id=household_id, application__in=applications)),
        "change_reports": list(ChangeReport.objects.filter(household_id=household_id,
                                                           household__area__code__startswith=user.scope_code)),
    }


def notices_for(user: User) -> QuerySet[Notice]:
    return (Notice.objects.filter(area__code__startswith=user.scope_code).select_related("area", "published_by")
            .prefetch_related("entries").order_by("-published_on", "-id"))


def ready_for_notice(user: User) -> QuerySet[Application]:
    return (applications_for(user, state=State.FIRST_REVIEW)
            .select_related("household", "household__area", "intake__applicant").order_by("household__area_id"))


def ready_for_announcement(user: User) -> QuerySet[Application]:
    """公布: approved applications not yet on an approvals notice."""
    announced = NoticeEntry.objects.filter(notice__kind=NoticeKind.APPROVAL).values("application_id")
    return (applications_for(user).filter(state__in=(State.APPROVED, State.ENROLLED))
            .exclude(pk__in=announced)
            .select_related("household", "household__area", "intake__applicant").order_by("household__area_id"))


def relatives_for(user: User) -> QuerySet[RelativeDeclaration]:
    return (RelativeDeclaration.objects.filter(area__code__startswith=user.scope_code)
            .select_related("declarant", "area").order_by("-declared_on", "-id"))


def reviews_due(user: User, today: dt.date, *, within_days: int = 30) -> QuerySet[Enrolment]:
    return (Enrolment.objects.filter(active=True, household__area__code__startswith=user.scope_code,
                                     review_due__lte=today + dt.timedelta(days=within_days))
            .select_related("household", "household__area").order_by("review_due"))
