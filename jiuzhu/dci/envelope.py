"""DCI envelopes `{signature, header, message}`: build, sign, open and check them.

The signature follows the standard's HTTP-signature style (spdci/standards,
src/common/schema/MsgSignature.yaml), inherited from Beckn:

    Signature: namespace="dci", kidId="{sender_id}|{key_id}|ed25519", algorithm="ed25519",
    created="1606970629", expires="1607030629", headers="(created) (expires) digest",
    signature="<base64 Ed25519 signature of the signing string>"

where the signing string is the three lines

    (created): 1606970629
    (expires): 1607030629
    digest: BLAKE-512=<base64 BLAKE2b-512 of the canonical JSON of {"header": ..., "message": ...}>

The standard says only "signature of {header}+{message}"; the bytes signed are ours to
fix, so both sides serialise the two parts the same way: canonical JSON (keys sorted, no
spaces, UTF-8 unescaped), which is RFC 8785 for the strings, integers and booleans these
messages carry. The key id is the RFC 7638 thumbprint of the public key, the `kid` the
standard's JWKS API publishes.

Replay is refused in two steps: a message whose `message_ts` or signature lies outside
the allowed clock skew is refused outright, and inside that window the receiver
remembers every message id it has accepted (the server keeps them in its database).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jiuzhu.dci import codes
from jiuzhu.dci.codes import Refusal, gettext_noop

VERSION = "1.0.0"
NAMESPACE = "dci"
ALGORITHM = "ed25519"
SIGNED_HEADERS = "(created) (expires) digest"
DIGEST_PREFIX = "BLAKE-512="
DEFAULT_SKEW_SECONDS = 300

_PARAM = re.compile(r'([A-Za-z]+)\s*=\s*"([^"]*)"')


# -- keys ------------------------------------------------------------------------------

def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """A PKCS#8 PEM Ed25519 key; ValueError naming the file when it is something else."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return key


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Our signing key, made on first use and readable only by its owner (mode 0600)."""
    if path.exists():
        return load_private_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_pem(key))
    return key


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """A partner's public key as PEM, or as the base64 of its 32 raw bytes (as in a JWK's `x`)."""
    data = text.encode() if isinstance(text, str) else text
    if b"-----BEGIN" in data:
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    stripped = data.strip()
    padded = stripped + b"=" * (-len(stripped) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if re.search(rb"[-_]", stripped) else base64.b64decode(padded,
                                                                                                    validate=True)
    except ValueError as exc:
        raise ValueError("neither PEM nor base64") from exc
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK (RFC 8037), with its thumbprint as `kid`."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key_raw(key)), "kid": key_id(key),
            "use": "sig", "alg": "EdDSA"}


def key_id(key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 of the required JWK members in lexicographic order."""
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64url(public_key_raw(key))},
                         separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(members.encode()).digest())


@dataclass(frozen=True)
class SigningKey:
    """Who signs (the `sender_id` registered with the other side) and with what."""

    sender_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    @property
    def kid(self) -> str:
        return f"{self.sender_id}|{self.key_id}|{ALGORITHM}"


# -- timestamps and headers ------------------------------------------------------------

def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 with milliseconds and `Z`, as in the standard's samples."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: Any) -> dt.datetime:
    """An ISO 8601 date-time with its time zone (the standard requires one)."""
    if not isinstance(text, str) or not text:
        raise ValueError("not a date-time")
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def new_id() -> str:
    return str(uuid.uuid4())


def request_header(*, action: str, sender_id: str, receiver_id: str = "", sender_uri: str = "",
                   total_count: int = 1, message_id: str | None = None,
                   now: dt.datetime | None = None) -> dict[str, Any]:
    """A request header (MsgHeader_V1.0.0)."""
    header: dict[str, Any] = {
        "version": VERSION, "message_id": message_id or new_id(), "message_ts": timestamp(now or utc_now()),
        "action": action, "sender_id": sender_id, "total_count": total_count, "is_msg_encrypted": False,
    }
    if sender_uri:
        header["sender_uri"] = sender_uri
    if receiver_id:
        header["receiver_id"] = receiver_id
    return header


def callback_header(*, action: str, sender_id: str, receiver_id: str, status: str, total_count: int = 0,
                    completed_count: int = 0, reason_code: str | None = None, reason_message: str | None = None,
                    message_id: str | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """A response or callback header (MsgCallbackHeader_V1.0.0)."""
    header: dict[str, Any] = {
        "version": VERSION, "message_id": message_id or new_id(), "message_ts": timestamp(now or utc_now()),
        "action": action, "status": status, "total_count": total_count, "completed_count": completed_count,
        "sender_id": sender_id, "receiver_id": receiver_id, "is_msg_encrypted": False,
    }
    if reason_code:
        header["status_reason_code"] = reason_code
    if reason_message:
        header["status_reason_message"] = reason_message[:999]
    return header


# -- signing ---------------------------------------------------------------------------

def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest(header: Any, message: Any) -> str:
    body = canonical_json({"header": header, "message": message})
    return DIGEST_PREFIX + base64.b64encode(hashlib.blake2b(body, digest_size=64).digest()).decode()


def signing_string(created: int, expires: int, body_digest: str) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: {body_digest}".encode()


def sign(header: Mapping[str, Any], message: Any, key: SigningKey, *, now: dt.datetime | None = None,
         validity_seconds: int = DEFAULT_SKEW_SECONDS) -> str:
    created = int((now or utc_now()).timestamp())
    expires = created + validity_seconds
    signature = key.private_key.sign(signing_string(created, expires, digest(header, message)))
    return (f'Signature: namespace="{NAMESPACE}", kidId="{key.kid}", algorithm="{ALGORITHM}", '
            f'created="{created}", expires="{expires}", headers="{SIGNED_HEADERS}", '
            f'signature="{base64.b64encode(signature).decode()}"')


def build(header: dict[str, Any], message: Any, key: SigningKey, *, now: dt.datetime | None = None,
          validity_seconds: int = DEFAULT_SKEW_SECONDS) -> dict[str, Any]:
    """The envelope as sent: the signature covers exactly this header and message."""
    return {"signature": sign(header, message, key, now=now, validity_seconds=validity_seconds),
            "header": header, "message": message}


@dataclass(frozen=True)
class SignatureParams:
    sender_id: str
    key_id: str
    algorithm: str
    created: int
    expires: int
    headers: str
    signature: bytes


def parse_signature(text: Any) -> SignatureParams:
    """The parameters of a signature string; `err.signature.invalid` when any is missing or malformed."""
    if not isinstance(text, str) or not text.strip():
        raise Refusal(codes.SIGNATURE_MISSING, gettext_noop("The message is not signed."))
    params = dict(_PARAM.findall(text))
    kid = params.get("kidId") or params.get("keyId") or ""
    parts = kid.split("|")
    missing = [name for name in ("algorithm", "created", "expires", "headers", "signature") if name not in params]
    if len(parts) != 3 or missing:
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop(
            "The signature is malformed: it needs kidId=\"sender|key|ed25519\", algorithm, created, expires, "
            "headers and signature."))
    try:
        created, expires = int(params["created"]), int(params["expires"])
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError as exc:
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop(
            "The signature is malformed: created and expires must be Unix times and signature base64.")) from exc
    return SignatureParams(sender_id=parts[0], key_id=parts[1], algorithm=params["algorithm"].lower(),
                           created=created, expires=expires, headers=params["headers"], signature=signature)


@dataclass(frozen=True)
class PartnerKey:
    """What the receiver knows about a sender: its public key and, if registered, its key id."""

    public_key: Ed25519PublicKey
    key_id: str = ""


@dataclass(frozen=True)
class Opened:
    """A received envelope whose signature and header have been checked."""

    header: dict[str, Any]
    message: Any
    signature: SignatureParams
    envelope: dict[str, Any] = field(repr=False)

    @property
    def sender_id(self) -> str:
        return str(self.header["sender_id"])

    @property
    def message_id(self) -> str:
        return str(self.header["message_id"])


def parse_body(body: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """The envelope as a dict; `err.request.bad` if it is not a JSON object with a header and a message."""
    if isinstance(body, Mapping):
        envelope = dict(body)
    else:
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Refusal(codes.REQUEST_BAD, gettext_noop("The body is not valid JSON.")) from exc
    if not isinstance(envelope, dict):
        raise Refusal(codes.REQUEST_BAD,
                      gettext_noop("The body must be a JSON object with signature, header and message."))
    if not isinstance(envelope.get("header"), dict):
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The header is missing or is not an object."))
    if "message" not in envelope:
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The message is missing."))
    return envelope


def _required(header: Mapping[str, Any], names: tuple[str, ...]) -> None:
    missing = [n for n in names if header.get(n) in (None, "")]
    if missing:
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The header lacks {fields}."), fields=", ".join(missing))


def verify_signature(envelope: Mapping[str, Any], partner: PartnerKey, *, now: dt.datetime,
                     skew_seconds: int = DEFAULT_SKEW_SECONDS) -> SignatureParams:
    """Check the signature against the sender's key: who signed, over what, and when.

    Only the header's `sender_id` may sign its messages; a signature outside its own
    created–expires window (give or take the skew) is refused like a forged one, since a
    captured message replayed later would carry exactly that."""
    header = envelope["header"]
    params = parse_signature(envelope.get("signature"))
    if params.algorithm != ALGORITHM or params.headers.split() != SIGNED_HEADERS.split():
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop(
            "Only ed25519 signatures over \"(created) (expires) digest\" are accepted."))
    if params.sender_id != header.get("sender_id"):
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop(
            "The signature's key belongs to {signer}, not to the sender {sender}."),
            signer=params.sender_id, sender=header.get("sender_id"))
    if partner.key_id and params.key_id != partner.key_id:
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop("The key {key} is not the one registered for {sender}."),
                      key=params.key_id, sender=params.sender_id)
    try:
        body_digest = digest(header, envelope["message"])
    except ValueError as exc:
        raise Refusal(codes.REQUEST_BAD, gettext_noop("The message holds numbers JSON cannot carry.")) from exc
    try:
        partner.public_key.verify(params.signature, signing_string(params.created, params.expires, body_digest))
    except InvalidSignature as exc:
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop(
            "The signature does not match the header and message: they were changed, or signed with another key."
        )) from exc
    moment = int(now.timestamp())
    if params.created > moment + skew_seconds or params.expires < moment - skew_seconds \
            or params.expires < params.created:
        raise Refusal(codes.SIGNATURE_INVALID, gettext_noop(
            "The signature is valid only from {created} to {expires} (Unix time); it is now {now}."),
            created=params.created, expires=params.expires, now=moment)
    return params


def open_envelope(body: bytes | str | Mapping[str, Any], key_for: Callable[[str], PartnerKey | None], *,
                  now: dt.datetime, skew_seconds: int = DEFAULT_SKEW_SECONDS, actions: tuple[str, ...] = (),
                  receiver_id: str = "", callback: bool = False) -> Opened:
    """Parse, authenticate and check one envelope; the first problem is raised as a Refusal.

    The order matters: nothing the sender says is trusted before its signature holds,
    and a message id is only worth remembering once the message is authentic and fresh
    (the caller records it, so a forger cannot burn someone else's ids)."""
    envelope = parse_body(body)
    header = envelope["header"]
    _required(header, ("message_id", "message_ts", "action", "sender_id")
              + (("status",) if callback else ("total_count",)))
    if str(header.get("version", VERSION)) != VERSION:
        raise Refusal(codes.VERSION_NOT_SUPPORTED, gettext_noop("Version {version} is not supported; use {supported}."),
                      reason_code=codes.VERSION_INVALID, version=header.get("version"), supported=VERSION)
    partner = key_for(str(header["sender_id"]))
    if partner is None:
        raise Refusal(codes.SENDER_ID_INVALID, gettext_noop("{sender} has no active agreement with this registry."),
                      sender=header["sender_id"])
    params = verify_signature(envelope, partner, now=now, skew_seconds=skew_seconds)
    if receiver_id and header.get("receiver_id") not in (None, "", receiver_id):
        raise Refusal(codes.RECEIVER_ID_INVALID, gettext_noop("This message is for {receiver}, not for {us}."),
                      receiver=header.get("receiver_id"), us=receiver_id)
    if header.get("is_msg_encrypted") in (True, "true", "True"):
        raise Refusal(codes.ENCRYPTION_INVALID, gettext_noop("Encrypted messages are not accepted here."))
    if actions and header["action"] not in actions:
        raise Refusal(codes.REQUEST_BAD, gettext_noop(
            "The action {action} does not belong at this endpoint ({expected})."),
            reason_code=codes.ACTION_INVALID, action=header["action"], expected=", ".join(actions))
    try:
        sent = parse_timestamp(header["message_ts"])
    except ValueError as exc:
        raise Refusal(codes.REQUEST_BAD, gettext_noop("message_ts must be an ISO 8601 date-time with a time zone."),
                      reason_code=codes.MESSAGE_TS_INVALID) from exc
    if abs((now - sent).total_seconds()) > skew_seconds:
        raise Refusal(codes.REQUEST_BAD, gettext_noop(
            "message_ts {sent} is more than {seconds} seconds away from the time here ({now})."),
            reason_code=codes.MESSAGE_TS_INVALID, sent=header["message_ts"], seconds=skew_seconds, now=timestamp(now))
    if not callback:
        try:
            total = int(header["total_count"])
        except (TypeError, ValueError) as exc:
            raise Refusal(codes.REQUEST_BAD, gettext_noop("total_count must be a whole number."),
                          reason_code=codes.TOTAL_COUNT_INVALID) from exc
        if total < 0:
            raise Refusal(codes.REQUEST_BAD, gettext_noop("total_count must be a whole number."),
                          reason_code=codes.TOTAL_COUNT_INVALID)
    return Opened(header=header, message=envelope["message"], signature=params, envelope=envelope)


def ack_message(status: str, *, correlation_id: str = "", now: dt.datetime | None = None,
                error_code: str | None = None, error_message: str = "") -> dict[str, Any]:
    """The synchronous acknowledgement (src/common/response/Response.yaml)."""
    message: dict[str, Any] = {"ack_status": status, "timestamp": timestamp(now or utc_now()),
                               "correlation_id": correlation_id}
    if error_code:
        message["error"] = {"code": error_code, "message": error_message[:999]}
    return message
