"""The envelope alone (no Django): signing, verifying, and the codes of every refusal."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiuzhu.dci import codes, envelope
from jiuzhu.dci.codes import Refusal
from jiuzhu.dci.envelope import PartnerKey, SigningKey

NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
ALICE = SigningKey("alice.example", envelope.generate_private_key())
MALLORY = SigningKey("alice.example", envelope.generate_private_key())


def _keys(sender: str) -> PartnerKey | None:
    return PartnerKey(ALICE.public_key, ALICE.key_id) if sender == ALICE.sender_id else None


def _envelope(message: object = None, *, now: dt.datetime = NOW, key: SigningKey = ALICE,
              sign_at: dt.datetime | None = None) -> dict[str, Any]:
    header = envelope.request_header(action="search", sender_id=ALICE.sender_id, receiver_id="jiuzhu", now=now)
    body = message if message is not None else {"transaction_id": "t1", "search_request": [{"reference_id": "r1"}]}
    return envelope.build(header, body, key, now=sign_at or now)


def _open(env: object, now: dt.datetime = NOW) -> envelope.Opened:
    return envelope.open_envelope(env, _keys, now=now, skew_seconds=300, actions=("search",), receiver_id="jiuzhu")


def test_a_signed_envelope_opens_and_says_who_sent_it() -> None:
    opened = _open(_envelope())
    assert opened.sender_id == "alice.example"
    assert opened.signature.key_id == ALICE.key_id
    assert opened.message["transaction_id"] == "t1"


def test_the_signature_string_has_the_standards_shape() -> None:
    signature = _envelope()["signature"]
    assert signature.startswith('Signature: namespace="dci", kidId="alice.example|')
    assert f'kidId="{ALICE.kid}"' in signature and '|ed25519"' in signature
    assert 'algorithm="ed25519"' in signature and 'headers="(created) (expires) digest"' in signature
    params = envelope.parse_signature(signature)
    assert params.expires - params.created == 300


@settings(max_examples=30, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=10))
def test_any_json_message_round_trips_through_the_signature(message: object) -> None:
    env = _envelope({"payload": message})
    wire = envelope.canonical_json(env).decode()  # whatever the transport's key order, the digest is the same
    assert _open(wire).message == {"payload": message}


@pytest.mark.parametrize("change", [
    lambda e: e["message"]["search_request"][0].update(reference_id="r2"),
    lambda e: e["header"].update(sender_uri="https://evil.example/cb"),
    lambda e: e["message"].update(extra=1),
])
def test_any_change_to_header_or_message_breaks_the_signature(change: Callable[[dict[str, Any]], None]) -> None:
    env = _envelope()
    tampered = copy.deepcopy(env)
    change(tampered)
    with pytest.raises(Refusal) as refused:
        _open(tampered)
    assert refused.value.code == codes.SIGNATURE_INVALID
    assert refused.value.http_status == 401


def test_a_signature_made_with_another_key_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        _open(_envelope(key=MALLORY))
    assert refused.value.code == "err.signature.invalid"


def test_a_key_of_another_sender_cannot_sign_for_alice() -> None:
    bob = SigningKey("bob.example", ALICE.private_key)
    env = _envelope()
    env["signature"] = envelope.sign(env["header"], env["message"], bob, now=NOW)
    with pytest.raises(Refusal, match=r"belongs to bob\.example") as refused:
        _open(env)
    assert refused.value.code == codes.SIGNATURE_INVALID


def test_a_missing_signature_and_an_unknown_sender_have_their_own_codes() -> None:
    env = _envelope()
    env["signature"] = ""
    with pytest.raises(Refusal) as missing:
        _open(env)
    assert missing.value.code == "err.signature.missing"
    stranger = _envelope()
    stranger["header"]["sender_id"] = "stranger.example"
    with pytest.raises(Refusal) as unknown:
        _open(stranger)
    assert unknown.value.code == "err.sender_id.invalid"


def test_an_old_message_timestamp_is_refused_with_the_header_reason() -> None:
    env = _envelope(now=NOW - dt.timedelta(minutes=10), sign_at=NOW)
    with pytest.raises(Refusal) as refused:
        _open(env)
    assert refused.value.reason_code == "rjct.message_ts.invalid"
    assert refused.value.code == codes.REQUEST_BAD


def test_an_expired_signature_is_refused_even_with_a_fresh_message_timestamp() -> None:
    env = _envelope(now=NOW, sign_at=NOW - dt.timedelta(minutes=20))
    with pytest.raises(Refusal, match="valid only from") as refused:
        _open(env)
    assert refused.value.code == codes.SIGNATURE_INVALID


def test_the_same_message_is_accepted_within_the_clock_skew() -> None:
    env = _envelope(now=NOW)
    assert _open(env, now=NOW + dt.timedelta(seconds=299)).message_id == env["header"]["message_id"]


def test_a_message_for_another_receiver_or_action_is_refused() -> None:
    header = envelope.request_header(action="subscribe", sender_id=ALICE.sender_id, now=NOW)
    with pytest.raises(Refusal) as refused:
        _open(envelope.build(header, {}, ALICE, now=NOW))
    assert refused.value.reason_code == "rjct.action.invalid"
    header = envelope.request_header(action="search", sender_id=ALICE.sender_id, receiver_id="other", now=NOW)
    with pytest.raises(Refusal) as other:
        _open(envelope.build(header, {}, ALICE, now=NOW))
    assert other.value.code == "err.receiver_id.invalid"


def test_a_body_that_is_not_an_envelope_is_a_bad_request() -> None:
    for body in (b"not json", b"[]", b'{"header": 1, "message": {}}', b'{"header": {}}'):
        with pytest.raises(Refusal) as refused:
            _open(body)
        assert refused.value.code == "err.request.bad"


def test_keys_are_made_once_with_owner_only_permissions_and_load_back(tmp_path: Path) -> None:
    path = tmp_path / "var" / "key.pem"
    key = envelope.load_or_create_private_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = envelope.load_or_create_private_key(path)
    assert envelope.public_key_raw(again.public_key()) == envelope.public_key_raw(key.public_key())


def test_public_keys_load_from_pem_and_from_a_jwk_x() -> None:
    pem = envelope.public_key_pem(ALICE.public_key)
    x = envelope.jwk(ALICE.public_key)["x"]
    for text in (pem, x):
        assert envelope.key_id(envelope.load_public_key(text)) == ALICE.key_id
    with pytest.raises(ValueError, match="32 bytes"):
        envelope.load_public_key("AAAA")


def test_the_key_id_is_the_rfc7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    key = envelope.load_public_key("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    assert envelope.key_id(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_package_runs_without_django() -> None:
    code = ("import sys, jiuzhu.dci.client, jiuzhu.dci.query, jiuzhu.dci.fields, jiuzhu.dci.envelope; "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).parents[2], timeout=60)
    assert result.returncode == 0
