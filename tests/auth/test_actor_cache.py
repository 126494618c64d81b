"""Bearer tokens resolved a moment ago are reused, within bounds: a sign-out here applies to
the very next request, a revocation made elsewhere (in the database) within the cache's
time to live, and a time to live of 0 asks the database every time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.sessions import token_hash
from app.domain.statuses import Role
from app.models import AuthSession
from app.models.base import utcnow
from app.settings import Settings
from tests.support.auth import Person, sign_in_as
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app

Sessions = async_sessionmaker[AsyncSession]

WHO = "{ viewer { user { email } } }"


@pytest.fixture
async def person(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.SALES)


async def revoke_in_database(sessions: Sessions, person: Person) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash(person.token))
            .values(revoked_at=utcnow())
        )


async def email(graphql: GraphQLClient, person: Person) -> str | None:
    body = await graphql.as_(person)(WHO)
    user = body["data"]["viewer"]["user"]
    return user["email"] if user is not None else None


async def served(
    settings: Settings, ttl: float
) -> AsyncIterator[tuple[RunningServer, GraphQLClient]]:
    app = make_app(settings.model_copy(update={"auth_cache_seconds": ttl}))
    async with (
        serve_app(app) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
    ):
        yield server, GraphQLClient(http)


@pytest.fixture
async def cached(settings: Settings) -> AsyncIterator[tuple[RunningServer, GraphQLClient]]:
    async for pair in served(settings, 0.5):
        yield pair


@pytest.fixture
async def uncached(settings: Settings) -> AsyncIterator[tuple[RunningServer, GraphQLClient]]:
    async for pair in served(settings, 0):
        yield pair


async def test_a_token_is_looked_up_once_within_its_time_to_live(
    cached: tuple[RunningServer, GraphQLClient], person: Person
) -> None:
    server, graphql = cached
    actors = server.app.state.runtime.actors
    before = actors.lookups
    for _ in range(5):
        assert await email(graphql, person) == person.user.email
    assert actors.lookups - before == 1


async def test_signing_out_here_applies_to_the_next_request(
    cached: tuple[RunningServer, GraphQLClient], person: Person
) -> None:
    _, graphql = cached
    assert await email(graphql, person) == person.user.email
    assert await graphql.as_(person)("mutation { signOut }") == {"data": {"signOut": True}}
    assert await email(graphql, person) is None


async def test_a_revocation_elsewhere_applies_within_the_time_to_live(
    cached: tuple[RunningServer, GraphQLClient], person: Person, sessions: Sessions
) -> None:
    _, graphql = cached
    assert await email(graphql, person) == person.user.email
    await revoke_in_database(sessions, person)  # as another process would
    assert await email(graphql, person) == person.user.email  # the bound, not a bug
    await asyncio.sleep(0.6)
    assert await email(graphql, person) is None


async def test_without_the_cache_every_request_asks_the_database(
    uncached: tuple[RunningServer, GraphQLClient], person: Person, sessions: Sessions
) -> None:
    server, graphql = uncached
    actors = server.app.state.runtime.actors
    before = actors.lookups
    for _ in range(3):
        assert await email(graphql, person) == person.user.email
    assert actors.lookups - before == 3
    await revoke_in_database(sessions, person)
    assert await email(graphql, person) is None
