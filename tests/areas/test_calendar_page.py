"""The working-day calendar page: everyone may look, county admins enter a year's schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.accounts.roles import Role
from jiuzhu.areas.calendar import add_working_days
from jiuzhu.areas.models import CalendarDay, CalendarYear
from tests import factories as f
from tests.casework.test_views_lists import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SCHEDULE_2027 = {
    "enter-year": "2027",
    "enter-source": "国办发明电〔2026〕7号",
    "enter-holidays": "2027-01-01 元旦\n2027-02-06..2027-02-12 春节\n# comment line\n\n2027-10-01..2027-10-07 国庆节",
    "enter-working_weekends": "2027-02-14 春节调休\n2027-10-09 国庆节调休",
}


def test_an_admin_enters_2027_and_the_page_shows_it() -> None:
    f.county_tree()
    admin = f.user(Role.COUNTY_ADMIN, f.COUNTY)
    client = signed_in(admin)
    before = client.get(reverse("areas:calendar"), {"year": 2027})
    assert before.status_code == 200 and before.context["entered"] is None
    assert 'id="year-status" role="status"' in before.content.decode()  # the provisional warning
    assert add_working_days(dt.date(2027, 9, 30), 1).provisional

    response = client.post(reverse("areas:calendar_year"), SCHEDULE_2027)

    assert response.status_code == 302 and response["Location"].endswith("?year=2027")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.context["entered"].source == "国办发明电〔2026〕7号"
    assert "2027-10-01" in html and "国庆节" in html and "2027-10-09" in html
    assert 'role="status"' not in html.split('id="year-status"')[1][:20]
    holidays = {d.date for d in page.context["holidays"]}
    assert dt.date(2027, 10, 1) in holidays and dt.date(2027, 10, 2) not in holidays  # a Saturday needs no row
    assert CalendarDay.objects.get(date=dt.date(2027, 10, 9)).is_working_day
    deadline = add_working_days(dt.date(2027, 9, 30), 1)
    assert deadline == type(deadline)(dt.date(2027, 10, 8), False)
    assert AuditEntry.objects.filter(action="calendar.enter_year").exists()


def test_a_bad_schedule_is_refused_line_by_line_and_what_was_typed_is_kept() -> None:
    f.county_tree()
    client = signed_in(f.user(Role.COUNTY_ADMIN, f.COUNTY))
    data = {**SCHEDULE_2027, "enter-holidays": "2027-01-01 元旦\n01/02/2027 typo\n2028-01-01 next year",
            "enter-working_weekends": "2027-02-15 a Monday"}
    response = client.post(reverse("areas:calendar_year"), data)
    assert response.status_code == 400
    form = response.context["enter_form"]
    assert "line 2" in " ".join(form.errors["holidays"])
    assert "01/02/2027 typo" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()
    service_refusal = client.post(reverse("areas:calendar_year"), {**data, "enter-holidays": "2028-01-01 x"})
    assert service_refusal.status_code == 400
    assert service_refusal.context["enter_form"].errors["holidays"]
    assert service_refusal.context["enter_form"].errors["working_weekends"]


def test_an_admin_sets_one_day() -> None:
    f.county_tree()
    client = signed_in(f.user(Role.COUNTY_ADMIN, f.COUNTY))
    response = client.post(reverse("areas:calendar_day"), {"day-date": "2026-12-28", "day-kind": "holiday",
                                                           "day-name": "地方节日"})
    assert response.status_code == 302
    assert not CalendarDay.objects.get(date=dt.date(2026, 12, 28)).is_working_day


def test_a_village_worker_sees_the_calendar_but_cannot_post() -> None:
    f.county_tree()
    client = signed_in(f.user(Role.VILLAGE_WORKER, f.VILLAGE))
    page = client.get(reverse("areas:calendar"), {"year": 2027})
    assert page.status_code == 200 and page.context["enter_form"] is None
    assert reverse("areas:calendar_year") not in page.content.decode()
    assert client.post(reverse("areas:calendar_year"), SCHEDULE_2027).status_code == 403
    assert client.post(reverse("areas:calendar_day"), {"day-date": "2027-01-04", "day-kind": "holiday"}
                       ).status_code == 403
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_an_impossible_year_is_an_error_not_a_crash() -> None:
    f.county_tree()
    client = signed_in(f.user(Role.VILLAGE_WORKER, f.VILLAGE))
    assert client.get(reverse("areas:calendar"), {"year": "abc"}).status_code == 400
    assert client.get(reverse("areas:calendar"), {"year": "99999"}).status_code == 400
