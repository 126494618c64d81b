"""Orders: placing one reserves every device on it in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrderStatus, OrganizationKind
from app.models import Order, OrderLine, Organization
from app.services import inventory
from app.services.common import record
from app.services.events import OPERATOR, buyer_audience


@dataclass(frozen=True, slots=True)
class LineRequest:
    listing_id: int
    price_minor: int | None = None
    """An agreed price (an accepted offer); None takes the listing's price."""


async def place_order(
    session: AsyncSession,
    *,
    buyer_id: int,
    lines: list[LineRequest],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Order:
    """Reserve each listing (rule 2) and write the order with its lines, in the caller's
    transaction. Listings are locked in id order so concurrent orders cannot deadlock."""
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
    await session.flush()
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
        audiences=[OPERATOR, buyer_audience(buyer.id)],
        changes={
            "status": order.status,
            "listingIds": [listing.id for listing, _, _ in reserved],
            "totalMinor": sum(price for _, _, price in reserved),
            "currency": order.currency,
        },
    )
    return order
