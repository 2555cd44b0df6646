"""What we owe partners, and sending it: answers to asynchronous requests (on-search,
on-subscribe, on-unsubscribe, txn/on-status) and event notifications (notify).

Each owed message is a DciNotification row written in the same transaction as the work
that produced it, so nothing is lost if the process stops before sending; `deliver_pending`
(run by `jiuzhu dci deliver`, from cron or a timer) sends what is due, and an accepted
asynchronous request also starts one delivery at once in a background thread. A row is
claimed with a conditional update before it is sent, so two deliverers never send the
same row at the same moment; a partner that answers `rjct.message_id.duplicate` already
has the message, which counts as delivered. Failures are retried with growing delays
and given up after MAX_ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from jiuzhu.accounts import audit
from jiuzhu.api.dci import keys, search
from jiuzhu.api.models import DciAgreement, DciMessage, DciNotification, MessageStatus, OutboxStatus
from jiuzhu.dci import codes, envelope

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
#: How long a claimed row is left to its deliverer before another may try it.
LEASE = dt.timedelta(minutes=2)
TIMEOUT_SECONDS = 10.0


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4, … minutes, at most six hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def queue(*, agreement: DciAgreement, action: str, url: str, payload: dict[str, Any], total: int = 1,
          completed: int = 1, status: str = codes.SUCCEEDED, request: DciMessage | None = None,
          subscription_id: int | None = None, event_type: str = "", audit_entry_id: int | None = None,
          about: list[str] | None = None) -> DciNotification:
    return DciNotification.objects.create(
        agreement=agreement, action=action, url=url, payload=payload, request=request, subscription_id=subscription_id,
        event_type=event_type, audit_entry_id=audit_entry_id, message_id=envelope.new_id(),
        header={"status": status, "total_count": total, "completed_count": completed}, about=about or [],
        next_attempt_at=timezone.now())


def answer_searches(*, limit: int = 50, now: dt.datetime | None = None) -> int:
    """Answer asynchronous searches received and not yet answered; each queues its on-search."""
    done = 0
    for pk in list(DciMessage.objects.filter(action="search", status=MessageStatus.RECEIVED)
                   .order_by("id").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            if not DciMessage.objects.filter(pk=pk, status=MessageStatus.RECEIVED).update(status=MessageStatus.PENDING):
                continue  # another deliverer took it
            message = DciMessage.objects.select_related("agreement").get(pk=pk)
            moment = now or timezone.now()
            response, about = search.answer(message.agreement, message.request or {},
                                            correlation_id=message.correlation_id, message_id=message.message_id,
                                            now=moment)
            message.response = response
            message.status = MessageStatus.SUCCEEDED
            message.save(update_fields=["response", "status"])
            total, completed = search.counts(response)
            queue(agreement=message.agreement, action="on-search", url=message.callback_url, payload=response,
                  total=total, completed=completed, request=message, about=about)
            done += 1
    return done


@dataclass(frozen=True)
class Delivery:
    answered: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0


def _accepted(response: httpx.Response) -> tuple[bool, str]:
    """Did the partner take the message? 2xx without an ERR acknowledgement, or "already have it"."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    header = body.get("header") if isinstance(body, dict) else None
    reason = header.get("status_reason_code") if isinstance(header, dict) else None
    if reason == codes.MESSAGE_ID_DUPLICATE:
        return True, ""
    if 200 <= response.status_code < 300 and not (isinstance(message, dict) and message.get("ack_status") == codes.ERR):
        return True, ""
    error = message.get("error") if isinstance(message, dict) else None
    return False, f"HTTP {response.status_code} {json.dumps(error or reason or '', ensure_ascii=False)[:400]}"


def send(notification: DciNotification, *, http: httpx.Client, now: dt.datetime) -> str:
    """Send one claimed row; its new status."""
    key = keys.signing_key()
    agreement = notification.agreement
    header = envelope.callback_header(
        action=notification.action, sender_id=key.sender_id, receiver_id=agreement.sender_id,
        status=notification.header.get("status", codes.SUCCEEDED),
        total_count=int(notification.header.get("total_count", 1)),
        completed_count=int(notification.header.get("completed_count", 1)), message_id=notification.message_id,
        now=now)
    body = envelope.build(header, notification.payload, key, now=now, validity_seconds=keys.skew_seconds())
    try:
        response = http.post(notification.url, content=json.dumps(body, ensure_ascii=False).encode(),
                             headers={"Content-Type": "application/json"})
        ok, problem = _accepted(response)
    except httpx.HTTPError as exc:
        ok, problem = False, f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        notification.attempts += 1
        if ok:
            notification.status = OutboxStatus.SENT
            notification.sent_at = now
            notification.last_error = ""
            audit.record(actor=None, action=f"dci.{notification.action}", obj=notification, area=agreement.area_id,
                         after={"partner": agreement.sender_id, "message_id": notification.message_id,
                                "event_type": notification.event_type, "households": notification.about,
                                "url": notification.url})
        else:
            notification.last_error = problem
            notification.status = OutboxStatus.FAILED if notification.attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING
            notification.next_attempt_at = now + retry_delay(notification.attempts)
            log.warning("DCI %s to %s failed (attempt %s): %s", notification.action, notification.url,
                        notification.attempts, problem)
        notification.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
    return notification.status


def deliver_pending(*, limit: int = 200, http: httpx.Client | None = None, now: dt.datetime | None = None) -> Delivery:
    """Answer waiting searches, then send every outbox row that is due."""
    answered = answer_searches(limit=limit, now=now)
    sent = failed = retrying = 0
    client = http or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        moment = now or timezone.now()
        due = list(DciNotification.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=moment)
                   .order_by("id").values_list("pk", "next_attempt_at")[:limit])
        for pk, due_at in due:
            if not DciNotification.objects.filter(pk=pk, status=OutboxStatus.PENDING, next_attempt_at=due_at) \
                    .update(next_attempt_at=moment + LEASE):
                continue
            notification = DciNotification.objects.select_related("agreement").get(pk=pk)
            status = send(notification, http=client, now=moment)
            sent += status == OutboxStatus.SENT
            failed += status == OutboxStatus.FAILED
            retrying += status == OutboxStatus.PENDING
    finally:
        if http is None:
            client.close()
    return Delivery(answered=answered, sent=sent, failed=failed, retrying=retrying)


def _deliver_in_background() -> None:
    try:
        deliver_pending()
    except Exception:  # a background thread has no caller to tell; the rows stay for the next run
        log.exception("DCI background delivery failed")
    finally:
        connections.close_all()


def deliver_soon() -> None:
    """Once the current transaction commits, start a delivery in a background thread (unless
    DCI_DELIVER_IMMEDIATELY is off). If the process ends first, the next `jiuzhu dci deliver` sends it."""
    if getattr(settings, "DCI_DELIVER_IMMEDIATELY", True):
        transaction.on_commit(lambda: threading.Thread(target=_deliver_in_background, daemon=True,
                                                       name="dci-deliver").start())
