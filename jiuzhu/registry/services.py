"""Writes to the registry. Each checks duty and area, validates, writes and audits in one
transaction; a stale update (someone saved in between) is refused, nothing overwritten."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.permissions import ensure_can
from jiuzhu.accounts.roles import Action
from jiuzhu.areas.models import Area, Level
from jiuzhu.registry.identity import check_resident_id, mismatches, normalise_resident_id
from jiuzhu.registry.models import (
    AssetRecord,
    ExpenseRecord,
    Household,
    IncomeRecord,
    Membership,
    Person,
    SensitiveView,
    Source,
    Versioned,
)


class StaleVersion(Exception):
    """Someone else saved the record after it was read: reload and try again (HTTP 409)."""

    def __init__(self, obj: models.Model, expected: int):
        super().__init__(_("This record was changed by someone else since you opened it (version %(v)s); "
                           "reload it and make your change again.") % {"v": expected})
        self.obj = obj


V = TypeVar("V", bound=Versioned)


def save_versioned(instance: V, expected_version: int, changes: dict[str, Any]) -> V:
    """Apply `changes` only if the row still has `expected_version`; bump the version."""
    model: Any = type(instance)
    updated = model.objects.filter(pk=instance.pk, version=expected_version).update(
        **changes, version=F("version") + 1)
    if not updated:
        raise StaleVersion(instance, expected_version)
    instance.refresh_from_db()
    return instance


@dataclass
class PersonData:
    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    hukou_type: str
    hukou_area: str = ""
    disability_grade: int | None = None
    disability_type: str = ""
    health_coefficient: Decimal | None = None
    categories: list[str] = field(default_factory=list)
    phone: str = ""


def check_person(data: PersonData, *, existing: Person | None = None, prefix: str = "") -> dict[str, list[str]]:
    """Every problem with a person's data, by field: the ID number checked and cross-checked
    with sex and birth date (§2), one ID one person."""
    problems: dict[str, list[str]] = {}
    number = normalise_resident_id(data.id_number)
    check = check_resident_id(number)
    if not check.valid:
        problems[prefix + "id_number"] = [
            _("“%(number)s” is not a valid resident ID number: %(why)s") % {"number": data.id_number,
                                                                          "why": "; ".join(check.errors)}]
    else:
        for problem in mismatches(check, sex=data.sex, birth_date=data.birth_date):
            key = prefix + ("sex" if "person's" in problem else "birth_date")
            problems.setdefault(key, []).append(problem)
        clash = Person.objects.filter(id_number=number)
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            problems.setdefault(prefix + "id_number", []).append(
                _("a person with ID number %(number)s is already registered") % {"number": number})
    if not data.name.strip():
        problems[prefix + "name"] = [_("is required")]
    if data.disability_grade is not None and not 1 <= data.disability_grade <= 10:
        problems[prefix + "disability_grade"] = [_("must be between 1 and 10")]
    if data.health_coefficient is not None and not Decimal(0) <= data.health_coefficient <= Decimal(1):
        problems[prefix + "health_coefficient"] = [_("must be between 0 and 1")]
    return problems


def _person_fields(data: PersonData) -> dict[str, Any]:
    return {
        "id_number": normalise_resident_id(data.id_number), "name": data.name.strip(), "sex": data.sex,
        "birth_date": data.birth_date, "hukou_type": data.hukou_type, "hukou_area": data.hukou_area,
        "disability_grade": data.disability_grade, "disability_type": data.disability_type,
        "health_coefficient": data.health_coefficient, "categories": list(data.categories), "phone": data.phone,
    }


@transaction.atomic
def person_create(*, by: User, data: PersonData, area_code: str) -> Person:
    ensure_can(by, Action.EDIT_HOUSEHOLD, area_code)
    problems = check_person(data)
    if problems:
        raise ValidationError(problems)
    person = Person.objects.create(**_person_fields(data))
    audit.record(actor=by, action="person.create", obj=person, area=area_code, after=audit.snapshot(person))
    return person


@transaction.atomic
def person_update(*, by: User, person: Person, expected_version: int, data: PersonData, area_code: str,
                  reason: str = "") -> Person:
    ensure_can(by, Action.EDIT_HOUSEHOLD, area_code)
    problems = check_person(data, existing=person)
    if problems:
        raise ValidationError(problems)
    before = audit.snapshot(person)
    save_versioned(person, expected_version, _person_fields(data))
    audit.record(actor=by, action="person.update", obj=person, area=area_code, before=before,
                 after=audit.snapshot(person), reason=reason)
    return person


def _next_number(area: Area) -> str:
    """File number: the village's 12-digit code and a 4-digit sequence."""
    prefix = area.full_code()
    last = (Household.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    seq = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


@dataclass
class MemberData:
    person: Person
    relation: str
    counted: bool = True
    not_counted_reason: str = ""


@transaction.atomic
def household_create(*, by: User, area: Area, area_type: str, address: str, members: list[MemberData],
                     since: dt.date, bank_account: str = "") -> Household:
    ensure_can(by, Action.EDIT_HOUSEHOLD, area.code)
    problems: dict[str, list[str]] = {}
    if area.level != Level.VILLAGE:
        problems["area"] = [_("a household belongs to a village or community (a 12-digit area)")]
    if not members:
        problems["members"] = [_("needs at least one member")]
    elif sum(m.relation == "head" for m in members) != 1:
        problems["members"] = [_("needs exactly one head of household")]
    for i, member in enumerate(members):
        if not member.counted and not member.not_counted_reason:
            problems[f"members[{i}].not_counted_reason"] = [_("say why this member is not counted")]
        current = member.person.memberships.filter(end__isnull=True).select_related("household").first()
        if current is not None and by.covers(current.household.area_id):
            problems[f"members[{i}].person"] = [
                _("%(name)s already belongs to household %(number)s") % {"name": member.person.name,
                                                                          "number": current.household.number}]
        elif current is not None:  # another area's household is not named
            problems[f"members[{i}].person"] = [
                _("%(name)s already belongs to a household in another area") % {"name": member.person.name}]
    if problems:
        raise ValidationError(problems)
    household = Household.objects.create(number=_next_number(area), area=area, area_type=area_type,
                                         address=address, bank_account=bank_account)
    for member in members:
        Membership.objects.create(household=household, person=member.person, relation=member.relation,
                                  counted=member.counted, not_counted_reason=member.not_counted_reason, start=since)
    audit.record(actor=by, action="household.create", obj=household, area=area.code,
                 after={**audit.snapshot(household), "members": [
                     {"person": m.person.pk, "relation": m.relation, "counted": m.counted} for m in members]})
    return household


@transaction.atomic
def household_update(*, by: User, household: Household, expected_version: int, changes: dict[str, Any],
                     reason: str = "") -> Household:
    ensure_can(by, Action.EDIT_HOUSEHOLD, household.area_id)
    allowed = {"address", "area_type", "bank_account"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({k: [_("cannot be changed here")] for k in sorted(unknown)})
    before = audit.snapshot(household)
    save_versioned(household, expected_version, changes)
    audit.record(actor=by, action="household.update", obj=household, area=household.area_id, before=before,
                 after=audit.snapshot(household), reason=reason)
    return household


@transaction.atomic
def membership_end(*, by: User, membership: Membership, on: dt.date, reason: str) -> Membership:
    household = membership.household
    ensure_can(by, Action.EDIT_HOUSEHOLD, household.area_id)
    if on < membership.start:
        raise ValidationError({"end": [_("cannot be before the membership began")]})
    before = audit.snapshot(membership)
    membership.end = on
    membership.save(update_fields=["end"])
    Household.objects.filter(pk=household.pk).update(version=F("version") + 1)
    audit.record(actor=by, action="membership.end", obj=membership, area=household.area_id, before=before,
                 after=audit.snapshot(membership), reason=reason)
    return membership


@transaction.atomic
def person_record_death(*, by: User, person: Person, on: dt.date, area_code: str) -> Person:
    """A death ends the membership; casework schedules the re-check (§9)."""
    ensure_can(by, Action.EDIT_HOUSEHOLD, area_code)
    before = audit.snapshot(person)
    save_versioned(person, person.version, {"death_date": on})
    audit.record(actor=by, action="person.death", obj=person, area=area_code, before=before,
                 after=audit.snapshot(person))
    for membership in person.memberships.filter(end__isnull=True):
        membership_end(by=by, membership=membership, on=on, reason=_("died"))
    return person


FACT_MODELS: dict[str, type[IncomeRecord] | type[AssetRecord] | type[ExpenseRecord]] = {
    "income": IncomeRecord, "asset": AssetRecord, "expense": ExpenseRecord,
}


@transaction.atomic
def fact_add(*, by: User, household: Household, category: str, kind: str, person: Person | None = None,
             source: str = Source.DECLARED, source_detail: str = "", supersede: bool = False,
             **amounts: Decimal | None) -> IncomeRecord | AssetRecord | ExpenseRecord:
    """Record one income, asset or expense. With `supersede`, earlier facts of the same kind,
    member and source leave the means test (they stay in the file)."""
    ensure_can(by, Action.EDIT_HOUSEHOLD, household.area_id)
    model = FACT_MODELS[category]
    fact = model(household=household, person=person, kind=kind, source=source, source_detail=source_detail,
                 **amounts)
    try:
        fact.full_clean(exclude=["household", "person"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    for name, value in amounts.items():
        if value is not None and value < 0:
            raise ValidationError({name: [_("must not be negative")]})
    if supersede:
        model.objects.filter(household=household, person=person, kind=kind, source=source,
                             superseded=False).update(superseded=True)
    fact.save()
    Household.objects.filter(pk=household.pk).update(version=F("version") + 1)
    audit.record(actor=by, action=f"{category}.add", obj=fact, area=household.area_id, after=audit.snapshot(fact))
    return fact


@transaction.atomic
def sensitive_shown(*, by: User, field: str, area_code: str, person: Person | None = None,
                    household: Household | None = None) -> None:
    """Log each press of "show" (§10): the log is how leaks are traced."""
    ensure_can(by, Action.SHOW_SENSITIVE, area_code)
    SensitiveView.objects.create(user=by, person=person, household=household, field=field)
    audit.record(actor=by, action="sensitive.show", obj=person or household, area=area_code,
                 after={"field": field})


@transaction.atomic
def fact_override(*, by: User, household: Household, category: str, kind: str, amount: Decimal, reason: str,
                  person: Person | None = None) -> IncomeRecord | AssetRecord | ExpenseRecord:
    """An officer sets the figure the means test uses for one kind (and member) over what the
    departments verified, e.g. a deposit that is a medical loan paid out the next week. The
    written reason is required, kept on the fact and in the audit log; the verified figure
    stays in the file beside it."""
    ensure_can(by, Action.ASSESS, household.area_id)
    if not reason.strip():
        raise ValidationError({"reason": [_("write why the verified figure is set aside")]})
    figure = "value" if category == "asset" else "amount"
    fact = fact_add(by=by, household=household, category=category, kind=kind, person=person,
                    source=Source.OVERRIDE, source_detail=by.username[:100], supersede=True, **{figure: amount})
    fact.reason = reason.strip()
    fact.save(update_fields=["reason"])
    audit.record(actor=by, action=f"{category}.override", obj=fact, area=household.area_id,
                 after=audit.snapshot(fact), reason=fact.reason)
    return fact
