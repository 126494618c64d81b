"""A real HTTP receiver for webhook tests: examples/webhook_receiver.py in a thread, which can
be made to fail (503) or be stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def load_example() -> ModuleType:
    """The example receiver module, loaded from its file (examples/ is not a package)."""
    name = "devicegraph_example_webhook_receiver"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


example = load_example()


@dataclass(frozen=True, slots=True)
class Request:
    body: bytes
    headers: dict[str, str]
    answered: int


class TestReceiver(example.Receiver):  # type: ignore[misc, name-defined]
    """The example receiver, recording every request (header names in lower case), and
    answering 503 while ``failing``."""

    __test__ = False

    def __init__(self, secret: str = "") -> None:
        super().__init__(secret)
        self.failing = False
        self.requests: list[Request] = []

    def receive_request(self, body: bytes, headers: dict[str, str]) -> int:
        status = 503 if self.failing else self.receive(body, headers.get("devicegraph-signature"))
        with self._lock:
            self.requests.append(Request(body, headers, status))
        return status


class ReceiverServer:
    """Serves a TestReceiver on 127.0.0.1 in a thread; ``stop()`` and ``start()`` again keep
    the port."""

    def __init__(self, receiver: TestReceiver) -> None:
        self.receiver = receiver
        self.port = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self.receiver

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver.receive_request(body, headers)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


async def eventually(check: Callable[[], bool], *, seconds: float = 30.0, what: str = "") -> None:
    """Wait until ``check()`` is true (polling), else fail saying what was awaited."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)
