"""GraphQL subscriptions over Server-Sent Events, for clients whose proxies drop websockets.

``GET`` or ``POST /graphql`` with ``Accept: text/event-stream`` runs a subscription through the
same schema as websockets (``schema.subscribe``: the permission guard, the operation limits and
error masking all apply) and answers a stream of SSE messages (the "distinct connections" mode
of the GraphQL over SSE protocol, so graphql-sse clients work too):

- ``event: next`` with ``data:`` one JSON execution result per line, and ``id:`` the result's
  cursor when it has one (the first ``cursor`` string at the top of the root field's data);
- ``event: complete`` when the stream ends, also after an error during the stream (LAGGED,
  UNAVAILABLE), which comes first as an ``event: next`` with ``errors``;
- a comment line (``: ping``) when nothing was sent for ``sse_heartbeat_seconds``, so proxies
  keep the connection.

The operation is the query string (``query``, ``variables`` as JSON, ``operationName``) for GET
and a JSON body for POST; the bearer token (a session or an API key) is the ``Authorization``
header, as over HTTP. ``Last-Event-ID`` (what a reconnecting EventSource sends) becomes the
``after`` variable when the operation declares ``$after``, overriding the one given.

A refusal before streaming (a request, parse or validation error, UNAUTHENTICATED, FORBIDDEN,
a bad argument) is a JSON error body with ``extensions.code`` and a 4xx status. The headers are
sent with the first result, or after ``SETUP_WAIT_SECONDS`` without one: the subscription has
been set up by then, and a refusal that would still come later arrives as an SSE error.
When the client disconnects, the subscription ends (and leaves the hub) at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from app.auth.sessions import actor_for_token, bearer_token
from app.resolvers.context import Context
from app.runtime import Runtime
from app.web.sockets import LiveSocket, SocketRefused, SocketRegistry

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
SETUP_WAIT_SECONDS = 1.0
"""How long the first result may take before the stream's headers go out anyway."""
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each message on at once
]
STATUS_OF_CODE = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "RATE_LIMITED": 429,
    "UNAVAILABLE": 503,
}
CRASHED_RESULT = {
    "data": None,
    "errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_ERROR"}}],
}
_DONE = object()
_CRASHED = object()


JSON_TYPES = frozenset({"application/json", "application/graphql-response+json"})


def accepts_event_stream(accept: str) -> bool:
    """True when the client lists ``text/event-stream`` before any JSON type.

    Clients such as urql list every type they can read, JSON first, on every request: those
    are answered as usual, and only a client that asks for a stream first gets one.
    """
    for part in accept.split(","):
        media_type = part.split(";", 1)[0].strip().lower()
        if media_type == EVENT_STREAM:
            return True
        if media_type in JSON_TYPES:
            return False
    return False


class RequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Operation:
    query: str
    variables: dict[str, Any]
    operation_name: str | None


async def read_operation(request: Request) -> Operation:
    """The operation of a GET (query string) or POST (JSON body) request."""
    if request.method == "GET":
        params = request.query_params
        data: Mapping[str, Any] = {
            "query": params.get("query"),
            "variables": _json_param(params.get("variables"), "variables"),
            "operationName": params.get("operationName"),
        }
    else:
        if "application/json" not in request.headers.get("content-type", "").lower():
            raise RequestError(
                415, "UNSUPPORTED_MEDIA_TYPE", "Send the operation as application/json."
            )
        body = _json_param((await request.body()).decode("utf-8", "replace"), "body")
        if not isinstance(body, dict):
            raise RequestError(400, "BAD_REQUEST", "The request body must be a JSON object.")
        data = body
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "BAD_REQUEST", "No GraphQL query found in the request.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "BAD_REQUEST", "variables must be a JSON object.")
    if name is not None and not isinstance(name, str):
        raise RequestError(400, "BAD_REQUEST", "operationName must be a string.")
    return Operation(query, dict(variables or {}), name)


def _json_param(text: str | None, what: str) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise RequestError(400, "BAD_REQUEST", f"The {what} is not valid JSON.") from None


def selected_operation(
    query: str, operation_name: str | None, max_tokens: int
) -> OperationDefinitionNode | None:
    """The operation a request runs; None if the document does not parse or has no such one
    (the schema then reports why)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    named = [op for op in operations if op.name and op.name.value == operation_name]
    return named[0] if named else None


def declares(operation: OperationDefinitionNode | None, variable: str) -> bool:
    declared = operation.variable_definitions or () if operation is not None else ()
    return any(definition.variable.name.value == variable for definition in declared)


def cursor_of(data: object) -> str | None:
    """The ``cursor`` string at the top of the root field's data, if there is one."""
    if not isinstance(data, dict) or not data:
        return None
    root = next(iter(data.values()))
    cursor = root.get("cursor") if isinstance(root, dict) else None
    if isinstance(cursor, str) and cursor and not any(c in cursor for c in "\r\n\0"):
        return cursor
    return None


def formatted(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def encode(event: str, payload: object = None, event_id: str | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    data = "" if payload is None else json.dumps(payload, separators=(",", ":"))
    lines.append(f"data: {data}")  # compact JSON has no line breaks
    return ("\n".join(lines) + "\n\n").encode()


def refusal(status: int, errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status)


def _refusal_of(result: ExecutionResult) -> JSONResponse:
    errors: list[dict[str, Any]] = [dict(error.formatted) for error in result.errors or []]
    for error in errors:
        extensions = error.setdefault("extensions", {})
        extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
    code = errors[0]["extensions"]["code"] if errors else "BAD_REQUEST"
    return refusal(STATUS_OF_CODE.get(code, 400), errors)


@dataclass
class StreamContext(Context):
    """An event stream's context: the registry of open streams closes it through ``socket``."""

    socket: LiveSocket | None = None


class EventStreamEndpoint:
    """The ASGI endpoint that answers a subscription as an event stream.

    Open streams count with websockets in ``registry`` (app.web.sockets): the same connections
    per identity, and the same revocation (signing out, a revoked key or an expired token ends
    the stream within the re-check interval with a FORBIDDEN error, then ``complete``).
    """

    def __init__(self, runtime: Runtime, registry: SocketRegistry) -> None:
        self.runtime = runtime
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from app.resolvers.root import schema

        request = Request(scope, receive)
        try:
            operation = await read_operation(request)
        except RequestError as error:
            response = refusal(
                error.status, [{"message": str(error), "extensions": {"code": error.code}}]
            )
            await response(scope, receive, send)
            return
        token = bearer_token(request.headers.get("authorization"))
        actor = await actor_for_token(self.runtime.sessions, token)
        context = StreamContext(
            runtime=self.runtime, request=request, response=None, actor=actor, token=token
        )
        settings = self.runtime.settings
        selected = selected_operation(
            operation.query, operation.operation_name, settings.max_tokens
        )
        if selected is not None and selected.operation is not OperationType.SUBSCRIPTION:
            message = (
                "Only subscriptions stream: send queries and mutations without "
                "Accept: text/event-stream."
            )
            response = refusal(400, [{"message": message, "extensions": {"code": "BAD_REQUEST"}}])
            await response(scope, receive, send)
            return
        variables = operation.variables
        last_event_id = request.headers.get("last-event-id", "").strip()
        if last_event_id and declares(selected, "after"):
            variables = {**variables, "after": last_event_id}
        try:
            self.registry.admit(
                context, client_host=request.client.host if request.client else None
            )
        except SocketRefused as refused:
            message = f"{refused.reason}: close another stream or websocket first."
            response = refusal(
                429, [{"message": message, "extensions": {"code": "TOO_MANY_CONNECTIONS"}}]
            )
            await response(scope, receive, send)
            return
        try:
            results = await schema.subscribe(
                operation.query,
                variable_values=variables,
                context_value=context,
                operation_name=operation.operation_name,
            )
            stream = _Stream(results, scope, receive, send, settings.sse_heartbeat_seconds)
            context.socket = stream
            await stream.run()
        finally:
            self.registry.discard(context)


class _Stream:
    """One response: a producer task runs the subscription; this loop writes what it yields."""

    def __init__(
        self,
        results: AsyncGenerator[ExecutionResult | PreExecutionError, None],
        scope: Scope,
        receive: Receive,
        send: Send,
        heartbeat: float,
    ) -> None:
        self.results = results
        self.scope, self.receive, self.send = scope, receive, send
        self.heartbeat = heartbeat
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)
        self.started = False
        self.closed_because: str | None = None
        self._closed = asyncio.Event()

    async def close_socket(self, code: int, reason: str) -> None:
        """End the stream with a FORBIDDEN error (the identity was revoked); ``code`` is the
        websocket close code the registry uses for the same reason."""
        self.closed_because = reason
        self._closed.set()

    async def produce(self) -> None:
        try:
            async with aclosing(self.results):
                async for result in self.results:
                    await self.queue.put(result)
        except Exception:
            log.exception("an event stream failed")
            await self.queue.put(_CRASHED)
        else:
            await self.queue.put(_DONE)

    async def disconnected(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass

    async def start(self) -> None:
        self.started = True
        await self.send({"type": "http.response.start", "status": 200, "headers": HEADERS})

    async def write(self, chunk: bytes) -> None:
        await self.send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        producer = asyncio.create_task(self.produce(), name="sse-subscription")
        watcher = asyncio.create_task(self.disconnected(), name="sse-disconnect")
        closer = asyncio.create_task(self._closed.wait(), name="sse-close")
        setup_deadline = loop.time() + SETUP_WAIT_SECONDS
        get: asyncio.Task[object] | None = None
        try:
            while True:
                if get is None:
                    get = asyncio.create_task(self.queue.get())
                timeout = self.heartbeat if self.started else setup_deadline - loop.time()
                done, _ = await asyncio.wait(
                    {get, watcher, closer},
                    timeout=max(timeout, 0),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if watcher in done:
                    return  # the client went away: the finally ends the subscription
                if closer in done:
                    if not self.started:
                        await self.start()
                    error = {"message": self.closed_because, "extensions": {"code": "FORBIDDEN"}}
                    await self.write(encode("next", {"data": None, "errors": [error]}))
                    await self.write(encode("complete"))
                    break
                if get not in done:
                    if self.started:
                        await self.write(b": ping\n\n")
                    else:
                        await self.start()
                    continue
                item, get = get.result(), None
                if not self.started:
                    if isinstance(item, PreExecutionError):
                        await _refusal_of(item)(self.scope, self.receive, self.send)
                        return
                    await self.start()
                if item is _DONE or item is _CRASHED:
                    if item is _CRASHED:
                        await self.write(encode("next", CRASHED_RESULT))
                    await self.write(encode("complete"))
                    break
                assert isinstance(item, ExecutionResult)
                await self.write(encode("next", formatted(item), cursor_of(item.data)))
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            for task in (get, producer, watcher, closer):
                if task is not None and not task.done():
                    task.cancel()
            for task in (get, producer, watcher, closer):
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


class EventStreamNegotiation:
    """``/graphql``: requests that accept ``text/event-stream`` stream, the rest go to ``app``."""

    def __init__(self, stream: ASGIApp, app: ASGIApp) -> None:
        self.stream = stream
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "POST")
            and accepts_event_stream(Headers(scope=scope).get("accept", ""))
        ):
            await self.stream(scope, receive, send)
        else:
            await self.app(scope, receive, send)
