"""A client for a DCI social registry — ours, as other departments and our own exchange
scripts call it — and the receiving half for its callbacks (on-search, notify, …).

Every request is signed with the caller's key; every answer and every callback must
carry the registry's valid signature, or it is not believed (`ResponseNotTrusted`). A
refusal comes back as `DciError` with the standard's codes:

    client = DciClient("https://registry.example/api/v1/dci", SigningKey("civil-affairs", key),
                       server_id="jiuzhu", server_public_key=load_public_key(pem))
    reply = client.sync_search(by_identifier("220882198403010011"))
    for group in reply.records():
        ...
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from jiuzhu.dci import codes, envelope
from jiuzhu.dci.codes import Refusal, gettext_noop
from jiuzhu.dci.envelope import Opened, PartnerKey, SigningKey

#: Paths below the registry's base URL (social_api_v1.0.0.yaml, registry_core_api_v1.0.0.yaml).
PATHS = {
    "sync_search": "/registry/sync/search",
    "search": "/registry/search",
    "txn_status": "/registry/txn/status",
    "sync_txn_status": "/registry/sync/txn/status",
    "subscribe": "/registry/subscribe",
    "unsubscribe": "/registry/unsubscribe",
}
#: Where the registry posts back, below the caller's callback base URL.
CALLBACK_PATHS = {
    "on-search": "/registry/on-search",
    "on-subscribe": "/registry/on-subscribe",
    "on-unsubscribe": "/registry/on-unsubscribe",
    "txn-on-status": "/registry/txn/on-status",
    "notify": "/registry/notify",
}


class DciError(Exception):
    """The registry refused the message (or could not be understood)."""

    def __init__(self, code: str, message: str, *, reason_code: str | None = None, http_status: int = 0):
        self.code = code
        self.reason_code = reason_code
        self.message = message
        self.http_status = http_status
        super().__init__(f"{reason_code or code}: {message}")

    @property
    def most_specific(self) -> str:
        return self.reason_code or self.code


class ResponseNotTrusted(DciError):
    """The answer is not signed by the registry we meant to talk to: nothing in it is believed."""


@dataclass(frozen=True)
class Reply:
    """An authenticated answer: the registry's header and message."""

    header: dict[str, Any]
    message: dict[str, Any]
    http_status: int

    @property
    def correlation_id(self) -> str:
        return str(self.message.get("correlation_id") or "")

    @property
    def items(self) -> list[dict[str, Any]]:
        """The per-request results of a search, in request order."""
        return list(self.message.get("search_response") or [])

    def records(self) -> list[dict[str, Any]]:
        """Every record of every successful item."""
        return [r for item in self.items if item.get("status") == codes.SUCCEEDED
                for r in (item.get("data") or {}).get("reg_records") or []]


def search_item(query_type: str, query: Any, *, reference_id: str | None = None, page_size: int | None = None,
                page_number: int = 1, sort: Sequence[tuple[str, str]] = (), locale: str = "") -> dict[str, Any]:
    """One entry of `search_request`."""
    criteria: dict[str, Any] = {"version": envelope.VERSION, "query_type": query_type, "response_entity": "Group",
                                "query": query}
    if sort:
        criteria["sort"] = [{"attribute_name": name, "sort_order": order} for name, order in sort]
    if page_size is not None:
        criteria["pagination"] = {"page_size": page_size, "page_number": page_number}
    item: dict[str, Any] = {"reference_id": reference_id or envelope.new_id(),
                            "timestamp": envelope.timestamp(envelope.utc_now()), "search_criteria": criteria}
    if locale:
        item["locale"] = locale
    return item


def by_identifier(value: str, id_type: str = "UIN", **options: Any) -> dict[str, Any]:
    """The household a person (resident ID number) lives in now, or a household by its file number."""
    return search_item("idtype-value", {"type": id_type, "value": value}, **options)


def by_attributes(*predicates: tuple[str, str, Any], **options: Any) -> dict[str, Any]:
    """Households matching every `(attribute, operator, value)`, e.g. `("group_size", "ge", 3)`."""
    query = [{"seq_num": n, "expression1": {"attribute_name": name, "operator": op, "attribute_value": value}}
             for n, (name, op, value) in enumerate(predicates, start=1)]
    return search_item("predicate", query, **options)


class DciClient:
    """Talks to one registry with one signing key; also opens that registry's callbacks."""

    def __init__(self, base_url: str, key: SigningKey, *, server_id: str, server_public_key: Ed25519PublicKey,
                 server_key_id: str = "", callback_uri: str = "", http: httpx.Client | None = None,
                 timeout: float = 10.0, skew_seconds: int = envelope.DEFAULT_SKEW_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.server_id = server_id
        self.server = PartnerKey(server_public_key, server_key_id)
        self.callback_uri = callback_uri.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout)
        self.skew_seconds = skew_seconds
        self._seen: set[str] = set()
        self._seen_lock = threading.Lock()

    # -- requests --------------------------------------------------------------------

    def envelope(self, action: str, message: Any, *, total_count: int = 1, sender_uri: str = "",
                 now: dt.datetime | None = None, message_id: str | None = None) -> dict[str, Any]:
        """A signed request envelope (public so a test can alter one and see it refused)."""
        header = envelope.request_header(action=action, sender_id=self.key.sender_id, receiver_id=self.server_id,
                                         sender_uri=sender_uri, total_count=total_count, now=now,
                                         message_id=message_id)
        return envelope.build(header, message, self.key, now=now, validity_seconds=self.skew_seconds)

    def post(self, endpoint: str, body: dict[str, Any]) -> Reply:
        """Send an envelope to `endpoint` (a key of PATHS) and authenticate the answer."""
        url = self.base_url + PATHS[endpoint]
        try:
            response = self.http.post(url, content=json.dumps(body, ensure_ascii=False).encode(),
                                      headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            raise DciError(codes.SERVICE_UNAVAILABLE, f"{url}: {exc}") from exc
        try:
            answer = response.json()
        except ValueError as exc:
            raise ResponseNotTrusted(codes.SERVICE_UNAVAILABLE, f"{url} answered HTTP {response.status_code} "
                                     "without a DCI envelope", http_status=response.status_code) from exc
        reply = self.open_reply(answer, http_status=response.status_code)
        message = reply.message
        if reply.header.get("status") == codes.REJECTED or message.get("ack_status") == codes.ERR:
            error = message.get("error") or {}
            raise DciError(str(error.get("code") or codes.REQUEST_BAD),
                           str(error.get("message") or reply.header.get("status_reason_message") or ""),
                           reason_code=reply.header.get("status_reason_code"), http_status=response.status_code)
        return reply

    def open_reply(self, answer: Any, *, http_status: int = 200) -> Reply:
        try:
            opened = envelope.open_envelope(answer, self._server_key, now=envelope.utc_now(),
                                            skew_seconds=self.skew_seconds, receiver_id=self.key.sender_id,
                                            callback=True)
        except Refusal as refusal:
            raise ResponseNotTrusted(refusal.code, refusal.message(), reason_code=refusal.reason_code,
                                     http_status=http_status) from refusal
        if not isinstance(opened.message, dict):
            raise ResponseNotTrusted(codes.REQUEST_BAD, "the answer's message is not an object",
                                     http_status=http_status)
        return Reply(header=opened.header, message=opened.message, http_status=http_status)

    def _server_key(self, sender_id: str) -> PartnerKey | None:
        return self.server if sender_id == self.server_id else None

    def _callback(self, action: str, callback_uri: str | None) -> str:
        base = (callback_uri if callback_uri is not None else self.callback_uri).rstrip("/")
        return base + CALLBACK_PATHS[action] if base else ""

    def sync_search(self, *items: dict[str, Any], transaction_id: str | None = None) -> Reply:
        """Search and wait for the records (`/registry/sync/search`)."""
        message = {"transaction_id": transaction_id or envelope.new_id(), "search_request": list(items)}
        return self.post("sync_search", self.envelope("search", message, total_count=len(items)))

    def search(self, *items: dict[str, Any], transaction_id: str | None = None,
               callback_uri: str | None = None) -> Reply:
        """Search asynchronously: the answer is an acknowledgement; the records come to on-search."""
        message = {"transaction_id": transaction_id or envelope.new_id(), "search_request": list(items)}
        return self.post("search", self.envelope("search", message, total_count=len(items),
                                                 sender_uri=self._callback("on-search", callback_uri)))

    def txn_status(self, transaction_id: str, *, txn_type: str = "search", sync: bool = True,
                   reference_ids: Iterable[str] = (), callback_uri: str | None = None) -> Reply:
        """Where a transaction stands; with `sync=False` the answer comes to txn/on-status."""
        refs = list(reference_ids)
        request = {"reference_id": envelope.new_id(), "txn_type": txn_type,
                   "attribute_type": "reference_id_list" if refs else "transaction_id",
                   "attribute_value": refs or transaction_id}
        message = {"transaction_id": transaction_id, "txnstatus_request": request}
        if sync:
            return self.post("sync_txn_status", self.envelope("txn-status", message))
        return self.post("txn_status", self.envelope("txn-status", message,
                                                     sender_uri=self._callback("txn-on-status", callback_uri)))

    def subscribe(self, *event_types: str, area: str | None = None, record_type: str = "Group",
                  transaction_id: str | None = None, callback_uri: str | None = None) -> Reply:
        """Subscribe to events (enrolment, exit, death), optionally in one area; codes come to on-subscribe."""
        filter_: list[dict[str, Any]] = []
        if area:
            filter_.append({"seq_num": 1, "expression1": {"attribute_name": "area", "operator": "eq",
                                                          "attribute_value": area}})
        items = [{"reference_id": envelope.new_id(), "timestamp": envelope.timestamp(envelope.utc_now()),
                  "subscribe_criteria": {"version": envelope.VERSION, "reg_event_type": event,
                                         "filter_type": "predicate", "filter": filter_,
                                         "notify_record_type": record_type}}
                 for event in event_types]
        message = {"transaction_id": transaction_id or envelope.new_id(), "subscribe_request": items}
        return self.post("subscribe", self.envelope("subscribe", message, total_count=len(items),
                                                    sender_uri=self._callback("on-subscribe", callback_uri)))

    def unsubscribe(self, *subscription_codes: str, transaction_id: str | None = None,
                    callback_uri: str | None = None) -> Reply:
        message = {"transaction_id": transaction_id or envelope.new_id(),
                   "timestamp": envelope.timestamp(envelope.utc_now()),
                   "subscription_codes": list(subscription_codes)}
        return self.post("unsubscribe", self.envelope("unsubscribe", message, total_count=len(subscription_codes),
                                                      sender_uri=self._callback("on-unsubscribe", callback_uri)))

    # -- callbacks -------------------------------------------------------------------

    def open_callback(self, body: bytes | str | dict[str, Any], *, actions: tuple[str, ...] = ()) -> Opened:
        """A callback from the registry, authenticated and not seen before; Refusal otherwise."""
        opened = envelope.open_envelope(body, self._server_key, now=envelope.utc_now(), skew_seconds=self.skew_seconds,
                                        receiver_id=self.key.sender_id, actions=actions, callback=True)
        with self._seen_lock:
            if opened.message_id in self._seen:
                raise Refusal(codes.REQUEST_BAD, gettext_noop("Message {id} was received before."),
                              reason_code=codes.MESSAGE_ID_DUPLICATE, id=opened.message_id)
            self._seen.add(opened.message_id)
        return opened

    def callback_answer(self, opened: Opened | None, refusal: Refusal | None = None) -> dict[str, Any]:
        """The signed acknowledgement to send back for a callback (ACK, or ERR with the refusal's codes)."""
        header_in = opened.header if opened is not None else {}
        status = codes.REJECTED if refusal else codes.RECEIVED
        header = envelope.callback_header(action=str(header_in.get("action", "")), sender_id=self.key.sender_id,
                                          receiver_id=self.server_id, status=status, total_count=1,
                                          completed_count=0 if refusal else 1,
                                          reason_code=refusal.reason_code if refusal else None,
                                          reason_message=refusal.message() if refusal else None)
        message = envelope.ack_message(codes.ERR if refusal else codes.ACK,
                                       correlation_id=str(header_in.get("message_id", "")),
                                       error_code=refusal.code if refusal else None,
                                       error_message=refusal.message() if refusal else "")
        return envelope.build(header, message, self.key, validity_seconds=self.skew_seconds)
