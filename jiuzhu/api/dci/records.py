"""Our households and persons as DCI social-registry records (Group, Member, SR Person).

Field names follow spdci/standards src/extensions/social/Group.yaml and Person.yaml.
What the standard has no field for — hukou, the 12-digit division code, urban or rural,
disability grade, the programmes a household receives and the monthly amount — goes in
`additional_attributes` as name/value pairs, the extension point the standard provides.
These are the full records; `jiuzhu.dci.fields.filter_record` cuts them down to what an
agreement allows before anything leaves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from jiuzhu.casework.models import Enrolment
from jiuzhu.registry.models import Household, Membership, Person

#: 复姓: two-character surnames, so 欧阳修 splits as 欧阳 + 修 rather than 欧 + 阳修.
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "夏侯", "轩辕",
    "司徒", "端木", "申屠", "独孤", "南宫", "西门", "万俟", "闻人", "呼延", "澹台", "公冶", "太叔", "仲孙", "钟离",
    "宗政", "濮阳", "淳于", "单于", "赫连", "拓跋",
})
ID_TYPE = "UIN"
HOUSEHOLD_ID_TYPE = "HouseholdID"
COUNTRY = "CN"


def split_name(name: str) -> dict[str, str]:
    """姓 and 名. Names written with a middle dot (many minority names) have no surname part."""
    name = name.strip()
    if "·" in name or "•" in name or len(name) < 2:
        return {"surname": "", "given_name": name}
    cut = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    return {"surname": name[:cut], "given_name": name[cut:]}


def _moment(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


def _attributes(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in pairs if value not in (None, "", [])]


def address(household: Household) -> dict[str, Any]:
    area = household.area
    return {"@type": "Address", "address_line1": household.address, "locality": area.name_zh,
            "sub_region_code": area.full_code(), "region_code": area.code[:6], "country_code": COUNTRY}


def person_record(person: Person, household: Household | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "@type": "SRPerson",
        "identifier": [{"identifier_type": ID_TYPE, "identifier_value": person.id_number}],
        "name": {"@type": "Name", **split_name(person.name)},
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex if person.sex in ("male", "female") else "unknown",
        "registration_date": _moment(person.created_at),
    }
    if household is not None:
        record["address"] = [address(household)]
    if person.phone:
        record["phone_number"] = [person.phone]
    return record


def member_record(membership: Membership) -> dict[str, Any]:
    person = membership.person
    return {
        "@type": "Member",
        "member_identifier": [{"identifier_type": ID_TYPE, "identifier_value": person.id_number}],
        "demographic_info": person_record(person, membership.household),
        "is_disabled": person.disability_grade is not None,
        "relationship_head": "self" if membership.relation == "head" else membership.relation,
        "registration_date": membership.start.isoformat(),
        "additional_attributes": _attributes([
            ("hukou_type", person.hukou_type), ("hukou_area", person.hukou_area),
            ("disability_grade", person.disability_grade), ("disability_type", person.disability_type),
            ("counted_member", membership.counted), ("not_counted_reason", membership.not_counted_reason),
            ("date_of_death", person.death_date.isoformat() if person.death_date else None),
        ]),
    }


def _yuan(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def group_record(household: Household) -> dict[str, Any]:
    """The household with its current members (needs `current_members` and `active_enrolments` prefetched,
    as `households_with_records` does)."""
    members: list[Membership] = list(getattr(household, "current_members", []))
    enrolments: list[Enrolment] = list(getattr(household, "active_enrolments", []))
    head = next((m for m in members if m.relation == "head"), members[0] if members else None)
    return {
        "@type": "Group",
        "group_identifier": [{"identifier_type": HOUSEHOLD_ID_TYPE, "identifier_value": household.number}],
        "group_type": "family",
        "place": {"@type": "Place", "address": f"{household.area.name_zh} {household.address}".strip()},
        "group_head_info": member_record(head) if head is not None else None,
        "group_size": len(members),
        "member_list": [member_record(m) for m in members],
        "additional_attributes": _attributes([
            ("area_code", household.area.full_code()), ("area_type", household.area_type),
            ("programmes", sorted({e.programme for e in enrolments})),
            ("monthly_amount", _yuan(sum((e.monthly_amount for e in enrolments), Decimal("0"))) if enrolments
             else None),
            ("enrolled_since", min(e.start_month for e in enrolments).isoformat() if enrolments else None),
        ]),
        "registration_date": _moment(household.created_at),
        "last_updated": _moment(household.updated_at),
    }


def households_with_records(queryset: QuerySet[Household]) -> QuerySet[Household]:
    """Everything `group_record` reads, in a fixed number of queries, with `current_size` for sorting."""
    current = (Membership.objects.filter(end__isnull=True).select_related("person", "household", "household__area")
               .order_by("start", "id"))
    return (queryset.select_related("area")
            .prefetch_related(Prefetch("memberships", queryset=current, to_attr="current_members"),
                              Prefetch("enrolments", queryset=Enrolment.objects.filter(active=True),
                                       to_attr="active_enrolments")))


def with_size(queryset: QuerySet[Household]) -> QuerySet[Household]:
    return queryset.annotate(current_size=Count("memberships", filter=Q(memberships__end__isnull=True)))
