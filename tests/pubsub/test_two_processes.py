"""Two app servers on one PostgreSQL database: a commit on one reaches subscribers of both.

Each server is a full app (its own Runtime: engine, broadcast channel, tail and hub) under its
own uvicorn, as two processes behind a load balancer would be. Their tails poll only every 30 s
here, so an event that arrives within a second came by the broadcast's wake-up hint.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import Role
from app.settings import Settings
from tests.pubsub.support import (
    SHARED_BACKENDS,
    append,
    backend_id,
    broadcast_url_for,
    database_url_for,
    subscribed,
)
from tests.support.auth import sign_in_as
from tests.support.server import RunningServer, make_app, serve_app
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

EVENTS = "subscription { events { cursor type changes } }"


@pytest.fixture(params=SHARED_BACKENDS, ids=backend_id)
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture
def database_url(backend: tuple[str, str], request: pytest.FixtureRequest) -> str:
    return database_url_for(request, backend[0])


@pytest.fixture
async def settings(backend: tuple[str, str], database_url: str) -> Settings:
    broadcast_url = await broadcast_url_for(backend[1], database_url)
    return Settings(database_url=database_url, broadcast_url=broadcast_url).model_copy(
        update={"event_poll_interval": 30.0}
    )


@pytest.fixture
async def two_servers(settings: Settings) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    async with serve_app(make_app(settings)) as one, serve_app(make_app(settings)) as two:
        for server in (one, two):
            assert server.app.state.runtime.wakeups.alive
            assert server.app.state.runtime.tail.poll_interval == 30.0
        yield one, two


async def test_a_commit_on_one_server_reaches_subscribers_on_both(
    two_servers: tuple[RunningServer, RunningServer], sessions: Sessions
) -> None:
    one, two = two_servers
    operator = await sign_in_as(sessions, Role.ADMIN)
    async with (
        GraphQLSocket.connect(one.graphql_ws_url, token=operator.token) as on_one,
        GraphQLSocket.connect(two.graphql_ws_url, token=operator.token) as on_two,
    ):
        op_one, op_two = await on_one.subscribe(EVENTS), await on_two.subscribe(EVENTS)
        await subscribed(one.app)
        await subscribed(two.app)

        started = time.monotonic()
        await append(two.app.state.runtime.sessions, 2, type="written.on.two")
        from_two = await on_one.take(op_one, 2, wait=2)
        crossed = time.monotonic() - started
        assert await on_two.take(op_two, 2, wait=2) == from_two

        await append(one.app.state.runtime.sessions, 1, type="written.on.one")
        [from_one] = await on_two.take(op_two, 1, wait=2)
        assert await on_one.take(op_one, 1, wait=2) == [from_one]

    assert [event["type"] for event in from_two] == ["written.on.two"] * 2
    assert from_one["type"] == "written.on.one"
    assert crossed < 1.5, f"took {crossed:.2f} s: the hint did not cross"
