"""Reading lots: who may see which, the received counts, one lot and pages of them.

The received count is never stored (rule 10): it is the number of device rows on the lot, so
missing and extra units show the moment a device is received. Operators see every lot, a
client its own; buyers and anonymous callers see none. Changes to lots are in
``app.services.lots``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import LotStatus
from app.models import Device, Lot
from app.services.paging import Page, paginate


class LotSort(StrEnum):
    NEWEST = "NEWEST"
    """Most recently created first (the default)."""
    OLDEST = "OLDEST"
    REFERENCE = "REFERENCE"


@dataclass(frozen=True, slots=True)
class LotFilter:
    client_id: int | None = None
    statuses: tuple[LotStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class LotCounts:
    expected: int
    received: int

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.received)

    @property
    def extra(self) -> int:
        return max(0, self.received - self.expected)

    def changes(self) -> dict[str, int]:
        return {
            "receivedCount": self.received,
            "missingCount": self.missing,
            "extraCount": self.extra,
        }


async def received_counts(session: AsyncSession, lot_ids: list[int]) -> dict[int, int]:
    """Rule 10: how many devices each lot has, counted from the device rows."""
    if not lot_ids:
        return {}
    rows = await session.execute(
        select(Device.lot_id, func.count())
        .where(Device.lot_id.in_(lot_ids))
        .group_by(Device.lot_id)
    )
    found = {int(lot_id): int(count) for lot_id, count in rows.all() if lot_id is not None}
    return {lot_id: found.get(lot_id, 0) for lot_id in lot_ids}


async def counts(session: AsyncSession, lot: Lot) -> LotCounts:
    received = (await received_counts(session, [lot.id]))[lot.id]
    return LotCounts(expected=lot.expected_count, received=received)


def visibility(actor: Actor) -> list[ColumnElement[bool]]:
    """Operators see every lot, a client its own; buyers and nobody see none."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to see lots.")
    if actor.is_operator:
        return []
    if actor.is_client and actor.organization_id is not None:
        return [Lot.client_id == actor.organization_id]
    raise DomainError(ErrorCode.FORBIDDEN, "Lots are the warehouse's and their clients'.")


def may_see(actor: Actor, lot: Lot) -> bool:
    if actor.is_operator:
        return True
    return actor.is_client and actor.organization_id == lot.client_id


async def get_lot(session: AsyncSession, lot_id: int, *, actor: Actor) -> Lot | None:
    """The lot, or None when it does not exist or the actor may not see it."""
    visibility(actor)
    lot = await session.get(Lot, lot_id)
    return lot if lot is not None and may_see(actor, lot) else None


async def list_lots(
    session: AsyncSession,
    lot_filter: LotFilter,
    *,
    actor: Actor,
    after: list[Any] | None,
    limit: int,
    sort: LotSort = LotSort.NEWEST,
) -> Page[Lot]:
    conditions = visibility(actor)
    if lot_filter.client_id is not None:
        conditions.append(Lot.client_id == lot_filter.client_id)
    if lot_filter.statuses:
        conditions.append(Lot.status.in_(lot_filter.statuses))
    statement = select(Lot).where(*conditions)
    if sort is LotSort.REFERENCE:
        return await paginate(
            session, statement, id_column=Lot.id, sort=Lot.reference, after=after, limit=limit
        )
    return await paginate(
        session,
        statement,
        id_column=Lot.id,
        descending=sort is LotSort.NEWEST,
        after=after,
        limit=limit,
    )
