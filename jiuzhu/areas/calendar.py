"""Working days (工作日) for the procedure's time limits (DOMAIN.md §7).

A day is a working day by the Monday–Friday rule unless `CalendarDay` says otherwise: a
statutory holiday on a weekday, or a swapped working day (调休) on a weekend. The State
Council publishes each year's schedule late in the year before, so a year without a
`CalendarYear` row is counted Monday–Friday and every deadline that runs through it is
marked provisional, to be recomputed once the schedule is entered.

Deadlines are computed for every case on every page, so the two tables (a few hundred
rows) are read once and kept in the process. Any write to them drops the copy: the
services and the model signals call `calendar_changed`. While such a write is still
uncommitted the copy is not kept, so a rolled-back write never lingers; other worker
processes see a change within `MAX_AGE` seconds.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from jiuzhu.areas.models import CalendarDay, CalendarYear

#: Seconds another process may keep using a table this process did not see change.
MAX_AGE = 300.0

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    """A due date; `provisional` when it ran through a year whose schedule is not entered."""

    date: dt.date
    provisional: bool


@dataclass(frozen=True)
class _Table:
    overrides: dict[dt.date, bool]
    years: frozenset[int]
    loaded_at: float


_cached: _Table | None = None
_uncommitted = False  # a calendar write is inside a transaction that has not committed yet


def calendar_changed(**_signal: Any) -> None:
    """Drop the cached table. Registered for save and delete of both models; the services
    call it too, since bulk writes send no signals."""
    global _cached, _uncommitted
    _cached = None
    if not transaction.get_connection().in_atomic_block:
        _uncommitted = False
    elif not _uncommitted:  # once per transaction is enough: a bulk delete signals every row
        _uncommitted = True
        transaction.on_commit(calendar_changed)  # runs outside the block: clears the flag


def _table() -> _Table:
    global _cached, _uncommitted
    in_transaction = transaction.get_connection().in_atomic_block
    if _uncommitted and not in_transaction:  # the transaction that wrote was rolled back
        _cached, _uncommitted = None, False
    cached = _cached
    if cached is not None and time.monotonic() - cached.loaded_at < MAX_AGE:
        return cached
    table = _Table(
        overrides=dict(CalendarDay.objects.values_list("date", "is_working_day")),
        years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
        loaded_at=time.monotonic(),
    )
    if not _uncommitted:
        _cached = table
    return table


def _working(day: dt.date, table: _Table) -> bool:
    return table.overrides.get(day, day.weekday() < 5)


def is_working_day(d: dt.date) -> bool:
    """Whether offices are open on `d`. A day entered by hand in a year whose schedule is
    not yet published counts too: someone knew better than the weekday rule."""
    return _working(d, _table())


def _provisional(first: dt.date, last: dt.date, table: _Table) -> bool:
    return any(year not in table.years for year in range(first.year, last.year + 1))


def add_working_days(start: dt.date, n: int) -> Deadline:
    """The n-th working day after `start` ("within 10 working days of acceptance"): the
    start day itself is not counted, and n = 0 is the start day."""
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    table = _table()
    day = start
    for _ in range(n):
        day += ONE_DAY
        while not _working(day, table):
            day += ONE_DAY
    return Deadline(day, provisional=day > start and _provisional(start + ONE_DAY, day, table))


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], so `working_days_between(s, add_working_days(s, n).date)`
    is n; negative when `end` is before `start` (a limit overrun by that many days)."""
    if end < start:
        return -working_days_between(end, start)
    table = _table()
    return sum(_working(start + dt.timedelta(days=i), table) for i in range(1, (end - start).days + 1))


def add_days(start: dt.date, n: int) -> Deadline:
    """A limit in calendar days (a 7-day public notice): holidays do not stop the clock,
    so it never depends on the schedule and is never provisional."""
    return Deadline(start + dt.timedelta(days=n), provisional=False)


def load_official_calendar(years: range | None = None) -> int:
    """Load the State Council schedules the `chinese_calendar` package carries (all its
    years, or those in `years`), replacing whatever those years held; returns the number of
    days written. Only days that break the weekday rule are rows.

    Migration 0002 does the same with historical models for a new database; this is for
    a newer package release (`jiuzhu` shell or a management command)."""
    import chinese_calendar

    from jiuzhu.accounts.audit import record

    source = f"chinese-calendar {chinese_calendar.__version__}"
    covered = {d.year for d in chinese_calendar.holidays}
    chosen = sorted(covered if years is None else covered & set(years))
    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    days = [
        CalendarDay(date=d, is_working_day=False, name=names.get(name, name), source=source)
        for d, name in chinese_calendar.holidays.items() if d.year in chosen and d.weekday() < 5
    ] + [
        CalendarDay(date=d, is_working_day=True, name=f"{names.get(name, name)}调休", source=source)
        for d, name in chinese_calendar.workdays.items() if d.year in chosen and d.weekday() >= 5
    ]
    with transaction.atomic():
        CalendarDay.objects.filter(date__year__in=chosen).delete()
        CalendarYear.objects.filter(year__in=chosen).delete()
        CalendarDay.objects.bulk_create(days)
        CalendarYear.objects.bulk_create(CalendarYear(year=year, source=source) for year in chosen)
        record(actor=None, action="calendar.load_official", object_type="areas.calendaryear",
               after={"source": source, "years": chosen, "days": len(days)})
        calendar_changed()
    return len(days)
