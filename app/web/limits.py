"""Limits on HTTP requests to /graphql, before strawberry sees them (ASGI middleware).

In this order, each refusal a JSON body ``{"errors": [{"message", "extensions": {"code"}}]}``:

1. requests per identity per window (``rate_limit_requests`` / ``rate_limit_window_seconds``):
   429 RATE_LIMITED with ``Retry-After``. The identity is the bearer token (a session or an
   API key) once it has been seen to sign someone in, else the client's IP: made-up tokens
   cannot buy fresh allowances. Per process (app.auth.rate_limit).
2. the body (``max_body_bytes``): 413 PAYLOAD_TOO_LARGE, from Content-Length at once or while
   reading a chunked body; nothing larger is ever held in memory.
3. one operation per request: a JSON array (a batch) is 400 BAD_REQUEST saying so, and a JSON
   body that is not an object, or not UTF-8 (or UTF-16/32) text, is 400 BAD_REQUEST too
   (strawberry would answer a 500).

Websockets and other paths pass through untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.rate_limit import AUTHENTICATED, RateLimiter
from app.auth.sessions import bearer_token
from app.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
MAX_KNOWN_TOKENS = 10_000
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
_WHITESPACE = " \t\r\n"


class BodyTooLarge(Exception):
    pass


def error_response(
    status: int, code: str, message: str, scope: Scope, **extensions: Any
) -> JSONResponse:
    accept = Headers(scope=scope).get("accept", "").lower()
    preferred = GRAPHQL_RESPONSE in accept and (
        "application/json" not in accept
        or accept.find(GRAPHQL_RESPONSE) < accept.find("application/json")
    )
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]},
        status_code=status,
        media_type=GRAPHQL_RESPONSE if preferred else "application/json",
    )


class RequestLimits:
    def __init__(self, app: ASGIApp, *, settings: Settings, path: str = "/graphql") -> None:
        self.app = app
        self.path = path
        self.max_body = settings.max_body_bytes
        self.limiter = RateLimiter(settings.rate_limit_requests, settings.rate_limit_window_seconds)
        self._signed_in: OrderedDict[str, None] = OrderedDict()
        """Digests of tokens that recently signed someone in: their own rate-limit identity."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        token = bearer_token(Headers(scope=scope).get("authorization"))
        digest = hashlib.sha256(token.encode()).hexdigest()[:32] if token else None
        decision = self.limiter.hit(self._identity(scope, digest))
        if not decision.allowed:
            seconds = decision.retry_after_seconds
            response = error_response(
                429,
                "RATE_LIMITED",
                f"Too many requests: try again in {seconds} s.",
                scope,
                retryAfter=seconds,
            )
            response.headers["Retry-After"] = str(seconds)
            await response(scope, receive, send)
            return
        if scope["method"] not in _BODYLESS:
            refused = await self._read_body(scope, receive)
            if isinstance(refused, JSONResponse):
                await refused(scope, receive, send)
                return
            receive = refused
        state: dict[str, Any] = scope.setdefault("state", {})
        await self.app(scope, receive, send)
        if digest is not None and AUTHENTICATED in state:
            self._remember(digest, signed_in=bool(state[AUTHENTICATED]))

    def _identity(self, scope: Scope, digest: str | None) -> str:
        if digest is not None and digest in self._signed_in:
            self._signed_in.move_to_end(digest)
            return f"token:{digest}"
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"

    def _remember(self, digest: str, *, signed_in: bool) -> None:
        if not signed_in:
            self._signed_in.pop(digest, None)
            return
        self._signed_in[digest] = None
        self._signed_in.move_to_end(digest)
        while len(self._signed_in) > MAX_KNOWN_TOKENS:
            self._signed_in.popitem(last=False)

    async def _read_body(self, scope: Scope, receive: Receive) -> JSONResponse | Receive:
        """The whole body (within the limit) and a ``receive`` that replays it, or a refusal."""
        too_large = error_response(
            413,
            "PAYLOAD_TOO_LARGE",
            f"The request body is larger than {self.max_body} bytes.",
            scope,
            maxBytes=self.max_body,
        )
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return too_large
        chunks: list[bytes] = []
        size = 0
        disconnect: Message | None = None
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnect = message
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if "application/json" in headers.get("content-type", "").lower():
            try:  # as json.loads reads bytes; strawberry answers a 500 to bad encodings
                text = body.decode(json.detect_encoding(body), "surrogatepass")
            except (UnicodeDecodeError, LookupError):
                return error_response(
                    400, "BAD_REQUEST", "The request body is not UTF-8 encoded JSON.", scope
                )
            shape = text.lstrip(_WHITESPACE)[:1]
            if shape == "[":
                return error_response(
                    400,
                    "BAD_REQUEST",
                    "Send one operation per request: batches (JSON arrays) are not supported.",
                    scope,
                )
            if shape and shape != "{":
                return error_response(
                    400, "BAD_REQUEST", "The request body must be a JSON object.", scope
                )
        return _replay(body, disconnect, receive)


def _replay(body: bytes, disconnect: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if disconnect is not None:
            return disconnect
        return await receive()

    return replay
