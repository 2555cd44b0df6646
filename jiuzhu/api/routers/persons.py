"""Persons: read through `persons_for` (a person is visible while they have, or had, a
household in your area), written through the registry services. ID and phone numbers
come masked; the unmasked value has its own POST route, logged as on the page."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import P, PathEx, Router, Status

from jiuzhu.accounts.models import User
from jiuzhu.api import schemas as s
from jiuzhu.api.auth import user_of
from jiuzhu.registry import services
from jiuzhu.registry.masking import mask_id_number, mask_phone
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.selectors import households_for, persons_for

router = Router(tags=["persons"])

PersonId = PathEx[int, P(ge=1, le=s.MAX_ID)]


def person_out(person: Person) -> dict[str, Any]:
    return {"id": person.pk, "id_number": mask_id_number(person.id_number), "name": person.name, "sex": person.sex,
            "birth_date": person.birth_date, "hukou_type": person.hukou_type, "hukou_area": person.hukou_area,
            "disability_grade": person.disability_grade, "disability_type": person.disability_type,
            "health_coefficient": person.health_coefficient, "categories": list(person.categories or []),
            "phone": mask_phone(person.phone), "death_date": person.death_date, "version": person.version}


def home_of(user: User, person: Person) -> Household | None:
    """The person's household in the user's area: the current one, else the latest former one."""
    households = households_for(user).filter(memberships__person=person)
    return (households.filter(memberships__end__isnull=True).first()
            or households.order_by("-memberships__start", "-memberships__id").first())


def _detail(user: User, person: Person) -> dict[str, Any]:
    current = households_for(user).filter(memberships__person=person, memberships__end__isnull=True).first()
    return {**person_out(person), "household": current.pk if current else None}


def _scoped(user: User, person_id: int) -> tuple[Person, str]:
    """The person and the area code their changes are checked and audited against."""
    person = persons_for(user).get(pk=person_id)
    home = home_of(user, person)
    assert home is not None  # persons_for only finds persons with a household in the area
    return person, home.area_id


@router.get("/persons/{person_id}", response={200: s.PersonDetail, **s.ERRORS})
def get_person(request: HttpRequest, person_id: PersonId) -> dict[str, Any]:
    user = user_of(request)
    return _detail(user, persons_for(user).get(pk=person_id))


@router.post("/persons", response={201: s.PersonOut, **s.WRITE_ERRORS})
def create_person(request: HttpRequest, payload: s.PersonIn) -> Status[dict[str, Any]]:
    """Register a person (one ID number, one person). They become readable through
    GET /persons/{id} once they are a member of a household in your area; until then
    POST /households reuses them by their ID number."""
    data = services.PersonData(**payload.model_dump(exclude={"area"}))
    person = services.person_create(by=user_of(request), data=data, area_code=payload.area)
    return Status(201, person_out(person))


_REQUIRED = ("id_number", "name", "sex", "birth_date", "hukou_type", "hukou_area", "disability_type", "categories",
             "phone")


@router.patch("/persons/{person_id}", response={200: s.PersonDetail, **s.WRITE_ERRORS})
def update_person(request: HttpRequest, person_id: PersonId, payload: s.PersonPatch) -> dict[str, Any]:
    """Change the fields sent. Send the `version` you read: if someone saved in between, the
    answer is 409 with the current version and nothing changes."""
    user = user_of(request)
    person, area_code = _scoped(user, person_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "reason"})
    nulls = sorted(name for name in _REQUIRED if name in changes and changes[name] is None)
    if nulls:
        raise ValidationError({name: [_("must not be null")] for name in nulls})
    current = {name: getattr(person, name) for name in services.PersonData.__dataclass_fields__}
    data = services.PersonData(**{**current, **changes})
    services.person_update(by=user, person=person, expected_version=payload.version, data=data,
                           area_code=area_code, reason=payload.reason)
    return _detail(user, person)


def _show(request: HttpRequest, person_id: int, field: str) -> dict[str, str]:
    user = user_of(request)
    person, area_code = _scoped(user, person_id)
    services.sensitive_shown(by=user, field=field, area_code=area_code, person=person)
    return {"field": field, "value": getattr(person, field)}


@router.post("/persons/{person_id}/show-id-number", response={200: s.Shown, **s.ERRORS})
def show_id_number(request: HttpRequest, person_id: PersonId) -> dict[str, str]:
    """The full ID number; each call is logged like a press of "show" on the page (§10)."""
    return _show(request, person_id, "id_number")


@router.post("/persons/{person_id}/show-phone", response={200: s.Shown, **s.ERRORS})
def show_phone(request: HttpRequest, person_id: PersonId) -> dict[str, str]:
    """The full phone number; each call is logged."""
    return _show(request, person_id, "phone")

