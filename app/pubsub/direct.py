"""Direct delivery: a grouped subscription's shared rendering goes straight to its socket.

Each value a subscription yields normally climbs a stack of layers before it reaches the
socket: graphql-core's mapping of the source stream, strawberry's per-result processing and
extension hooks, its protocol handler (``send_next``), the view's JSON encoding and the
websocket adapter. With render groups (app.pubsub.render) the rendering itself is shared, so
for a thousand subscribers of one event those layers are most of what is left of the CPU.

A ``Lane`` is opened for each graphql-transport-ws operation (app.web.sockets) and found by
the subscription's resolver through a context variable (the operation runs in a task of its
own). For a value that carries a ``render_key``, the resolver asks the lane to send it: the
lane renders it through the operation's group (the same rendering every member shares) and
writes ``{"id": ..., "type": "next", "payload": <shared payload>}`` to the socket itself, the
prefix encoded once per operation and the payload once per group.

Only a rendering without errors or extensions goes this way, which is exactly what the
normal path would send unchanged (app.auth.hardening only rewrites errors). Anything else
(a snapshot built for one subscriber, a value with errors, an operation without a group, the
legacy protocol, Server-Sent Events) is yielded to graphql-core as before. Both paths run in
the operation's task, one value at a time, so the order of messages is the order of values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from graphql import ExecutionResult

from app.observability.metrics import DIRECT_MESSAGES
from app.pubsub.render import RenderedData, current_member

SendText = Callable[[str], Awaitable[None]]
Encode = Callable[[object], "str | bytes"]

_lane: ContextVar[Lane | None] = ContextVar("devicegraph_direct_lane", default=None)


class Lane:
    """One operation's way to its socket, for values its render group already shares."""

    __slots__ = ("_encode", "_prefix", "_send_text")

    def __init__(
        self, operation_id: str, message_type: str, send_text: SendText, encode: Encode
    ) -> None:
        head = encode({"id": operation_id, "type": message_type})
        if not isinstance(head, str):
            raise TypeError("the view must encode JSON as text")
        self._prefix = f'{head[:-1]},"payload":'
        self._send_text = send_text
        self._encode = encode

    async def send(self, value: object) -> bool:
        """Write ``value``'s shared rendering to the socket; False when it cannot go this way
        (the caller then yields it to graphql-core, which renders and sends it as usual)."""
        owner = current_member()
        if owner is None:
            return False
        rendering = owner.render_groups.render_value(owner, value)
        if rendering is None:
            return False
        result = rendering if isinstance(rendering, ExecutionResult) else await rendering
        data = result.data
        if result.errors or result.extensions or type(data) is not RenderedData:
            return False
        payload = data.payload
        if payload is None:
            encoded = self._encode({"data": data})
            if not isinstance(encoded, str):
                return False
            data.payload = payload = encoded
        await self._send_text(f"{self._prefix}{payload}}}")
        DIRECT_MESSAGES.inc()
        return True


def current_lane() -> Lane | None:
    return _lane.get()


@contextmanager
def lane_open(lane: Lane | None) -> Iterator[Lane | None]:
    """Make ``lane`` the current operation's lane for the block (None: no direct delivery)."""
    token = _lane.set(lane)
    try:
        yield lane
    finally:
        _lane.reset(token)
