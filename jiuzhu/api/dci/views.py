"""The DCI social-registry endpoints: translate HTTP to the exchange's services and back.

Every answer, refusals included, is a signed envelope: a response header (status,
`status_reason_code`) and a message that is either the result (sync endpoints) or the
standard's acknowledgement `{ack_status, timestamp, correlation_id, error{code, message}}`.
No session or token: the signature, checked against the partner's registered key, is the
authentication, so the views are exempt from CSRF (no cookie is read).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from jiuzhu.accounts import audit
from jiuzhu.api.dci import inbound, keys, outbox, search, subscriptions, txn
from jiuzhu.api.dci.inbound import Inbound
from jiuzhu.api.models import MessageStatus
from jiuzhu.dci import codes, envelope
from jiuzhu.dci.codes import Refusal

log = logging.getLogger(__name__)

Work = Callable[[Inbound, dt.datetime], JsonResponse]


def _respond(*, action: str, status: str, receiver_id: str, message: dict[str, Any], http_status: int = 200,
             total: int = 0, completed: int = 0, reason_code: str | None = None,
             reason_message: str | None = None) -> JsonResponse:
    key = keys.signing_key()
    header = envelope.callback_header(action=action, sender_id=key.sender_id, receiver_id=receiver_id, status=status,
                                      total_count=total, completed_count=completed, reason_code=reason_code,
                                      reason_message=reason_message)
    body = envelope.build(header, message, key, validity_seconds=keys.skew_seconds())
    return JsonResponse(body, status=http_status, json_dumps_params={"ensure_ascii": False})


def _ack(found: Inbound, correlation_id: str, total: int) -> JsonResponse:
    return _respond(action=str(found.header["action"]), status=codes.RECEIVED, receiver_id=found.agreement.sender_id,
                    message=envelope.ack_message(codes.ACK, correlation_id=correlation_id), total=total)


def _refused(refusal: Refusal, body: bytes, action: str) -> JsonResponse:
    try:
        header = envelope.parse_body(body)["header"]
    except Refusal:
        header = {}
    text = refusal.message(_)
    log.info("DCI message from %r refused: %s %s", header.get("sender_id"), refusal.reason_code or "", refusal.code)
    sender = header.get("sender_id")
    return _respond(action=str(header.get("action") or action), status=codes.REJECTED,
                    receiver_id=sender if isinstance(sender, str) else "",
                    message=envelope.ack_message(codes.ERR, error_code=refusal.code, error_message=text),
                    http_status=refusal.http_status, reason_code=refusal.reason_code, reason_message=text)


def _handle(request: HttpRequest, actions: tuple[str, ...], work: Work) -> JsonResponse:
    now = timezone.now()
    try:
        found = inbound.receive(request.body, actions=actions, now=now)
        return work(found, now)
    except Refusal as refusal:
        return _refused(refusal, request.body, actions[0])


def _sync_search(found: Inbound, now: dt.datetime) -> JsonResponse:
    search.check_batch(found.message, found.header, "search_request")
    with transaction.atomic():
        message = inbound.remember(found, status=MessageStatus.SUCCEEDED, request=found.message)
        response, _about = search.answer(found.agreement, found.message, correlation_id=message.correlation_id,
                                         message_id=message.message_id, now=now)
        message.response = response
        message.save(update_fields=["response"])
    total, completed = search.counts(response)
    return _respond(action="on-search", status=codes.SUCCEEDED, receiver_id=found.agreement.sender_id,
                    message=response, total=total, completed=completed)


def _search(found: Inbound, now: dt.datetime) -> JsonResponse:
    items = search.check_batch(found.message, found.header, "search_request")
    callback = inbound.callback_url(found, "on-search")
    with transaction.atomic():
        message = inbound.remember(found, callback=callback, request=found.message)
        outbox.deliver_soon()
    return _ack(found, message.correlation_id, len(items))


def _subscribe(found: Inbound, now: dt.datetime) -> JsonResponse:
    items = search.check_batch(found.message, found.header, "subscribe_request")
    callback = inbound.callback_url(found, "on-subscribe")
    with transaction.atomic():
        message = inbound.remember(found, status=MessageStatus.SUCCEEDED, callback=callback, request=found.message)
        response = subscriptions.subscribe(found.agreement, found.message, correlation_id=message.correlation_id,
                                           now=now)
        message.response = response
        message.save(update_fields=["response"])
        accepted = sum(1 for i in response["subscribe_response"] if i["status"] == codes.SUCCEEDED)
        outbox.queue(agreement=found.agreement, action="on-subscribe", url=callback, payload=response,
                     total=len(items), completed=len(items), request=message,
                     status=codes.SUCCEEDED if accepted else codes.REJECTED)
        outbox.deliver_soon()
    return _ack(found, message.correlation_id, len(items))


def _unsubscribe(found: Inbound, now: dt.datetime) -> JsonResponse:
    wanted = subscriptions.check_unsubscribe(found.message)
    callback = inbound.callback_url(found, "on-unsubscribe")
    with transaction.atomic():
        message = inbound.remember(found, status=MessageStatus.SUCCEEDED, callback=callback, request=found.message)
        response = subscriptions.unsubscribe(found.agreement, found.message, correlation_id=message.correlation_id,
                                             now=now)
        message.response = response
        message.save(update_fields=["response"])
        outbox.queue(agreement=found.agreement, action="on-unsubscribe", url=callback, payload=response,
                     total=len(wanted), completed=len(wanted), request=message, status=response["status"])
        outbox.deliver_soon()
    return _ack(found, message.correlation_id, len(wanted))


def _status(found: Inbound, now: dt.datetime, correlation_id: str) -> dict[str, Any]:
    response = txn.status(found.agreement, found.message, correlation_id=correlation_id, now=now)
    audit.record(actor=None, action="dci.txn_status", obj=found.agreement, area=found.agreement.area_id,
                 after={"partner": found.agreement.sender_id, "message_id": found.header["message_id"],
                        "asked": found.message.get("txnstatus_request")})
    return response


def _txn_status(found: Inbound, now: dt.datetime) -> JsonResponse:
    txn.check(found.message)
    callback = inbound.callback_url(found, "txn-on-status")
    with transaction.atomic():
        message = inbound.remember(found, status=MessageStatus.SUCCEEDED, callback=callback, request=found.message)
        response = _status(found, now, message.correlation_id)
        outbox.queue(agreement=found.agreement, action="txn-on-status", url=callback, payload=response, request=message)
        outbox.deliver_soon()
    return _ack(found, message.correlation_id, 1)


def _sync_txn_status(found: Inbound, now: dt.datetime) -> JsonResponse:
    txn.check(found.message)
    with transaction.atomic():
        message = inbound.remember(found, status=MessageStatus.SUCCEEDED, request=found.message)
        response = _status(found, now, message.correlation_id)
    return _respond(action="txn-on-status", status=codes.SUCCEEDED, receiver_id=found.agreement.sender_id,
                    message=response, total=1, completed=1)


@csrf_exempt
@require_POST
def sync_search(request: HttpRequest) -> JsonResponse:
    """POST /registry/sync/search: the records in the answer."""
    return _handle(request, ("search",), _sync_search)


@csrf_exempt
@require_POST
def search_async(request: HttpRequest) -> JsonResponse:
    """POST /registry/search: ACK now, the records to the caller's on-search."""
    return _handle(request, ("search",), _search)


@csrf_exempt
@require_POST
def subscribe(request: HttpRequest) -> JsonResponse:
    return _handle(request, ("subscribe",), _subscribe)


@csrf_exempt
@require_POST
def unsubscribe(request: HttpRequest) -> JsonResponse:
    return _handle(request, ("unsubscribe",), _unsubscribe)


@csrf_exempt
@require_POST
def txn_status(request: HttpRequest) -> JsonResponse:
    return _handle(request, ("txn-status",), _txn_status)


@csrf_exempt
@require_POST
def sync_txn_status(request: HttpRequest) -> JsonResponse:
    return _handle(request, ("txn-status",), _sync_txn_status)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """Our public signing key (the standard's JWKS endpoint), for partners to register."""
    return JsonResponse({"keys": [envelope.jwk(keys.signing_key().public_key)]})
