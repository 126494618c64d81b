"""Orders: buy, confirm, cancel and complete. Placing one reserves every device on it.

Who may do what (DOMAIN.md's parties, app.auth.policy's permissions):
- buy: a buyer user (BUY); the order belongs to the user's organisation.
- confirm (paid or invoiced) and complete: operators with MANAGE_ORDERS (sales, finance, admin).
- cancel: operators with MANAGE_ORDERS while the order is PENDING or CONFIRMED; the buyer
  itself while it is PENDING only. Once confirmed the order is paid or invoiced, so undoing it
  is the refurbisher's decision: a buyer gets FORBIDDEN and asks sales.
- read: operators see every order, a buyer only its own, a client none
  (``app.services.order_queries``).

Listing and device statuses follow the order as app.services.inventory describes. Every use
case locks the order first, then each line's listing and device in listing id order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.policy import Permission, require
from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    ORDER_TRANSITIONS,
    DeviceStatus,
    OrderStatus,
    OrganizationKind,
)
from app.domain.transitions import ensure_version
from app.models import Device, Listing, Order, OrderLine, Organization
from app.services import inventory
from app.services.common import lock, record, transition
from app.services.events import OPERATOR, buyer_audience
from app.services.idempotency import Work, run_once

MAX_LINES = 100
MAX_REASON = 500

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class LineRequest:
    listing_id: int
    price_minor: int | None = None
    """An agreed price (an accepted offer); None takes the listing's price."""


@dataclass(frozen=True, slots=True)
class Goods:
    """One line of an order with its listing and device, locked in that order."""

    line: OrderLine
    listing: Listing
    device: Device


async def place_order(
    session: AsyncSession,
    *,
    buyer_id: int,
    lines: list[LineRequest],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Order:
    """Reserve each listing (rule 2) and write the order with its lines, in the caller's
    transaction. Listings are locked in id order so concurrent orders cannot deadlock.

    All or nothing: the first listing that is not for sale raises NOT_AVAILABLE and the
    caller's transaction rolls back every reservation made before it.
    """
    if not lines:
        raise DomainError(ErrorCode.INVALID_INPUT, "An order needs a listing.", field="listingIds")
    if len({line.listing_id for line in lines}) != len(lines):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A listing appears twice in the order.", field="listingIds"
        )
    buyer = await session.get(Organization, buyer_id)
    if buyer is None or buyer.kind is not OrganizationKind.BUYER:
        raise DomainError(ErrorCode.NOT_FOUND, "No buyer has that id.", field="buyerId")
    reserved = []
    for line in sorted(lines, key=lambda line: line.listing_id):
        listing, device = await inventory.reserve(session, line.listing_id, actor=actor)
        price = line.price_minor if line.price_minor is not None else listing.price_minor
        reserved.append((listing, device, price))
    currencies = {listing.currency for listing, _, _ in reserved}
    if len(currencies) != 1:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "One order takes listings of one currency.", field="listingIds"
        )
    order = Order(
        buyer_id=buyer.id,
        currency=currencies.pop(),
        status=OrderStatus.PENDING,
        idempotency_key=idempotency_key,
    )
    session.add(order)
    try:
        await session.flush()
    except IntegrityError as exc:
        if idempotency_key is None:
            raise
        # orders has UNIQUE (buyer_id, idempotency_key): another order of this buyer took it.
        raise _key_conflict() from exc
    for listing, device, price in reserved:
        session.add(
            OrderLine(
                order_id=order.id, listing_id=listing.id, device_id=device.id, price_minor=price
            )
        )
    await record(
        session,
        order,
        "order.placed",
        actor=actor,
        audiences=order_audiences(order),
        changes={
            "status": order.status,
            "listingIds": [listing.id for listing, _, _ in reserved],
            "totalMinor": sum(price for _, _, price in reserved),
            "currency": order.currency,
        },
    )
    return order


# --- Use cases, one transaction each ---------------------------------------------------------


async def buy_listings(
    sessions: Sessions,
    *,
    listing_ids: list[int],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Order:
    """A buyer buys one or several listings at their list price: one order, all or nothing."""
    require(actor, Permission.BUY)
    buyer_id = _own_organization(actor)
    if not listing_ids:
        raise DomainError(ErrorCode.INVALID_INPUT, "An order needs a listing.", field="listingIds")
    if len(listing_ids) > MAX_LINES:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"An order takes at most {MAX_LINES} listings.",
            field="listingIds",
        )

    async def work(session: AsyncSession) -> dict[str, Any]:
        order = await place_order(
            session,
            buyer_id=buyer_id,
            lines=[LineRequest(listing_id) for listing_id in listing_ids],
            actor=actor,
            idempotency_key=idempotency_key,
        )
        return {"orderId": order.id}

    request = {"listingIds": sorted(listing_ids)}
    result = await once(sessions, actor, idempotency_key, "buyListings", request, work)
    return await load_order(sessions, result["orderId"])


async def confirm_order(
    sessions: Sessions,
    *,
    order_id: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """PENDING -> CONFIRMED (paid or invoiced): every device RESERVED -> SOLD."""
    require(actor, Permission.MANAGE_ORDERS)

    async def work(session: AsyncSession) -> dict[str, Any]:
        order = await lock(session, Order, order_id, field="orderId")
        transition(
            order, ORDER_TRANSITIONS, OrderStatus.CONFIRMED, expected_version=expected_version
        )
        for goods in await lock_goods(session, order):
            await inventory.move_device(
                session,
                goods.device,
                DeviceStatus.SOLD,
                actor=actor,
                event_type="device.sold",
                orderId=order.id,
            )
        await record_order(session, order, "order.confirmed", actor=actor)
        return {"orderId": order.id}

    request = {"orderId": order_id, "expectedVersion": expected_version}
    result = await once(sessions, actor, idempotency_key, "confirmOrder", request, work)
    return await load_order(sessions, result["orderId"])


async def cancel_order(
    sessions: Sessions,
    *,
    order_id: int,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """PENDING|CONFIRMED -> CANCELLED: every line released, each listing and device for sale
    again (listing RESERVED -> ACTIVE, device RESERVED|SOLD -> AVAILABLE)."""
    require(actor, Permission.BUY if actor.is_buyer else Permission.MANAGE_ORDERS)
    cleaned = _clean_reason(reason)

    async def work(session: AsyncSession) -> dict[str, Any]:
        order = await lock(session, Order, order_id, field="orderId")
        if actor.is_buyer:
            if order.buyer_id != actor.organization_id:
                raise _order_not_found()
            ensure_version(entity="Order", expected=expected_version, actual=order.version)
            if order.status is OrderStatus.CONFIRMED:
                raise DomainError(
                    ErrorCode.FORBIDDEN,
                    "This order is confirmed (paid or invoiced): ask sales to cancel it.",
                )
        transition(
            order, ORDER_TRANSITIONS, OrderStatus.CANCELLED, expected_version=expected_version
        )
        goods = await lock_goods(session, order)
        for item in goods:
            item.line.released = True
            await inventory.release(session, item.listing.id, actor=actor)
        await record_order(
            session,
            order,
            "order.cancelled",
            actor=actor,
            reason=cleaned,
            releasedListingIds=[item.listing.id for item in goods],
        )
        return {"orderId": order.id}

    request = {"orderId": order_id, "reason": cleaned, "expectedVersion": expected_version}
    result = await once(sessions, actor, idempotency_key, "cancelOrder", request, work)
    return await load_order(sessions, result["orderId"])


async def complete_order(
    sessions: Sessions,
    *,
    order_id: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """DELIVERED -> COMPLETED: the trade is closed; devices stay DELIVERED, listings SOLD."""
    require(actor, Permission.MANAGE_ORDERS)

    async def work(session: AsyncSession) -> dict[str, Any]:
        order = await lock(session, Order, order_id, field="orderId")
        transition(
            order, ORDER_TRANSITIONS, OrderStatus.COMPLETED, expected_version=expected_version
        )
        await record_order(session, order, "order.completed", actor=actor)
        return {"orderId": order.id}

    request = {"orderId": order_id, "expectedVersion": expected_version}
    result = await once(sessions, actor, idempotency_key, "completeOrder", request, work)
    return await load_order(sessions, result["orderId"])


async def load_order(sessions: Sessions, order_id: int) -> Order:
    """The order as committed, read after a use case's transaction."""
    async with sessions() as session:
        return await session.get_one(Order, order_id)


# --- Shared with app.services.shipments --------------------------------------------------------


def order_audiences(order: Order) -> list[str]:
    return [OPERATOR, buyer_audience(order.buyer_id)]


async def record_order(
    session: AsyncSession, order: Order, event_type: str, *, actor: Actor, **changes: object
) -> None:
    await record(
        session,
        order,
        event_type,
        actor=actor,
        audiences=order_audiences(order),
        changes={"status": order.status, **changes},
    )


async def lock_goods(session: AsyncSession, order: Order) -> list[Goods]:
    """The order's active lines, each with its listing then its device locked, by listing id."""
    lines = list(
        await session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id == order.id, OrderLine.released.is_(False))
            .order_by(OrderLine.listing_id)
        )
    )
    goods = []
    for line in lines:
        listing = await lock(session, Listing, line.listing_id, field="orderId")
        device = await lock(session, Device, line.device_id, field="orderId")
        goods.append(Goods(line=line, listing=listing, device=device))
    return goods


async def once(
    sessions: Sessions,
    actor: Actor,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    work: Work,
) -> dict[str, Any]:
    """Rule 8 for this domain: results are kept per caller (``actor.ref``) and key."""
    return await run_once(
        sessions, scope=actor.ref, key=key, operation=operation, request=request, work=work
    )


def clean_text(value: str | None, field: str, max_length: int) -> str | None:
    """Strip; None or blank is None; refuse control characters and overlong text."""
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    if len(cleaned) > max_length:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{field} takes at most {max_length} characters.", field=field
        )
    if any(ord(char) < 32 and char not in "\n\t" for char in cleaned):
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{field} contains control characters.", field=field
        )
    return cleaned


def _clean_reason(reason: str | None) -> str | None:
    return clean_text(reason, "reason", MAX_REASON)


def _own_organization(actor: Actor) -> int:
    if actor.organization_id is None:  # pragma: no cover - require() lets only members in
        raise DomainError(ErrorCode.FORBIDDEN, "Only a buyer's people may buy.")
    return actor.organization_id


def _order_not_found() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "No order has that id.", field="orderId")


def _key_conflict() -> DomainError:
    return DomainError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        "This idempotency key was already used for another order of your organisation.",
        field="idempotencyKey",
    )
