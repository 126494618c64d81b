"""Keyset pagination on (sort column, id): stable pages however the rows change meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import DomainError, ErrorCode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    keys: list[list[Any]]
    """Each row's position as [sort value, id], for its cursor."""
    has_next: bool
    total: int


def _key_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _parse_after(after: list[Any] | None, sort: InstrumentedAttribute[Any]) -> tuple[Any, Any]:
    if after is None:
        return None, None
    refused = DomainError(
        ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field="after"
    )
    if len(after) != 2 or not isinstance(after[1], int):
        raise refused
    value = after[0]
    if sort.type.python_type is datetime:
        try:
            value = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise refused from None
        if value.tzinfo is None:
            raise refused
    return value, after[1]


async def paginate(
    session: AsyncSession,
    statement: Select[T],
    *,
    id_column: InstrumentedAttribute[int],
    sort: InstrumentedAttribute[Any] | None = None,
    descending: bool = False,
    after: list[Any] | None = None,
    limit: int,
) -> Page[T]:
    """One page of ``statement`` (already filtered), ordered by ``sort`` then id.

    ``sort`` must be a NOT NULL column. The total counts every row the filter matches.
    """
    sort = sort or id_column
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    value, last_id = _parse_after(after, sort)
    page = statement
    if last_id is not None:
        if sort is id_column:
            condition: ColumnElement[bool] = (
                id_column < last_id if descending else id_column > last_id
            )
        elif descending:
            condition = or_(sort < value, and_(sort == value, id_column < last_id))
        else:
            condition = or_(sort > value, and_(sort == value, id_column > last_id))
        page = page.where(condition)
    order = (sort.desc(), id_column.desc()) if descending else (sort.asc(), id_column.asc())
    rows = list((await session.scalars(page.order_by(*order).limit(limit + 1))).all())
    has_next = len(rows) > limit
    rows = rows[:limit]
    keys = [[_key_value(getattr(row, sort.key)), getattr(row, id_column.key)] for row in rows]
    return Page(rows=rows, keys=keys, has_next=has_next, total=int(total or 0))
