"""Test data for orders, made with the ORM: listed devices, and orders driven to any status
through the services.

Also what a refused action must leave unchanged (``snapshot``). People and actors are in
``tests.support.auth``, the event log in ``tests.support.events``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OrderStatus,
    Role,
)
from app.models import (
    Device,
    Event,
    IdempotencyRecord,
    Listing,
    Order,
    OrderLine,
    Organization,
    Shipment,
)
from app.services import orders, shipments
from tests.support.auth import buyer_actor, operator
from tests.support.events import row_counts, row_states
from tests.support.factories import create_buyer, create_client, grade_device, make_imei

Sessions = async_sessionmaker[AsyncSession]

_sequence = itertools.count(10_000)


# --- Listed devices ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    listing_id: int
    device_id: int
    client_id: int
    price_minor: int


async def create_listed_device(
    sessions: Sessions,
    *,
    client: Organization | None = None,
    price_minor: int = 12900,
    currency: str = "EUR",
) -> Listed:
    """A graded AVAILABLE device with an ACTIVE listing, as publishing would leave them."""
    if client is None:
        client = await create_client(sessions)
    async with sessions.begin() as session:
        device = Device(
            imei=make_imei(next(_sequence)),
            make="Apple",
            model="iPhone 13",
            storage_gb=128,
            client_id=client.id,
            status=DeviceStatus.GRADED,
        )
        session.add(device)
    await grade_device(sessions, device.id)
    async with sessions.begin() as session:
        device = await session.get_one(Device, device.id)
        device.status = DeviceStatus.AVAILABLE
        listing = Listing(
            device_id=device.id,
            price_minor=price_minor,
            currency=currency,
            status=ListingStatus.ACTIVE,
        )
        session.add(listing)
    return Listed(
        listing_id=listing.id, device_id=device.id, client_id=client.id, price_minor=price_minor
    )


async def statuses(sessions: Sessions, listed: Listed) -> tuple[ListingStatus, DeviceStatus]:
    async with sessions() as session:
        listing = await session.get_one(Listing, listed.listing_id)
        device = await session.get_one(Device, listed.device_id)
        return listing.status, device.status


# --- What a refused action must leave alone ----------------------------------------------------


async def snapshot(sessions: Sessions) -> dict[str, Any]:
    """Row counts and every status and version the trade can change."""
    async with sessions() as session:
        counts = await row_counts(session, (Order, OrderLine, Shipment, Event, IdempotencyRecord))
        states = await row_states(session, (Listing, Device, Order, Shipment))
        released = list(await session.scalars(select(OrderLine.released).order_by(OrderLine.id)))
    return {"counts": counts, "states": states, "released": released}


# --- Orders driven to a status through the services ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Trade:
    order_id: int
    buyer: Organization
    buyer_actor: Actor
    listed: list[Listed]


async def trade_in(
    sessions: Sessions,
    status: OrderStatus,
    *,
    buyer: Organization | None = None,
    listings: int = 1,
) -> Trade:
    """An order of ``listings`` fresh listings, moved to ``status`` the way the API would."""
    buyer = buyer or await create_buyer(sessions)
    actor = buyer_actor(buyer)
    listed = [await create_listed_device(sessions) for _ in range(listings)]
    order = await orders.buy_listings(
        sessions, listing_ids=[item.listing_id for item in listed], actor=actor
    )
    sales, warehouse = operator(Role.SALES), operator(Role.WAREHOUSE)
    if status is OrderStatus.CANCELLED:
        await orders.cancel_order(sessions, order_id=order.id, actor=sales)
    if status in (OrderStatus.PENDING, OrderStatus.CANCELLED):
        return Trade(order.id, buyer, actor, listed)
    await orders.confirm_order(sessions, order_id=order.id, actor=sales)
    if status is not OrderStatus.CONFIRMED:
        await shipments.ship_order(
            sessions,
            order_id=order.id,
            carrier="DHL",
            tracking_number="JD0146000062812",
            actor=warehouse,
        )
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        await shipments.mark_delivered(sessions, order_id=order.id, actor=warehouse)
    if status is OrderStatus.COMPLETED:
        await orders.complete_order(sessions, order_id=order.id, actor=sales)
    return Trade(order.id, buyer, actor, listed)


async def order_status(sessions: Sessions, order_id: int) -> tuple[OrderStatus, int]:
    async with sessions() as session:
        order = await session.get_one(Order, order_id)
        return order.status, order.version
