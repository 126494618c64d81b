"""Direct delivery: a shared rendering written straight to the socket is the message the
normal path would have sent, in the same order, and only such renderings go that way.

First on a small schema of its own with a lane that records what it writes: keyed values go
through the lane, a value without a key or with a field error goes through graphql-core, and
the two interleave in the order the resolver produced them. Then the `events` subscription
over real websockets: two servers on one database, one writing directly and one not, send
byte-identical frames, and the counter on /metrics moves only for the direct one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.extensions import MaskErrors
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app.domain.statuses import Role
from app.observability.metrics import DIRECT_MESSAGES
from app.pubsub.direct import Lane, current_lane, lane_open
from app.pubsub.render import GroupScope, RenderGroups, keyed
from app.settings import Settings
from tests.pubsub.support import append, subscribed
from tests.support.auth import Person, sign_in_as
from tests.support.server import RunningServer, make_app, serve_app

Sessions = async_sessionmaker[AsyncSession]

# --- a schema of its own -------------------------------------------------------------------


@strawberry.type
class Item:
    n: int
    fails: strawberry.Private[bool] = False

    @strawberry.field
    def label(self) -> str:
        if self.fails:
            raise RuntimeError("a secret the client must not see")
        return f"item {self.n}"


@strawberry.type
class Query:
    ping: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, info: strawberry.Info) -> AsyncGenerator[Item, None]:
        lane = current_lane()  # as the app's resolvers do
        for item in info.context["items"]:
            if lane is None or not await lane.send(item):
                yield item


def _schema() -> strawberry.Schema:
    groups = RenderGroups(lambda context: GroupScope(key="everyone"))
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        extensions=[MaskErrors],
        execution_context_class=groups.executor_class,
    )


async def _deliver(items: list[Item], *, with_lane: bool = True) -> list[tuple[str, Any]]:
    """What reached the "socket", in order: ("direct", frame) or ("stream", result)."""
    schema = _schema()
    sent: list[tuple[str, Any]] = []

    async def send_text(text: str) -> None:
        sent.append(("direct", json.loads(text)))

    lane = Lane("op-1", "next", send_text, json.dumps) if with_lane else None
    with lane_open(lane):
        stream = await schema.subscribe(
            "subscription { items { n label } }", context_value={"items": items}
        )
        async for result in stream:
            sent.append(("stream", result))
    return sent


def _item(n: int, *, key: bool = True, fails: bool = False) -> Item:
    item = Item(n=n, fails=fails)
    return keyed(item, ("item", n)) if key else item


async def test_shared_renderings_go_through_the_lane_in_order() -> None:
    items = [_item(0), _item(1, key=False), _item(2), _item(3, fails=True), _item(4)]
    sent = await _deliver(items)

    assert [kind for kind, _ in sent] == ["direct", "stream", "direct", "stream", "direct"]
    direct = [message for kind, message in sent if kind == "direct"]
    assert direct == [
        {
            "id": "op-1",
            "type": "next",
            "payload": {"data": {"items": {"n": n, "label": f"item {n}"}}},
        }
        for n in (0, 2, 4)
    ]
    unkeyed, failed = (result for kind, result in sent if kind == "stream")
    assert unkeyed.data == {"items": {"n": 1, "label": "item 1"}}
    assert not unkeyed.errors
    # A value with a field error is left to the normal path, which masks it.
    assert failed.data is None
    assert [error.message for error in failed.errors] == ["Unexpected error."]


async def test_without_a_lane_every_value_goes_through_graphql_core() -> None:
    sent = await _deliver([_item(0), _item(1)], with_lane=False)
    assert [kind for kind, _ in sent] == ["stream", "stream"]
    assert [result.data["items"]["n"] for _, result in sent] == [0, 1]


# --- the events subscription over real websockets ------------------------------------------

EVENTS = "subscription { events { cursor type entityType entityId actor changes } }"
PROTOCOL = [Subprotocol("graphql-transport-ws")]


@pytest.fixture
async def operator(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


@pytest.fixture
async def undirected_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """A second app on the same database that sends every message the normal way."""
    app = make_app(settings.model_copy(update={"ws_direct_delivery": False}))
    async with serve_app(app) as server:
        yield server


async def _subscribed_socket(url: str, token: str, stack: Any) -> ClientConnection:
    socket = await stack.enter_async_context(connect(url, subprotocols=PROTOCOL, proxy=None))
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await socket.send(json.dumps(init))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "live", "type": "subscribe", "payload": {"query": EVENTS}}))
    return socket


async def _frames(socket: ClientConnection, count: int) -> list[str]:
    frames = []
    async with asyncio.timeout(10):
        while len(frames) < count:
            frame = await socket.recv()
            assert isinstance(frame, str)
            if json.loads(frame)["type"] != "ping":
                frames.append(frame)
    return frames


def _direct_messages() -> float:
    return DIRECT_MESSAGES._value.get()  # type: ignore[attr-defined,no-any-return]


async def test_direct_frames_are_the_frames_the_normal_path_sends(
    server: RunningServer, undirected_server: RunningServer, operator: Person
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        direct = await _subscribed_socket(server.graphql_ws_url, operator.token, stack)
        normal = await _subscribed_socket(undirected_server.graphql_ws_url, operator.token, stack)
        await subscribed(server.app)
        await subscribed(undirected_server.app)
        before = _direct_messages()
        await append(server.app.state.runtime.sessions, 3, type="direct.compared")
        direct_frames = await _frames(direct, 3)
        normal_frames = await _frames(normal, 3)

    assert direct_frames == normal_frames
    messages = [json.loads(frame) for frame in direct_frames]
    assert [m["payload"]["data"]["events"]["type"] for m in messages] == ["direct.compared"] * 3
    assert {m["id"] for m in messages} == {"live"}
    assert _direct_messages() - before == 3  # the direct server's three; the other sent none
