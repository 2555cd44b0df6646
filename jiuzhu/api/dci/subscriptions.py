"""Subscribing to events (enrolment, exit, death) and unsubscribing, per the registry core API.

A subscription names one event type and, optionally, an area inside the partner's scope
(`filter`: `[{"expression1": {"attribute_name": "area", "operator": "eq", "attribute_value":
"220882100"}}]`). The standard's cron `frequency` is not honoured: events are sent as soon
as `collect_events` and `deliver_pending` run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils.translation import gettext as _

from jiuzhu.accounts import audit
from jiuzhu.api.models import DciAgreement, DciSubscription, EventType
from jiuzhu.dci import codes, envelope, query
from jiuzhu.dci.codes import ItemRejected, Refusal, gettext_noop

REGISTRY_TYPE = "ns:cn:jiuzhu:RegistryType:Social"


def _event_type(raw: Any, agreement: DciAgreement) -> str:
    event = str(raw or "").strip().lower()
    if event not in EventType.values:
        raise ItemRejected(codes.NOTIFY_TYPES_INVALID, gettext_noop(
            "reg_event_type {event} is not an event of this registry; use {known}."),
            event=raw, known=", ".join(EventType.values))
    if event not in agreement.allowed_event_types:
        raise ItemRejected(codes.NOTIFY_TYPES_INVALID, gettext_noop(
            "Your agreement does not allow subscribing to {event}."), event=event)
    return event


def _area(filter_: Any, agreement: DciAgreement) -> str:
    """The area a subscription watches: the filter's, which must lie inside the agreement's scope."""
    if filter_ in (None, "", [], {}):
        return agreement.area_id
    items = filter_ if isinstance(filter_, list) else [filter_]
    if len(items) != 1 or not isinstance(items[0], dict):
        raise ItemRejected(codes.NOTIFY_DETAILS_INVALID, gettext_noop(
            "filter may hold one predicate: area, operator eq, a division code."))
    expression = items[0].get("expression1", items[0])
    try:
        p = query.predicate(expression.get("attribute_name") if isinstance(expression, dict) else None,
                            expression.get("operator") if isinstance(expression, dict) else None,
                            expression.get("attribute_value") if isinstance(expression, dict) else None)
    except ItemRejected as exc:
        raise ItemRejected(codes.NOTIFY_DETAILS_INVALID, exc.template, **exc.args_) from exc
    if p.attribute != "area" or p.operator != "eq":
        raise ItemRejected(codes.NOTIFY_DETAILS_INVALID, gettext_noop("Only an area (operator eq) can filter events."))
    if not str(p.value).startswith(agreement.area_id):
        raise ItemRejected(codes.NOTIFY_DETAILS_INVALID, gettext_noop(
            "Area {area} is outside the area of your agreement ({scope})."), area=p.value, scope=agreement.area_id)
    return str(p.value)


def _info(subscription: DciSubscription, now: dt.datetime, criteria: dict[str, Any]) -> dict[str, Any]:
    return {"version": envelope.VERSION, "code": subscription.code,
            "status": "subscribe" if subscription.active else "unsubscribe", "timestamp": envelope.timestamp(now),
            "reg_type": REGISTRY_TYPE, "reg_event_type": subscription.event_type,
            "filter_type": criteria.get("filter_type") or "predicate", "filter": criteria.get("filter") or [],
            "notify_record_type": subscription.record_type}


def subscribe(agreement: DciAgreement, message: dict[str, Any], *, correlation_id: str,
              now: dt.datetime) -> dict[str, Any]:
    """The SubscribeResponse: one subscription per accepted item."""
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for request in message["subscribe_request"]:
        reference_id = request.get("reference_id") if isinstance(request, dict) else None
        item: dict[str, Any] = {"reference_id": reference_id, "timestamp": envelope.timestamp(now)}
        try:
            if not isinstance(reference_id, str) or not reference_id or len(reference_id) > 99:
                raise ItemRejected(codes.REFERENCE_ID_INVALID, gettext_noop("reference_id is missing or too long."))
            if reference_id in seen:
                raise ItemRejected(codes.REFERENCE_ID_DUPLICATE, gettext_noop("reference_id {id} appears twice."),
                                   id=reference_id)
            seen.add(reference_id)
            criteria = request.get("subscribe_criteria")
            if not isinstance(criteria, dict):
                raise ItemRejected(codes.NOTIFY_DETAILS_INVALID, gettext_noop("subscribe_criteria is missing."))
            event = _event_type(criteria.get("reg_event_type"), agreement)
            area = _area(criteria.get("filter"), agreement)
            record_type = "Member" if event == EventType.DEATH else "Group"
            if DciSubscription.objects.filter(agreement=agreement, event_type=event, area_code=area,
                                              active=True).exists():
                raise ItemRejected(codes.ALREADY_SUBSCRIBED, gettext_noop(
                    "You are already subscribed to {event} in {area}."), event=event, area=area)
            subscription = DciSubscription.objects.create(
                agreement=agreement, code=uuid.uuid4().hex, event_type=event, area_code=area,
                record_type=record_type, criteria=criteria)
            audit.record(actor=None, action="dci.subscribe", obj=subscription, area=area,
                         after={"partner": agreement.sender_id, "code": subscription.code, "event_type": event,
                                "area": area})
        except ItemRejected as rejected:
            item.update(status=codes.REJECTED, status_reason_code=rejected.reason_code,
                        status_reason_message=rejected.message(_)[:999])
        else:
            item.update(status=codes.SUCCEEDED, subscriptions=[_info(subscription, now, criteria)])
        results.append(item)
    return {"transaction_id": message.get("transaction_id", ""), "correlation_id": correlation_id,
            "subscribe_response": results}


def check_unsubscribe(message: dict[str, Any]) -> list[str]:
    found = message.get("subscription_codes")
    if not isinstance(found, list) or not found or not all(isinstance(c, str) and c for c in found):
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The message needs a non-empty subscription_codes list."))
    return [str(c) for c in found]


def unsubscribe(agreement: DciAgreement, message: dict[str, Any], *, correlation_id: str,
                now: dt.datetime) -> dict[str, Any]:
    """The UnSubscribeResponse. All codes or none: one unknown code leaves every subscription as it was."""
    wanted = check_unsubscribe(message)
    found = {s.code: s for s in DciSubscription.objects.filter(agreement=agreement, code__in=wanted)}
    response: dict[str, Any] = {"transaction_id": message.get("transaction_id", ""), "correlation_id": correlation_id,
                                "timestamp": envelope.timestamp(now)}
    unknown = [c for c in wanted if c not in found]
    ended = [c for c in wanted if c in found and not found[c].active]
    if unknown or ended:
        rejected = (ItemRejected(codes.SUBSCRIPTION_CODE_INVALID, gettext_noop(
            "No subscription of yours has the code {codes}."), codes=", ".join(unknown)) if unknown
            else ItemRejected(codes.ALREADY_UNSUBSCRIBED, gettext_noop("{codes} ended before."),
                              codes=", ".join(ended)))
        response.update(status=codes.REJECTED, status_reason_code=rejected.reason_code,
                        status_reason_message=rejected.message(_)[:999],
                        subscription_status=[{"code": c, "status": "subscribe" if c in found and found[c].active
                                              else "unsubscribe"} for c in wanted if c in found])
        return response
    for code in wanted:
        subscription = found[code]
        subscription.active = False
        subscription.ended_at = now
        subscription.save(update_fields=["active", "ended_at"])
        audit.record(actor=None, action="dci.unsubscribe", obj=subscription, area=subscription.area_code,
                     after={"partner": agreement.sender_id, "code": code})
    response.update(status=codes.SUCCEEDED,
                    subscription_status=[{"code": c, "status": "unsubscribe"} for c in wanted])
    return response
