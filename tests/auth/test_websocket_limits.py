"""Websocket limits: operations per connection and connections per identity, each refused
with its code while the rest carries on. Limits are per process and touch no database beyond
sign-in, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.auth.api_keys import create_api_key
from app.auth.policy import Scope
from app.auth.sessions import TOKEN_PREFIX, token_hash
from app.domain.statuses import Role
from app.models import AuthSession
from app.models.base import utcnow
from app.settings import Settings
from tests.pubsub.support import append, eventually, subscribed
from tests.support.auth import Person, sign_in_as
from tests.support.markers import only
from tests.support.server import RunningServer
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

pytestmark = only("sqlite")

EVENTS = "subscription { events { cursor type } }"
MAX_SUBSCRIPTIONS = 2
MAX_CONNECTIONS = 2
MESSAGE_BURST = 40


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broadcast_url="memory://",
        ws_max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
        ws_max_connections_per_identity=MAX_CONNECTIONS,
        ws_recheck_interval=3600,  # re-checks run only when a test asks
        ws_messages_per_second=5,
        ws_message_burst=MESSAGE_BURST,
    )


@pytest.fixture
async def admin(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


def app_sessions(server: RunningServer) -> Sessions:
    sessions: Sessions = server.runtime.sessions
    return sessions


async def test_one_operation_past_the_limit_gets_an_error_and_the_others_go_on(
    server: RunningServer, admin: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        running = [await socket.subscribe(EVENTS) for _ in range(MAX_SUBSCRIPTIONS)]
        await subscribed(server.app, MAX_SUBSCRIPTIONS)
        refused = await socket.subscribe(EVENTS)
        [error] = await socket.until_done(refused)
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        assert "At most 2 operations" in error["payload"][0]["message"]

        await append(app_sessions(server), 1, type="still.live")
        for op in running:
            assert (await socket.data(op))["events"]["type"] == "still.live"

        await socket.complete(running[0])
        await eventually(lambda: server.runtime.hub.subscriber_count == 1)
        again = await socket.subscribe(EVENTS)
        await subscribed(server.app, MAX_SUBSCRIPTIONS)
        await append(app_sessions(server), 1, type="after.complete")
        assert (await socket.data(again))["events"]["type"] == "after.complete"


async def test_the_legacy_protocol_has_the_same_operation_limit(
    server: RunningServer, admin: Person
) -> None:
    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None
    ) as ws:
        init = {"Authorization": f"Bearer {admin.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        for number in range(MAX_SUBSCRIPTIONS + 1):
            start = {"type": "start", "id": str(number), "payload": {"query": EVENTS}}
            await ws.send(json.dumps(start))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert refused["type"] == "error"
    assert refused["id"] == str(MAX_SUBSCRIPTIONS)
    assert refused["payload"]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


async def _open(stack: contextlib.AsyncExitStack, url: str, **options: object) -> GraphQLSocket:
    socket: GraphQLSocket = await stack.enter_async_context(
        GraphQLSocket.connect(url, init=False, **options)  # type: ignore[arg-type]
    )
    return socket


async def _refused_past_the_limit(server: RunningServer, token: str | None) -> None:
    """MAX_CONNECTIONS sockets are acknowledged, one more is closed with 4403."""
    payload = {"Authorization": f"Bearer {token}"} if token else None
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            socket = await _open(stack, server.graphql_ws_url)
            await socket.init(payload)
        one_more = await _open(stack, server.graphql_ws_url)
        await one_more.send({"type": "connection_init", "payload": payload or {}})
        assert await one_more.closed() == (4403, "Too many connections")
    # Closing frees the places.
    await eventually(lambda: server.app.state.sockets.count() == 0)
    async with GraphQLSocket.connect(server.graphql_ws_url, payload=payload) as socket:
        assert socket.ack is not None


async def _another_token(sessions: Sessions, person: Person) -> str:
    """A second live sign-in of the same user."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    async with sessions.begin() as session:
        session.add(
            AuthSession(
                user_id=person.user.id,
                token_hash=token_hash(token),
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    return token


async def test_connections_past_the_limit_for_one_user_are_refused(
    server: RunningServer, admin: Person, sessions: Sessions
) -> None:
    await _refused_past_the_limit(server, admin.token)
    # Another sign-in of the same user is the same identity; another user has its own places.
    second_sign_in = await _another_token(sessions, admin)
    colleague = await sign_in_as(sessions, Role.ADMIN, admin.organization)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            socket = await _open(stack, server.graphql_ws_url)
            await socket.init({"Authorization": f"Bearer {admin.token}"})
        same_user = await _open(stack, server.graphql_ws_url)
        await same_user.send({"type": "connection_init", "payload": {"token": second_sign_in}})
        assert await same_user.closed() == (4403, "Too many connections")
        other = await _open(stack, server.graphql_ws_url)
        await other.init({"Authorization": f"Bearer {colleague.token}"})
        assert other.ack is not None


async def test_connections_past_the_limit_for_one_api_key_are_refused(
    server: RunningServer, admin: Person
) -> None:
    created = await create_api_key(
        app_sessions(server),
        organization_id=admin.organization.id,
        name="integration",
        scopes=[Scope.SUBSCRIBE],
        actor=admin.actor,
    )
    await _refused_past_the_limit(server, created.token)


async def test_anonymous_connections_count_per_client_address(server: RunningServer) -> None:
    await _refused_past_the_limit(server, None)


async def test_a_made_up_token_counts_against_the_address(server: RunningServer) -> None:
    async with contextlib.AsyncExitStack() as stack:
        for number in range(MAX_CONNECTIONS):
            socket = await _open(stack, server.graphql_ws_url)
            await socket.init({"Authorization": f"Bearer dgs_made-up-{number}"})
        one_more = await _open(stack, server.graphql_ws_url)
        await one_more.send({"type": "connection_init"})
        assert await one_more.closed() == (4403, "Too many connections")


async def test_a_recheck_is_one_query_for_all_sessions_and_one_for_all_keys(
    server: RunningServer, admin: Person, sessions: Sessions
) -> None:
    people = [admin, *[await sign_in_as(sessions, Role.SALES) for _ in range(3)]]
    tokens = [person.token for person in people]
    for number in range(2):
        created = await create_api_key(
            app_sessions(server),
            organization_id=admin.organization.id,
            name=f"key {number}",
            scopes=[Scope.SUBSCRIBE],
            actor=admin.actor,
        )
        tokens.append(created.token)
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    engine = server.runtime.engine.sync_engine
    async with contextlib.AsyncExitStack() as stack:
        for token in tokens:
            socket = await _open(stack, server.graphql_ws_url)
            await socket.init({"Authorization": f"Bearer {token}"})
        registry = server.app.state.sockets
        assert registry.count() == len(tokens)
        event.listen(engine, "before_cursor_execute", record)
        try:
            await registry.recheck()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert registry.count() == len(tokens)  # all still valid: nothing closed
    assert "BEGIN IMMEDIATE" not in statements  # reads only: never SQLite's write lock
    selects = [statement for statement in statements if statement.startswith("SELECT")]
    assert len(selects) == 2, statements
    assert sum("auth_sessions" in statement for statement in selects) == 1
    assert sum("api_keys" in statement for statement in selects) == 1


async def test_a_client_flooding_messages_is_closed_and_a_calm_one_is_not(
    server: RunningServer, admin: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as calm:
        for _ in range(30):  # pings answered one by one: well inside the budget
            await calm.ping()
        async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as flood:
            for _ in range(MESSAGE_BURST + 20):
                await flood.send({"type": "ping"})
            assert await flood.closed() == (1008, "Too many messages")
        await calm.ping()  # the other socket of the same user goes on


async def test_the_legacy_protocol_closes_a_flood_too(server: RunningServer, admin: Person) -> None:
    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None
    ) as ws:
        init = {"Authorization": f"Bearer {admin.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        for number in range(MESSAGE_BURST + 20):  # start and stop, as fast as it can
            await ws.send(json.dumps({"type": "stop", "id": str(number)}))
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
    assert (ws.close_code, ws.close_reason) == (1008, "Too many messages")
