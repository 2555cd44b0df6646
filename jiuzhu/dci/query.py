"""Search criteria of a DCI search request, read into a small condition tree.

The standard allows three query forms (src/registry/social/RegistryQueries.yaml):
- `idtype-value`: `{"type": "UIN", "value": "2208…"}`, one identifier;
- `predicate`: a list of `{seq_num, expression1, condition, expression2}`, each expression
  `{attribute_name, operator, attribute_value}`; the list items all hold (and);
- `expression`: a template `{"type": …, "value": {"expression": {"collection": "Group",
  "query": {"$and": [{"group_size": {"$lt": 5}}]}}}}`, of which we read the
  `$and` / `$or` / `$not` and `$gt $lt $eq $ge $le $in` subset the samples use.

Attributes a registry answers are its own to define; ours are the few a partner needs to
find households: group size, area, programme, identifier, urban or rural. Anything else is
refused item by item with the standard's reason code, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jiuzhu.dci import codes
from jiuzhu.dci.codes import ItemRejected, gettext_noop

QUERY_TYPES = ("idtype-value", "predicate", "expression")
OPERATORS = ("gt", "lt", "eq", "ge", "le", "in")

#: attribute → (operators allowed, kind of value)
ATTRIBUTES: dict[str, tuple[tuple[str, ...], str]] = {
    "group_size": (OPERATORS, "int"),
    "area": (("eq", "in"), "area"),
    "area_type": (("eq", "in"), "area_type"),
    "programme": (("eq", "in"), "word"),
    "identifier": (("eq", "in"), "identifier"),
    "household": (("eq", "in"), "word"),
}
#: The field an agreement must grant before a partner may search on an attribute: a search
#: answers "does some household have this?", so it discloses the field as surely as a reply.
ATTRIBUTE_FIELDS: dict[str, tuple[str, ...]] = {
    "group_size": ("Group.group_size",),
    "area": ("Group.additional_attributes.area_code", "Group.place"),
    "area_type": ("Group.additional_attributes.area_type",),
    "programme": ("Group.additional_attributes.programmes",),
    "identifier": ("Person.identifier",),
    "household": ("Group.group_identifier",),
}
ALIASES = {
    "household_size": "group_size", "region_code": "area", "sub_region_code": "area", "area_code": "area",
    "location": "area", "program": "programme", "uin": "identifier", "nationalid": "identifier",
    "national_id": "identifier", "id_number": "identifier", "householdid": "household", "group_identifier": "household",
}
#: identifier types of `idtype-value` queries → attribute
IDENTIFIER_TYPES = {"uin": "identifier", "nationalid": "identifier", "national_id": "identifier",
                    "householdid": "household", "household_id": "household"}
SORT_ATTRIBUTES = ("group_size", "area", "registration_date")
RESPONSE_ENTITIES = ("Group", "Household")
AREA_TYPES = ("urban", "rural")

_AREA = re.compile(r"^(?:[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")
_WORD = re.compile(r"^[0-9A-Za-z_.-]{1,40}$")
_IDENTIFIER = re.compile(r"^[0-9]{17}[0-9X]$")


@dataclass(frozen=True)
class Predicate:
    attribute: str
    operator: str
    value: Any


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Predicate | All | AnyOf | Not


@dataclass(frozen=True)
class Sort:
    attribute: str
    descending: bool


@dataclass(frozen=True)
class Criteria:
    query_type: str
    where: Condition
    sort: tuple[Sort, ...]
    page_size: int
    page_number: int
    paginated: bool


def _reject(code: str, template: str, **args: Any) -> ItemRejected:
    return ItemRejected(code, template, **args)


def _value(attribute: str, kind: str, operator: str, raw: Any) -> Any:
    values = raw if operator == "in" else [raw]
    if operator == "in" and (not isinstance(raw, list) or not raw):
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("{attribute}: \"in\" needs a non-empty list."),
                      attribute=attribute)
    out: list[Any] = []
    for item in values:
        if kind == "int":
            if isinstance(item, bool) or not isinstance(item, int | str) or not str(item).strip().isdigit():
                raise _reject(codes.SEARCH_CRITERIA_INVALID,
                              gettext_noop("{attribute}: {value} is not a whole number."),
                              attribute=attribute, value=item)
            out.append(int(item))
            continue
        text = str(item).strip() if isinstance(item, str | int) and not isinstance(item, bool) else None
        if kind == "identifier" and text is not None:
            text = re.sub(r"[\s-]+", "", text).upper()
        pattern = {"area": _AREA, "identifier": _IDENTIFIER, "word": _WORD}.get(kind)
        if text is None or (pattern is not None and not pattern.match(text)) \
                or (kind == "area_type" and text not in AREA_TYPES):
            raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("{attribute}: {value} is not a valid value."),
                          attribute=attribute, value=item)
        out.append(significant_area(text) if kind == "area" else text)
    return out if operator == "in" else out[0]


_SHORTER = {12: 9, 9: 6, 6: 4, 4: 2}


def significant_area(code: str) -> str:
    """220882000000 → 220882: a division code written out to 12 digits, cut to its level (2/4/6/9/12)."""
    while len(code) in _SHORTER and set(code[_SHORTER[len(code)]:]) == {"0"}:
        code = code[:_SHORTER[len(code)]]
    return code


def predicate(name: Any, operator: Any, raw: Any) -> Predicate:
    """One `attribute operator value`, checked; aliases (`household_size`, `UIN`, …) become our names."""
    if not isinstance(name, str) or not name:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("attribute_name is missing."))
    attribute = name if name in ATTRIBUTES else ALIASES.get(name.lower(), "")
    if not attribute:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
            "{attribute} cannot be searched here; use one of {known}."), attribute=name, known=", ".join(ATTRIBUTES))
    allowed, kind = ATTRIBUTES[attribute]
    if operator not in allowed:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
            "{attribute}: the operator {operator} is not one of {allowed}."),
            attribute=name, operator=operator, allowed=", ".join(allowed))
    return Predicate(attribute, str(operator), _value(name, kind, str(operator), raw))


def _expression_predicate(item: Any) -> Predicate:
    if not isinstance(item, Mapping):
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("expression1 and expression2 must be objects."))
    return predicate(item.get("attribute_name"), item.get("operator"), item.get("attribute_value"))


def _predicate_list(query: Any) -> Condition:
    if not isinstance(query, list) or not query:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("A predicate query is a non-empty list."))
    parts: list[Condition] = []
    for item in sorted(query, key=lambda i: _seq(i)):
        if not isinstance(item, Mapping):
            raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("Each predicate must be an object."))
        first = _expression_predicate(item.get("expression1"))
        condition = (item.get("condition") or "").lower()
        second_raw = item.get("expression2")
        if not condition and not second_raw:
            parts.append(first)
            continue
        if condition not in ("and", "or", "not") or not second_raw:
            raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
                "condition must be and, or or not, with an expression2."))
        second = _expression_predicate(second_raw)
        parts.append(AnyOf((first, second)) if condition == "or"
                     else All((first, Not(second))) if condition == "not" else All((first, second)))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _seq(item: Any) -> float:
    try:
        return float(item.get("seq_num") or 0) if isinstance(item, Mapping) else 0.0
    except (TypeError, ValueError):
        return 0.0


def _mongo(query: Any) -> Condition:
    """The `$and` / `$or` / `$not` subset of the samples' NoSql expression."""
    if not isinstance(query, Mapping) or not query:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("The expression query must be a non-empty object."))
    parts: list[Condition] = []
    for key, value in query.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("{key} needs a non-empty list."), key=key)
            inner = tuple(_mongo(v) for v in value)
            parts.append(All(inner) if key == "$and" else AnyOf(inner))
        elif key == "$not":
            parts.append(Not(_mongo(value)))
        elif isinstance(value, Mapping) and value:
            for op, operand in value.items():
                parts.append(predicate(key, op[1:] if isinstance(op, str) and op.startswith("$") else op, operand))
        else:
            parts.append(predicate(key, "eq", value))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _expression(query: Any) -> Condition:
    value = query.get("value") if isinstance(query, Mapping) else None
    expression = value.get("expression") if isinstance(value, Mapping) else None
    if not isinstance(expression, Mapping):
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
            "An expression query needs value.expression with a collection and a query."))
    collection = expression.get("collection", "Group")
    if str(collection).lower() not in ("group", "household"):
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("Only the Group collection can be searched."))
    return _mongo(expression.get("query"))


def _identifier(query: Any) -> Condition:
    if not isinstance(query, Mapping):
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("An idtype-value query needs a type and a value."))
    kind = str(query.get("type") or "").lower()
    attribute = IDENTIFIER_TYPES.get(kind)
    if attribute is None:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
            "The identifier type {type} is not known here; use UIN (resident ID number) or HouseholdID."),
            type=query.get("type"))
    return predicate(attribute, "eq", query.get("value"))


def _int(raw: Any, default: int) -> int | None:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def parse_criteria(criteria: Any, *, max_page_size: int = 100) -> Criteria:
    """One `search_criteria`, or ItemRejected with the standard's reason code."""
    if not isinstance(criteria, Mapping):
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("search_criteria is missing."))
    query_type = criteria.get("query_type")
    if query_type not in QUERY_TYPES:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("query_type must be one of {types}."),
                      types=", ".join(QUERY_TYPES))
    entity = criteria.get("response_entity") or "Group"
    if entity not in RESPONSE_ENTITIES:
        raise _reject(codes.SEARCH_CRITERIA_INVALID, gettext_noop("This registry answers with Group records only."))
    query = criteria.get("query")
    where = (_identifier(query) if query_type == "idtype-value"
             else _expression(query) if query_type == "expression"
             else _expression(query) if isinstance(query, Mapping) and "value" in query
             else _predicate_list(query))
    sort: list[Sort] = []
    for item in criteria.get("sort") or []:
        name = item.get("attribute_name") if isinstance(item, Mapping) else None
        order = (item.get("sort_order") or "asc") if isinstance(item, Mapping) else None
        name = ALIASES.get(str(name).lower(), name)
        if name not in SORT_ATTRIBUTES or order not in ("asc", "desc"):
            raise _reject(codes.SORT_INVALID, gettext_noop("Sort by {attributes}, asc or desc."),
                          attributes=", ".join(SORT_ATTRIBUTES))
        sort.append(Sort(str(name), order == "desc"))
    pagination = criteria.get("pagination") or None
    if pagination is not None and not isinstance(pagination, Mapping):
        raise _reject(codes.PAGINATION_INVALID, gettext_noop("pagination needs page_size and page_number."))
    page_size = _int((pagination or {}).get("page_size"), max_page_size)
    page_number = _int((pagination or {}).get("page_number"), 1)
    if page_size is None or page_number is None or not 1 <= page_size <= max_page_size or page_number < 1:
        raise _reject(codes.PAGINATION_INVALID, gettext_noop(
            "page_size must be 1 to {maximum} and page_number 1 or more."), maximum=max_page_size)
    return Criteria(query_type=str(query_type), where=where, sort=tuple(sort), page_size=page_size,
                    page_number=page_number, paginated=pagination is not None)


def describe(where: Condition) -> Any:
    """The condition as plain data, for the audit log."""
    if isinstance(where, Predicate):
        return [where.attribute, where.operator, where.value]
    if isinstance(where, All):
        return {"and": [describe(p) for p in where.parts]}
    if isinstance(where, AnyOf):
        return {"or": [describe(p) for p in where.parts]}
    return {"not": describe(where.part)}


def attributes_used(where: Condition) -> set[str]:
    """Every attribute a condition tests, however deeply nested."""
    if isinstance(where, Predicate):
        return {where.attribute}
    if isinstance(where, Not):
        return attributes_used(where.part)
    return {a for part in where.parts for a in attributes_used(part)}
