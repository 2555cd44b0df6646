"""Filters that show the engine's trace values plainly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def plain(value: Any) -> str:
    """A trace value as a caseworker reads it: 0.4 not 0.4000000000000001, lists comma-joined."""
    if value is None or (isinstance(value, list | tuple | Mapping) and not value):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return format(value, ".10g")
    if isinstance(value, list | tuple):
        return ", ".join(nested(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key} = {nested(item)}" for key, item in value.items())
    return str(value)


def nested(value: Any) -> str:
    """A value inside a list or mapping, bracketed when it is itself a list or mapping."""
    text = plain(value)
    return f"({text})" if isinstance(value, list | tuple | Mapping) else text


@register.filter
def pairs(mapping: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """`mapping.items` without the template's key lookup (an input named "items" would win)."""
    return list(mapping.items()) if mapping else []


@register.filter
def period(code: str | None) -> str:
    """How often a programme pays: once, a year, a month."""
    periods = {"once": _("once"), "per_year": _("a year"), "per_month": _("a month")}
    return periods.get(code or "", code or "—")


@register.filter
def level(region: str | None) -> str:
    """Where a parameter value came from: 全国 / national, or the region code."""
    if region == "national":
        return _("national")
    return region or "—"
