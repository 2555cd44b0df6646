"""Households: list and read through the area-scoped selectors, write through the registry
services. A household of another area is 404, exactly as on the pages."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, PathEx, Query, Router, Status

from jiuzhu.api import schemas as s
from jiuzhu.api.auth import user_of
from jiuzhu.api.routers.persons import person_out
from jiuzhu.areas.models import Area
from jiuzhu.registry import services
from jiuzhu.registry.identity import normalise_resident_id
from jiuzhu.registry.masking import mask_account
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.selectors import household_file, households_for

router = Router(tags=["households"])

HouseholdId = PathEx[int, P(ge=1, le=s.MAX_ID)]
#: As in registry.selectors.search: digits look like an ID or file number, anything else is a name.
_ID_LIKE = re.compile(r"^[0-9]{6,17}[0-9Xx]?$")


def item_out(household: Household) -> dict[str, Any]:
    return {"id": household.pk, "number": household.number, "area": household.area_id,
            "area_name": household.area.name_zh, "area_type": household.area_type, "address": household.address,
            "version": household.version}


def household_out(household: Household) -> dict[str, Any]:
    """The household file's registry part; members current first (the prefetch orders them)."""
    memberships = sorted(household.memberships.all(), key=lambda m: (m.end is not None, m.start, m.pk))
    return {**item_out(household), "bank_account": mask_account(household.bank_account),
            "members": [{"id": m.pk, "relation": m.relation, "counted": m.counted,
                         "not_counted_reason": m.not_counted_reason, "start": m.start, "end": m.end,
                         "person": person_out(m.person)} for m in memberships]}


@router.get("/households", response={200: s.HouseholdPage, **s.ERRORS})
def list_households(request: HttpRequest, filters: Query[s.HouseholdFilter]) -> dict[str, Any]:
    """Households in your area, by file number; `q` matches a current member's name, the
    start of an ID number, or the start of a file number."""
    qs = households_for(user_of(request)).select_related("area")
    if filters.area:
        qs = qs.filter(area__code__startswith=filters.area)
    query = filters.q.strip()
    if query:
        if _ID_LIKE.match(query):
            number = normalise_resident_id(query)
            match = Q(number__startswith=number) | Q(memberships__person__id_number__startswith=number,
                                                     memberships__end__isnull=True)
        else:
            match = Q(memberships__person__name__contains=query, memberships__end__isnull=True)
        qs = qs.filter(pk__in=households_for(user_of(request)).filter(match).values("pk"))
    qs = qs.order_by("number")
    items = qs[filters.offset:filters.offset + filters.limit]
    return {"count": qs.count(), "items": [item_out(h) for h in items]}


@router.get("/households/{household_id}", response={200: s.HouseholdOut, **s.ERRORS})
def get_household(request: HttpRequest, household_id: HouseholdId) -> dict[str, Any]:
    return household_out(household_file(user_of(request), household_id))


def _member_person(index: int, member: s.MemberIn, seen: dict[str, int],
                   problems: dict[str, list[str]]) -> Person | services.PersonData | None:
    """The registered person with this ID number, or the data of a new one (checked)."""
    prefix = f"members[{index}]."
    number = normalise_resident_id(member.id_number)
    if number in seen:
        problems[prefix + "id_number"] = [_("is the same as member %(n)s") % {"n": seen[number] + 1}]
        return None
    seen[number] = index
    existing = Person.objects.filter(id_number=number).first()
    if existing is not None:
        if member.name is not None and member.name.strip() != existing.name:
            problems[prefix + "name"] = [_("differs from the name registered with this ID number")]
        return existing
    missing = [name for name in ("name", "sex", "birth_date", "hukou_type") if getattr(member, name) is None]
    for name in missing:
        problems[prefix + name] = [_("is required for a person not yet registered")]
    if missing:
        return None
    assert member.name is not None and member.sex is not None
    assert member.birth_date is not None and member.hukou_type is not None
    data = services.PersonData(
        id_number=member.id_number, name=member.name, sex=member.sex, birth_date=member.birth_date,
        hukou_type=member.hukou_type, hukou_area=member.hukou_area, disability_grade=member.disability_grade,
        disability_type=member.disability_type, health_coefficient=member.health_coefficient,
        categories=list(member.categories), phone=member.phone)
    for path, messages in services.check_person(data, prefix=prefix).items():
        problems.setdefault(path, []).extend(messages)
    return data


@router.post("/households", response={201: s.HouseholdOut, **s.WRITE_ERRORS})
def create_household(request: HttpRequest, payload: s.HouseholdIn) -> Status[dict[str, Any]]:
    """A household with its members. Members already registered (by ID number) are reused;
    the others are registered with it. Every problem is reported at once; nothing is kept
    unless everything is valid."""
    user = user_of(request)
    if not user.covers(payload.area):
        raise Http404  # as ensure_can: an area outside yours is not told apart from none
    area = Area.objects.filter(code=payload.area).first()
    if area is None:
        raise ValidationError({"area": [_("No such village or community in your area.")]})
    problems: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    people = [_member_person(i, m, seen, problems) for i, m in enumerate(payload.members)]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        members = []
        for member, found in zip(payload.members, people, strict=True):
            if isinstance(found, Person):
                person = found
            else:
                assert found is not None  # every member was checked above
                person = services.person_create(by=user, data=found, area_code=area.code)
            members.append(services.MemberData(person=person, relation=member.relation, counted=member.counted,
                                               not_counted_reason=member.not_counted_reason))
        household = services.household_create(by=user, area=area, area_type=payload.area_type,
                                              address=payload.address, members=members,
                                              since=timezone.localdate(), bank_account=payload.bank_account)
    return Status(201, household_out(household_file(user, household.pk)))


@router.patch("/households/{household_id}", response={200: s.HouseholdOut, **s.WRITE_ERRORS})
def update_household(request: HttpRequest, household_id: HouseholdId, payload: s.HouseholdPatch) -> dict[str, Any]:
    """Change address, urban/rural or bank account. Send the `version` you read: if someone
    saved in between, the answer is 409 with the current version and nothing changes."""
    user = user_of(request)
    household = households_for(user).get(pk=household_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "reason"})
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        raise ValidationError({name: [_("must not be null")] for name in nulls})
    services.household_update(by=user, household=household, expected_version=payload.version, changes=changes,
                              reason=payload.reason)
    return household_out(household_file(user, household.pk))


@router.post("/households/{household_id}/show-bank-account", response={200: s.Shown, **s.ERRORS})
def show_bank_account(request: HttpRequest, household_id: HouseholdId) -> dict[str, str]:
    """The unmasked bank account; each call is logged like a press of "show" on the page."""
    user = user_of(request)
    household = households_for(user).get(pk=household_id)
    services.sensitive_shown(by=user, field="bank_account", area_code=household.area_id, household=household)
    return {"field": "bank_account", "value": household.bank_account}
