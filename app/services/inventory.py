"""The device and its listing move together: reserve, release, sell and delist.

Every use case that touches both locks the listing first, then the device, then offers: one
order everywhere, so two transactions never wait on each other in a circle.

Listing and device statuses across an order's life:
  buy / accept offer  listing ACTIVE -> RESERVED,  device AVAILABLE -> RESERVED
  confirm             listing stays RESERVED,      device RESERVED -> SOLD
  ship                listing RESERVED -> SOLD,    device SOLD -> SHIPPED
  cancel              listing RESERVED -> ACTIVE,  device RESERVED|SOLD -> AVAILABLE
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    DEVICE_TRANSITIONS,
    LISTING_TRANSITIONS,
    OFFER_TRANSITIONS,
    DeviceStatus,
    ListingStatus,
    OfferStatus,
)
from app.domain.transitions import ensure_version
from app.models import Device, Listing, Offer
from app.services.common import lock, record, transition
from app.services.events import OPERATOR, PUBLIC, buyer_audience, client_audience

OPEN_LISTING = (ListingStatus.DRAFT, ListingStatus.ACTIVE, ListingStatus.PAUSED)


def device_audiences(device: Device) -> list[str]:
    return [OPERATOR, client_audience(device.client_id)]


def listing_audiences(listing: Listing) -> list[str]:
    """The board sees a listing while it is or was for sale; drafts are the operator's."""
    return [OPERATOR] if listing.status is ListingStatus.DRAFT else [OPERATOR, PUBLIC]


async def move_device(
    session: AsyncSession,
    device: Device,
    target: DeviceStatus,
    *,
    actor: Actor,
    event_type: str,
    **changes: object,
) -> None:
    transition(device, DEVICE_TRANSITIONS, target)
    await record(
        session,
        device,
        event_type,
        actor=actor,
        audiences=device_audiences(device),
        changes={"status": target, **changes},
    )


async def move_listing(
    session: AsyncSession,
    listing: Listing,
    target: ListingStatus,
    *,
    actor: Actor,
    event_type: str,
    **changes: object,
) -> None:
    transition(listing, LISTING_TRANSITIONS, target)
    await record(
        session,
        listing,
        event_type,
        actor=actor,
        audiences=listing_audiences(listing),
        changes={"status": target, "deviceId": listing.device_id, **changes},
    )


async def reserve(
    session: AsyncSession,
    listing_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    keep_offer_id: int | None = None,
) -> tuple[Listing, Device]:
    """Rule 2: of any number of concurrent attempts exactly one wins, under the row locks."""
    listing = await lock(session, Listing, listing_id, field="listingId")
    if listing.status is not ListingStatus.ACTIVE:
        raise DomainError(
            ErrorCode.NOT_AVAILABLE,
            f"This listing is {listing.status.value.lower()}: it is not for sale any more.",
            current_status=listing.status.value,
            current_version=listing.version,
        )
    ensure_version(entity="Listing", expected=expected_version, actual=listing.version)
    device = await lock(session, Device, listing.device_id, field="listingId")
    if device.status is not DeviceStatus.AVAILABLE:
        raise DomainError(
            ErrorCode.NOT_AVAILABLE,
            f"The device is {device.status.value.lower()}: it is not for sale any more.",
            current_status=device.status.value,
            current_version=device.version,
        )
    await move_listing(
        session, listing, ListingStatus.RESERVED, actor=actor, event_type="listing.reserved"
    )
    await move_device(
        session, device, DeviceStatus.RESERVED, actor=actor, event_type="device.reserved"
    )
    await invalidate_pending_offers(
        session, listing, actor=actor, reason="The device was sold.", keep_offer_id=keep_offer_id
    )
    return listing, device


async def release(session: AsyncSession, listing_id: int, *, actor: Actor) -> None:
    """An order was cancelled: the listing and its device are for sale again."""
    listing = await lock(session, Listing, listing_id, field="listingId")
    device = await lock(session, Device, listing.device_id, field="listingId")
    await move_listing(
        session, listing, ListingStatus.ACTIVE, actor=actor, event_type="listing.released"
    )
    await move_device(
        session, device, DeviceStatus.AVAILABLE, actor=actor, event_type="device.released"
    )


async def delist(
    session: AsyncSession, device: Device, *, actor: Actor, reason: str
) -> Listing | None:
    """Take an AVAILABLE device off the board (rule 5): withdraw, invalidate, back to GRADED.

    The caller holds the device row; the open listing is locked here.
    """
    listing = await open_listing(session, device.id, for_update=True)
    if listing is not None:
        await invalidate_pending_offers(session, listing, actor=actor, reason=reason)
        await move_listing(
            session,
            listing,
            ListingStatus.WITHDRAWN,
            actor=actor,
            event_type="listing.withdrawn",
            reason=reason,
        )
    if device.status is DeviceStatus.AVAILABLE:
        await move_device(
            session,
            device,
            DeviceStatus.GRADED,
            actor=actor,
            event_type="device.delisted",
            reason=reason,
        )
    return listing


async def open_listing(
    session: AsyncSession, device_id: int, *, for_update: bool = False
) -> Listing | None:
    """The device's one listing that is DRAFT, ACTIVE, PAUSED or RESERVED, if any."""
    statement = select(Listing).where(
        Listing.device_id == device_id,
        Listing.status.in_((*OPEN_LISTING, ListingStatus.RESERVED)),
    )
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def invalidate_pending_offers(
    session: AsyncSession,
    listing: Listing,
    *,
    actor: Actor,
    reason: str,
    keep_offer_id: int | None = None,
) -> list[Offer]:
    """Rule 3: when a device leaves sale, every pending offer on it ends, in this transaction."""
    offers = list(
        await session.scalars(
            select(Offer)
            .where(Offer.listing_id == listing.id, Offer.status == OfferStatus.PENDING)
            .order_by(Offer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    ended = [offer for offer in offers if offer.id != keep_offer_id]
    for offer in ended:
        transition(offer, OFFER_TRANSITIONS, OfferStatus.INVALIDATED)
        await record(
            session,
            offer,
            "offer.invalidated",
            actor=actor,
            audiences=[OPERATOR, buyer_audience(offer.buyer_id)],
            changes={"status": OfferStatus.INVALIDATED, "listingId": listing.id, "reason": reason},
        )
    return ended
