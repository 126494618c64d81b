"""Helpers every service uses: lock a row, move it through its status machine, record it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.transitions import ensure_transition, ensure_version
from app.models.base import Base
from app.services.events import append_event

M = TypeVar("M", bound=Base)
S = TypeVar("S", bound=StrEnum)


class Stateful(Protocol):
    id: Any
    version: Any
    status: Any


async def lock(session: AsyncSession, model: type[M], entity_id: int, *, field: str) -> M:
    """Load a row for update: a row lock on PostgreSQL; SQLite's write lock is already held."""
    try:
        row = await session.get(model, entity_id, with_for_update=True, populate_existing=True)
    except StaleDataError:
        # This transaction read the row before, and someone changed it before we locked it.
        raise DomainError(
            ErrorCode.STALE,
            f"The {model.__name__.lower()} changed while this action ran: reload and try again.",
            field=field,
        ) from None
    if row is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, f"No {model.__name__.lower()} has that id.", field=field
        )
    return row


def transition(
    row: Stateful,
    table: Mapping[S, frozenset[S]],
    target: S,
    *,
    expected_version: int | None = None,
) -> None:
    """Check the version the caller saw (rule 9) and the status machine, then move."""
    entity = type(row).__name__
    ensure_version(entity=entity, expected=expected_version, actual=row.version)
    ensure_transition(table, entity=entity, current=row.status, target=target, version=row.version)
    row.status = target


async def record(
    session: AsyncSession,
    row: Stateful,
    event_type: str,
    *,
    actor: Actor,
    audiences: list[str],
    changes: dict[str, Any],
) -> None:
    """Flush the row (assigning its id and new version), then append its event."""
    await session.flush()
    append_event(
        session,
        type=event_type,
        entity_type=type(row).__name__,
        entity_id=row.id,
        entity_version=row.version,
        changes=changes,
        audiences=audiences,
        actor=actor.ref,
    )
