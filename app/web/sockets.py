"""Websockets in this process: the protocol's close codes, the limits, and closing a socket
when the identity it was opened with ends.

``TransportWSHandler`` is strawberry's graphql-transport-ws handler held to the protocol
(https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) where strawberry is looser:

- 4400 for any message that is not a JSON object with a known ``type`` and the fields that
  type needs (strawberry crashed on a JSON array or string, and passed a subscribe payload
  whose ``query`` was not a string or whose ``variables`` was not an object on to execution);
  a ``connection_init`` with ``"payload": null`` is valid (strawberry closed with 4400);
- 4403 carries the refusal's reason (``Too many connections``) or ``Forbidden``;
- close reasons are cut to the 123 bytes a close frame allows (strawberry put the whole
  operation id, or a syntax error message, in the reason);
- one operation more than ``ws_max_subscriptions_per_connection`` gets that operation's
  ``error`` with ``extensions.code`` TOO_MANY_SUBSCRIPTIONS; the socket and its other
  operations go on;
- a client sending more than ``ws_messages_per_second`` on average (bursts of
  ``ws_message_burst``) is closed with 1008 (RFC 6455's policy violation) ``Too many
  messages``, in both protocols.

4401 (subscribe before connection_ack), 4408 (no connection_init within
``ws_connection_init_timeout``), 4409 (an operation id already running) and 4429 (a second
connection_init) keep strawberry's reasons. ``LegacyWSHandler`` (graphql-ws) gains the
registry below and the same operation limit with its code; that protocol has no close codes
of its own.

``SocketRegistry`` knows every socket that passed ``connection_init``, by identity (a user, an
API key, or an anonymous client's IP address):

- it refuses a connection past ``ws_max_connections_per_identity`` (4403 ``Too many
  connections``);
- a sign-out or key revocation in this process closes that token's or key's sockets at once
  (app.auth.revocation.announce), with 4403 and the reason;
- every ``ws_recheck_interval`` seconds it asks the database what each open token and key
  stands for now (one query for all sessions, one for all keys): revoked elsewhere, expired or
  deactivated closes the socket (4403 and the reason); a changed actor (a new role) replaces
  the socket's actor, so resolvers see it from the next event on. A failed re-check leaves the
  sockets open and is retried at the next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ErrorMessage,
    OperationMessage,
    StartMessage,
)
from strawberry.types.unset import UnsetType

from app.auth import revocation
from app.auth.sessions import TOKEN_PREFIX, token_hash
from app.domain.actors import Actor, ActorKind
from app.pubsub.direct import Lane, lane_open

log = logging.getLogger(__name__)

FORBIDDEN = 4403
POLICY_VIOLATION = 1008
TOO_MANY_MESSAGES = "Too many messages"
TOO_MANY_CONNECTIONS = "Too many connections"
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
MAX_REASON_BYTES = 123
"""A close frame's reason: 125 bytes of payload less the 2-byte code."""


class MessageBudget:
    """What one socket may still send: ``rate`` messages a second on average, ``burst`` at
    once (a token bucket). A client that subscribes, completes and pings as fast as it can
    would otherwise keep the process busy with nothing but its messages."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def message_budget(view: object) -> MessageBudget:
    settings = getattr(getattr(view, "runtime", None), "settings", None)
    if settings is None:
        return MessageBudget(0, 1)
    return MessageBudget(settings.ws_messages_per_second, settings.ws_message_burst)


def bounded_reason(reason: str) -> str:
    encoded = reason.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class SocketRefused(ConnectionRejectionError):
    """connection_init refused with a reason the client sees (4403 <reason>)."""

    def __init__(self, reason: str) -> None:
        super().__init__({"message": reason})
        self.reason = reason


class LiveSocket(Protocol):
    async def close_socket(self, code: int, reason: str) -> None: ...


class SocketHolder(Protocol):
    """What the registry needs of a websocket's context (app.web.graphql_view.SocketContext)."""

    actor: Actor
    token: str | None
    socket: LiveSocket | None


@dataclass(eq=False, slots=True)
class _Entry:
    context: SocketHolder
    identity: str
    token_hash: str | None
    api_key_id: int | None
    closing: bool = False


def identity_of(actor: Actor, client_host: str | None) -> str:
    """``user:12``, ``apikey:3``, or ``ip:<address>`` for anyone not signed in."""
    if actor.kind in (ActorKind.USER, ActorKind.API_KEY) and actor.subject_id is not None:
        return actor.ref
    return f"ip:{client_host or 'unknown'}"


class SocketRegistry:
    """This process's open sockets by identity: the connection limit, revocation, re-checks."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        reads: async_sessionmaker[AsyncSession] | None = None,
        max_per_identity: int,
        recheck_interval: float,
    ) -> None:
        self.sessions = sessions
        """The app's write sessions: revocations announced through them are this database's."""
        self.reads = reads or sessions
        """For the re-check, which only reads (no SQLite write lock)."""
        self.max_per_identity = max_per_identity
        self.recheck_interval = recheck_interval
        self._entries: dict[int, _Entry] = {}
        self._counts: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._remove_listener: Callable[[], None] | None = None

    # --- admission ------------------------------------------------------------------------

    def admit(self, context: SocketHolder, *, client_host: str | None) -> None:
        """Count the socket for its identity, or raise SocketRefused past the limit."""
        self.discard(context)
        actor = context.actor
        identity = identity_of(actor, client_host)
        if self.max_per_identity and self._counts[identity] >= self.max_per_identity:
            raise SocketRefused(TOO_MANY_CONNECTIONS)
        token = context.token
        session_hash = None
        key_id = None
        if actor.kind is ActorKind.USER and token and token.startswith(TOKEN_PREFIX):
            session_hash = token_hash(token)
        elif actor.kind is ActorKind.API_KEY:
            key_id = actor.subject_id
        self._entries[id(context)] = _Entry(context, identity, session_hash, key_id)
        self._counts[identity] += 1

    def discard(self, context: object) -> None:
        entry = self._entries.pop(id(context), None)
        if entry is None:
            return
        self._counts[entry.identity] -= 1
        if self._counts[entry.identity] <= 0:
            del self._counts[entry.identity]

    def count(self, identity: str | None = None) -> int:
        """Open sockets of one identity, or of all."""
        return self._counts[identity] if identity is not None else len(self._entries)

    def actors(self, identity: str) -> list[Actor]:
        """The actors that one identity's open sockets act as now."""
        return [e.context.actor for e in self._entries.values() if e.identity == identity]

    # --- closing --------------------------------------------------------------------------

    def _close(self, entry: _Entry, reason: str) -> None:
        if entry.closing:
            return
        entry.closing = True
        socket = entry.context.socket
        if socket is None:
            return
        task = asyncio.get_running_loop().create_task(socket.close_socket(FORBIDDEN, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _on_revoked(self, revoked: revocation.Revoked) -> None:
        if revoked.sessions is not self.sessions:
            return  # another app's database
        for entry in list(self._entries.values()):
            if (revoked.token_hash is not None and entry.token_hash == revoked.token_hash) or (
                revoked.api_key_id is not None and entry.api_key_id == revoked.api_key_id
            ):
                self._close(entry, revoked.reason)

    async def recheck(self) -> None:
        """Close the sockets whose identity has ended; give the others their current actor."""
        entries = [entry for entry in self._entries.values() if not entry.closing]
        hashes = {entry.token_hash for entry in entries if entry.token_hash is not None}
        keys = {entry.api_key_id for entry in entries if entry.api_key_id is not None}
        by_hash: Mapping[str, revocation.Standing] = (
            await revocation.session_standing(self.reads, hashes) if hashes else {}
        )
        by_key: Mapping[int, revocation.Standing] = (
            await revocation.key_standing(self.reads, keys) if keys else {}
        )
        for entry in entries:
            standing = None
            if entry.token_hash is not None:
                standing = by_hash.get(entry.token_hash)
            elif entry.api_key_id is not None:
                standing = by_key.get(entry.api_key_id)
            if standing is None or id(entry.context) not in self._entries:
                continue
            if standing.actor is None:
                self._close(entry, standing.reason)
            elif standing.actor != entry.context.actor:
                entry.context.actor = standing.actor  # applies from the next event on

    # --- the re-check task ----------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        self._remove_listener = revocation.add_listener(self._on_revoked)
        self._task = asyncio.create_task(self._run(), name="websocket-recheck")

    async def stop(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for closing in list(self._closing):
            closing.cancel()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_interval)
            if not self._entries:
                continue
            try:
                await self.recheck()
            except Exception:
                log.warning("could not re-check open websockets; retrying", exc_info=True)


# --- protocol handlers ---------------------------------------------------------------------


class _BoundedCloseAdapter(AsyncWebSocketAdapter):
    """The view's adapter, with close reasons cut to fit and a second close ignored."""

    def __init__(self, inner: AsyncWebSocketAdapter) -> None:
        super().__init__(inner.view)
        self.inner = inner
        self.closed = False

    def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        return self.inner.iter_json(ignore_parsing_errors=ignore_parsing_errors)

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.inner.send_json(message)

    def text_sender(self) -> Callable[[str], Awaitable[None]] | None:
        """Send an already encoded message (app.pubsub.direct); None off ASGI."""
        ws = getattr(self.inner, "ws", None)
        if not isinstance(ws, WebSocket):
            return None

        async def send_text(text: str) -> None:
            try:
                await ws.send_text(text)
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc

        return send_text

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(RuntimeError):  # the client closed first
            await self.inner.close(code, bounded_reason(reason))


def _registry(view: object) -> SocketRegistry | None:
    registry = getattr(view, "sockets", None)
    return registry if isinstance(registry, SocketRegistry) else None


def _is_object_or_null(value: object) -> bool:
    return value is None or isinstance(value, dict)


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def message_problem(message: object) -> str | None:
    """Why a graphql-transport-ws message is invalid (4400), or None when it is valid."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string type"
    if kind in ("connection_init", "ping", "pong"):
        if not _is_object_or_null(message.get("payload")):
            return f"The {kind} payload must be an object"
        return None
    if kind == "complete":
        return None if _is_id(message.get("id")) else "complete needs a string id"
    if kind != "subscribe":
        return bounded_reason(f"Unknown message type: {kind}")
    if not _is_id(message.get("id")):
        return "subscribe needs a string id"
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "subscribe needs a payload object"
    if not isinstance(payload.get("query"), str):
        return "The subscribe payload needs a query string"
    if not _is_object_or_null(payload.get("variables")):
        return "variables must be an object"
    if not _is_object_or_null(payload.get("extensions")):
        return "extensions must be an object"
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return "operationName must be a string"
    return None


def too_many_subscriptions(limit: int) -> GraphQLError:
    return GraphQLError(
        f"At most {limit} operations may run at once on one connection.",
        extensions={"code": TOO_MANY_SUBSCRIPTIONS},
    )


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, as its protocol says (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = self.bounded = _BoundedCloseAdapter(self.websocket)
        self.budget = message_budget(self.view)
        # The limit is checked here, with a code; strawberry's own check would answer first.
        self.subscription_limit = self.max_subscriptions_per_connection
        self.max_subscriptions_per_connection = None
        if hasattr(self.context, "socket"):
            self.context.socket = self

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            registry = _registry(self.view)
            if registry is not None:
                registry.discard(self.context)

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        # The operation's task: its subscription may write shared renderings itself.
        with lane_open(self._lane(operation.id)):
            await super().run_operation(operation)

    def _lane(self, operation_id: str) -> Lane | None:
        settings = getattr(getattr(self.view, "runtime", None), "settings", None)
        if settings is None or not settings.ws_direct_delivery:
            return None
        send_text = self.bounded.text_sender()
        if send_text is None:
            return None
        return Lane(operation_id, "next", send_text, self.view.encode_json)

    async def close_socket(self, code: int, reason: str) -> None:
        """End every operation, then close (the registry's way to end a revoked identity)."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(code, reason)

    async def handle_message(self, message: Message) -> None:
        if not self.budget.take():
            await self.close_socket(POLICY_VIOLATION, TOO_MANY_MESSAGES)
            return
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        self.connection_init_received = True
        payload = message.get("payload") or {}
        if hasattr(self.context, "connection_params"):
            self.context.connection_params = payload
        try:
            acknowledged = await self.view.on_ws_connect(self.context)
        except SocketRefused as refused:
            await self.websocket.close(FORBIDDEN, refused.reason)
            return
        except ConnectionRejectionError:
            await self.websocket.close(FORBIDDEN, "Forbidden")
            return
        if isinstance(acknowledged, UnsetType) or acknowledged is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": acknowledged})
        self.connection_acknowledged = True

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.subscription_limit
        if (
            limit is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = too_many_subscriptions(limit)
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """The legacy graphql-ws protocol: strawberry's, plus the registry and the limit's code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = _BoundedCloseAdapter(self.websocket)
        self.budget = message_budget(self.view)
        self.subscription_limit = self.max_subscriptions_per_connection
        self.max_subscriptions_per_connection = None
        if hasattr(self.context, "socket"):
            self.context.socket = self

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            registry = _registry(self.view)
            if registry is not None:
                registry.discard(self.context)

    async def close_socket(self, code: int, reason: str) -> None:
        await self.cleanup()
        await self.websocket.close(code, reason)

    async def handle_message(self, message: OperationMessage) -> None:
        if not self.budget.take():
            await self.close_socket(POLICY_VIOLATION, TOO_MANY_MESSAGES)
            return
        await super().handle_message(message)

    async def handle_start(self, message: StartMessage) -> None:
        limit = self.subscription_limit
        operation_id = message["id"]
        if (
            limit is not None
            and self.connection_acknowledged
            and operation_id not in self.tasks  # a start with a running id replaces it
            and len(self.tasks) >= limit
        ):
            error = too_many_subscriptions(limit)
            await self.send_message(
                ErrorMessage(type="error", id=operation_id, payload=error.formatted)
            )
            return
        await super().handle_start(message)
