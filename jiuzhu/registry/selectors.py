"""Reads of the registry. Every read is filtered by the user's area, so an object outside
it is simply not found (404), never shown."""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from jiuzhu.accounts.models import User
from jiuzhu.registry.identity import normalise_resident_id
from jiuzhu.registry.models import AssetRecord, ExpenseRecord, Household, IncomeRecord, Membership, Person


def households_for(user: User) -> QuerySet[Household]:
    return Household.objects.filter(area__code__startswith=user.scope_code)


def persons_for(user: User) -> QuerySet[Person]:
    """Persons who live in a household of the user's area now: whoever moved away is the new
    area's to read and change (the old household's file still lists them as past members)."""
    return Person.objects.filter(memberships__household__area__code__startswith=user.scope_code,
                                 memberships__end__isnull=True).distinct()


def household_file(user: User, pk: int) -> Household:
    """One household with everything its page shows, in a fixed number of queries."""
    current = Membership.objects.select_related("person").order_by("end", "start", "id")
    return (households_for(user).select_related("area", "area__parent")
            .prefetch_related(Prefetch("memberships", queryset=current),
                              Prefetch("incomerecord_set", queryset=IncomeRecord.objects.select_related("person")),
                              Prefetch("assetrecord_set", queryset=AssetRecord.objects.select_related("person")),
                              Prefetch("expenserecord_set", queryset=ExpenseRecord.objects.select_related("person")))
            .get(pk=pk))


def current_members(household: Household) -> list[Membership]:
    """Members today, from the prefetched memberships."""
    return [m for m in household.memberships.all() if m.end is None]


_ID_LIKE = re.compile(r"^[0-9]{6,17}[0-9Xx]?$")


def search(user: User, query: str, *, area_code: str = "", limit: int = 50) -> QuerySet[Membership]:
    """Current memberships matching a name, an ID number (whole or its start) or a file number."""
    query = query.strip()
    qs = (Membership.objects.filter(end__isnull=True, household__area__code__startswith=user.scope_code)
          .select_related("person", "household", "household__area"))
    if area_code:
        qs = qs.filter(household__area__code__startswith=area_code)
    if query:
        if _ID_LIKE.match(query):
            number = normalise_resident_id(query)
            qs = qs.filter(Q(person__id_number__startswith=number) | Q(household__number__startswith=number))
        else:
            qs = qs.filter(person__name__contains=query)
    elif not area_code:
        return qs.none()
    return qs.order_by("household__number", "id")[:limit]
