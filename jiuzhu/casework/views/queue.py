"""我的待办 (the work queue) and the overdue report: lists read through the scoped selectors,
nearest deadline first. `staff` and `today` are shared by the other list views."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.casework import selectors
from jiuzhu.casework.deadlines import urgency
from jiuzhu.casework.forms_lists import QueueFilterForm
from jiuzhu.casework.programmes import programmes_for
from jiuzhu.verification import selectors as verification_selectors
from jiuzhu.verification.models import Check

QUEUE_LIMIT = 200


def today() -> dt.date:
    return timezone.localdate()


def staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@staff_required(Action.VIEW)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """我的待办: the open applications of my area by step deadline, filtered by state and programme."""
    user = staff(request)
    form = QueueFilterForm(request.GET or None, programmes=programmes_for(user.scope_code))
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    state, programme = filters.get("state", ""), filters.get("programme", "")
    rows = selectors.work_queue(user, today(), limit=QUEUE_LIMIT + 1, state=state, programme=programme)
    counts = {level: sum(r.urgency.level == level for r in rows) for level in ("overdue", "due_soon")}
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "casework/queue.html", {
        "form": form, "rows": rows[:QUEUE_LIMIT],
        "total": selectors.open_count(user, state=state, programme=programme), "limit": QUEUE_LIMIT,
        "truncated": len(rows) > QUEUE_LIMIT, "counts": counts, "today": today(),
        "alerts": verification_alerts(user)}, status=status)


def verification_alerts(user: User) -> list[tuple[str, str, int]]:
    """The morning's alerts from the night's cross-checks: open illness warnings and people
    to invite in the user's area (check value, label, count)."""
    wanted = (Check.ILLNESS, Check.DISCOVERY)
    counts = verification_selectors.open_finding_counts(user, tuple(c.value for c in wanted))
    return [(check.value, str(check.label), counts[check.value]) for check in wanted if counts.get(check.value)]


@staff_required(Action.VIEW)
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    """超期: per township, how many open applications are past their step deadline; one township's list."""
    user = staff(request)
    rows = selectors.overdue_by_township(user, today())
    chosen = request.GET.get("township", "")
    township = next((r.township for r in rows if r.township.code == chosen), None)
    applications = selectors.overdue_applications(user, today())
    if township is not None:
        applications = applications.filter(area_code__startswith=township.code)
    page = Paginator(applications, 100).get_page(request.GET.get("page"))
    soon = selectors.due_soon_days(user.scope_code, today())
    listed = [(a, urgency(a, today(), soon)) for a in page]
    return render(request, "casework/overdue.html", {
        "rows": rows, "township": township, "page": page, "listed": listed,
        "total_overdue": sum(r.overdue for r in rows), "total_open": sum(r.open for r in rows),
        "query": f"township={township.code}" if township else "", "unknown_township": bool(chosen and not township),
    })
