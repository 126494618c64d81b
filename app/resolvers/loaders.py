"""Per-request DataLoaders: every relation is one batched query, whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from app.models import Device, Grade, Lot, Organization, User

Row = TypeVar("Row", Device, Grade, Lot, Organization, User)


def _by_id(
    sessions: async_sessionmaker[AsyncSession], model: type[Row]
) -> Callable[[Sequence[int]], Coroutine[Any, Any, list[Row | None]]]:
    async def load(ids: Sequence[int]) -> list[Row | None]:
        async with sessions() as session:
            rows = await session.scalars(select(model).where(model.id.in_(ids)))
            found = {row.id: row for row in rows}
        return [found.get(entity_id) for entity_id in ids]

    return load


class Loaders:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.device = DataLoader(_by_id(sessions, Device))
        self.grade = DataLoader(_by_id(sessions, Grade))
        self.lot = DataLoader(_by_id(sessions, Lot))
        self.organization = DataLoader(_by_id(sessions, Organization))
        self.user = DataLoader(_by_id(sessions, User))
