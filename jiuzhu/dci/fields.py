"""What of a record may leave: the fields a partner's agreement grants, nothing else.

Grants are dotted names in the form the standard uses for `response_fields`
(src/common/schema/ResponseFields.yaml, e.g. "Household.member_list"): `Group.group_size`,
`Member.demographic_info`, `Person.name`, `Group.additional_attributes.programmes`. A grant
covers everything below it (`Group.additional_attributes` grants every attribute), and a
nested object needs both its own grant and grants for its fields: `Group.member_list`
with only `Person.sex` sends each member's sex and nothing else about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Every field we can send, for checking an agreement when it is written.
GROUP_FIELDS = ("group_identifier", "group_type", "place", "group_head_info", "group_size", "member_list",
                "additional_attributes", "registration_date", "last_updated")
MEMBER_FIELDS = ("member_identifier", "demographic_info", "is_disabled", "relationship_head", "registration_date",
                 "additional_attributes")
PERSON_FIELDS = ("identifier", "name", "birth_date", "sex", "address", "phone_number", "registration_date")
ENTITIES = {"Group": GROUP_FIELDS, "Member": MEMBER_FIELDS, "Person": PERSON_FIELDS}

_NESTED_MEMBER = {"Group": ("group_head_info", "member_list"), "Member": (), "Person": ()}


def unknown_grants(grants: Iterable[str]) -> list[str]:
    """Grants naming no field we have (a typo in an agreement would otherwise silently send nothing)."""
    bad = []
    for grant in grants:
        entity, _, rest = grant.partition(".")
        top = rest.split(".", 1)[0]
        if entity not in ENTITIES or (top and top not in ENTITIES[entity]):
            bad.append(grant)
    return bad


def granted(path: str, grants: Iterable[str]) -> bool:
    return any(path == g or path.startswith(g + ".") for g in grants)


def _attributes(path: str, attributes: Any, grants: tuple[str, ...]) -> list[Any]:
    return [a for a in attributes or [] if isinstance(a, Mapping) and granted(f"{path}.{a.get('name')}", grants)]


def _has_attribute_grant(path: str, grants: tuple[str, ...]) -> bool:
    return any(g == path or g.startswith(path + ".") for g in grants)


def filter_record(entity: str, record: Mapping[str, Any], grants: Iterable[str]) -> dict[str, Any]:
    """The record with only the granted fields (JSON-LD `@type` kept so the receiver knows what it holds)."""
    grants = tuple(grants)
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "@type":
            out[key] = value
            continue
        path = f"{entity}.{key}"
        if key == "additional_attributes":
            kept = _attributes(path, value, grants) if _has_attribute_grant(path, grants) else []
            if kept:
                out[key] = kept
        elif not granted(path, grants):
            continue
        elif key in _NESTED_MEMBER[entity]:
            out[key] = ([filter_record("Member", m, grants) for m in value] if isinstance(value, list)
                        else filter_record("Member", value, grants) if isinstance(value, Mapping) else value)
        elif entity == "Member" and key == "demographic_info" and isinstance(value, Mapping):
            out[key] = filter_record("Person", value, grants)
        else:
            out[key] = value
    return out
