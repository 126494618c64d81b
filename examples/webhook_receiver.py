"""A DeviceGraph webhook receiver with nothing but the Python standard library.

    DEVICEGRAPH_WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8080

It checks every request's signature (HMAC-SHA256 of "<timestamp>.<raw body>" with the
endpoint's secret, header ``DeviceGraph-Signature: t=<unix>,v1=<hex>``), refuses a tampered
body or a stale timestamp with 400, answers 200 to a valid one, and handles each event once:
deliveries are at least once (a retry after a lost answer, a replay), so it drops an event
whose id it has already seen. A real receiver keeps the seen ids (or the last cursor) in its
database, in the same transaction as the work the event causes.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


class InvalidSignature(ValueError):
    pass


def verify(secret: str, body: bytes, header: str | None, tolerance: int = TOLERANCE_SECONDS) -> int:
    """The signed timestamp if ``header`` signs ``body`` with ``secret`` recently enough."""
    if not header:
        raise InvalidSignature("no signature")
    items = [part.strip().partition("=") for part in header.split(",")]
    timestamps = [value for key, _, value in items if key == "t" and value.isdigit()]
    signatures = [value for key, _, value in items if key == "v1" and value]
    if not timestamps or not signatures:
        raise InvalidSignature("malformed signature header")
    timestamp = int(timestamps[0])
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise InvalidSignature("signature does not match the body")
    if abs(time.time() - timestamp) > tolerance:
        raise InvalidSignature("stale timestamp")
    return timestamp


class Receiver:
    """Verifies, drops duplicates by event id, and hands each new event to ``handle``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.seen: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.duplicates = 0
        self.rejected = 0
        self._lock = threading.Lock()

    def receive(self, body: bytes, signature: str | None) -> int:
        """The HTTP status to answer with."""
        try:
            verify(self.secret, body, signature)
            event = json.loads(body)
        except (InvalidSignature, ValueError):
            with self._lock:
                self.rejected += 1
            return 400
        with self._lock:
            if event["id"] in self.seen:
                self.duplicates += 1
                return 200  # already handled: acknowledge, do nothing
            self.seen.add(event["id"])
            self.events.append(event)
        self.handle(event)
        return 200

    def handle(self, event: dict[str, Any]) -> None:
        print(f"{event['occurredAt']} {event['type']} {event['entity']['id']}", flush=True)


def make_server(receiver: Receiver, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver.receive(body, self.headers.get("DeviceGraph-Signature"))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    arguments = parser.parse_args()
    receiver = Receiver(os.environ["DEVICEGRAPH_WEBHOOK_SECRET"])
    server = make_server(receiver, arguments.host, arguments.port)
    print(f"listening on http://{arguments.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
