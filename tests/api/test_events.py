"""The change stream over real websockets (graphql-transport-ws) and the paged events query.

Every test runs on SQLite with the in-process broadcast and on PostgreSQL with the in-process,
the postgres and the Redis broadcast (``backend``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import Role
from app.services.events import buyer_audience, client_audience
from app.settings import Settings
from tests.pubsub.support import (
    BACKENDS,
    append,
    append_and_roll_back,
    backend_id,
    broadcast_url_for,
    count_events,
    database_url_for,
    eventually,
    subscribed,
)
from tests.support.auth import Person, create_person, sign_in_as
from tests.support.factories import create_buyer, create_client
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

EVENTS = """
subscription Events($after: String, $types: [String!], $entityType: String, $entityId: ID) {
  events(after: $after, types: $types, entityType: $entityType, entityId: $entityId) {
    cursor type entityType entityId entityVersion occurredAt actor changes
  }
}
"""
PAGE = """
query Page($after: String, $first: Int) {
  events(after: $after, first: $first) {
    edges { cursor node { cursor type entityId actor changes } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture(params=BACKENDS, ids=backend_id)
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture
def database_url(backend: tuple[str, str], request: pytest.FixtureRequest) -> str:
    return database_url_for(request, backend[0])


@pytest.fixture
async def broadcast_url(backend: tuple[str, str], database_url: str) -> str:
    return await broadcast_url_for(backend[1], database_url)


@pytest.fixture
def settings(database_url: str, broadcast_url: str) -> Settings:
    return Settings(database_url=database_url, broadcast_url=broadcast_url)


@pytest.fixture
def app_sessions(server: RunningServer) -> Sessions:
    """The served app's own sessions: a commit through them wakes its tail like a mutation."""
    sessions: Sessions = server.app.state.runtime.sessions
    return sessions


@pytest.fixture
async def operator(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


def _ids(events: list[dict[str, Any]]) -> list[int]:
    return [event["changes"]["n"] for event in events]


async def test_a_subscriber_gets_committed_events_in_order(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS)
        await subscribed(server.app)
        await append(app_sessions, 3, type="device.received", entity_type="Device", entity_id=7)
        await append(app_sessions, 2, type="device.graded", entity_type="Device", entity_id=7)
        events = await socket.take(op, 5)
        await socket.silence(op, 0.2)

    assert [e["type"] for e in events] == ["device.received"] * 3 + ["device.graded"] * 2
    assert _ids(events) == [0, 1, 2, 0, 1]
    assert {e["entityType"] for e in events} == {"Device"}
    assert {e["entityId"] for e in events} == {"RGV2aWNlOjc="}  # the global id of Device 7
    assert {e["actor"] for e in events} == {"user:1"}  # operators see who did it
    assert len({e["cursor"] for e in events}) == 5


async def test_resume_with_after_gets_the_missed_events_once_in_order(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    url = server.graphql_ws_url
    async with GraphQLSocket.connect(url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS)
        await subscribed(server.app)
        await append(app_sessions, 2, changes=None)
        first = await socket.take(op, 2)
    await append(app_sessions, 3)  # while nobody listens

    async with GraphQLSocket.connect(url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS, {"after": first[-1]["cursor"]})
        missed = await socket.take(op, 3)
        await append(app_sessions, 1)
        live = await socket.take(op, 1)
        await socket.silence(op, 0.3)

    cursors = [e["cursor"] for e in first + missed + live]
    assert len(set(cursors)) == 6
    assert _ids(first) == [0, 1]
    assert _ids(missed) == [0, 1, 2]
    assert _ids(live) == [0]

    # The paged query lists the very same events with the very same cursors, in this order.
    graphql = GraphQLClient(
        httpx.AsyncClient(base_url=server.url, trust_env=False), headers=operator.headers
    )
    async with graphql.http:
        data = await graphql.data(PAGE, {"first": 100})
    assert [edge["cursor"] for edge in data["events"]["edges"]] == cursors


async def test_resume_from_the_middle_of_a_page(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    await append(app_sessions, 6)
    graphql = GraphQLClient(
        httpx.AsyncClient(base_url=server.url, trust_env=False), headers=operator.headers
    )
    async with graphql.http:
        first = (await graphql.data(PAGE, {"first": 4}))["events"]
        rest = (await graphql.data(PAGE, {"first": 4, "after": first["pageInfo"]["endCursor"]}))[
            "events"
        ]
        empty = (await graphql.data(PAGE, {"first": 4, "after": rest["pageInfo"]["endCursor"]}))[
            "events"
        ]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [edge["node"]["changes"]["n"] for edge in first["edges"]] == [0, 1, 2, 3]
    assert [edge["node"]["changes"]["n"] for edge in rest["edges"]] == [4, 5]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert empty["edges"] == []
    assert empty["pageInfo"]["endCursor"] == rest["pageInfo"]["endCursor"]
    assert all(edge["cursor"] == edge["node"]["cursor"] for edge in first["edges"])

    async with GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS, {"after": first["edges"][1]["cursor"]})
        resumed = await socket.take(op, 4)
        await socket.silence(op, 0.2)
    assert _ids(resumed) == [2, 3, 4, 5]
    assert [e["cursor"] for e in resumed] == [
        edge["cursor"] for edge in first["edges"][2:] + rest["edges"]
    ]


async def test_a_rolled_back_change_emits_nothing(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS)
        await subscribed(server.app)
        before = await count_events(app_sessions)
        await append_and_roll_back(app_sessions)
        assert await count_events(app_sessions) == before
        await append(app_sessions, 1, type="test.marker")
        [event] = await socket.take(op, 1)
        await socket.silence(op, 0.3)
    assert event["type"] == "test.marker"


async def test_each_party_gets_only_its_own_events(
    server: RunningServer, sessions: Sessions, app_sessions: Sessions, operator: Person
) -> None:
    buyer_org, other_buyer_org = await create_buyer(sessions), await create_buyer(sessions)
    client_org = await create_client(sessions)
    buyer = await create_person(sessions, buyer_org, Role.BUYER)
    client = await create_person(sessions, client_org, Role.VIEWER)
    url = server.graphql_ws_url
    async with (
        GraphQLSocket.connect(url, token=operator.token) as op_socket,
        GraphQLSocket.connect(url, token=buyer.token) as buyer_socket,
        GraphQLSocket.connect(url, token=client.token) as client_socket,
    ):
        ops = [
            await socket.subscribe(EVENTS) for socket in (op_socket, buyer_socket, client_socket)
        ]
        await subscribed(server.app, 3)
        written = {
            "operator only": [],
            "other buyer": [buyer_audience(other_buyer_org.id)],
            "this buyer": [buyer_audience(buyer_org.id)],
            "public": ["public"],
            "client": [client_audience(client_org.id)],
            "other client": [client_audience(client_org.id + 1000)],
        }
        for name, audiences in written.items():
            await append(app_sessions, 1, type=name, audiences=audiences)
        await append(
            app_sessions, 1, type="end", audiences=["public", client_audience(client_org.id)]
        )

        seen_by_operator = await op_socket.take(ops[0], 7)
        seen_by_buyer = await buyer_socket.take(ops[1], 3)
        seen_by_client = await client_socket.take(ops[2], 2)
        await buyer_socket.silence(ops[1], 0.2)
        await client_socket.silence(ops[2], 0.1)

    assert [e["type"] for e in seen_by_operator] == [*written, "end"]
    assert [e["type"] for e in seen_by_buyer] == ["this buyer", "public", "end"]
    assert [e["type"] for e in seen_by_client] == ["client", "end"]
    assert {e["actor"] for e in seen_by_buyer + seen_by_client} == {None}


async def test_the_stream_and_the_query_need_someone_signed_in(
    server: RunningServer, app_sessions: Sessions
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url) as socket:  # anonymous: accepted
        op = await socket.subscribe(EVENTS)
        [error] = await socket.until_done(op)
    assert error["type"] == "error"
    assert error["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert server.app.state.runtime.hub.subscriber_count == 0

    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        body = await GraphQLClient(http)(PAGE, {"first": 5})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda token: {"Authorization": f"Bearer {token}"}, id="Authorization"),
        pytest.param(lambda token: {"authorization": f"Bearer {token}"}, id="authorization"),
        pytest.param(lambda token: {"token": token}, id="token"),
    ],
)
async def test_connection_init_carries_the_token(
    server: RunningServer, app_sessions: Sessions, operator: Person, payload: Any
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, payload=payload(operator.token)) as s:
        op = await s.subscribe(EVENTS)
        await subscribed(server.app)
        await append(app_sessions, 1)
        [event] = await s.take(op, 1)
    assert event["actor"] == "user:1"


async def test_a_malformed_token_is_refused_and_a_stale_one_is_anonymous(
    server: RunningServer, operator: Person, sessions: Sessions
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, init=False) as socket:
        await socket.send({"type": "connection_init", "payload": {"Authorization": 42}})
        assert await socket.closed() == (4403, "Forbidden")

    async with GraphQLSocket.connect(server.graphql_ws_url, token="dgs_not-a-token") as socket:
        op = await socket.subscribe(EVENTS)
        [error] = await socket.until_done(op)
    assert error["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
async def uncached_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """The app asking the database for every token (``auth_cache_seconds`` 0)."""
    async with serve_app(make_app(settings.model_copy(update={"auth_cache_seconds": 0}))) as s:
        yield s


async def test_a_token_revoked_after_connecting_cannot_start_a_subscription(
    uncached_server: RunningServer, operator: Person, sessions: Sessions
) -> None:
    from app.auth.sessions import sign_out

    url = uncached_server.graphql_ws_url
    async with GraphQLSocket.connect(url, token=operator.token) as socket:
        # Revoked by another process: a new subscription asks again (with the token cache
        # on, as of at most auth_cache_seconds ago; the socket itself closes at its next
        # re-check, tests/auth/test_websocket_revocation.py).
        assert await sign_out(sessions, operator.token)
        op = await socket.subscribe(EVENTS)
        [error] = await socket.until_done(op)
    assert error["type"] == "error"
    assert error["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_filters_by_type_and_entity(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    url = server.graphql_ws_url
    async with GraphQLSocket.connect(url, token=operator.token) as socket:
        by_type = await socket.subscribe(EVENTS, {"types": ["order.shipped", "order.delivered"]})
        by_entity = await socket.subscribe(EVENTS, {"entityType": "Order", "entityId": "5"})
        by_global_id = await socket.subscribe(EVENTS, {"entityId": "T3JkZXI6NQ=="})  # Order:5
        await subscribed(server.app, 3)
        await append(app_sessions, 1, type="order.shipped", entity_type="Order", entity_id=4)
        await append(app_sessions, 1, type="order.placed", entity_type="Order", entity_id=5)
        await append(app_sessions, 1, type="device.sold", entity_type="Device", entity_id=5)
        await append(app_sessions, 1, type="order.delivered", entity_type="Order", entity_id=5)
        typed = await socket.take(by_type, 2)
        entity = await socket.take(by_entity, 2)
        global_entity = await socket.take(by_global_id, 2)
        for op in (by_type, by_entity, by_global_id):
            await socket.silence(op, 0.1)
    assert [e["type"] for e in typed] == ["order.shipped", "order.delivered"]
    assert [e["type"] for e in entity] == ["order.placed", "order.delivered"]
    assert global_entity == entity


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"after": "not-a-cursor"}, "after"),
        ({"entityId": "12"}, "entityId"),
        ({"entityType": "Order", "entityId": "RGV2aWNlOjc="}, "entityId"),
    ],
)
async def test_bad_arguments_are_refused_before_streaming(
    server: RunningServer, operator: Person, variables: dict[str, Any], field: str
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS, variables)
        [error] = await socket.until_done(op)
    assert error["type"] == "error"
    assert error["payload"][0]["extensions"] == {"code": "INVALID_INPUT", "field": field}


@pytest.fixture
async def small_queue_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """The app with subscriber queues of 5 events (the ``subscriber_queue_max`` setting)."""
    async with serve_app(make_app(settings.model_copy(update={"subscriber_queue_max": 5}))) as s:
        yield s


async def test_a_subscriber_that_falls_behind_is_cut_off_with_its_cursor(
    small_queue_server: RunningServer, operator: Person
) -> None:
    server = small_queue_server
    app_sessions: Sessions = server.app.state.runtime.sessions
    url = server.graphql_ws_url
    async with GraphQLSocket.connect(url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS)
        await subscribed(server.app)
        await append(app_sessions, 1, type="first")
        [first] = await socket.take(op, 1)
        # 20 events in one commit reach the queue at once: more than it holds.
        await append(app_sessions, 20, type="burst")
        lagged, complete = await socket.until_done(op)
    assert lagged["type"] == "next"
    assert lagged["payload"]["data"] is None
    [error] = lagged["payload"]["errors"]
    assert error["extensions"] == {"code": "LAGGED", "cursor": first["cursor"]}
    assert complete["type"] == "complete"
    assert server.app.state.runtime.hub.subscriber_count == 0

    # Resuming from the cursor in the error gets every event it missed, once, in order: the
    # backfill reads the log, so 20 events are no problem for a queue of 5.
    async with GraphQLSocket.connect(url, token=operator.token) as socket:
        op = await socket.subscribe(EVENTS, {"after": error["extensions"]["cursor"]})
        resumed = await socket.take(op, 20)
        await append(app_sessions, 1, type="live")
        [live] = await socket.take(op, 1)
        await socket.silence(op, 0.2)
    assert [e["type"] for e in resumed] == ["burst"] * 20
    assert _ids(resumed) == list(range(20))
    assert live["type"] == "live"


async def test_a_buyer_pages_through_its_own_events_only(
    server: RunningServer, sessions: Sessions, app_sessions: Sessions
) -> None:
    buyer_org, other = await create_buyer(sessions), await create_buyer(sessions)
    buyer = await create_person(sessions, buyer_org, Role.BUYER)
    await append(app_sessions, 2, type="mine", audiences=[buyer_audience(buyer_org.id)])
    await append(app_sessions, 2, type="theirs", audiences=[buyer_audience(other.id)])
    await append(app_sessions, 1, type="board", audiences=["public"])
    await append(app_sessions, 1, type="internal")
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        graphql = GraphQLClient(http).as_(buyer)
        page = (await graphql.data(PAGE, {"first": 2}))["events"]
        rest = (await graphql.data(PAGE, {"after": page["pageInfo"]["endCursor"]}))["events"]
    nodes = [edge["node"] for edge in page["edges"] + rest["edges"]]
    assert [node["type"] for node in nodes] == ["mine", "mine", "board"]
    assert {node["actor"] for node in nodes} == {None}
    assert page["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_readiness_reports_the_tail(server: RunningServer, app_sessions: Sessions) -> None:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        before = (await http.get("/readyz")).json()
        await append(app_sessions, 2)
        tail = server.app.state.runtime.tail
        await eventually(lambda: tail.delivered == 2, wait=2)
        response = await http.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert before["checks"]["tail"]["ok"] is True
    state = body["checks"]["tail"]
    assert state["ok"] is True
    assert state["delivered"] == 2
    assert state["cursor"] != before["checks"]["tail"]["cursor"]
    assert state["last_read_seconds_ago"] < 2
    assert state["lag_events"] == 0
    assert "error" not in state


async def test_delivery_reads_the_log_on_an_engine_of_its_own(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    """Requests' statement counts (and their connection pool) never include the tail's."""
    from tests.support.databases import count_statements

    runtime = server.app.state.runtime
    assert runtime.event_log.engine is not runtime.engine
    await append(app_sessions, 1)  # before counting: the commit itself is on the app engine
    with count_statements(runtime.engine.sync_engine) as log:
        async with GraphQLSocket.connect(server.graphql_ws_url, token=operator.token) as socket:
            op = await socket.subscribe(EVENTS, {"after": "ZXYxOjA6MA"})  # from the start
            await socket.take(op, 1)
            runtime.tail.wake()
            await asyncio.sleep(0.1)
    # Authenticating the socket and the subscription read sessions; nothing else did.
    assert all("events" not in statement for statement in log.statements), log.statements


async def test_the_legacy_graphql_ws_protocol_authenticates_the_same_way(
    server: RunningServer, app_sessions: Sessions, operator: Person
) -> None:
    import json

    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    legacy = [Subprotocol("graphql-ws")]
    async with connect(server.graphql_ws_url, subprotocols=legacy, proxy=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": operator.headers}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "1", "payload": {"query": EVENTS}}))
        await subscribed(server.app)
        await append(app_sessions, 1, type="legacy")
        async with asyncio.timeout(5):
            while (message := json.loads(await ws.recv()))["type"] == "ka":
                pass
        await ws.send(json.dumps({"type": "stop", "id": "1"}))
    assert message["type"] == "data"
    assert message["payload"]["data"]["events"]["type"] == "legacy"
    assert message["payload"]["data"]["events"]["actor"] == "user:1"
