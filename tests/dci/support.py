"""Helpers for the DCI tests: a partner system's callback endpoint (a real HTTP server in a
thread, answering as the standard says, with our own client's callback checks), and keys.

The partner side is another department's system, so a fake is allowed; it speaks the real
format, and it is built from `jiuzhu.dci.client` — the code partners would use."""

from __future__ import annotations

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jiuzhu.dci import codes
from jiuzhu.dci.client import DciClient
from jiuzhu.dci.codes import Refusal
from jiuzhu.dci.envelope import Opened

PARTNER = "civil-affairs-exchange"
ALL_FIELDS = ["Group", "Member", "Person"]


class Received:
    """One callback as it arrived: the path, the raw JSON and, if it verified, the opened envelope."""

    def __init__(self, path: str, body: dict[str, Any], opened: Opened | None, refusal: Refusal | None):
        self.path = path
        self.body = body
        self.opened = opened
        self.refusal = refusal


class CallbackServer:
    """The partner's callback base URL. Each POST is checked with the partner's DciClient
    (`open_callback`: the registry's signature, freshness, message id once) and answered
    with a signed ACK, or ERR with the refusal's codes."""

    def __init__(self, client: DciClient | None = None):
        self.client = client
        self.received: queue.Queue[Received] = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw)
                opened, refusal = None, None
                if outer.client is not None:
                    try:
                        opened = outer.client.open_callback(raw)
                    except Refusal as exc:
                        refusal = exc
                    answer = outer.client.callback_answer(opened, refusal)
                else:
                    answer = {"message": {"ack_status": codes.ACK, "timestamp": "", "correlation_id": ""}}
                outer.received.put(Received(self.path, body, opened, refusal))
                data = json.dumps(answer).encode()
                self.send_response(refusal.http_status if refusal else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/partner"

    def __enter__(self) -> CallbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next(self, timeout: float = 10.0) -> Received:
        return self.received.get(timeout=timeout)

    def drain(self) -> list[Received]:
        out = []
        while not self.received.empty():
            out.append(self.received.get_nowait())
        return out
