"""Reading settlements: one settlement and pages of them.

Operators see every settlement; a client sees its own (lines show the device and the amounts,
never the buyer); buyers and anonymous callers are refused (``app.domain.settlements``).
Generating and moving settlements is in ``app.services.settlements``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor
from app.domain.settlements import ensure_may_view, may_view
from app.domain.statuses import SettlementStatus
from app.models import Settlement
from app.services.paging import Page, paginate


@dataclass(frozen=True, slots=True)
class SettlementFilter:
    client_id: int | None = None
    statuses: tuple[SettlementStatus, ...] = ()


async def get_settlement(
    session: AsyncSession, settlement_id: int, *, actor: Actor
) -> Settlement | None:
    """One settlement, or None when it does not exist or the actor may not see it."""
    ensure_may_view(actor)
    settlement = await session.get(Settlement, settlement_id)
    if settlement is None or not may_view(actor, settlement.client_id):
        return None
    return settlement


async def list_settlements(
    session: AsyncSession,
    settlement_filter: SettlementFilter,
    *,
    actor: Actor,
    after: list[Any] | None,
    limit: int,
) -> Page[Settlement]:
    """Newest first; a client gets only its own, whatever client the filter names."""
    ensure_may_view(actor)
    conditions: list[ColumnElement[bool]] = []
    if actor.is_client:
        conditions.append(Settlement.client_id == actor.organization_id)
    if settlement_filter.client_id is not None:
        conditions.append(Settlement.client_id == settlement_filter.client_id)
    if settlement_filter.statuses:
        conditions.append(Settlement.status.in_(settlement_filter.statuses))
    statement = select(Settlement).where(*conditions)
    return await paginate(
        session, statement, id_column=Settlement.id, descending=True, after=after, limit=limit
    )
