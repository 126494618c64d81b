"""Each HTTP request and websocket, observed once (ASGI middleware, outermost but one).

- A request id: the client's ``X-Request-ID`` when it is a sane token, else a new one; echoed
  in the response header and bound to every log line written while the request runs.
- One log line per HTTP request (method, path, route, status, duration, request id, and who
  asked, filled in by app.observability.graphql); health checks and scrapes log at DEBUG.
- Websockets: a line when one opens and when it closes, and the number open for /metrics.
- HTTP requests counted by method, route pattern and status, with their duration.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.metrics import HTTP_DURATION, HTTP_REQUESTS, WEBSOCKETS_OPENED

LOG_FIELDS = "devicegraph.log_fields"
"""Scope key of a dict that handlers fill with what the request log line should say."""
REQUEST_ID_HEADER = "x-request-id"
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

log = structlog.get_logger("devicegraph.http")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def log_fields(scope: Scope) -> dict[str, Any] | None:
    """The request's log fields (None outside a request this middleware saw)."""
    fields = scope.get(LOG_FIELDS)
    return fields if isinstance(fields, dict) else None


def route_of(scope: Scope) -> str:
    """The matched route's path pattern (bounded label values), else ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class OpenCount:
    """Websockets open now (shared between the middleware and the app's /metrics)."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


class Observability:
    def __init__(self, app: ASGIApp, *, websockets: OpenCount | None = None) -> None:
        self.app = app
        self.websockets = websockets or OpenCount()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_from(scope)
        fields: dict[str, Any] = {}
        scope[LOG_FIELDS] = fields
        status = 500
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        started = time.perf_counter()
        failed = False
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_observed)
            except Exception:
                failed = True
                raise
            finally:
                elapsed = time.perf_counter() - started
                route = route_of(scope)
                HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
                HTTP_DURATION.labels(route).observe(elapsed)
                line = dict(
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    client=_client(scope),
                    **fields,
                )
                if failed:
                    log.exception("request failed", **line)
                elif route in _QUIET_ROUTES:
                    log.debug("request", **line)
                else:
                    log.info("request", **line)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_from(scope)
        fields: dict[str, Any] = {}
        scope[LOG_FIELDS] = fields
        accepted = False
        close_code: int | None = None

        async def send_observed(message: Message) -> None:
            nonlocal accepted, close_code
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.websockets.value += 1
                WEBSOCKETS_OPENED.inc()
                log.info("websocket open", path=scope["path"], client=_client(scope))
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "websocket.close":
                close_code = message.get("code", 1000)
            await send(message)

        async def receive_observed() -> Message:
            nonlocal close_code
            message = await receive()
            if message["type"] == "websocket.disconnect" and close_code is None:
                close_code = message.get("code", 1000)
            return message

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive_observed, send_observed)
            except Exception:
                log.exception("websocket failed", path=scope["path"], **fields)
                raise
            finally:
                if accepted:
                    self.websockets.value -= 1
                    log.info(
                        "websocket closed",
                        path=scope["path"],
                        code=close_code,
                        duration_s=round(time.perf_counter() - started, 3),
                        **fields,
                    )


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
