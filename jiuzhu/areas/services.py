"""Writes to the division tree and the working-day calendar; each one checked and audited."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.audit import record, snapshot
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.calendar import calendar_changed
from jiuzhu.areas.models import CODE_LENGTH, Area, CalendarDay, CalendarYear, Level

DIVISION_COLUMNS = ("code", "name_zh", "name_en", "level", "parent", "urban_rural_class")

#: 统计用城乡划分代码: 111 main urban area … 220 village (NBS rules of 2008).
URBAN_RURAL_CLASSES = frozenset({"111", "112", "121", "122", "123", "210", "220"})


def _ensure_calendar_admin(by: User) -> None:
    """The calendar is national, so only the role's permission counts, not the user's area."""
    if not (by.is_superuser or by.may(Action.ADMIN_CALENDAR)):
        raise PermissionDenied(_("Your role may not keep the working-day calendar."))


def _year_state(year: int) -> dict[str, Any]:
    """What the audit log keeps of a year: its source and the days that break the weekday rule."""
    entered = CalendarYear.objects.filter(year=year).first()
    days = CalendarDay.objects.filter(date__year=year)
    return {
        "source": entered.source if entered else None,
        "holidays": [d.isoformat() for d in days.filter(is_working_day=False).values_list("date", flat=True)],
        "working_days": [d.isoformat() for d in days.filter(is_working_day=True).values_list("date", flat=True)],
    }


@transaction.atomic
def calendar_set_day(*, by: User, day: dt.date, is_working_day: bool, name: str) -> CalendarDay:
    """调整工作日: an admin corrects or adds one day (a local holiday, a late change).

    A day set to what the Monday–Friday rule already says needs no row, so its row is
    removed and the unsaved day is returned."""
    _ensure_calendar_admin(by)
    existing = CalendarDay.objects.select_for_update().filter(date=day).first()
    entry = CalendarDay(date=day, is_working_day=is_working_day, name=name, source=f"set by {by.get_username()}")
    before = snapshot(existing) if existing else None
    if is_working_day == (day.weekday() < 5):
        if existing is None:
            return entry
        existing.delete()
        after = None
    else:
        entry.save()
        after = snapshot(entry)
    record(actor=by, action="calendar.set_day", obj=entry, before=before, after=after)
    calendar_changed()
    return entry


@transaction.atomic
def calendar_enter_year(*, by: User, year: int, holidays: list[tuple[dt.date, str]],
                        working_weekends: list[tuple[dt.date, str]], source: str) -> CalendarYear:
    """录入年度放假安排: a year's State Council schedule, replacing what the year held.

    Holidays that fall on a weekend need no row and are dropped; a swapped working day
    must be a Saturday or Sunday. Deadlines running through the year stop being
    provisional."""
    _ensure_calendar_admin(by)
    errors: dict[str, list[ValidationError]] = {}

    def problem(field: str, message: Any, day: dt.date) -> None:
        errors.setdefault(field, []).append(ValidationError(message, params={"date": day.isoformat(), "year": year}))

    holiday_dates = {day for day, _name in holidays}
    for day, _name in holidays:
        if day.year != year:
            problem("holidays", _("%(date)s is not in %(year)s."), day)
    for day, _name in working_weekends:
        if day.year != year:
            problem("working_weekends", _("%(date)s is not in %(year)s."), day)
        elif day.weekday() < 5:
            problem("working_weekends", _("%(date)s is a weekday; only a Saturday or Sunday can be swapped."), day)
        elif day in holiday_dates:
            problem("working_weekends", _("%(date)s is also listed as a holiday."), day)
    if not source.strip():
        errors["source"] = [ValidationError(_("Name the notice the schedule comes from."))]
    if errors:
        raise ValidationError(errors)

    before = _year_state(year)
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarYear.objects.filter(year=year).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=day, is_working_day=False, name=name, source=source)
         for day, name in dict(holidays).items() if day.weekday() < 5]
        + [CalendarDay(date=day, is_working_day=True, name=name, source=source)
           for day, name in dict(working_weekends).items()]
    )
    entered = CalendarYear.objects.create(year=year, source=source, entered_by=by.get_username())
    record(actor=by, action="calendar.enter_year", obj=entered, before=before, after=_year_state(year))
    calendar_changed()
    return entered


def _division_problems(line: int, row: dict[str, str], seen: set[str], known: set[str]) -> list[str]:
    """What is wrong with one row of a division file, as sentences (empty when nothing).
    Translated at once (`gettext`), since each message is formatted as it is found."""
    code, level, parent, urban_rural = row["code"], row["level"], row["parent"], row["urban_rural_class"]
    problems: list[str] = []

    def add(message: str, **params: object) -> None:
        problem = gettext(message) % params
        problems.append(gettext("line %(line)s: %(problem)s") % {"line": line, "problem": problem})

    if not code.isdigit():
        add(gettext_noop("code %(code)r must contain only digits"), code=code)
        return problems
    if level not in Level.values:
        add(gettext_noop("level %(level)r is not one of %(levels)s"), level=level, levels=", ".join(Level.values))
        return problems
    length = CODE_LENGTH[level]
    if len(code) != length:
        add(gettext_noop("code %(code)s has %(digits)s digits; a %(level)s code has %(length)s (significant digits "
                         "only)"), code=code, digits=len(code), level=level, length=length)
    elif level != Level.PROVINCE and set(code[len(code) - (3 if length >= 9 else 2):]) == {"0"}:
        add(gettext_noop("code %(code)s ends in zeros: that is the padded code of the level above"), code=code)
    if code in seen:
        add(gettext_noop("code %(code)s appears twice"), code=code)
    if not row["name_zh"]:
        add(gettext_noop("the Chinese name is missing"))
    if level == Level.PROVINCE and parent:
        add(gettext_noop("a province has no parent"))
    elif level != Level.PROVINCE and not (parent and len(parent) < len(code) and code.startswith(parent)):
        add(gettext_noop("parent %(parent)r must be a shorter code that %(code)s starts with"),
            parent=parent, code=code)
    elif parent and parent not in seen and parent not in known:
        add(gettext_noop("parent %(parent)s is neither in the table nor earlier in the file"), parent=parent)
    if urban_rural and urban_rural not in URBAN_RURAL_CLASSES:
        add(gettext_noop("urban-rural class %(value)r is not one of %(classes)s"), value=urban_rural,
            classes=", ".join(sorted(URBAN_RURAL_CLASSES)))
    return problems


@transaction.atomic
def load_divisions(path: Path, *, by: User | None = None) -> int:
    """导入行政区划: upsert areas from a CSV (code,name_zh,name_en,level,parent,urban_rural_class),
    codes as significant digits, parents before children. Returns how many areas were
    created or changed, so loading the same file again returns 0. Any bad row rejects the
    whole file, listing every problem with its line, and nothing is written."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in DIVISION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(gettext("%(file)s lacks the columns %(columns)s") % {"file": path.name,
                                                                                 "columns": ", ".join(missing)})
        rows = [(reader.line_num, {c: (row[c] or "").strip() for c in DIVISION_COLUMNS}) for row in reader]
    known = set(Area.objects.filter(code__in={row["parent"] for _line, row in rows}).values_list("code", flat=True))
    seen: set[str] = set()
    problems: list[str] = []
    for line, row in rows:
        problems += _division_problems(line, row, seen, known)
        seen.add(row["code"])
    if problems:
        raise ValidationError(problems)

    existing = Area.objects.in_bulk([row["code"] for _line, row in rows])
    created: list[str] = []
    updated: list[str] = []
    for _line, row in rows:
        values = {"name_zh": row["name_zh"], "name_en": row["name_en"], "level": row["level"],
                  "parent_id": row["parent"] or None, "urban_rural_class": row["urban_rural_class"]}
        area = existing.get(row["code"])
        if area is None:
            Area.objects.create(code=row["code"], **values)
            created.append(row["code"])
        elif any(getattr(area, field) != value for field, value in values.items()):
            Area.objects.filter(code=area.code).update(**values)
            updated.append(area.code)
    if created or updated:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        record(actor=by, action="areas.load_divisions", object_type="areas.area", object_id=path.name[:40],
               after={"file": path.name, "sha256": digest, "created": created, "updated": updated})
    return len(created) + len(updated)
