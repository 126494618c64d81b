"""Listings: create, publish, pause, reprice and withdraw them.

The buyers' board and single listings are read through ``app.services.listing_queries``.

Decisions:
- A listing's currency is the operator organisation's currency (the first OPERATOR
  organisation), or EUR when there is none. Every amount on the listing and its offers uses it.
- Pausing takes a listing off the board but keeps its pending offers: they can still be
  rejected, withdrawn or expire; nobody can make, counter or accept one until it is ACTIVE.
- Repricing is allowed while DRAFT, ACTIVE or PAUSED. Pending offers (or counters) above the new
  price are INVALIDATED in the same transaction (rule 4: no offer above the list price).
  Repricing to the same price changes nothing and writes no event.
- Publishing a PAUSED listing is also a ``listing.published`` event (it is ACTIVE again).
- Drafts are the operator's: their events go to the operator only.
- Every mutation takes an optional idempotency key (rule 8, scope: the actor): a replay
  returns the listing as it is now, without a second event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.money import positive_amount
from app.domain.statuses import (
    LISTING_TRANSITIONS,
    OFFER_TRANSITIONS,
    BlacklistStatus,
    DeviceStatus,
    ListingStatus,
    LockStatus,
    OfferStatus,
    OrganizationKind,
)
from app.domain.transitions import ensure_transition, ensure_version
from app.models import Device, Grade, Listing, Offer, Organization
from app.services import inventory
from app.services.common import lock, record, transition
from app.services.events import OPERATOR, PUBLIC, buyer_audience
from app.services.idempotency import run_once

DEFAULT_CURRENCY = "EUR"
PUBLISHABLE = (ListingStatus.DRAFT, ListingStatus.PAUSED)
REPRICEABLE = (ListingStatus.DRAFT, ListingStatus.ACTIVE, ListingStatus.PAUSED)


# --- Rule 1 --------------------------------------------------------------------------------


def listing_blockers(device: Device, grade: Grade | None) -> list[str]:
    """What keeps a device off the board (rule 1), as phrases; empty when it may be listed."""
    blockers = []
    if grade is None:
        blockers.append("it has no grade")
    elif not grade.data_wiped:
        blockers.append("its data is not wiped")
    if device.lock_status is not LockStatus.UNLOCKED:
        blockers.append("it is locked")
    if device.blacklist_status is not BlacklistStatus.CLEAN:
        blockers.append("it is blacklisted")
    return blockers


async def _ensure_listable(
    session: AsyncSession, device: Device, *, expected_status: DeviceStatus, field: str
) -> None:
    if device.status is not expected_status:
        already = " (it is already listed)" if device.status is DeviceStatus.AVAILABLE else ""
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"Device {device.id} is {device.status.value}{already}: only a "
            f"{expected_status.value} device can be listed.",
            current_status=device.status.value,
            current_version=device.version,
            field=field,
        )
    grade = (
        await session.get(Grade, device.current_grade_id)
        if device.current_grade_id is not None
        else None
    )
    blockers = listing_blockers(device, grade)
    if blockers:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Device {device.id} cannot be listed: {', '.join(blockers)}.",
            field=field,
            missing=blockers,
        )


async def listing_currency(session: AsyncSession) -> str:
    """The operator organisation's currency, or EUR when no operator is set up."""
    currency = await session.scalar(
        select(Organization.currency)
        .where(Organization.kind == OrganizationKind.OPERATOR)
        .order_by(Organization.id)
        .limit(1)
    )
    return currency or DEFAULT_CURRENCY


# --- Moving a listing ------------------------------------------------------------------------


def _audiences(before: ListingStatus, after: ListingStatus) -> list[str]:
    """The board sees a listing from its publication on; a draft is the operator's alone."""
    if before is ListingStatus.DRAFT and after in (ListingStatus.DRAFT, ListingStatus.WITHDRAWN):
        return [OPERATOR]
    return [OPERATOR, PUBLIC]


def _ensure_can_become(listing: Listing, target: ListingStatus) -> None:
    ensure_transition(
        LISTING_TRANSITIONS,
        entity="Listing",
        current=listing.status,
        target=target,
        version=listing.version,
    )


async def _move(
    session: AsyncSession,
    listing: Listing,
    target: ListingStatus,
    *,
    actor: Actor,
    event_type: str,
    expected_version: int | None,
    **changes: object,
) -> None:
    before = listing.status
    transition(listing, LISTING_TRANSITIONS, target, expected_version=expected_version)
    await record(
        session,
        listing,
        event_type,
        actor=actor,
        audiences=_audiences(before, target),
        changes={"status": target, "deviceId": listing.device_id, **changes},
    )


async def _once(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    work: Callable[[AsyncSession], Awaitable[Listing]],
) -> Listing:
    """Rule 8: ``work`` runs in one transaction, once per key and input (scope: the actor);
    the listing is loaded after the commit, so a replay returns it as it is now."""

    async def once(session: AsyncSession) -> dict[str, Any]:
        listing = await work(session)
        return {"listingId": listing.id}

    result = await run_once(
        sessions, scope=actor.ref, key=key, operation=operation, request=request, work=once
    )
    async with sessions() as session:
        return await session.get_one(Listing, int(result["listingId"]))


async def create_listing(
    sessions: async_sessionmaker[AsyncSession],
    *,
    device_id: int,
    price_minor: int,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Listing:
    """A DRAFT listing for a device that satisfies rule 1; one open listing per device."""
    positive_amount(price_minor, "price")

    async def work(session: AsyncSession) -> Listing:
        device = await lock(session, Device, device_id, field="deviceId")
        await _ensure_listable(
            session, device, expected_status=DeviceStatus.GRADED, field="deviceId"
        )
        existing = await inventory.open_listing(session, device.id)
        if existing is not None:
            raise _already_listed(device.id, existing.id, existing.status)
        listing = Listing(
            device_id=device.id,
            price_minor=price_minor,
            currency=await listing_currency(session),
            status=ListingStatus.DRAFT,
        )
        session.add(listing)
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent create won the partial unique index
            raise _already_listed(device.id, None, None) from exc
        await record(
            session,
            listing,
            "listing.created",
            actor=actor,
            audiences=[OPERATOR],
            changes={
                "status": listing.status,
                "deviceId": device.id,
                "priceMinor": price_minor,
                "currency": listing.currency,
            },
        )
        return listing

    return await _once(
        sessions,
        actor=actor,
        key=idempotency_key,
        operation="createListing",
        request={"deviceId": device_id, "priceMinor": price_minor},
        work=work,
    )


def _already_listed(
    device_id: int, listing_id: int | None, status: ListingStatus | None
) -> DomainError:
    which = f" (listing {listing_id}, {status.value})" if listing_id and status else ""
    return DomainError(
        ErrorCode.INVALID_INPUT,
        f"Device {device_id} already has an open listing{which}: publish, reprice or withdraw "
        "that one instead.",
        field="deviceId",
        listing_id=listing_id,
    )


async def publish_listing(
    sessions: async_sessionmaker[AsyncSession],
    *,
    listing_id: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Listing:
    """DRAFT|PAUSED -> ACTIVE. A draft's device moves GRADED -> AVAILABLE (rule 1 again)."""

    async def work(session: AsyncSession) -> Listing:
        listing = await lock(session, Listing, listing_id, field="listingId")
        before = listing.status
        # Check version and transition before touching the device: the clearest refusal first.
        ensure_version(entity="Listing", expected=expected_version, actual=listing.version)
        if before not in PUBLISHABLE:  # RESERVED -> ACTIVE is an order's release, not this
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"A listing that is {before.value} cannot be published.",
                current_status=before.value,
                current_version=listing.version,
            )
        device = await lock(session, Device, listing.device_id, field="listingId")
        device_status = (
            DeviceStatus.GRADED if before is ListingStatus.DRAFT else DeviceStatus.AVAILABLE
        )
        await _ensure_listable(session, device, expected_status=device_status, field="listingId")
        await _move(
            session,
            listing,
            ListingStatus.ACTIVE,
            actor=actor,
            event_type="listing.published",
            expected_version=None,
            priceMinor=listing.price_minor,
            currency=listing.currency,
        )
        if before is ListingStatus.DRAFT:
            await inventory.move_device(
                session,
                device,
                DeviceStatus.AVAILABLE,
                actor=actor,
                event_type="device.listed",
                listingId=listing.id,
            )
        return listing

    return await _once(
        sessions,
        actor=actor,
        key=idempotency_key,
        operation="publishListing",
        request={"listingId": listing_id, "expectedVersion": expected_version},
        work=work,
    )


async def pause_listing(
    sessions: async_sessionmaker[AsyncSession],
    *,
    listing_id: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Listing:
    """ACTIVE -> PAUSED: off the board; the device stays AVAILABLE, pending offers stay."""

    async def work(session: AsyncSession) -> Listing:
        listing = await lock(session, Listing, listing_id, field="listingId")
        await _move(
            session,
            listing,
            ListingStatus.PAUSED,
            actor=actor,
            event_type="listing.paused",
            expected_version=expected_version,
        )
        return listing

    return await _once(
        sessions,
        actor=actor,
        key=idempotency_key,
        operation="pauseListing",
        request={"listingId": listing_id, "expectedVersion": expected_version},
        work=work,
    )


async def reprice_listing(
    sessions: async_sessionmaker[AsyncSession],
    *,
    listing_id: int,
    price_minor: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Listing:
    """A new price for a DRAFT, ACTIVE or PAUSED listing; offers above it are invalidated."""
    positive_amount(price_minor, "price")

    async def work(session: AsyncSession) -> Listing:
        listing = await lock(session, Listing, listing_id, field="listingId")
        ensure_version(entity="Listing", expected=expected_version, actual=listing.version)
        if listing.status not in REPRICEABLE:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"A listing that is {listing.status.value} cannot be repriced.",
                current_status=listing.status.value,
                current_version=listing.version,
            )
        previous = listing.price_minor
        if price_minor == previous:
            return listing
        listing.price_minor = price_minor
        await record(
            session,
            listing,
            "listing.price_changed",
            actor=actor,
            audiences=_audiences(listing.status, listing.status),
            changes={
                "status": listing.status,
                "deviceId": listing.device_id,
                "priceMinor": price_minor,
                "previousPriceMinor": previous,
                "currency": listing.currency,
            },
        )
        if price_minor < previous:
            await _invalidate_offers_above(session, listing, actor=actor)
        return listing

    return await _once(
        sessions,
        actor=actor,
        key=idempotency_key,
        operation="repriceListing",
        request={
            "listingId": listing_id,
            "priceMinor": price_minor,
            "expectedVersion": expected_version,
        },
        work=work,
    )


async def _invalidate_offers_above(
    session: AsyncSession, listing: Listing, *, actor: Actor
) -> None:
    offers = await session.scalars(
        select(Offer)
        .where(
            Offer.listing_id == listing.id,
            Offer.status == OfferStatus.PENDING,
            Offer.amount_minor > listing.price_minor,
        )
        .order_by(Offer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for offer in list(offers):
        transition(offer, OFFER_TRANSITIONS, OfferStatus.INVALIDATED)
        await record(
            session,
            offer,
            "offer.invalidated",
            actor=actor,
            audiences=[OPERATOR, buyer_audience(offer.buyer_id)],
            changes={
                "status": OfferStatus.INVALIDATED,
                "listingId": listing.id,
                "reason": "The list price dropped below this offer.",
            },
        )


async def withdraw_listing(
    sessions: async_sessionmaker[AsyncSession],
    *,
    listing_id: int,
    actor: Actor,
    expected_version: int | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> Listing:
    """DRAFT|ACTIVE|PAUSED -> WITHDRAWN: the device is delisted, pending offers invalidated."""
    why = (reason or "").strip()[:500] or "The listing was withdrawn."

    async def work(session: AsyncSession) -> Listing:
        listing = await lock(session, Listing, listing_id, field="listingId")
        ensure_version(entity="Listing", expected=expected_version, actual=listing.version)
        _ensure_can_become(listing, ListingStatus.WITHDRAWN)
        device = await lock(session, Device, listing.device_id, field="listingId")
        await inventory.invalidate_pending_offers(session, listing, actor=actor, reason=why)
        await _move(
            session,
            listing,
            ListingStatus.WITHDRAWN,
            actor=actor,
            event_type="listing.withdrawn",
            expected_version=None,
            reason=why,
        )
        if device.status is DeviceStatus.AVAILABLE:
            await inventory.move_device(
                session,
                device,
                DeviceStatus.GRADED,
                actor=actor,
                event_type="device.delisted",
                reason=why,
            )
        return listing

    return await _once(
        sessions,
        actor=actor,
        key=idempotency_key,
        operation="withdrawListing",
        request={"listingId": listing_id, "expectedVersion": expected_version, "reason": why},
        work=work,
    )
