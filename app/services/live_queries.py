"""Reads for the live subscriptions: an entity with the rows its API type shows, in one session.

Each function reads the state as it is now (state-based: reading twice is harmless) and applies
no visibility rule itself; the callers check the same rules as the queries
(``app.domain.offers``, ``app.services.devices.may_see``, ``app.services.order_queries.may_see``,
``app.domain.settlements.may_view``) on what comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor
from app.domain.offers import can_see_listing
from app.domain.statuses import ListingStatus
from app.models import (
    Device,
    Grade,
    Listing,
    Offer,
    Order,
    OrderLine,
    Settlement,
    SettlementLine,
    Shipment,
)
from app.services.listing_queries import ListingFilter

M = TypeVar("M", Device, Grade, Listing, Offer, Settlement)


@dataclass(frozen=True, slots=True)
class ListingView:
    """A listing with its device and the device's current grade (what the board shows)."""

    listing: Listing
    device: Device
    grade: Grade | None


@dataclass(frozen=True, slots=True)
class DeviceView:
    device: Device
    grade: Grade | None


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    lines: list[OrderLine]
    shipments: list[Shipment]
    listings: list[Listing]
    devices: list[Device]


@dataclass(frozen=True, slots=True)
class SettlementView:
    settlement: Settlement
    lines: list[SettlementLine]


async def listing_views(session: AsyncSession, listing_ids: Sequence[int]) -> list[ListingView]:
    """The listings of ``listing_ids`` that exist, in the order given: three queries."""
    if not listing_ids:
        return []
    listings = {
        row.id: row
        for row in await session.scalars(select(Listing).where(Listing.id.in_(listing_ids)))
    }
    devices = await _by_id(session, Device, [row.device_id for row in listings.values()])
    grades = await _by_id(
        session,
        Grade,
        [d.current_grade_id for d in devices.values() if d.current_grade_id is not None],
    )
    views = []
    for listing_id in listing_ids:
        listing = listings.get(listing_id)
        if listing is None:
            continue
        device = devices[listing.device_id]
        grade = grades.get(device.current_grade_id) if device.current_grade_id else None
        views.append(ListingView(listing, device, grade))
    return views


async def listing_ids_of_device(session: AsyncSession, device_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Listing.id).where(Listing.device_id == device_id).order_by(Listing.id)
        )
    )


def on_board(view: ListingView, listing_filter: ListingFilter, actor: Actor) -> bool:
    """Whether the board query (``app.services.listing_queries.list_listings``) would list ``view``
    for ``actor`` with this filter: the same conditions, evaluated on the rows."""
    listing, device, grade = view.listing, view.device, view.grade
    if not can_see_listing(actor, listing.status):
        return False
    statuses = listing_filter.statuses if actor.is_operator else (ListingStatus.ACTIVE,)
    if statuses and listing.status not in statuses:
        return False
    if not _same_text(listing_filter.make, device.make):
        return False
    if not _same_text(listing_filter.model, device.model):
        return False
    if listing_filter.storage_gb is not None and device.storage_gb != listing_filter.storage_gb:
        return False
    if listing_filter.grades and (grade is None or grade.cosmetic not in listing_filter.grades):
        return False
    if listing_filter.price_min is not None and listing.price_minor < listing_filter.price_min:
        return False
    if listing_filter.price_max is not None and listing.price_minor > listing_filter.price_max:
        return False
    text = (listing_filter.text or "").strip().lower()
    if text:
        haystacks = (device.make.lower(), device.model.lower(), (device.colour or "").lower())
        if not any(text in haystack for haystack in haystacks):
            return False
    return True


def _same_text(wanted: str | None, value: str) -> bool:
    if wanted is None or not wanted.strip():
        return True
    return value.lower() == wanted.strip().lower()


async def device_view(session: AsyncSession, device_id: int) -> DeviceView | None:
    device = await session.get(Device, device_id)
    if device is None:
        return None
    grade = (
        await session.get(Grade, device.current_grade_id)
        if device.current_grade_id is not None
        else None
    )
    return DeviceView(device, grade)


async def order_view(session: AsyncSession, order_id: int) -> OrderView | None:
    """The order, its lines and shipments (by id, as the API lists them), and the lines'
    listings and devices."""
    order = await session.get(Order, order_id)
    if order is None:
        return None
    lines = list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
        )
    )
    shipments = list(
        await session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
        )
    )
    listings = await _by_id(session, Listing, [line.listing_id for line in lines])
    devices = await _by_id(session, Device, [line.device_id for line in lines])
    return OrderView(order, lines, shipments, list(listings.values()), list(devices.values()))


async def offers_by_id(session: AsyncSession, offer_ids: Sequence[int]) -> list[Offer]:
    rows = await _by_id(session, Offer, list(offer_ids))
    return [rows[offer_id] for offer_id in offer_ids if offer_id in rows]


async def settlement_views(
    session: AsyncSession, settlement_ids: Sequence[int]
) -> list[SettlementView]:
    """The settlements of ``settlement_ids`` that exist, in the order given, with their lines."""
    settlements = await _by_id(session, Settlement, list(settlement_ids))
    if not settlements:
        return []
    lines: dict[int, list[SettlementLine]] = {settlement_id: [] for settlement_id in settlements}
    for line in await session.scalars(
        select(SettlementLine)
        .where(SettlementLine.settlement_id.in_(list(settlements)))
        .order_by(SettlementLine.id)
    ):
        lines[line.settlement_id].append(line)
    return [
        SettlementView(settlements[settlement_id], lines[settlement_id])
        for settlement_id in settlement_ids
        if settlement_id in settlements
    ]


async def _by_id(session: AsyncSession, model: type[M], ids: list[int]) -> dict[int, M]:
    if not ids:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(set(ids))))
    return {row.id: row for row in rows}
