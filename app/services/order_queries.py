"""Reading orders: whose orders an actor may see, one order and pages of them.

Operators see every order, a buyer only its own (another buyer's order is "not found"), a
client none (FORBIDDEN: clients see sale outcomes through their devices and settlements).
Shipments use the same rule. Buying and moving orders is in ``app.services.orders``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrderStatus
from app.models import Order
from app.services.paging import Page, paginate


@dataclass(frozen=True, slots=True)
class OrderFilter:
    statuses: tuple[OrderStatus, ...] = ()
    buyer_id: int | None = None


def visible_buyer(actor: Actor) -> int | None:
    """Whose orders ``actor`` may see: None for all (operators), a buyer's own id, or refused."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to see orders.")
    if actor.is_operator:
        return None
    if actor.is_buyer and actor.organization_id is not None:
        return actor.organization_id
    raise DomainError(ErrorCode.FORBIDDEN, "Orders are seen by the refurbisher and their buyer.")


def may_see(actor: Actor, buyer_id: int) -> bool:
    """The row-level check for one order (or its shipments), without raising."""
    if actor.is_operator:
        return True
    return actor.is_buyer and actor.organization_id == buyer_id


async def get_order(session: AsyncSession, order_id: int, *, actor: Actor) -> Order | None:
    """The order if ``actor`` may see it; None if it does not exist or is someone else's."""
    scope = visible_buyer(actor)
    order = await session.get(Order, order_id)
    if order is None or (scope is not None and order.buyer_id != scope):
        return None
    return order


async def list_orders(
    session: AsyncSession,
    order_filter: OrderFilter,
    *,
    actor: Actor,
    newest_first: bool = True,
    after: list[Any] | None = None,
    limit: int,
) -> Page[Order]:
    """A page of the orders ``actor`` may see, newest (or oldest) first, and how many match."""
    conditions: list[ColumnElement[bool]] = []
    scope = visible_buyer(actor)
    if scope is not None:
        conditions.append(Order.buyer_id == scope)
    if order_filter.statuses:
        conditions.append(Order.status.in_(order_filter.statuses))
    if order_filter.buyer_id is not None:
        conditions.append(Order.buyer_id == order_filter.buyer_id)
    # Ids are handed out as orders are placed, so id order is placement order. (Sorting on
    # created_at would need paging to parse datetime cursors of UTCDateTime columns.)
    return await paginate(
        session,
        select(Order).where(*conditions),
        id_column=Order.id,
        descending=newest_first,
        after=after,
        limit=limit,
    )
