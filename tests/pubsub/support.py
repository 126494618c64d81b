"""Helpers for live-delivery tests: write events, pick broadcasts, wait for the hub.

Events are written with ``append_event`` in a transaction of the app's own session factory
(``runtime.sessions``), so the commit wakes the tail as a mutation would; the domain's
mutations are not needed for that.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Event
from app.services.events import append_event
from tests.support.databases import asyncpg_dsn, redis_url, require_service, tcp_reachable

Sessions = async_sessionmaker[AsyncSession]
_entities = itertools.count(1)

# (database, broadcast): SQLite with the in-process broadcast; PostgreSQL with each.
BACKENDS = [
    ("sqlite", "memory"),
    ("postgresql", "memory"),
    ("postgresql", "postgres"),
    ("postgresql", "redis"),
]
SHARED_BACKENDS = [("postgresql", "postgres"), ("postgresql", "redis")]
"""Broadcasts that reach other processes (the memory one is per app)."""
URL_FIXTURES = {"sqlite": "sqlite_database_url", "postgresql": "postgres_database_url"}


def backend_id(backend: tuple[str, str]) -> str:
    return f"{backend[0]}-{backend[1]}"


async def broadcast_url_for(kind: str, database_url: str) -> str:
    """The broadcast URL of ``kind``; the postgres one is the app's own database (NOTIFY is
    per database)."""
    if kind == "memory":
        return "memory://"
    if kind == "postgres":
        return asyncpg_dsn(database_url)
    if kind == "redis":
        url = redis_url()
        require_service(await tcp_reachable(url, 6379), "Redis", url)
        return url
    raise ValueError(kind)


def database_url_for(request: pytest.FixtureRequest, kind: str) -> str:
    url: str = request.getfixturevalue(URL_FIXTURES[kind])
    return url


async def append(
    sessions: Sessions,
    count: int = 1,
    *,
    type: str = "test.happened",
    audiences: Sequence[str] = (),
    entity_type: str = "Device",
    entity_id: int | None = None,
    actor: str = "user:1",
    changes: dict[str, Any] | None = None,
    hold: float = 0.0,
) -> list[int]:
    """Commit ``count`` events in one transaction; returns their ids in order."""
    async with sessions.begin() as session:
        events = [
            append_event(
                session,
                type=type,
                entity_type=entity_type,
                entity_id=entity_id if entity_id is not None else next(_entities),
                entity_version=1,
                changes=changes if changes is not None else {"n": index},
                audiences=list(audiences),
                actor=actor,
            )
            for index in range(count)
        ]
        await session.flush()
        if hold:
            await asyncio.sleep(hold)
    return [event.id for event in events]


class Rollback(Exception):
    pass


async def append_and_roll_back(sessions: Sessions, **kwargs: Any) -> None:
    """Write an event (flushed, so it had an id) in a transaction that then rolls back."""
    try:
        async with sessions.begin() as session:
            append_event(
                session,
                type=kwargs.get("type", "test.rolled_back"),
                entity_type="Device",
                entity_id=next(_entities),
                entity_version=1,
                changes={},
                audiences=list(kwargs.get("audiences", ())),
                actor="user:1",
            )
            await session.flush()
            raise Rollback
    except Rollback:
        pass


async def count_events(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def eventually(
    check: Callable[[], bool], *, wait: float = 5.0, what: str = "condition"
) -> None:
    async with asyncio.timeout(wait):
        while not check():  # noqa: ASYNC110 - polls state that has no event to wait on
            await asyncio.sleep(0.01)
    assert check(), what


async def subscribed(app: Any, count: int = 1, wait: float = 5.0) -> None:
    """Wait until the app's hub has ``count`` subscribers (the subscription is live)."""
    hub = app.state.runtime.hub
    await eventually(lambda: hub.subscriber_count >= count, wait=wait, what=f"{count} subscribers")
