"""Accepting a request: its sender's agreement, its signature, its freshness, its message id once.

The checks themselves are `jiuzhu.dci.envelope.open_envelope` (the same the client runs on
our answers); here they meet the database: the agreement gives the key, and the message id
is stored under a unique constraint, so the second copy of a message is refused with
`rjct.message_id.duplicate` even when two copies arrive at the same moment.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from jiuzhu.api.dci import agreements, keys
from jiuzhu.api.models import DciAgreement, DciMessage, MessageStatus
from jiuzhu.dci import codes, envelope
from jiuzhu.dci.client import CALLBACK_PATHS
from jiuzhu.dci.codes import Refusal, gettext_noop
from jiuzhu.dci.envelope import Opened, PartnerKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    opened: Opened
    agreement: DciAgreement

    @property
    def header(self) -> dict[str, Any]:
        return self.opened.header

    @property
    def message(self) -> Any:
        return self.opened.message


def receive(body: bytes, *, actions: tuple[str, ...], now: dt.datetime) -> Inbound:
    """The authenticated request, or the Refusal that says why not."""
    found: dict[str, DciAgreement] = {}

    def key_for(sender_id: str) -> PartnerKey | None:
        agreement = agreements.active_agreement(sender_id)
        if agreement is None:
            return None
        try:
            key = agreements.partner_key(agreement)
        except ValueError:
            log.error("DCI agreement %s holds an unreadable public key", sender_id)
            return None
        found["agreement"] = agreement
        return key

    opened = envelope.open_envelope(body, key_for, now=now, skew_seconds=keys.skew_seconds(), actions=actions,
                                    receiver_id=keys.sender_id())
    if not isinstance(opened.message, dict):
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The message must be a JSON object."))
    return Inbound(opened=opened, agreement=found["agreement"])


def callback_url(inbound: Inbound, action: str) -> str:
    """Where the answer to an asynchronous request goes: the header's sender_uri if it lies under the
    agreement's callback base URL, else the standard path under that base. Data never goes to an
    address the agreement does not name."""
    base = inbound.agreement.callback_base_url.rstrip("/")
    uri = str(inbound.header.get("sender_uri") or "").strip()
    if not base:
        raise Refusal(codes.SENDER_URI_INVALID, gettext_noop(
            "Your agreement names no callback address, so asynchronous requests cannot be answered; use the sync "
            "endpoints."))
    if uri:
        if uri != base and not uri.startswith(base + "/"):
            raise Refusal(codes.SENDER_URI_INVALID, gettext_noop(
                "sender_uri {uri} is not under the callback address of your agreement ({base})."), uri=uri, base=base)
        return uri
    return base + CALLBACK_PATHS[action]


def remember(inbound: Inbound, *, status: str = MessageStatus.RECEIVED, callback: str = "",
             request: Any = None) -> DciMessage:
    """Store the accepted message under its (sender, message id); the second time, refuse it."""
    header = inbound.header
    if len(str(header["message_id"])) > 100 or len(str(inbound.message.get("transaction_id") or "")) > 99:
        raise Refusal(codes.REQUEST_BAD, gettext_noop(
            "message_id may have up to 100 characters and transaction_id up to 99."))
    try:
        with transaction.atomic():
            return DciMessage.objects.create(
                agreement=inbound.agreement, message_id=str(header["message_id"]),
                message_ts=envelope.parse_timestamp(header["message_ts"]), action=str(header["action"])[:30],
                transaction_id=str(inbound.message.get("transaction_id") or ""),
                correlation_id=envelope.new_id(), status=status, callback_url=callback, request=request)
    except IntegrityError as exc:
        raise Refusal(codes.REQUEST_BAD, gettext_noop("Message {id} was received before; it is not processed again."),
                      reason_code=codes.MESSAGE_ID_DUPLICATE, id=header["message_id"]) from exc
