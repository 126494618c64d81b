"""Render once per group: alike subscribers share one rendering of each value.

First on a small schema of its own (no database): what is a group, what is shared, what is
not, errors, async fields, bounds. Then the `events` subscription over real websockets
(graphql-transport-ws and the legacy graphql-ws), on SQLite and PostgreSQL: N subscribers of
one operation cost one rendering per event; other variables or another audience get their
own; every subscriber still receives every event once, in order, under its own id.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.extensions import MaskErrors
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.domain.statuses import Role
from app.pubsub.render import GroupScope, RenderedData, RenderGroups, keyed, render_groups_of
from app.settings import Settings
from tests.pubsub.support import append, eventually, subscribed
from tests.support.auth import Person, create_person, sign_in_as
from tests.support.factories import create_buyer
from tests.support.server import RunningServer, import_schema, make_app, serve_app
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

# --- a schema of its own -------------------------------------------------------------------

CALLS = {"label": 0, "slow": 0}


@strawberry.type
class Item:
    n: int

    @strawberry.field
    def label(self, info: strawberry.Info) -> str:
        CALLS["label"] += 1
        return f"item {self.n} for {info.context['scope']}"

    @strawberry.field
    async def slow(self) -> str:
        CALLS["slow"] += 1
        await asyncio.sleep(0.02)
        return f"slow {self.n}"

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("a secret the client must not see")


@strawberry.type
class Query:
    ping: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(
        self, info: strawberry.Info, tag: str = "", pause: float = 0.0
    ) -> AsyncGenerator[Item, None]:
        for item in info.context["items"]:
            yield item
            if pause:
                await asyncio.sleep(pause)


def _scope(context: dict[str, Any]) -> GroupScope | None:
    if context["scope"] is None:
        return None
    return GroupScope(key=context["scope"], renderings=context.get("renderings", 64))


@pytest.fixture
def groups() -> RenderGroups:
    return RenderGroups(_scope)


@pytest.fixture
def schema(groups: RenderGroups) -> strawberry.Schema:
    CALLS.update(label=0, slow=0)
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        extensions=[MaskErrors],
        execution_context_class=groups.executor_class,
    )


def shared_items(count: int) -> list[Item]:
    return [keyed(Item(n=n), ("item", n)) for n in range(count)]


async def results(
    schema: strawberry.Schema,
    query: str,
    items: list[Item],
    *,
    scope: object = "buyers",
    variables: dict[str, Any] | None = None,
    **context: Any,
) -> list[Any]:
    stream = await schema.subscribe(
        query, variable_values=variables, context_value={"items": items, "scope": scope, **context}
    )
    return [result async for result in stream]


async def test_keyed_values_render_once_per_group(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = shared_items(5)
    query = "subscription { items(pause: 0.001) { n label } }"
    # Three members at once: each takes a value while the others hold theirs.
    streams = await asyncio.gather(*(results(schema, query, items) for _ in range(3)))
    assert CALLS["label"] == 5
    assert (groups.renderings, groups.shared) == (5, 10)
    for stream in streams:
        assert [r.data["items"]["n"] for r in stream] == [0, 1, 2, 3, 4]
        assert all(r.errors is None for r in stream)
    # The same rendering, and marked for the view to encode once.
    assert all(a.data is b.data for a, b in zip(streams[0], streams[1], strict=True))
    assert all(type(r.data) is RenderedData for r in streams[0])
    assert groups.stats()["groups"] == 0  # gone with its last member


async def test_values_without_a_key_render_for_each_subscriber(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = [Item(n=n) for n in range(4)]  # e.g. a snapshot built for one subscriber
    query = "subscription { items(pause: 0.001) { n label } }"
    await asyncio.gather(*(results(schema, query, items) for _ in range(3)))
    assert CALLS["label"] == 12
    assert (groups.renderings, groups.shared) == (12, 0)


async def test_other_variables_or_another_scope_render_apart(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = shared_items(4)
    query = "subscription S($tag: String!) { items(tag: $tag, pause: 0.001) { label } }"
    a = {"tag": "a"}
    b = {"tag": "b"}
    streams = await asyncio.gather(
        results(schema, query, items, variables=a),
        results(schema, query, items, variables=a),
        results(schema, query, items, variables=b),
        results(schema, query, items, variables=a, scope="operators"),
    )
    assert groups.renderings == 12  # three groups, four values
    assert groups.shared == 4
    labels = [[r.data["items"]["label"] for r in stream] for stream in streams]
    assert labels[0] == labels[1] == labels[2] == [f"item {n} for buyers" for n in range(4)]
    assert labels[3] == [f"item {n} for operators" for n in range(4)]


async def test_grouping_off_renders_for_each_subscriber(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = shared_items(3)
    query = "subscription { items(pause: 0.001) { label } }"
    await asyncio.gather(*(results(schema, query, items, scope=None) for _ in range(2)))
    assert (groups.renderings, groups.shared, CALLS["label"]) == (6, 0, 6)


async def test_members_asking_during_an_async_rendering_wait_for_it(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = shared_items(3)
    query = "subscription { items { n slow } }"
    streams = await asyncio.gather(*(results(schema, query, items) for _ in range(4)))
    assert CALLS["slow"] == 3
    assert (groups.renderings, groups.shared) == (3, 9)
    for stream in streams:
        assert [r.data["items"]["slow"] for r in stream] == ["slow 0", "slow 1", "slow 2"]


async def test_field_errors_stay_masked_for_every_member(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = shared_items(2)
    query = "subscription { items(pause: 0.001) { n broken } }"
    streams = await asyncio.gather(*(results(schema, query, items) for _ in range(2)))
    for stream in streams:
        assert len(stream) == 2
        for result in stream:
            assert result.data is None
            [error] = result.errors
            assert error.message == "Unexpected error."
            assert "secret" not in json.dumps(error.formatted)
    assert groups.renderings == 2


async def test_a_group_keeps_only_its_last_renderings(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    items = shared_items(10)
    stream = await schema.subscribe(
        "subscription { items { n } }",
        context_value={"items": items, "scope": "buyers", "renderings": 3},
    )
    seen = []
    cached = []
    async for result in stream:
        seen.append(result.data["items"]["n"])
        cached.append(groups.stats()["cached"])
        assert groups.stats()["members"] == 1
    assert seen == list(range(10))
    assert max(cached) == 3
    assert groups.stats() == {
        "groups": 0,
        "members": 0,
        "renderings": 10,
        "shared": 0,
        "cached": 0,
    }


async def test_a_member_that_leaves_early_leaves_its_group(
    schema: strawberry.Schema, groups: RenderGroups
) -> None:
    stream = await schema.subscribe(
        "subscription { items(pause: 10) { n } }",
        context_value={"items": shared_items(3), "scope": "buyers"},
    )
    first = await anext(stream)
    assert first.data == {"items": {"n": 0}}
    assert groups.stats()["members"] == 1
    await stream.aclose()
    assert groups.stats()["groups"] == 0


# --- the `events` subscription over websockets --------------------------------------------

EVENTS = """
subscription Events($types: [String!]) {
  events(types: $types) { cursor type entityId actor changes }
}
"""


@pytest.fixture
def app_sessions(server: RunningServer) -> Sessions:
    sessions: Sessions = server.app.state.runtime.sessions
    return sessions


@pytest.fixture
async def operator(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


@pytest.fixture
async def buyer(sessions: Sessions) -> Person:
    return await create_person(sessions, await create_buyer(sessions), Role.BUYER)


def app_groups() -> RenderGroups:
    groups = render_groups_of(import_schema())
    assert groups is not None
    return groups


async def received(socket: GraphQLSocket, op: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages of ``op``, each checked to be a `next` under op's id."""
    events = []
    for _ in range(count):
        message = await socket.message(op)
        assert message["type"] == "next", message
        assert message["id"] == op
        assert "errors" not in message["payload"]
        events.append(message["payload"]["data"]["events"])
    return events


async def test_subscribers_of_one_operation_share_one_rendering_per_event(
    server: RunningServer, app_sessions: Sessions, operator: Person, buyer: Person
) -> None:
    url = server.graphql_ws_url
    groups = app_groups()
    async with (
        GraphQLSocket.connect(url, token=operator.token) as first,
        GraphQLSocket.connect(url, token=operator.token) as second,
        GraphQLSocket.connect(url, token=buyer.token) as third,
    ):
        same = [
            await first.subscribe(EVENTS),
            await first.subscribe(EVENTS),  # two operations of one socket
            await second.subscribe(EVENTS),
        ]
        other_variables = await second.subscribe(EVENTS, {"types": ["shared.thing"]})
        other_audience = await third.subscribe(EVENTS)
        await subscribed(server.app, 5)
        before = groups.stats()
        assert before["members"] == 5
        assert before["groups"] == 3
        await append(app_sessions, 3, type="shared.thing", audiences=["public"])
        await append(app_sessions, 2, type="shared.thing", audiences=["public"])
        got = {
            op: await received(socket, op, 5)
            for socket, op in [
                (first, same[0]),
                (first, same[1]),
                (second, same[2]),
                (second, other_variables),
                (third, other_audience),
            ]
        }
        for socket, op in [(first, same[0]), (first, same[1]), (second, other_variables)]:
            await socket.silence(op, 0.1)
        after = groups.stats()

    # Five events: one rendering each for the three operators of one operation, one for the
    # operator with other variables, one for the buyer.
    assert after["renderings"] - before["renderings"] == 15
    assert after["shared"] - before["shared"] == 10
    for events in got.values():
        assert [event["changes"]["n"] for event in events] == [0, 1, 2, 0, 1]
        assert len({event["cursor"] for event in events}) == 5
    assert got[same[0]] == got[same[1]] == got[same[2]] == got[other_variables]
    assert {event["actor"] for event in got[same[0]]} == {"user:1"}
    assert {event["actor"] for event in got[other_audience]} == {None}
    assert [e["cursor"] for e in got[other_audience]] == [e["cursor"] for e in got[same[0]]]
    assert app_groups().stats()["groups"] == 0


@pytest.fixture
async def ungrouped_server(settings: Settings) -> AsyncIterator[RunningServer]:
    app = make_app(settings.model_copy(update={"subscription_grouping": False}))
    async with serve_app(app) as server:
        yield server


async def test_with_grouping_off_each_subscriber_gets_its_own_rendering(
    ungrouped_server: RunningServer, operator: Person
) -> None:
    server = ungrouped_server
    groups = app_groups()
    async with GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket:
        ops = [await socket.subscribe(EVENTS) for _ in range(3)]
        await subscribed(server.app, 3)
        before = groups.stats()
        await append(server.app.state.runtime.sessions, 4, type="one.by.one")
        got = [await received(socket, op, 4) for op in ops]
        after = groups.stats()
    assert after["renderings"] - before["renderings"] == 12
    assert after["shared"] == before["shared"]
    assert before["groups"] == 0
    assert got[0] == got[1] == got[2]
    assert [event["changes"]["n"] for event in got[0]] == [0, 1, 2, 3]


async def test_the_legacy_protocol_shares_the_rendering_too(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    groups = app_groups()
    legacy = [Subprotocol("graphql-ws")]
    async with (
        GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket,
        connect(server.graphql_ws_url, subprotocols=legacy, proxy=None) as old,
    ):
        op = await socket.subscribe(EVENTS)
        await old.send(json.dumps({"type": "connection_init", "payload": operator.headers}))
        assert json.loads(await old.recv())["type"] == "connection_ack"
        await old.send(
            json.dumps({"type": "start", "id": "legacy-1", "payload": {"query": EVENTS}})
        )
        await subscribed(server.app, 2)
        before = groups.stats()
        await append(app_sessions, 3, type="legacy.shared")
        current = await received(socket, op, 3)
        old_messages = []
        async with asyncio.timeout(5):
            while len(old_messages) < 3:
                message = json.loads(await old.recv())
                if message["type"] != "ka":
                    old_messages.append(message)
        await old.send(json.dumps({"type": "stop", "id": "legacy-1"}))
        after = groups.stats()
    assert after["renderings"] - before["renderings"] == 3
    assert after["shared"] - before["shared"] == 3
    assert [m["type"] for m in old_messages] == ["data"] * 3
    assert [m["id"] for m in old_messages] == ["legacy-1"] * 3
    assert [m["payload"]["data"]["events"] for m in old_messages] == current


async def test_buyers_of_different_organisations_share_the_rendering_of_an_event(
    server: RunningServer, app_sessions: Sessions, sessions: Sessions, buyer: Person
) -> None:
    other = await create_person(sessions, await create_buyer(sessions), Role.BUYER)
    groups = app_groups()
    async with (
        GraphQLSocket.connect(server.graphql_ws_url, token=buyer.token) as first,
        GraphQLSocket.connect(server.graphql_ws_url, token=other.token) as second,
    ):
        ops = [await first.subscribe(EVENTS), await second.subscribe(EVENTS)]
        await subscribed(server.app, 2)
        before = groups.stats()
        assert before["groups"] == 2  # two scopes: each organisation may see other events
        await append(app_sessions, 3, type="plain.data", audiences=["public"])
        got = [await received(first, ops[0], 3), await received(second, ops[1], 3)]
        after = groups.stats()
    # An event is plain data: one rendering serves both scopes.
    assert after["renderings"] - before["renderings"] == 3
    assert got[0] == got[1]
    assert [event["changes"]["n"] for event in got[0]] == [0, 1, 2]
    await eventually(lambda: app_groups().stats()["groups"] == 0, what="groups left")
    assert app_groups().any_viewer == {}
