"""A webhook receiver on loopback that checks every delivery with the `standardwebhooks` library, as a customer's
server would, and can be told to fail, to redirect, or to answer slowly."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    url: str
    secrets: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer 500 this many times
    redirect_to: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)  # verified deliveries: id, type, payload
    rejected: list[str] = field(default_factory=list)  # deliveries whose signature did not verify
    hits: int = 0

    def unique_ids(self) -> list[str]:
        seen: list[str] = []
        for item in self.received:
            if item["id"] not in seen:
                seen.append(item["id"])
        return seen


@contextmanager
def receiver(tls: ssl.SSLContext | None = None, name: str = "127.0.0.1") -> Iterator[Receiver]:
    """Plain HTTP on loopback, or HTTPS with `tls` (a server context) under `name`."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.hits += 1
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if state.redirect_to:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            if state.fail_next > 0:
                state.fail_next -= 1
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"not now")
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            payload = None
            for secret in state.secrets:
                try:
                    payload = Webhook(secret).verify(body, headers)
                    break
                except WebhookVerificationError:
                    continue
            if payload is None:
                state.rejected.append(headers.get("webhook-id", ""))
                self.send_response(400)
                self.end_headers()
                return
            state.received.append({"id": headers["webhook-id"], "type": payload["type"], "payload": payload})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    state.url = f"{'https' if tls else 'http'}://{name}:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def body_of(item: dict[str, Any]) -> str:
    return json.dumps(item["payload"])
