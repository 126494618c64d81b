"""The event log and the rows around it, for tests: what an action recorded, and what a refused
action must leave alone.

``cursor = await last_event_id(sessions)`` before a step, ``kinds(await events_after(sessions,
cursor))`` after it. Each domain's support module builds its ``snapshot`` from ``row_counts``
and ``row_states`` over the tables that domain can change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Event
from app.models.base import Base

Sessions = async_sessionmaker[AsyncSession]
M = TypeVar("M", bound=Base)


async def last_event_id(sessions: Sessions) -> int:
    """The id of the newest event, 0 when there is none: a cursor for ``events_after``."""
    async with sessions() as session:
        return int(await session.scalar(select(func.max(Event.id))) or 0)


async def events_after(sessions: Sessions, after: int = 0) -> list[Event]:
    """The events after the cursor ``after``, oldest first."""
    async with sessions() as session:
        return list(await session.scalars(select(Event).where(Event.id > after).order_by(Event.id)))


def kinds(events: list[Event]) -> list[tuple[str, str, int]]:
    """Each event as (type, entity type, entity id)."""
    return [(event.type, event.entity_type, event.entity_id) for event in events]


async def reload(sessions: Sessions, model: type[M], row_id: int) -> M:
    """The row as committed now, in a session of its own."""
    async with sessions() as session:
        return await session.get_one(model, row_id)


async def row_counts(session: AsyncSession, models: Iterable[type[Any]]) -> dict[str, int]:
    """How many rows each table has, by model name."""
    return {
        model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
        for model in models
    }


async def row_states(
    session: AsyncSession, models: Iterable[type[Any]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's (id, status, version) by model name, in id order."""
    states: dict[str, list[tuple[Any, ...]]] = {}
    for model in models:
        rows = await session.execute(
            select(model.id, model.status, model.version).order_by(model.id)
        )
        states[model.__name__] = [tuple(row) for row in rows]
    return states
