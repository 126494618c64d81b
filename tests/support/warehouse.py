"""Test data for the warehouse side: devices in any status, listings with pending offers made
with the ORM, and what a refused action must leave unchanged.

People and their tokens are in ``tests.support.auth``, the event log in
``tests.support.events``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OfferParty,
    OfferStatus,
)
from app.models import (
    Device,
    Event,
    Grade,
    IdempotencyRecord,
    Listing,
    Lot,
    Offer,
    Organization,
)
from app.models.base import utcnow
from tests.support.events import reload, row_counts, row_states
from tests.support.factories import create_buyer, grade_device, make_imei

Sessions = async_sessionmaker[AsyncSession]

_sequence = itertools.count(50_000)


# --- Devices and listings ------------------------------------------------------------------


async def create_device(
    sessions: Sessions,
    client: Organization,
    *,
    status: DeviceStatus = DeviceStatus.RECEIVED,
    graded: bool | None = None,
    lot: Lot | None = None,
    make: str = "Apple",
    model: str = "iPhone 13",
    storage_gb: int | None = 128,
) -> Device:
    """A device written with the ORM in ``status``; graded unless RECEIVED (or told)."""
    async with sessions.begin() as session:
        device = Device(
            imei=make_imei(next(_sequence)),
            make=make,
            model=model,
            storage_gb=storage_gb,
            client_id=client.id,
            lot_id=lot.id if lot is not None else None,
            status=status,
        )
        session.add(device)
    if graded if graded is not None else status is not DeviceStatus.RECEIVED:
        await grade_device(sessions, device.id)
    return await reload(sessions, Device, device.id)


@dataclass(frozen=True, slots=True)
class OnSale:
    device_id: int
    listing_id: int
    offer_ids: list[int]


async def put_on_sale(sessions: Sessions, device_id: int, *, offers: int = 2) -> OnSale:
    """An ACTIVE listing for a graded device (now AVAILABLE) with pending offers of buyers."""
    buyers = [await create_buyer(sessions) for _ in range(offers)]
    async with sessions.begin() as session:
        device = await session.get_one(Device, device_id)
        device.status = DeviceStatus.AVAILABLE
        listing = Listing(
            device_id=device.id, price_minor=25_000, currency="EUR", status=ListingStatus.ACTIVE
        )
        session.add(listing)
        await session.flush()
        rows = [
            Offer(
                listing_id=listing.id,
                buyer_id=buyer.id,
                amount_minor=20_000,
                currency="EUR",
                status=OfferStatus.PENDING,
                from_party=OfferParty.BUYER,
                expires_at=utcnow() + timedelta(hours=48),
            )
            for buyer in buyers
        ]
        session.add_all(rows)
    return OnSale(device_id=device_id, listing_id=listing.id, offer_ids=[row.id for row in rows])


# --- What a refused action must leave alone ------------------------------------------------


async def snapshot(sessions: Sessions) -> dict[str, Any]:
    """Row counts and every status, version and flag the warehouse can change."""
    async with sessions() as session:
        counts = await row_counts(
            session, (Device, Grade, Lot, Listing, Offer, Event, IdempotencyRecord)
        )
        devices = await session.execute(
            select(
                Device.id,
                Device.status,
                Device.version,
                Device.current_grade_id,
                Device.lock_status,
                Device.blacklist_status,
            ).order_by(Device.id)
        )
        states: dict[str, Any] = {
            "Device": [tuple(row) for row in devices],
            **await row_states(session, (Lot, Listing, Offer)),
        }
    return {"counts": counts, "states": states}
