"""工作日历: the working-day calendar. Everyone may look; county admins keep it.

The page says plainly whether a year's official schedule is entered, because deadlines
that run through a year without it are counted Monday–Friday and shown as provisional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiuzhu.accounts.decorators import staff_required
from jiuzhu.accounts.forms import add_service_errors
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas import services
from jiuzhu.areas.forms import CalendarDayForm, CalendarYearForm, YearChoiceForm
from jiuzhu.areas.models import CalendarDay, CalendarYear


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _page(request: HttpRequest, year: int, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = _staff(request)
    days = list(CalendarDay.objects.filter(date__year=year).order_by("date"))
    entered = CalendarYear.objects.filter(year=year).first()
    can_edit = user.may(Action.ADMIN_CALENDAR)
    context: dict[str, Any] = {
        "year": year, "entered": entered,
        "holidays": [d for d in days if not d.is_working_day],
        "working_days": [d for d in days if d.is_working_day],
        "years": list(CalendarYear.objects.order_by("year").values_list("year", flat=True)),
        "can_edit": can_edit,
        "year_form": YearChoiceForm(initial={"year": year}),
        "day_form": CalendarDayForm(prefix="day", initial={"date": dt.date(year, 1, 1)}) if can_edit else None,
        "enter_form": CalendarYearForm(prefix="enter", initial={"year": year}) if can_edit else None,
    }
    context.update(forms)
    return render(request, "areas/calendar.html", context, status=status)


def _back(year: int) -> HttpResponse:
    return redirect(reverse("areas:calendar") + f"?year={year}")


@staff_required()
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """A year's holidays and swapped working days, and whether its schedule is entered."""
    this_year = timezone.localdate().year
    if "year" not in request.GET:
        return _page(request, this_year)
    form = YearChoiceForm(request.GET)
    if not form.is_valid():
        return _page(request, this_year, status=400, year_form=form)
    return _page(request, form.cleaned_data["year"])


@staff_required(Action.ADMIN_CALENDAR)
@require_POST
def calendar_day(request: HttpRequest) -> HttpResponse:
    form = CalendarDayForm(request.POST, prefix="day")
    if not form.is_valid():
        return _page(request, timezone.localdate().year, status=400, day_form=form)
    data = form.cleaned_data
    day: dt.date = data["date"]
    try:
        services.calendar_set_day(by=_staff(request), day=day, is_working_day=data["kind"] == "working",
                                  name=data["name"].strip())
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, day.year, status=400, day_form=form)
    messages.success(request, _("%(date)s is saved.") % {"date": day.isoformat()})
    return _back(day.year)


@staff_required(Action.ADMIN_CALENDAR)
@require_POST
def calendar_year(request: HttpRequest) -> HttpResponse:
    form = CalendarYearForm(request.POST, prefix="enter")
    year = form.data.get("enter-year", "")
    shown = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else timezone.localdate().year
    if not form.is_valid():
        return _page(request, shown, status=400, enter_form=form)
    data = form.cleaned_data
    try:
        services.calendar_enter_year(by=_staff(request), year=data["year"], holidays=data["holidays"],
                                     working_weekends=data["working_weekends"], source=data["source"].strip())
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, shown, status=400, enter_form=form)
    messages.success(request, _("The schedule of %(year)s is entered; deadlines computed from now on count its "
                                "holidays.") % {"year": data["year"]})
    return _back(data["year"])
