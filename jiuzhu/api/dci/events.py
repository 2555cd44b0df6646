"""Events for subscribers, read from the audit log rather than hooked into casework.

Every enrolment, stop decision and recorded death already writes an append-only audit
entry in the same transaction as the change (`enrolment.create`, `decision.stop`,
`person.death`), so the log is a complete, ordered list of the events partners subscribe
to. `collect_events` reads the entries after its cursor, and for each active subscription
whose area holds the household queues one notify message — built now, cut to the
partner's allowed fields — in the outbox. Casework knows nothing of the exchange.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from jiuzhu.accounts.models import AuditEntry
from jiuzhu.api.dci import outbox, records
from jiuzhu.api.dci.subscriptions import REGISTRY_TYPE
from jiuzhu.api.models import DciEventCursor, DciNotification, DciSubscription, EventType
from jiuzhu.casework.models import Decision, Enrolment
from jiuzhu.dci import envelope, fields
from jiuzhu.dci.client import CALLBACK_PATHS
from jiuzhu.registry.models import Household, Membership, Person

log = logging.getLogger(__name__)

#: audit action → event
ACTIONS = {"enrolment.create": EventType.ENROLMENT, "decision.stop": EventType.EXIT, "person.death": EventType.DEATH}
CURSOR = "audit"


@dataclass(frozen=True)
class Event:
    entry: AuditEntry
    event_type: str
    household: Household
    member: Membership | None = None


def _household(pk: int) -> Household | None:
    return records.households_with_records(Household.objects.filter(pk=pk)).first()


def event_of(entry: AuditEntry) -> Event | None:
    """The household (and, for a death, the member) an audit entry is about; None if it is gone."""
    event_type = ACTIONS[entry.action]
    household_id: int | None = None
    member = None
    if event_type == EventType.ENROLMENT:
        household_id = Enrolment.objects.filter(pk=entry.object_id).values_list("household_id", flat=True).first()
    elif event_type == EventType.EXIT:
        household_id = Decision.objects.filter(pk=entry.object_id).values_list("household_id", flat=True).first()
    else:
        person = Person.objects.filter(pk=entry.object_id).first()
        member = (Membership.objects.filter(person=person).select_related("person", "household", "household__area")
                  .order_by("-start", "-id").first()) if person is not None else None
        household_id = member.household_id if member is not None else None
    household = _household(household_id) if household_id is not None else None
    if household is None:
        log.warning("DCI: audit entry %s (%s) names no household", entry.pk, entry.action)
        return None
    return Event(entry=entry, event_type=event_type, household=household, member=member)


def notify_message(event: Event, subscription: DciSubscription) -> dict[str, Any]:
    """NotifyEventRequest (src/registry/schema/NotifyEventRequest.yaml) for one event and subscriber.

    A death sends the member who died (a Member record; the household's identifier in its
    additional attributes); enrolment and exit send the household as a Group."""
    grants = subscription.agreement.allowed_fields
    if event.member is not None:
        record = records.member_record(event.member)
        record["additional_attributes"] = [*record["additional_attributes"],
                                           {"name": "household", "value": event.household.number}]
        record_type, reg_record = "Member", fields.filter_record("Member", record, grants)
    else:
        record = records.group_record(event.household)
        record["additional_attributes"] = [*record["additional_attributes"], *_event_attributes(event)]
        record_type, reg_record = "Group", fields.filter_record("Group", record, grants)
    return {"transaction_id": envelope.new_id(), "notify_event": [{
        "reference_id": f"audit-{event.entry.pk}",
        "timestamp": envelope.timestamp(event.entry.at),
        "data": {"version": envelope.VERSION, "reg_type": REGISTRY_TYPE, "reg_event_type": event.event_type,
                 "subscription_code": subscription.code, "reg_record_type": record_type,
                 "reg_records": reg_record},
    }]}


def _event_attributes(event: Event) -> list[dict[str, Any]]:
    """The enrolment as the audit entry recorded it: by the time events are collected the household
    may have changed again (a stop right after an enrolment), so the record alone would not say."""
    after = event.entry.after if isinstance(event.entry.after, dict) else {}
    enrolment = event.event_type == EventType.ENROLMENT
    pairs = [("event_programme", after.get("programme")),
             ("event_monthly_amount", after.get("monthly_amount") if enrolment else None),
             ("event_month", after.get("start_month") if enrolment else after.get("end_month"))]
    return [{"name": name, "value": value} for name, value in pairs if value not in (None, "")]


def _subscribers(event: Event, subscriptions: list[DciSubscription]) -> list[DciSubscription]:
    area = event.household.area_id
    return [s for s in subscriptions if s.event_type == event.event_type and area.startswith(s.area_code)
            and area.startswith(s.agreement.area_id)]


def collect_events(*, limit: int = 2000) -> int:
    """Queue notify messages for audit entries after the cursor; returns how many were queued."""
    queued = 0
    with transaction.atomic():
        cursor, _created = DciEventCursor.objects.select_for_update().get_or_create(name=CURSOR)
        last = AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0
        entries = list(AuditEntry.objects.filter(id__gt=cursor.last_audit_id, id__lte=last, action__in=ACTIONS)
                       .order_by("id")[:limit])
        # Reading up to `last` when the batch is not full: entries of other actions are passed over for good.
        reached = entries[-1].pk if len(entries) == limit else last
        subscriptions = list(DciSubscription.objects.filter(active=True, agreement__active=True)
                             .select_related("agreement"))
        for entry in entries if subscriptions else []:
            event = event_of(entry)
            if event is None:
                continue
            for subscription in _subscribers(event, subscriptions):
                if DciNotification.objects.filter(subscription=subscription, audit_entry_id=entry.pk).exists():
                    continue
                agreement = subscription.agreement
                if not agreement.callback_base_url:
                    continue
                outbox.queue(agreement=agreement, action="notify",
                             url=agreement.callback_base_url + CALLBACK_PATHS["notify"],
                             payload=notify_message(event, subscription), subscription_id=subscription.pk,
                             event_type=event.event_type, audit_entry_id=entry.pk, about=[event.household.number])
                queued += 1
        cursor.last_audit_id = max(cursor.last_audit_id, reached)
        cursor.save(update_fields=["last_audit_id"])
    return queued
