"""A real graphql-transport-ws client for tests, on the `websockets` package.

    async with GraphQLSocket.connect(server.graphql_ws_url, token=person.token) as socket:
        op = await socket.subscribe("subscription { events { cursor type } }")
        payload = await socket.next(op)            # the `payload` of the next `next` message
        await socket.complete(op)

The protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md):
connection_init -> connection_ack, subscribe -> next* -> complete | error, ping <-> pong.
Messages are kept per operation id, so several operations can share one socket; a server
``ping`` is answered with ``pong`` as the protocol asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
_ids = itertools.count(1)


class ProtocolError(AssertionError):
    """The server sent something the test did not expect."""


class GraphQLSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ack: dict[str, Any] | None = None
        self.pongs = 0
        self._by_operation: dict[str, deque[dict[str, Any]]] = {}
        self._other: deque[dict[str, Any]] = deque()

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        payload: dict[str, Any] | None = None,
        init: bool = True,
        wait: float = 5.0,
        **options: Any,
    ) -> AsyncIterator[GraphQLSocket]:
        """Open a socket; with ``init`` (default) send connection_init and wait for the ack.

        ``token`` sends ``{"Authorization": "Bearer <token>"}`` like the web app; ``payload``
        sends any other connection_init payload.
        """
        if token is not None:
            payload = {"Authorization": f"Bearer {token}", **(payload or {})}
        async with connect(
            url, subprotocols=[PROTOCOL], proxy=None, open_timeout=wait, **options
        ) as connection:
            socket = cls(connection)
            if init:
                await socket.init(payload, wait=wait)
            yield socket

    async def init(self, payload: dict[str, Any] | None = None, wait: float = 5.0) -> None:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        ack = await self._receive_other(wait)
        if ack.get("type") != "connection_ack":
            raise ProtocolError(f"expected connection_ack, got {ack}")
        self.ack = ack

    # --- sending ---------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_id: str | None = None,
    ) -> str:
        operation_id = operation_id or f"op{next(_ids)}"
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        self._by_operation.setdefault(operation_id, deque())
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})
        return operation_id

    async def complete(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "complete"})

    async def ping(self, wait: float = 5.0) -> None:
        """Send a ping and wait for the pong."""
        before = self.pongs
        await self.send({"type": "ping"})
        async with asyncio.timeout(wait):
            while self.pongs == before:
                await self._pump()

    # --- receiving -------------------------------------------------------------------------

    async def message(self, operation_id: str, wait: float = 5.0) -> dict[str, Any]:
        """The next message (next, error or complete) for ``operation_id``."""
        queue = self._by_operation.setdefault(operation_id, deque())
        async with asyncio.timeout(wait):
            while not queue:
                await self._pump()
        return queue.popleft()

    async def next(self, operation_id: str, wait: float = 5.0) -> dict[str, Any]:
        """The payload of the next ``next`` message; anything else fails the test."""
        message = await self.message(operation_id, wait)
        if message["type"] != "next":
            raise ProtocolError(f"expected next for {operation_id}, got {message}")
        payload: dict[str, Any] = message["payload"]
        return payload

    async def data(self, operation_id: str, wait: float = 5.0) -> dict[str, Any]:
        """The ``data`` of the next ``next`` message, which must carry no errors."""
        payload = await self.next(operation_id, wait)
        if payload.get("errors"):
            raise ProtocolError(f"expected data, got errors: {payload}")
        data: dict[str, Any] = payload["data"]
        return data

    async def take(self, operation_id: str, count: int, wait: float = 5.0) -> list[Any]:
        """The data of the next ``count`` ``next`` messages (one field's value each)."""
        values = []
        async with asyncio.timeout(wait):
            for _ in range(count):
                data = await self.data(operation_id, wait)
                [value] = data.values()
                values.append(value)
        return values

    async def until_done(self, operation_id: str, wait: float = 5.0) -> list[dict[str, Any]]:
        """Every message for ``operation_id`` up to and including its complete or error."""
        messages = []
        async with asyncio.timeout(wait):
            while True:
                message = await self.message(operation_id, wait)
                messages.append(message)
                if message["type"] in ("complete", "error"):
                    return messages

    async def silence(self, operation_id: str, seconds: float) -> None:
        """Fail if anything arrives for ``operation_id`` within ``seconds``."""
        queue = self._by_operation.setdefault(operation_id, deque())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not queue:
                    await self._pump()
        if queue:
            raise ProtocolError(f"expected nothing for {operation_id}, got {list(queue)}")

    async def closed(self, wait: float = 5.0) -> tuple[int | None, str | None]:
        """Wait until the server closes the socket; returns (code, reason)."""
        async with asyncio.timeout(wait):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await self._pump()
        return self.connection.close_code, self.connection.close_reason

    async def _receive_other(self, wait: float) -> dict[str, Any]:
        async with asyncio.timeout(wait):
            while not self._other:
                await self._pump()
        return self._other.popleft()

    async def _pump(self) -> None:
        """Read one frame and file it under its operation."""
        raw = await self.connection.recv()
        message: dict[str, Any] = json.loads(raw)
        kind = message.get("type")
        if kind == "ping":
            await self.send({"type": "pong"})
            return
        if kind == "pong":
            self.pongs += 1
            return
        operation_id = message.get("id")
        if kind in ("next", "error", "complete") and isinstance(operation_id, str):
            self._by_operation.setdefault(operation_id, deque()).append(message)
        else:
            self._other.append(message)
