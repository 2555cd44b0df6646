"""Template helpers of the casework lists: deadline badges, masking, labels, audit changes.

A deadline's colour is never the only signal: each badge carries its word and the number
of working days, so it reads the same in print, in greyscale and to a screen reader.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from jiuzhu.casework.deadlines import Urgency
from jiuzhu.casework.models import State
from jiuzhu.casework.programmes import programme_info
from jiuzhu.registry import masking

register = template.Library()

#: Fields whose values are personal data: masked wherever they appear, the audit history included.
SENSITIVE_KEYS = {"id_number": masking.mask_id_number, "relative_id_number": masking.mask_id_number,
                  "phone": masking.mask_phone, "bank_account": masking.mask_account}
#: Bookkeeping columns that change with every write and tell a reader nothing.
NOISE_KEYS = frozenset({"version", "created_at", "updated_at", "id"})


@register.simple_tag
def deadline_badge(urgency: Urgency, provisional: bool = False) -> SafeString:
    """The coloured badge and its words: overdue red, due soon amber, on time green, stopped grey."""
    days = urgency.working_days_left
    if urgency.level == "overdue":
        late = -(days or 0)
        text = ngettext("overdue by %(n)s working day", "overdue by %(n)s working days", late) % {"n": late}
    elif urgency.level == "due_soon":
        text = ngettext("due soon: %(n)s working day left", "due soon: %(n)s working days left",
                        days or 0) % {"n": days or 0}
    elif urgency.level == "on_time":
        text = ngettext("on time: %(n)s working day left", "on time: %(n)s working days left",
                        days or 0) % {"n": days or 0}
    elif urgency.level == "stopped":
        text = _("clock stopped (missing items asked for)")
    else:
        text = _("no deadline yet")
    badge = format_html('<span class="badge badge-{}">{}</span>', urgency.level, text)
    if provisional and urgency.level not in ("stopped", "none"):
        badge += provisional_marker()
    return badge


@register.simple_tag
def provisional_marker() -> SafeString:
    """A deadline computed Monday–Friday because the year's official holidays are not entered yet."""
    explanation = _("Provisional: the official holiday schedule of the year is not entered yet, so this deadline "
                    "counts Monday to Friday and may move once the county admin enters it.")
    return format_html(' <span class="badge badge-provisional" title="{}">{}<span class="visually-hidden"> — {}'
                       "</span></span>", explanation, _("provisional"), explanation)


@register.filter
def mask_id(value: str | None) -> str:
    return masking.mask_id_number(value or "")


@register.filter
def mask_phone(value: str | None) -> str:
    return masking.mask_phone(value or "")


@register.filter
def mask_account(value: str | None) -> str:
    return masking.mask_account(value or "")


@register.filter
def mask_name(value: str | None, style: str = "middle") -> str:
    return masking.mask_name(value or "", style)


@register.simple_tag
def application_url(pk: int) -> str:
    """The application page, built by its own module; the plain path while it is not there yet."""
    try:
        return reverse("casework:application", args=[pk])
    except NoReverseMatch:
        return f"/work/applications/{pk}/"


@register.filter
def programme_name(code: str, area_code: str = "") -> str:
    """The programme's name in the page's language (the code itself when the catalogue lacks it)."""
    info = programme_info(area_code, code)
    return info.name if info is not None else code


@register.filter
def fact_amount(fact: Any) -> str:
    """An income, asset or expense as a number: the amount, the value, or reference earnings × months."""
    for name in ("amount", "value"):
        number = getattr(fact, name, None)
        if number is not None:
            return f"{number:,.2f}"
    reference = getattr(fact, "monthly_reference", None)
    if reference is not None:
        return f"{reference:,.2f} × {getattr(fact, 'months', None) or '?'}"
    return "—"


@register.filter
def state_label(state: str) -> str:
    return str(State(state).label) if state in State.values else state


ACTION_LABELS: dict[str, Any] = {
    "household.create": gettext_lazy("household file opened"),
    "household.update": gettext_lazy("household changed"),
    "person.create": gettext_lazy("person registered"),
    "person.update": gettext_lazy("person changed"),
    "person.death": gettext_lazy("death recorded"),
    "membership.end": gettext_lazy("left the household"),
    "income.add": gettext_lazy("income recorded"),
    "asset.add": gettext_lazy("asset recorded"),
    "expense.add": gettext_lazy("expense recorded"),
    "intake.create": gettext_lazy("application taken"),
    "application.received": gettext_lazy("application received"),
    "application.clock_stop": gettext_lazy("clock stopped for missing items"),
    "application.clock_resume": gettext_lazy("clock resumed"),
    "visit.create": gettext_lazy("household visit recorded"),
    "assessment.create": gettext_lazy("means test run"),
    "decision.create": gettext_lazy("decision taken"),
    "enrolment.create": gettext_lazy("enrolled for payment"),
    "change_report.create": gettext_lazy("change reported"),
    "objection.create": gettext_lazy("objection recorded"),
    "objection.resolve": gettext_lazy("objection handled"),
    "income.override": gettext_lazy("income figure set by an officer"),
    "asset.override": gettext_lazy("asset figure set by an officer"),
    "expense.override": gettext_lazy("expense figure set by an officer"),
    "decision.increase": gettext_lazy("review: benefit increased"),
    "decision.decrease": gettext_lazy("review: benefit decreased"),
    "decision.unchanged": gettext_lazy("review: benefit unchanged"),
    "decision.stop": gettext_lazy("review: benefit stopped"),
}


@register.filter
def audit_action(action: str) -> str:
    """A readable name for an audit action; state moves read "application: <state>"."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    if action.startswith("application."):
        state = action.removeprefix("application.")
        if state in State.values:
            return _("application: %(state)s") % {"state": State(state).label}
    return action


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key in SENSITIVE_KEYS and isinstance(value, str):
        return SENSITIVE_KEYS[key](value)
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 120 else text[:117] + "…"
    return str(value)


@register.filter
def audit_changes(entry: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field the entry changed, personal data masked.

    A creation lists what was written that has a value, without the links to other records;
    bookkeeping columns (version, timestamps) are always left out."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    created = entry.before is None
    rows = []
    for key in sorted(set(before) | set(after)):
        if key in NOISE_KEYS or before.get(key) == after.get(key):
            continue
        if created and (key.endswith("_id") or after.get(key) in (None, "", [], {}, False)):
            continue
        rows.append((key, _shown(key, before.get(key)) if key in before else "",
                     _shown(key, after.get(key)) if key in after else ""))
    return rows
