"""The DCI status and reason codes we use, spelled exactly as the standard does
(spdci/standards, src/common/schema/Error.yaml, MsgHeaderStatusReasonCode.yaml,
src/registry/schema/*StatusReasonCode.yaml), and the one error type that carries them.

Two families: `err.*` codes describe why a message could not be accepted at all (the
`error.code` of an acknowledgement); `rjct.*` codes are reasons given in a header or in
one item of a batch (`status_reason_code`). A refusal may carry one of each: a duplicate
message id is `err.request.bad` with the header reason `rjct.message_id.duplicate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a message for extraction; the server translates it when it answers."""
    return message


# Acknowledgement status (src/common/schema/Ack.yaml).
ACK = "ACK"
NACK = "NACK"
ERR = "ERR"

# Request status (src/common/schema/RequestStatus.yaml).
RECEIVED = "rcvd"
PENDING = "pdng"
SUCCEEDED = "succ"
REJECTED = "rjct"

# Communication errors (src/common/schema/Error.yaml).
REQUEST_BAD = "err.request.bad"
REQUEST_UNAUTHORIZED = "err.request.unauthorized"
REQUEST_FORBIDDEN = "err.request.forbidden"
REQUEST_NOT_FOUND = "err.request.not_found"
VERSION_NOT_SUPPORTED = "err.version.not_supported"
SENDER_ID_INVALID = "err.sender_id.invalid"
SENDER_URI_INVALID = "err.sender_uri.invalid"
RECEIVER_ID_INVALID = "err.receiver_id.invalid"
SIGNATURE_MISSING = "err.signature.missing"
SIGNATURE_INVALID = "err.signature.invalid"
ENCRYPTION_INVALID = "err.encryption.invalid"
SERVICE_UNAVAILABLE = "err.service.unavailable"

# Header reasons (src/common/schema/MsgHeaderStatusReasonCode.yaml).
VERSION_INVALID = "rjct.version.invalid"
MESSAGE_ID_DUPLICATE = "rjct.message_id.duplicate"
MESSAGE_TS_INVALID = "rjct.message_ts.invalid"
ACTION_INVALID = "rjct.action.invalid"
ACTION_NOT_SUPPORTED = "rjct.action.not_supported"
TOTAL_COUNT_INVALID = "rjct.total_count.invalid"
TOTAL_COUNT_LIMIT_EXCEEDED = "rjct.total_count.limit_exceeded"

# Search item reasons (src/registry/schema/SearchStatusReasonCode.yaml).
REFERENCE_ID_INVALID = "rjct.reference_id.invalid"
REFERENCE_ID_DUPLICATE = "rjct.reference_id.duplicate"
TIMESTAMP_INVALID = "rjct.timestamp.invalid"
SEARCH_CRITERIA_INVALID = "rjct.search_criteria.invalid"
FILTER_INVALID = "rjct.filter.invalid"
SORT_INVALID = "rjct.sort.invalid"
PAGINATION_INVALID = "rjct.pagination.invalid"
TOO_MANY_RECORDS = "rjct.search.too_many_records_found"

# Subscribe item reasons (src/registry/schema/SubscribeStatusReasonCode.yaml).
NOTIFY_TYPES_INVALID = "rjct.notify_types.invalid"
NOTIFY_DETAILS_INVALID = "rjct.notify_details.invalid"
ALREADY_SUBSCRIBED = "rjct.event.already_subscribed"

# Unsubscribe reasons (src/registry/schema/UnSubscribeStatusReasonCode.yaml).
SUBSCRIPTION_CODE_INVALID = "rjct.subscription_code.invalid"
ALREADY_UNSUBSCRIBED = "rjct.event.already_unsubscribed"

#: HTTP status answered with each communication error.
HTTP_STATUS = {
    REQUEST_BAD: 400,
    REQUEST_UNAUTHORIZED: 401,
    REQUEST_FORBIDDEN: 403,
    REQUEST_NOT_FOUND: 404,
    VERSION_NOT_SUPPORTED: 400,
    SENDER_ID_INVALID: 401,
    SENDER_URI_INVALID: 400,
    RECEIVER_ID_INVALID: 400,
    SIGNATURE_MISSING: 401,
    SIGNATURE_INVALID: 401,
    ENCRYPTION_INVALID: 400,
    SERVICE_UNAVAILABLE: 503,
}


class Refusal(Exception):
    """A whole message refused: the `err.*` code, an optional header reason (`rjct.*`) and
    an English message template with its arguments (translated by whoever shows it)."""

    def __init__(self, code: str, template: str, reason_code: str | None = None, **args: Any):
        self.code = code
        self.reason_code = reason_code
        self.template = template
        self.args_: Mapping[str, Any] = args
        super().__init__(f"{reason_code or code}: {self.message()}")

    @property
    def http_status(self) -> int:
        if self.reason_code == MESSAGE_ID_DUPLICATE:
            return 409
        return HTTP_STATUS.get(self.code, 400)

    def message(self, translate: Any = None) -> str:
        template = translate(self.template) if translate is not None else self.template
        return str(template).format(**self.args_)


class ItemRejected(Exception):
    """One item of a batch refused (`status: rjct`) while the others go on."""

    def __init__(self, reason_code: str, template: str, **args: Any):
        self.reason_code = reason_code
        self.template = template
        self.args_: Mapping[str, Any] = args
        super().__init__(f"{reason_code}: {self.message()}")

    def message(self, translate: Any = None) -> str:
        template = translate(self.template) if translate is not None else self.template
        return str(template).format(**self.args_)
