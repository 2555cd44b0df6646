"""Working-day arithmetic for the procedure's time limits (DOMAIN.md §7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import chinese_calendar
import pytest
from django.db import transaction

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.areas import calendar
from jiuzhu.areas.calendar import (
    Deadline,
    add_days,
    add_working_days,
    is_working_day,
    load_official_calendar,
    working_days_between,
)
from jiuzhu.areas.models import CalendarDay, CalendarYear
from jiuzhu.areas.services import calendar_enter_year, calendar_set_day

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    """Each test starts, and leaves, like a fresh process: the test's rolled-back writes
    must not reach the next one through the module-level cache."""
    calendar._cached, calendar._uncommitted = None, False
    yield
    calendar._cached, calendar._uncommitted = None, False


class Rollback(Exception):
    pass


def calendar_admin() -> User:
    return User.objects.create_user(username="calendar-admin", role=Role.COUNTY_ADMIN)


def test_migration_loads_every_year_the_package_covers() -> None:
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert years == set(range(2004, 2027))
    assert CalendarYear.objects.get(year=2026).source == f"chinese-calendar {chinese_calendar.__version__}"


def test_every_day_2004_to_2026_agrees_with_the_package() -> None:
    day, disagreements = D(2004, 1, 1), []
    while day <= D(2026, 12, 31):
        if is_working_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += dt.timedelta(days=1)
    assert disagreements == []


def test_only_days_that_break_the_weekday_rule_are_rows() -> None:
    assert not CalendarDay.objects.filter(date=D(2026, 10, 3)).exists()  # a Saturday holiday
    assert CalendarDay.objects.get(date=D(2026, 10, 5)).name == "国庆节"
    assert CalendarDay.objects.get(date=D(2026, 9, 20)).is_working_day  # Sunday swapped for National Day


def test_three_working_days_after_national_day_eve_ends_on_the_swapped_saturday() -> None:
    # Oct 1–7 are holidays; Thu 8 and Fri 9 work, and Saturday Oct 10 is a swapped working day.
    assert add_working_days(D(2026, 9, 30), 3) == Deadline(D(2026, 10, 10), provisional=False)


def test_swapped_sunday_before_national_day_counts() -> None:
    assert add_working_days(D(2026, 9, 19), 1) == Deadline(D(2026, 9, 20), provisional=False)


def test_ten_working_days_across_mid_autumn_and_national_day() -> None:
    # Fri Sep 25 is Mid-Autumn; working: 28, 29, 30, Oct 8, 9, 10, 12, 13, 14, 15.
    assert add_working_days(D(2026, 9, 24), 10).date == D(2026, 10, 15)


def test_mid_autumn_friday_is_skipped() -> None:
    assert not is_working_day(D(2026, 9, 25))
    assert add_working_days(D(2026, 9, 24), 1).date == D(2026, 9, 28)


def test_zero_working_days_is_the_start_day_even_on_a_holiday() -> None:
    assert add_working_days(D(2026, 10, 3), 0) == Deadline(D(2026, 10, 3), provisional=False)


def test_working_days_between_counts_the_end_not_the_start() -> None:
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0


@pytest.mark.parametrize("start", [D(2026, 1, 1), D(2026, 2, 13), D(2026, 4, 30), D(2026, 9, 18), D(2026, 12, 24)])
@pytest.mark.parametrize("n", [1, 3, 10, 30, 45])
def test_working_days_between_inverts_add_working_days(start: dt.date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n).date) == n


def test_deadline_into_an_unpublished_year_is_provisional_and_monday_to_friday() -> None:
    # Dec 29, 30, 31, then Jan 1 2027 counts as a plain Friday: 4, Jan 4–8: 5–9, Jan 11: 10.
    assert add_working_days(D(2026, 12, 28), 10) == Deadline(D(2027, 1, 11), provisional=True)


def test_deadline_ending_before_the_unpublished_year_is_final() -> None:
    assert add_working_days(D(2026, 12, 28), 3) == Deadline(D(2026, 12, 31), provisional=False)


def test_entering_the_year_makes_the_deadline_final_and_honours_its_holidays() -> None:
    assert add_working_days(D(2026, 12, 28), 10).provisional  # also fills the cache
    calendar_enter_year(by=calendar_admin(), year=2027, holidays=[(D(2027, 1, 1), "元旦")],
                        working_weekends=[(D(2027, 1, 9), "试行调休")], source="国办发明电〔2026〕X号 (test)")
    # Dec 29–31: 3; Jan 1 holiday; Jan 4–8: 4–8; Saturday Jan 9: 9; Jan 11: 10.
    assert add_working_days(D(2026, 12, 28), 10) == Deadline(D(2027, 1, 11), provisional=False)
    assert not is_working_day(D(2027, 1, 1))
    assert is_working_day(D(2027, 1, 9))


def test_a_day_set_by_hand_is_seen_at_once() -> None:
    assert is_working_day(D(2026, 11, 2))  # fills the cache
    calendar_set_day(by=calendar_admin(), day=D(2026, 11, 2), is_working_day=False, name="local flood closure")
    assert not is_working_day(D(2026, 11, 2))
    assert add_working_days(D(2026, 10, 30), 1).date == D(2026, 11, 3)


def test_a_row_saved_outside_the_services_is_seen_at_once() -> None:
    assert not is_working_day(D(2026, 11, 7))  # a Saturday; fills the cache
    CalendarDay.objects.create(date=D(2026, 11, 7), is_working_day=True, name="shell fix", source="test")
    assert is_working_day(D(2026, 11, 7))
    CalendarDay.objects.filter(date=D(2026, 11, 7)).delete()
    assert not is_working_day(D(2026, 11, 7))


def test_a_rolled_back_change_is_not_remembered() -> None:
    assert is_working_day(D(2026, 11, 2))
    with pytest.raises(Rollback), transaction.atomic():
        calendar_set_day(by=calendar_admin(), day=D(2026, 11, 2), is_working_day=False, name="mistake")
        assert not is_working_day(D(2026, 11, 2))
        raise Rollback
    assert is_working_day(D(2026, 11, 2))


def test_calendar_days_are_never_provisional() -> None:
    assert add_days(D(2026, 9, 30), 7) == Deadline(D(2026, 10, 7), provisional=False)
    assert add_days(D(2026, 12, 28), 7) == Deadline(D(2027, 1, 4), provisional=False)


def test_reloading_the_package_restores_a_year_and_undoes_hand_changes() -> None:
    CalendarDay.objects.create(date=D(2026, 11, 2), is_working_day=False, name="hand", source="test")
    CalendarYear.objects.filter(year=2026).delete()
    written = load_official_calendar(range(2026, 2027))
    official = CalendarDay.objects.filter(date__year=2026)
    assert written == official.count() == 19 + 6  # weekday holidays + swapped weekend days
    assert not official.filter(date=D(2026, 11, 2)).exists()
    assert CalendarYear.objects.filter(year=2026).exists()
    assert is_working_day(D(2026, 11, 2))
