"""Per-request DataLoaders: every relation is one batched query, whatever the page size.

``by_id(Model)`` loads rows by primary key; ``children(column)`` loads the rows whose foreign
key points at each given id (one-to-many), ordered by id. Each loader is created on first use
and lives as long as the request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.dataloader import DataLoader

from app.models import Device, Grade, Lot, Organization, User
from app.models.base import Base

M = TypeVar("M", bound=Base)


class Loaders:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._loaders: dict[Any, DataLoader[Any, Any]] = {}

    def by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        key = ("by_id", model)
        if key not in self._loaders:
            sessions = self._sessions

            async def load(ids: Sequence[int]) -> list[M | None]:
                async with sessions() as session:
                    rows = await session.scalars(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
                    found = {row.id: row for row in rows}  # type: ignore[attr-defined]
                return [found.get(entity_id) for entity_id in ids]

            self._loaders[key] = DataLoader(load)
        return cast("DataLoader[int, M | None]", self._loaders[key])

    def children(self, column: InstrumentedAttribute[int]) -> DataLoader[int, list[Any]]:
        key = ("children", column)
        if key not in self._loaders:
            sessions = self._sessions
            model = column.class_

            async def load(ids: Sequence[int]) -> list[list[Any]]:
                grouped: dict[int, list[Any]] = defaultdict(list)
                async with sessions() as session:
                    rows = await session.scalars(
                        select(model).where(column.in_(ids)).order_by(model.id)
                    )
                    for row in rows:
                        grouped[getattr(row, column.key)].append(row)
                return [grouped.get(parent_id, []) for parent_id in ids]

            self._loaders[key] = DataLoader(load)
        return self._loaders[key]

    @property
    def device(self) -> DataLoader[int, Device | None]:
        return self.by_id(Device)

    @property
    def grade(self) -> DataLoader[int, Grade | None]:
        return self.by_id(Grade)

    @property
    def lot(self) -> DataLoader[int, Lot | None]:
        return self.by_id(Lot)

    @property
    def organization(self) -> DataLoader[int, Organization | None]:
        return self.by_id(Organization)

    @property
    def user(self) -> DataLoader[int, User | None]:
        return self.by_id(User)
