"""Our DCI server in its own process (`jiuzhu runserver` on a temporary SQLite file), our
client in this one: sync and async search, subscribe and notify, and a forged signature.

Nothing is shared but the network and the two public keys, as with a real partner. The
server process is always stopped, whatever happens in the test."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jiuzhu.dci import envelope
from jiuzhu.dci.client import DciClient, DciError, by_attributes, by_identifier
from jiuzhu.dci.envelope import SigningKey
from tests.dci.support import PARTNER, CallbackServer

REPO = Path(__file__).resolve().parents[2]
JIUZHU = Path(sys.executable).with_name("jiuzhu")


@dataclass
class Running:
    base_url: str
    env: dict[str, str]
    seeded: dict[str, str]
    callbacks: CallbackServer
    client: DciClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout))


def _wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {process.returncode})")
        try:
            answer = httpx.get(url, timeout=1)
            if answer.status_code == 200:
                return dict(answer.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {url} within {seconds} s")


@contextmanager
def serving(env: dict[str, str], folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """`jiuzhu runserver` in its own process on `env`'s database and key: the DCI base URL and
    its JWKS once it answers; the process is stopped whatever happens."""
    port = _free_port()
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen([str(JIUZHU), "runserver", "--noreload", f"127.0.0.1:{port}"], env=env, cwd=REPO,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}/api/v1/dci"
            yield base, _wait_until_up(base + "/.well-known/jwks.json", process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("dci-server")
    partner = SigningKey(PARTNER, envelope.generate_private_key())
    (folder / "partner.pub").write_text(envelope.public_key_pem(partner.public_key))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JIUZHU_"))}
    env.update(DATABASE_URL=f"sqlite:///{folder / 'registry.sqlite3'}", JIUZHU_DCI_SENDER_ID="jiuzhu",
               JIUZHU_DCI_PRIVATE_KEY=str(folder / "server.pem"), JIUZHU_DEBUG="1", PYTHONPATH=str(REPO))
    with CallbackServer() as callbacks:
        seeded = _run([sys.executable, "-m", "tests.dci.seed_server", "seed", "--partner-id", PARTNER,
                       "--partner-key", str(folder / "partner.pub"), "--callback", callbacks.base_url], env)
        with serving(env, folder) as (base, jwks):
            # The registry's key is taken from its JWKS once here, as a partner would on onboarding.
            server_public = envelope.load_public_key(jwks["keys"][0]["x"])
            client = DciClient(base, partner, server_id="jiuzhu", server_public_key=server_public,
                               server_key_id=jwks["keys"][0]["kid"], callback_uri=callbacks.base_url)
            callbacks.client = client
            yield Running(base, env, seeded, callbacks, client)


def test_sync_search_across_processes(running: Running) -> None:
    by_id = running.client.sync_search(by_identifier(running.seeded["family_head"]))
    [group] = by_id.records()
    assert group["group_identifier"][0]["identifier_value"] == running.seeded["family"]
    assert {m["demographic_info"]["identifier"][0]["identifier_value"] for m in group["member_list"]} \
        >= {running.seeded["family_head"], running.seeded["spouse"]}
    assert "birth_date" not in group["member_list"][0]["demographic_info"]
    by_size = running.client.sync_search(by_attributes(("group_size", "lt", 3)))
    assert [g["group_identifier"][0]["identifier_value"] for g in by_size.records()] == [running.seeded["single"]]


def test_async_search_is_answered_at_the_callers_endpoint(running: Running) -> None:
    running.callbacks.drain()
    ack = running.client.search(by_identifier(running.seeded["family_head"]), transaction_id="cross-async")
    assert ack.message["ack_status"] == "ACK"
    received = running.callbacks.next(timeout=20)  # the server's own background delivery
    assert received.path == "/partner/registry/on-search" and received.refusal is None
    assert received.opened is not None
    [item] = received.opened.message["search_response"]
    assert item["data"]["reg_records"][0]["group_identifier"][0]["identifier_value"] == running.seeded["family"]
    status = running.client.txn_status("cross-async")
    assert status.message["txnstatus_response"]["txn_status"]["search_response"][0]["status"] == "succ"


def test_subscribe_then_a_death_is_notified_to_the_caller(running: Running) -> None:
    running.callbacks.drain()
    running.client.subscribe("death")
    subscribed = running.callbacks.next(timeout=20)
    assert subscribed.opened is not None and subscribed.path == "/partner/registry/on-subscribe"
    code = subscribed.opened.message["subscribe_response"][0]["subscriptions"][0]["code"]

    _run([sys.executable, "-m", "tests.dci.seed_server", "death", running.seeded["spouse"]], running.env)
    assert _run([str(JIUZHU), "dci", "collect"], running.env) == {"queued": 1}
    assert _run([str(JIUZHU), "dci", "deliver"], running.env)["sent"] == 1
    received = running.callbacks.next(timeout=5)
    assert received.path == "/partner/registry/notify" and received.opened is not None
    data = received.opened.message["notify_event"][0]["data"]
    assert data["reg_event_type"] == "death" and data["subscription_code"] == code
    assert data["reg_records"]["demographic_info"]["identifier"][0]["identifier_value"] == running.seeded["spouse"]
    assert data["reg_records"]["additional_attributes"][0]["name"] == "date_of_death"


def test_a_forged_signature_is_refused_across_processes(running: Running) -> None:
    forger = DciClient(running.base_url, SigningKey(PARTNER, envelope.generate_private_key()), server_id="jiuzhu",
                       server_public_key=running.client.server.public_key)
    with pytest.raises(DciError) as refused:
        forger.sync_search(by_identifier(running.seeded["family_head"]))
    assert refused.value.code == "err.signature.invalid" and refused.value.http_status == 401
