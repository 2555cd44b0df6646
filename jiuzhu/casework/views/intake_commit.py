"""The intake wizard's last step: write the household (if new), its declared facts and the
intake in one transaction, or nothing at all, with every problem keyed by its form path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404

from jiuzhu.accounts.models import User
from jiuzhu.areas.models import Area, Level
from jiuzhu.casework import services
from jiuzhu.casework.forms_intake import (
    ProgrammesForm,
)
from jiuzhu.casework.models import Intake
from jiuzhu.registry import selectors as registry_selectors
from jiuzhu.registry import services as registry
from jiuzhu.registry.models import Household, Person, Source

FACT_CATEGORY = {"income": "income", "assets": "asset", "expenses": "expense"}
AMOUNT_FIELDS = ("amount", "value", "monthly_reference", "months")


def villages_for(user: User) -> Any:
    """The villages a new household may be put in: those inside the user's area."""
    return Area.objects.filter(level=Level.VILLAGE, code__startswith=user.scope_code).order_by("code")


def commit_intake(user: User, state: dict[str, Any], form: ProgrammesForm) -> Intake:
    """Write the household (if new), its declared facts and the intake, or nothing at all."""
    with transaction.atomic():
        household, people = wizard_household(user, state)
        declare_facts(user, household, people, state.get("facts") or {})
        data = form.cleaned_data
        consents = [services.ConsentData(people[m["key"]], signature=(data.get(f"signature_{m['key']}") or "").strip(),
                                         scan=data.get(f"scan_{m['key']}") or None)
                    for m in form.adults]
        return services.intake_submit(
            by=user, household=household, applicant=people[data["applicant"]], programmes=data["programmes"],
            channel=data["channel"], consents=consents, truth_promise=data["truth_promise"],
            missing_items=form.missing_item_lines())


def wizard_household(user: User, state: dict[str, Any]) -> tuple[Household, dict[str, Person]]:
    if state.get("household_id"):
        household = get_object_or_404(registry_selectors.households_for(user), pk=state["household_id"])
        members = household.memberships.filter(end__isnull=True).select_related("person")
        return household, {f"p{m.person_id}": m.person for m in members}
    new = state["new"]
    area = get_object_or_404(villages_for(user), code=new["village"])
    people: dict[str, Person] = {}
    member_data = []
    for i, row in enumerate(new["members"]):
        person = Person.objects.filter(id_number=row["id_number"]).first()
        if person is None:
            try:
                person = registry.person_create(by=user, area_code=area.code, data=registry.PersonData(
                    id_number=row["id_number"], name=row["name"], sex=row["sex"],
                    birth_date=dt.date.fromisoformat(row["birth_date"]), hukou_type=row["hukou_type"],
                    disability_grade=row.get("disability_grade"), disability_type=row.get("disability_type") or ""))
            except ValidationError as exc:
                raise prefixed(exc, f"members[{i}].") from exc
        people[f"r{i}"] = person
        counted = row["counted"] == "yes"
        member_data.append(registry.MemberData(person=person, relation=row["relation"], counted=counted,
                                               not_counted_reason="" if counted else row["not_counted_reason"]))
    household = registry.household_create(by=user, area=area, area_type=new["area_type"], address=new["address"],
                                          members=member_data, since=services.today())
    return household, people


def declare_facts(user: User, household: Household, people: dict[str, Person], facts: dict[str, Any]) -> None:
    for group, rows in facts.items():
        for i, row in enumerate(rows):
            amounts: dict[str, Any] = {name: Decimal(row[name]) for name in AMOUNT_FIELDS
                                       if row.get(name) not in (None, "")}
            try:
                registry.fact_add(by=user, household=household, category=FACT_CATEGORY[group], kind=row["kind"],
                                  person=people.get(row.get("member") or ""), source=Source.DECLARED, **amounts)
            except ValidationError as exc:
                raise prefixed(exc, f"{group}[{i}].") from exc


def prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError({prefix + key: value for key, value in exc.message_dict.items()})
    return ValidationError({prefix.rstrip("."): exc.messages})
