"""Reads of the division tree. Codes are significant digits, so "inside" is a prefix test."""

from __future__ import annotations

from django.db.models import QuerySet

from jiuzhu.areas.models import CODE_LENGTH, Area, Level


def area_chain(code: str) -> list[Area]:
    """The areas from the province down to `code`, for breadcrumbs; empty for an unknown code.

    One query for every prefix, then the parent links decide, so a level the tree skips
    (a district directly under Beijing) is skipped here too."""
    prefixes = [code[:length] for length in sorted(set(CODE_LENGTH.values())) if length <= len(code)]
    found = Area.objects.in_bulk(prefixes)
    chain: list[Area] = []
    area = found.get(code)
    while area is not None:
        chain.append(area)
        area = found.get(area.parent_id) if area.parent_id else None
    return chain[::-1]


def areas_under(code: str, level: Level | str | None = None) -> QuerySet[Area]:
    """Every area below `code` (not the area itself), optionally of one level."""
    qs = Area.objects.filter(code__startswith=code).exclude(code=code)
    return qs.filter(level=level) if level else qs


def townships_in(code: str) -> QuerySet[Area]:
    """The towns, townships and street offices (乡镇街道) below `code`."""
    return areas_under(code, Level.TOWNSHIP)
