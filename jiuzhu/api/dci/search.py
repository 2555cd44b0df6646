"""Answering a DCI search: households in the partner's area matching the criteria, each cut
down to the fields its agreement allows, and an audit entry saying who asked what about whom.

Items of a batch are answered one by one: a refused item (`status: rjct` with the
standard's reason code) does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.api.dci import keys, records
from jiuzhu.api.models import DciAgreement
from jiuzhu.casework.models import Enrolment
from jiuzhu.dci import codes, envelope, fields, query
from jiuzhu.dci.codes import ItemRejected, Refusal, gettext_noop
from jiuzhu.dci.query import All, AnyOf, Condition, Criteria, Not, Predicate
from jiuzhu.registry.models import Household, Membership

_LOOKUP = {"gt": "gt", "lt": "lt", "eq": "exact", "ge": "gte", "le": "lte", "in": "in"}
_SORT_FIELDS = {"group_size": "current_size", "area": "area_id", "registration_date": "created_at"}


def check_batch(message: dict[str, Any], header: dict[str, Any], key: str) -> list[Any]:
    """The batch list of a search or subscribe message, or the Refusal for the whole message."""
    items = message.get(key)
    if not isinstance(items, list) or not items:
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The message needs a non-empty {key} list."), key=key)
    if len(items) > keys.max_batch():
        raise Refusal(codes.REQUEST_BAD, gettext_noop("At most {maximum} requests fit in one message."),
                      reason_code=codes.TOTAL_COUNT_LIMIT_EXCEEDED, maximum=keys.max_batch())
    try:
        total = int(header.get("total_count"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        total = -1
    if total != len(items):
        raise Refusal(codes.REQUEST_BAD, gettext_noop("total_count is {total} but the message holds {count}."),
                      reason_code=codes.TOTAL_COUNT_INVALID, total=header.get("total_count"), count=len(items))
    return items


def condition_q(where: Condition) -> Q:
    """The condition tree as a filter on households (annotated with `current_size`)."""
    if isinstance(where, All):
        return reduce(operator.and_, (condition_q(p) for p in where.parts))
    if isinstance(where, AnyOf):
        return reduce(operator.or_, (condition_q(p) for p in where.parts))
    if isinstance(where, Not):
        return ~condition_q(where.part)
    return _predicate_q(where)


def _predicate_q(p: Predicate) -> Q:
    values = p.value if p.operator == "in" else [p.value]
    if p.attribute == "group_size":
        return Q(**{f"current_size__{_LOOKUP[p.operator]}": p.value})
    if p.attribute == "area":
        return reduce(operator.or_, (Q(area__code__startswith=v) for v in values))
    if p.attribute == "area_type":
        return Q(area_type__in=values)
    if p.attribute == "household":
        return Q(number__in=values)
    if p.attribute == "programme":
        return Q(pk__in=Enrolment.objects.filter(active=True, programme__in=values).values("household_id"))
    if p.attribute == "identifier":
        return Q(pk__in=Membership.objects.filter(end__isnull=True, person__id_number__in=values)
                 .values("household_id"))
    raise AssertionError(p.attribute)


def in_scope(agreement: DciAgreement) -> QuerySet[Household]:
    return Household.objects.filter(area__code__startswith=agreement.area_id)


def _item(reference_id: Any, now: dt.datetime, status: str, *, reason: ItemRejected | None = None,
          data: dict[str, Any] | None = None, pagination: dict[str, int] | None = None,
          locale: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"reference_id": reference_id, "timestamp": envelope.timestamp(now), "status": status}
    if reason is not None:
        item["status_reason_code"] = reason.reason_code
        item["status_reason_message"] = reason.message(_)[:999]
    if data is not None:
        item["data"] = data
    if pagination is not None:
        item["pagination"] = pagination
    if locale:
        item["locale"] = locale
    return item


def _criteria(agreement: DciAgreement, request: Any, seen: set[str]) -> Criteria:
    if not isinstance(request, dict):
        raise ItemRejected(codes.SEARCH_CRITERIA_INVALID, gettext_noop("Each search request must be an object."))
    reference_id = request.get("reference_id")
    if not isinstance(reference_id, str) or not reference_id or len(reference_id) > 99:
        raise ItemRejected(codes.REFERENCE_ID_INVALID, gettext_noop("reference_id is missing or too long."))
    if reference_id in seen:
        raise ItemRejected(codes.REFERENCE_ID_DUPLICATE, gettext_noop("reference_id {id} appears twice."),
                           id=reference_id)
    seen.add(reference_id)
    try:
        envelope.parse_timestamp(request.get("timestamp"))
    except ValueError as exc:
        raise ItemRejected(codes.TIMESTAMP_INVALID, gettext_noop(
            "timestamp must be an ISO 8601 date-time with a time zone.")) from exc
    criteria = request.get("search_criteria")
    query_type = criteria.get("query_type") if isinstance(criteria, dict) else None
    if query_type in query.QUERY_TYPES and query_type not in agreement.allowed_query_types:
        raise ItemRejected(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
            "Your agreement does not allow {type} queries (allowed: {allowed})."),
            type=query_type, allowed=", ".join(agreement.allowed_query_types) or "-")
    parsed = query.parse_criteria(criteria, max_page_size=keys.max_page_size())
    hidden = sorted(a for a in query.attributes_used(parsed.where)
                    if not any(fields.granted(f, agreement.allowed_fields) for f in query.ATTRIBUTE_FIELDS[a]))
    if hidden:
        raise ItemRejected(codes.SEARCH_CRITERIA_INVALID, gettext_noop(
            "Your agreement does not let you search on {attributes}: its fields are not granted to you."),
            attributes=", ".join(hidden))
    return parsed


def answer(agreement: DciAgreement, message: dict[str, Any], *, correlation_id: str, message_id: str,
           now: dt.datetime) -> tuple[dict[str, Any], list[str]]:
    """The SearchResponse for a checked search message, audited as one entry, and the file
    numbers of the households it carries."""
    results: list[dict[str, Any]] = []
    audited: list[dict[str, Any]] = []
    seen: set[str] = set()
    grants = tuple(agreement.allowed_fields)
    for request in message["search_request"]:
        reference_id = request.get("reference_id") if isinstance(request, dict) else None
        locale = request.get("locale") if isinstance(request, dict) else None
        try:
            criteria = _criteria(agreement, request, seen)
            households = (records.with_size(in_scope(agreement)).filter(condition_q(criteria.where))
                          .order_by(*[("-" if s.descending else "") + _SORT_FIELDS[s.attribute] for s in criteria.sort],
                                    "pk"))
            total = households.count()
            if not criteria.paginated and total > criteria.page_size:
                raise ItemRejected(codes.TOO_MANY_RECORDS, gettext_noop(
                    "{count} households match; ask for them page by page (pagination) or narrow the search."),
                    count=total)
            start = (criteria.page_number - 1) * criteria.page_size
            page = list(records.households_with_records(households[start:start + criteria.page_size]))
        except ItemRejected as rejected:
            results.append(_item(reference_id, now, codes.REJECTED, reason=rejected, locale=locale))
            audited.append({"reference_id": reference_id, "refused": rejected.reason_code})
            continue
        reg_records = [fields.filter_record("Group", records.group_record(h), grants) for h in page]
        results.append(_item(reference_id, now, codes.SUCCEEDED,
                             data={"version": envelope.VERSION, "reg_records": reg_records},
                             pagination={"page_size": criteria.page_size, "page_number": criteria.page_number,
                                         "total_count": total}, locale=locale))
        audited.append({"reference_id": reference_id, "query_type": criteria.query_type,
                        "query": query.describe(criteria.where), "total": total,
                        "households": [h.number for h in page]})
    audit.record(actor=None, action="dci.search", obj=agreement, area=agreement.area_id,
                 after={"partner": agreement.sender_id, "message_id": message_id,
                        "transaction_id": message.get("transaction_id"), "fields": list(grants), "items": audited},
                 reason=f"DCI search by {agreement.sender_id}")
    response = {"transaction_id": message.get("transaction_id", ""), "correlation_id": correlation_id,
                "search_response": results}
    return response, [n for a in audited for n in a.get("households", [])]


def counts(response: dict[str, Any]) -> tuple[int, int]:
    """(total, completed) items of a SearchResponse, for the callback header."""
    items = response.get("search_response") or []
    return len(items), sum(1 for i in items if i.get("status") in (codes.SUCCEEDED, codes.REJECTED))


def pending(message: dict[str, Any], *, correlation_id: str, now: dt.datetime) -> dict[str, Any]:
    """What txn/status says of a search not yet answered: every item pending."""
    return {"transaction_id": message.get("transaction_id", ""), "correlation_id": correlation_id,
            "search_response": [{"reference_id": r.get("reference_id") if isinstance(r, dict) else None,
                                 "timestamp": envelope.timestamp(now), "status": codes.PENDING}
                                for r in message.get("search_request") or []]}
