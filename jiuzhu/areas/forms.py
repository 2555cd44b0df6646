"""Forms of the working-day calendar page: one day, or a whole year's official schedule.

A year is typed as lines "YYYY-MM-DD name" (or "YYYY-MM-DD..YYYY-MM-DD name" for a run
of days), as the State Council notice lists them; every bad line is reported with its
number, and nothing is written until all are right.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|~|—|至)\s*(\d{4}-\d{2}-\d{2}))?\s*(.*)$")
#: A run of days longer than this is a typing mistake, not a holiday.
MAX_RUN_DAYS = 31


def parse_days(text: str) -> list[tuple[dt.date, str]]:
    """Lines "YYYY-MM-DD name" or "YYYY-MM-DD..YYYY-MM-DD name" → (date, name) for each day."""
    days: list[tuple[dt.date, str]] = []
    problems: list[ValidationError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        try:
            if match is None:
                raise ValueError
            first = dt.date.fromisoformat(match[1])
            last = dt.date.fromisoformat(match[2]) if match[2] else first
        except ValueError:
            problems.append(ValidationError(_("line %(line)s: “%(text)s” does not start with a date YYYY-MM-DD."),
                                            params={"line": number, "text": line[:40]}))
            continue
        if last < first or (last - first).days >= MAX_RUN_DAYS:
            problems.append(ValidationError(_("line %(line)s: the run of days must go forward and be shorter "
                                              "than %(max)s days."), params={"line": number, "max": MAX_RUN_DAYS}))
            continue
        name = match[3].strip()[:100]
        days += [(first + dt.timedelta(days=i), name) for i in range((last - first).days + 1)]
    if problems:
        raise ValidationError(problems)
    return days


class YearChoiceForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)


class CalendarDayForm(forms.Form):
    """调整一天: a local holiday, a late change, or a correction."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    kind = forms.ChoiceField(label=_("The day is"), choices=[("holiday", _("a day off (holiday)")),
                                                             ("working", _("a working day"))])
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("e.g. 国庆节, or 国庆节调休 for a swapped working day"))


class CalendarYearForm(forms.Form):
    """录入年度放假安排: the whole year as the State Council published it."""

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    source = forms.CharField(label=_("Source"), max_length=200,
                             help_text=_("The notice the schedule comes from, e.g. 国办发明电〔2026〕×号"))
    holidays = forms.CharField(label=_("Holidays"), widget=forms.Textarea(attrs={"rows": 10}), required=False,
                               help_text=_("One per line: YYYY-MM-DD name, or YYYY-MM-DD..YYYY-MM-DD name."))
    working_weekends = forms.CharField(label=_("Swapped working days (weekends)"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 5}),
                                       help_text=_("One per line: YYYY-MM-DD name (a Saturday or Sunday)."))

    def clean_holidays(self) -> list[tuple[dt.date, str]]:
        return parse_days(self.cleaned_data["holidays"])

    def clean_working_weekends(self) -> list[tuple[dt.date, str]]:
        return parse_days(self.cleaned_data["working_weekends"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("holidays") and not data.get("working_weekends"):
            self.add_error("holidays", _("Enter the year's holidays (and its swapped working days, if any)."))
        return data
