"""Settlement test data, written with the ORM: clients with terms, sold and delivered devices,
and the operator's people as actors for service tests (``tests.support.auth`` makes others).

``deliver`` makes what generation looks for: a device of the client, its listing SOLD, an order
with one line per device and a shipment with ``delivered_at``. Every status is a parameter so a
test can make the near misses too (shipped but not delivered, a released order line, ...).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import ANONYMOUS
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OrderStatus,
    OrganizationKind,
    Role,
    ShipmentStatus,
)
from app.models import (
    Device,
    Event,
    IdempotencyRecord,
    Listing,
    Order,
    OrderLine,
    Organization,
    Settlement,
    SettlementLine,
    Shipment,
)
from tests.support.auth import operator
from tests.support.factories import make_imei

Sessions = async_sessionmaker[AsyncSession]
_numbers = itertools.count(1)

# Actors for service tests: only the organisation kind and role matter to the policy.
FINANCE = operator(Role.FINANCE)
ADMIN = operator(Role.ADMIN)
SALES = operator(Role.SALES)
WAREHOUSE = operator(Role.WAREHOUSE)
NOBODY = ANONYMOUS


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC instant on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def day(n: int) -> date:
    """Day ``n`` of a fixed test calendar (day 1 = 2024-03-01)."""
    return date(2024, 3, 1) + timedelta(days=n - 1)


async def create_organization(
    sessions: Sessions,
    kind: OrganizationKind,
    *,
    commission_bps: int | None = None,
    fee_per_device_minor: int | None = None,
    currency: str = "EUR",
    name: str | None = None,
) -> Organization:
    organization = Organization(
        name=name or f"Settle {kind.value.title()} {next(_numbers)}",
        kind=kind,
        currency=currency,
        commission_bps=commission_bps,
        fee_per_device_minor=fee_per_device_minor,
    )
    async with sessions.begin() as session:
        session.add(organization)
    return organization


async def create_client(
    sessions: Sessions,
    *,
    commission_bps: int | None = 1500,
    fee_per_device_minor: int | None = 200,
    currency: str = "EUR",
    name: str | None = None,
) -> Organization:
    return await create_organization(
        sessions,
        OrganizationKind.CLIENT,
        commission_bps=commission_bps,
        fee_per_device_minor=fee_per_device_minor,
        currency=currency,
        name=name,
    )


async def create_buyer(sessions: Sessions, *, name: str | None = None) -> Organization:
    return await create_organization(sessions, OrganizationKind.BUYER, name=name)


@dataclass(frozen=True, slots=True)
class Sold:
    device_id: int
    order_line_id: int
    order_id: int
    price_minor: int


async def deliver(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    prices: list[int],
    *,
    delivered_at: datetime | None,
    device_status: DeviceStatus = DeviceStatus.DELIVERED,
    order_status: OrderStatus = OrderStatus.DELIVERED,
    shipment_status: ShipmentStatus = ShipmentStatus.DELIVERED,
    released: bool = False,
    currency: str | None = None,
    device_ids: list[int] | None = None,
) -> list[Sold]:
    """One order of ``buyer`` with one line per price, shipped in one shipment.

    New devices of ``client`` are made unless ``device_ids`` names existing ones (a device
    sold again after a cancelled order).
    """
    currency = currency or client.currency
    async with sessions.begin() as session:
        devices: list[Device] = []
        for index in range(len(prices)):
            if device_ids is not None:
                device = await session.get_one(Device, device_ids[index])
                device.status = device_status
            else:
                device = Device(
                    imei=make_imei(),
                    make="Apple",
                    model="iPhone 13",
                    storage_gb=128,
                    client_id=client.id,
                    status=device_status,
                )
                session.add(device)
            devices.append(device)
        await session.flush()
        listings = [
            Listing(
                device_id=device.id,
                price_minor=price,
                currency=currency,
                status=ListingStatus.WITHDRAWN if released else ListingStatus.SOLD,
            )
            for device, price in zip(devices, prices, strict=True)
        ]
        session.add_all(listings)
        order = Order(buyer_id=buyer.id, currency=currency, status=order_status)
        session.add(order)
        await session.flush()
        lines = [
            OrderLine(
                order_id=order.id,
                listing_id=listing.id,
                device_id=device.id,
                price_minor=price,
                released=released,
            )
            for device, listing, price in zip(devices, listings, prices, strict=True)
        ]
        session.add_all(lines)
        session.add(
            Shipment(
                order_id=order.id,
                carrier="DHL",
                tracking_number=f"TRK{next(_numbers):08d}",
                status=shipment_status,
                shipped_at=delivered_at - timedelta(days=1) if delivered_at else None,
                delivered_at=delivered_at,
            )
        )
        await session.flush()
        return [
            Sold(
                device_id=line.device_id,
                order_line_id=line.id,
                order_id=order.id,
                price_minor=line.price_minor,
            )
            for line in lines
        ]


async def deliver_one(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    price: int = 10_000,
    *,
    delivered_at: datetime | None,
    **options: Any,
) -> Sold:
    [sold] = await deliver(sessions, client, buyer, [price], delivered_at=delivered_at, **options)
    return sold


@dataclass(frozen=True, slots=True)
class Counts:
    settlements: int
    lines: int
    active_lines: int
    events: int
    idempotency_records: int


async def counts(sessions: Sessions) -> Counts:
    """What a refused action must leave unchanged."""
    async with sessions() as session:

        async def count(model: Any, *where: Any) -> int:
            value = await session.scalar(select(func.count()).select_from(model).where(*where))
            return int(value or 0)

        return Counts(
            settlements=await count(Settlement),
            lines=await count(SettlementLine),
            active_lines=await count(SettlementLine, SettlementLine.released.is_(False)),
            events=await count(Event),
            idempotency_records=await count(IdempotencyRecord),
        )


async def settlement_state(sessions: Sessions, settlement_id: int) -> tuple[str, int]:
    async with sessions() as session:
        row = await session.get_one(Settlement, settlement_id)
        return row.status.value, row.version


async def lines_of(sessions: Sessions, settlement_id: int) -> list[SettlementLine]:
    async with sessions() as session:
        rows = await session.scalars(
            select(SettlementLine)
            .where(SettlementLine.settlement_id == settlement_id)
            .order_by(SettlementLine.id)
        )
        return list(rows.all())


async def active_settlement_of(sessions: Sessions, device_ids: list[int]) -> dict[int, list[int]]:
    """For each device, the settlements whose active lines hold it (at most one, rule 7)."""
    held: dict[int, list[int]] = {device_id: [] for device_id in device_ids}
    async with sessions() as session:
        rows = await session.execute(
            select(SettlementLine.device_id, SettlementLine.settlement_id).where(
                SettlementLine.device_id.in_(device_ids), SettlementLine.released.is_(False)
            )
        )
        for device_id, settlement_id in rows.all():
            held[device_id].append(settlement_id)
    return held


async def events_of(sessions: Sessions, settlement_id: int) -> list[Event]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Event)
            .where(Event.entity_type == "Settlement", Event.entity_id == settlement_id)
            .order_by(Event.id)
        )
        return list(rows.all())
