"""Transaction status (txn/status): what became of a partner's earlier search, subscribe or
unsubscribe. A partner only ever sees its own transactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jiuzhu.api.dci import search
from jiuzhu.api.models import DciAgreement, DciMessage
from jiuzhu.dci import codes
from jiuzhu.dci.codes import Refusal, gettext_noop

#: txn_type → the action of the request it asks about ("subscibe" is the standard's own spelling in ibr).
TXN_TYPES = {"search": "search", "subscribe": "subscribe", "subscibe": "subscribe", "unsubscribe": "unsubscribe"}
ATTRIBUTE_TYPES = ("transaction_id", "correlation_id", "reference_id_list")
#: How many of a partner's latest messages a reference_id_list look-up reads.
REFERENCE_SCAN = 500


def _request(message: dict[str, Any]) -> dict[str, Any]:
    request = message.get("txnstatus_request")
    if not isinstance(request, dict):
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The message needs a txnstatus_request object."))
    if request.get("txn_type") not in TXN_TYPES or request.get("attribute_type") not in ATTRIBUTE_TYPES:
        raise Refusal(codes.REQUEST_BAD, gettext_noop(
            "txn_type must be search, subscribe or unsubscribe and attribute_type one of {types}."),
            types=", ".join(ATTRIBUTE_TYPES))
    return request


def check(message: dict[str, Any]) -> None:
    _request(message)


def _state(found: DciMessage, now: dt.datetime) -> dict[str, Any]:
    if found.response is not None:
        return dict(found.response)
    return search.pending(found.request or {}, correlation_id=found.correlation_id, now=now)


def status(agreement: DciAgreement, message: dict[str, Any], *, correlation_id: str,
           now: dt.datetime) -> dict[str, Any]:
    """The TxnStatusResponse, or `err.request.not_found` when nothing of this partner matches."""
    request = _request(message)
    txn_type = request["txn_type"]
    value = request.get("attribute_value")
    mine = DciMessage.objects.filter(agreement=agreement, action=TXN_TYPES[txn_type]).order_by("-id")
    state: dict[str, Any] | None = None
    if request["attribute_type"] == "reference_id_list":
        wanted = set(value) if isinstance(value, list) else set()
        items = []
        for found in mine[:REFERENCE_SCAN]:
            for item in _state(found, now).get(f"{TXN_TYPES[txn_type]}_response") or []:
                if item.get("reference_id") in wanted:
                    items.append(item)
                    wanted.discard(item.get("reference_id"))
        if items:
            state = {"transaction_id": message.get("transaction_id", ""), f"{TXN_TYPES[txn_type]}_response": items}
    else:
        field = "transaction_id" if request["attribute_type"] == "transaction_id" else "correlation_id"
        match = mine.filter(**{field: str(value or "")}).first() if value else None
        state = _state(match, now) if match is not None else None
    if state is None:
        raise Refusal(codes.REQUEST_NOT_FOUND, gettext_noop("No {type} transaction of yours matches {value}."),
                      type=txn_type, value=value)
    return {"transaction_id": message.get("transaction_id", ""), "correlation_id": correlation_id,
            "txnstatus_response": {"txn_type": txn_type, "txn_status": state}}
