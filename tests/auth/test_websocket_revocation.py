"""Ending an identity ends its websockets within 5 seconds, on SQLite and PostgreSQL:

- signOut and revokeApiKey close the sockets in the process that did it at once;
- any other process, an expiry, a deactivated user or a changed role is caught by the
  re-check of open sockets (every ``ws_recheck_interval`` = 2 s);

and the sockets of other identities carry on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.api_keys import create_api_key
from app.auth.policy import Scope
from app.auth.sessions import sign_out
from app.domain.statuses import Role
from app.models import User
from app.settings import Settings
from tests.pubsub.support import append, eventually, subscribed
from tests.support.auth import Person, create_person, sign_in_as
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

EVENTS = "subscription { events { cursor type } }"
RECHECK = 2.0
WITHIN = 5.0
REVOKE_KEY = """
mutation($input: RevokeApiKeyInput!) {
  revokeApiKey(input: $input) { __typename ... on Error { code message } }
}
"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, broadcast_url="memory://", ws_recheck_interval=RECHECK
    )


@pytest.fixture
async def admin(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


def app_sessions(server: RunningServer) -> Sessions:
    sessions: Sessions = server.runtime.sessions
    return sessions


@contextlib.asynccontextmanager
async def client(server: RunningServer) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http:
        yield GraphQLClient(http)


async def _subscribe_live(server: RunningServer, socket: GraphQLSocket, count: int = 1) -> str:
    """A running `events` subscription, proved live by one event."""
    op = await socket.subscribe(EVENTS)
    await subscribed(server.app, count)
    await append(app_sessions(server), 1, type="before.revocation")
    assert (await socket.data(op))["events"]["type"] == "before.revocation"
    return op


async def _ended_within(socket: GraphQLSocket, reason: str) -> float:
    """Seconds until the server closed the socket with 4403 ``reason``."""
    started = time.monotonic()
    assert await socket.closed(wait=WITHIN + 5) == (4403, reason)
    elapsed = time.monotonic() - started
    print(f"closed with 4403 {reason!r} after {elapsed:.2f} s")
    return elapsed


async def _key_token(server: RunningServer, admin: Person) -> tuple[int, str]:
    created = await create_api_key(
        app_sessions(server),
        organization_id=admin.organization.id,
        name="partner integration",
        scopes=[Scope.SUBSCRIBE],
        actor=admin.actor,
    )
    return created.key.id, created.token


async def test_sign_out_ends_the_live_subscription_at_once(
    server: RunningServer, admin: Person, sessions: Sessions
) -> None:
    colleague = await sign_in_as(sessions, Role.SALES, admin.organization)
    url = server.graphql_ws_url
    async with (
        GraphQLSocket.connect(url, token=admin.token) as socket,
        GraphQLSocket.connect(url, token=colleague.token) as other,
    ):
        await _subscribe_live(server, socket)
        other_op = await other.subscribe(EVENTS)
        await subscribed(server.app, 2)
        async with client(server) as graphql:
            body = await graphql.as_(admin)("mutation { signOut }")
        assert body == {"data": {"signOut": True}}
        elapsed = await _ended_within(socket, "Signed out")
        assert elapsed < 1.0, elapsed  # this process: no need to wait for the re-check

        await append(app_sessions(server), 1, type="after.revocation")
        assert (await other.data(other_op))["events"]["type"] == "after.revocation"
    await eventually(lambda: server.runtime.hub.subscriber_count == 0)


async def test_revoke_api_key_ends_the_live_subscription_at_once(
    server: RunningServer, admin: Person
) -> None:
    key_id, token = await _key_token(server, admin)
    async with GraphQLSocket.connect(server.graphql_ws_url, token=token) as socket:
        await _subscribe_live(server, socket)
        async with client(server) as graphql:
            body = await graphql.as_(admin)(REVOKE_KEY, {"input": {"id": str(key_id)}})
        assert body["data"]["revokeApiKey"]["__typename"] == "RevokeApiKeyPayload", body
        elapsed = await _ended_within(socket, "API key revoked")
    assert elapsed < 1.0, elapsed
    assert server.app.state.sockets.count() == 0


async def test_a_revocation_in_another_process_ends_the_sockets_within_5_seconds(
    settings: Settings, admin: Person
) -> None:
    """Two app processes share only the database: the second learns at its re-check."""
    async with (
        serve_app(make_app(settings)) as one,
        serve_app(make_app(settings)) as two,
    ):
        key_id, key_token = await _key_token(one, admin)
        async with (
            GraphQLSocket.connect(two.graphql_ws_url, token=admin.token) as user_socket,
            GraphQLSocket.connect(two.graphql_ws_url, token=key_token) as key_socket,
        ):
            await user_socket.subscribe(EVENTS)
            await key_socket.subscribe(EVENTS)
            await subscribed(two.app, 2)
            async with client(one) as graphql:
                revoked = await graphql.as_(admin)(REVOKE_KEY, {"input": {"id": str(key_id)}})
                assert revoked["data"]["revokeApiKey"]["__typename"] == "RevokeApiKeyPayload"
                assert await graphql.as_(admin)("mutation { signOut }") == {
                    "data": {"signOut": True}
                }
            started = time.monotonic()
            assert await key_socket.closed(wait=WITHIN + 5) == (4403, "API key revoked")
            assert await user_socket.closed(wait=WITHIN + 5) == (4403, "Signed out")
            elapsed = time.monotonic() - started
        print(f"the other process closed both sockets after {elapsed:.2f} s")
        assert elapsed < WITHIN, elapsed
        await eventually(lambda: two.runtime.hub.subscriber_count == 0)


async def test_a_session_revoked_in_the_database_ends_the_socket_within_5_seconds(
    server: RunningServer, admin: Person, sessions: Sessions
) -> None:
    """Revoked through another connection pool: only the re-check can notice."""
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        await _subscribe_live(server, socket)
        assert await sign_out(sessions, admin.token)
        elapsed = await _ended_within(socket, "Signed out")
    assert elapsed < WITHIN, elapsed


async def test_a_token_that_expires_while_open_ends_the_socket_within_5_seconds(
    server: RunningServer, admin: Person, sessions: Sessions
) -> None:
    ttl = timedelta(seconds=3)
    person = await create_person(sessions, admin.organization, Role.ADMIN, ttl=ttl)
    expires = time.monotonic() + ttl.total_seconds()
    async with GraphQLSocket.connect(server.graphql_ws_url, token=person.token) as socket:
        await _subscribe_live(server, socket)
        await _ended_within(socket, "Session expired")
        after_expiry = time.monotonic() - expires
    assert -0.5 < after_expiry < WITHIN, after_expiry


async def test_deactivation_ends_the_socket_and_a_new_role_applies_at_the_recheck(
    server: RunningServer, admin: Person, sessions: Sessions
) -> None:
    sales = await sign_in_as(sessions, Role.SALES, admin.organization)
    url = server.graphql_ws_url
    registry = server.app.state.sockets
    async with (
        GraphQLSocket.connect(url, token=admin.token) as deactivated,
        GraphQLSocket.connect(url, token=sales.token) as promoted,
    ):
        op = await promoted.subscribe(EVENTS)
        await deactivated.subscribe(EVENTS)
        await subscribed(server.app, 2)
        [actor] = registry.actors(f"user:{sales.user.id}")
        assert actor.role is Role.SALES
        async with sessions.begin() as session:
            await session.execute(
                update(User).where(User.id == sales.user.id).values(role=Role.FINANCE)
            )
            await session.execute(update(User).where(User.id == admin.user.id).values(active=False))
        elapsed = await _ended_within(deactivated, "Account deactivated")
        assert elapsed < WITHIN, elapsed
        [actor] = registry.actors(f"user:{sales.user.id}")
        assert actor.role is Role.FINANCE
        await append(app_sessions(server), 1, type="after.role.change")
        assert (await promoted.data(op))["events"]["type"] == "after.role.change"
