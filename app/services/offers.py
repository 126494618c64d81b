"""Offers: make, counter, accept, reject, withdraw and expire them (rules 2, 3, 4, 8, 9).

Reading offers (who sees which, pages) is in ``app.services.offer_queries``.

Lock order, as everywhere: the listing, then the device (inside orders.place_order), then
offers. Reject and withdraw touch one offer only and lock just that row.

Decisions:
- An offer is at most the list price (above it, buy instead) and a counter moves towards the
  other party (app.domain.offers).
- A pending offer whose ``expires_at`` passed is over even before the sweep marks it: acting on
  it is refused as expired; a buyer making a new offer on that listing expires the old one first.
- Offers on a DRAFT listing do not exist for buyers: NOT_FOUND, like any listing they cannot see.
- Accepting an offer places the order through app.services.orders.place_order with the idempotency
  key ``offer:<id>``, so one offer can never become two orders whatever retries happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor, system
from app.domain.errors import DomainError, ErrorCode
from app.domain.offers import (
    DEFAULT_OFFER_TTL,
    can_see_offer,
    ensure_answering_party,
    ensure_counter_amount,
    ensure_making_party,
    ensure_not_expired,
    ensure_offer_amount,
    is_due,
    other_party,
)
from app.domain.statuses import (
    OFFER_TRANSITIONS,
    ListingStatus,
    OfferParty,
    OfferStatus,
)
from app.domain.transitions import ensure_transition, ensure_version
from app.models import Listing, Offer, Order
from app.models.base import utcnow
from app.services import orders
from app.services.common import lock, record, transition
from app.services.events import OPERATOR, buyer_audience
from app.services.idempotency import run_once
from app.services.offer_queries import negotiating_party

EXPIRY_ACTOR = system("offer-expiry")


@dataclass(frozen=True, slots=True)
class CounterResult:
    offer: Offer
    """The new PENDING offer from the other party."""
    countered: Offer
    """The offer it answers, now COUNTERED."""


@dataclass(frozen=True, slots=True)
class AcceptResult:
    offer: Offer
    order: Order


def _audiences(offer: Offer) -> list[str]:
    """An offer is between the operator and one buyer; never public, never the client's."""
    return [OPERATOR, buyer_audience(offer.buyer_id)]


def _not_found() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "No offer has that id.", field="offerId")


async def _load_visible(session: AsyncSession, offer_id: int, actor: Actor) -> Offer:
    offer = await session.get(Offer, offer_id)
    if offer is None or not can_see_offer(actor, offer.buyer_id):
        raise _not_found()
    # Detached, so that lock() loads the row afresh: a row changed meanwhile would otherwise
    # fail the ORM's version check under FOR UPDATE (StaleDataError, not a refusal).
    session.expunge(offer)
    return offer


def _ensure_listing_open_for_offers(listing: Listing, actor: Actor) -> None:
    """Rule 3: offers (and counters) only on an ACTIVE listing."""
    if listing.status is ListingStatus.DRAFT and not actor.is_operator:
        raise DomainError(ErrorCode.NOT_FOUND, "No listing has that id.", field="listingId")
    if listing.status is not ListingStatus.ACTIVE:
        raise DomainError(
            ErrorCode.LISTING_NOT_AVAILABLE,
            f"This listing is {listing.status.value.lower()}: it takes no offers.",
            current_status=listing.status.value,
            current_version=listing.version,
        )


async def _expire(session: AsyncSession, offer: Offer) -> None:
    transition(offer, OFFER_TRANSITIONS, OfferStatus.EXPIRED)
    await record(
        session,
        offer,
        "offer.expired",
        actor=EXPIRY_ACTOR,
        audiences=_audiences(offer),
        changes={
            "status": OfferStatus.EXPIRED,
            "listingId": offer.listing_id,
            "expiresAt": offer.expires_at,
        },
    )


def _made_changes(offer: Offer) -> dict[str, Any]:
    return {
        "status": offer.status,
        "listingId": offer.listing_id,
        "amountMinor": offer.amount_minor,
        "currency": offer.currency,
        "fromParty": offer.from_party,
        "parentOfferId": offer.parent_offer_id,
        "expiresAt": offer.expires_at,
    }


async def _insert_pending(session: AsyncSession, offer: Offer) -> None:
    session.add(offer)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent offer won uq_offers_pending_buyer_listing
        raise _pending_exists(None) from exc


def _pending_exists(offer_id: int | None) -> DomainError:
    which = f" (offer {offer_id})" if offer_id is not None else ""
    return DomainError(
        ErrorCode.INVALID_INPUT,
        f"There is already a pending offer between you and the seller on this listing{which}: "
        "answer or withdraw it first.",
        field="listingId",
        offer_id=offer_id,
    )


async def _load(sessions: async_sessionmaker[AsyncSession], offer_id: int) -> Offer:
    async with sessions() as session:
        return await session.get_one(Offer, offer_id)


# --- Make ----------------------------------------------------------------------------------


async def make_offer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    listing_id: int,
    amount_minor: int,
    actor: Actor,
    idempotency_key: str | None = None,
    ttl: timedelta = DEFAULT_OFFER_TTL,
    now: datetime | None = None,
) -> Offer:
    """A buyer's offer on an ACTIVE listing (rule 3), one pending per buyer and listing."""
    if negotiating_party(actor) is not OfferParty.BUYER or actor.organization_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a buyer makes offers on listings.")
    buyer_id = actor.organization_id

    async def work(session: AsyncSession) -> dict[str, Any]:
        moment = now or utcnow()
        listing = await lock(session, Listing, listing_id, field="listingId")
        _ensure_listing_open_for_offers(listing, actor)
        ensure_offer_amount(
            amount_minor, list_price_minor=listing.price_minor, currency=listing.currency
        )
        pending = await session.scalar(
            select(Offer)
            .where(
                Offer.listing_id == listing.id,
                Offer.buyer_id == buyer_id,
                Offer.status == OfferStatus.PENDING,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if pending is not None:
            if not is_due(pending.expires_at, moment):
                raise _pending_exists(pending.id)
            await _expire(session, pending)
        offer = Offer(
            listing_id=listing.id,
            buyer_id=buyer_id,
            amount_minor=amount_minor,
            currency=listing.currency,
            status=OfferStatus.PENDING,
            from_party=OfferParty.BUYER,
            expires_at=moment + ttl,
        )
        await _insert_pending(session, offer)
        await record(
            session,
            offer,
            "offer.made",
            actor=actor,
            audiences=_audiences(offer),
            changes=_made_changes(offer),
        )
        return {"offerId": offer.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="makeOffer",
        request={"listingId": listing_id, "amountMinor": amount_minor},
        work=work,
    )
    return await _load(sessions, int(result["offerId"]))


# --- Answer --------------------------------------------------------------------------------


async def _lock_for_answer(
    session: AsyncSession,
    offer_id: int,
    *,
    actor: Actor,
    expected_version: int | None,
    moment: datetime,
    target: OfferStatus,
) -> Offer:
    """The offer, visible to the actor, answered (or withdrawn) by the right party, pending."""
    side = negotiating_party(actor)
    seen = await _load_visible(session, offer_id, actor)
    if target is OfferStatus.WITHDRAWN:
        ensure_making_party(seen.from_party, side)
    else:
        ensure_answering_party(seen.from_party, side)
    offer = await lock(session, Offer, offer_id, field="offerId")
    return _ensure_pending(offer, target, expected_version=expected_version, moment=moment)


def _ensure_pending(
    offer: Offer, target: OfferStatus, *, expected_version: int | None, moment: datetime
) -> Offer:
    """Rule 9, then the status machine (still PENDING), then the expiry."""
    ensure_version(entity="Offer", expected=expected_version, actual=offer.version)
    ensure_transition(
        OFFER_TRANSITIONS,
        entity="Offer",
        current=offer.status,
        target=target,
        version=offer.version,
    )
    ensure_not_expired(offer.expires_at, moment, version=offer.version)
    return offer


async def counter_offer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    offer_id: int,
    amount_minor: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    ttl: timedelta = DEFAULT_OFFER_TTL,
    now: datetime | None = None,
) -> CounterResult:
    """COUNTERED closes the offer and opens a PENDING child from the other party."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        moment = now or utcnow()
        side = negotiating_party(actor)
        seen = await _load_visible(session, offer_id, actor)
        ensure_answering_party(seen.from_party, side)
        listing = await lock(session, Listing, seen.listing_id, field="offerId")
        offer = await lock(session, Offer, offer_id, field="offerId")
        _ensure_pending(
            offer, OfferStatus.COUNTERED, expected_version=expected_version, moment=moment
        )
        _ensure_listing_open_for_offers(listing, actor)
        ensure_counter_amount(
            amount_minor,
            countered_party=offer.from_party,
            countered_minor=offer.amount_minor,
            list_price_minor=listing.price_minor,
            currency=listing.currency,
        )
        transition(offer, OFFER_TRANSITIONS, OfferStatus.COUNTERED)
        await session.flush()  # the parent stops being PENDING before the child exists
        child = Offer(
            listing_id=listing.id,
            buyer_id=offer.buyer_id,
            amount_minor=amount_minor,
            currency=listing.currency,
            status=OfferStatus.PENDING,
            from_party=other_party(offer.from_party),
            parent_offer_id=offer.id,
            expires_at=moment + ttl,
        )
        await _insert_pending(session, child)
        await record(
            session,
            offer,
            "offer.countered",
            actor=actor,
            audiences=_audiences(offer),
            changes={
                "status": OfferStatus.COUNTERED,
                "listingId": listing.id,
                "counterOfferId": child.id,
            },
        )
        await record(
            session,
            child,
            "offer.made",
            actor=actor,
            audiences=_audiences(child),
            changes=_made_changes(child),
        )
        return {"offerId": child.id, "counteredOfferId": offer.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="counterOffer",
        request={"offerId": offer_id, "amountMinor": amount_minor, "version": expected_version},
        work=work,
    )
    return CounterResult(
        offer=await _load(sessions, int(result["offerId"])),
        countered=await _load(sessions, int(result["counteredOfferId"])),
    )


async def accept_offer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    offer_id: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> AcceptResult:
    """ACCEPTED, and the device reserved by an order at the offer's amount (rule 2).

    Of concurrent accepts (and purchases) on one listing exactly one wins; the others get
    NOT_AVAILABLE with the listing's current status. The other pending offers on the listing
    are INVALIDATED by the reservation, in this transaction.
    """

    async def work(session: AsyncSession) -> dict[str, Any]:
        moment = now or utcnow()
        side = negotiating_party(actor)
        seen = await _load_visible(session, offer_id, actor)
        ensure_answering_party(seen.from_party, side)
        listing = await lock(session, Listing, seen.listing_id, field="offerId")
        if listing.status is not ListingStatus.ACTIVE:
            raise DomainError(
                ErrorCode.NOT_AVAILABLE,
                f"This listing is {listing.status.value.lower()}: it is not for sale any more.",
                current_status=listing.status.value,
                current_version=listing.version,
            )
        offer = await lock(session, Offer, offer_id, field="offerId")
        _ensure_pending(
            offer, OfferStatus.ACCEPTED, expected_version=expected_version, moment=moment
        )
        transition(offer, OFFER_TRANSITIONS, OfferStatus.ACCEPTED)
        await session.flush()  # ACCEPTED before the reservation ends the PENDING ones
        order = await orders.place_order(
            session,
            buyer_id=offer.buyer_id,
            lines=[orders.LineRequest(listing.id, price_minor=offer.amount_minor)],
            actor=actor,
            idempotency_key=f"offer:{offer.id}",
        )
        await record(
            session,
            offer,
            "offer.accepted",
            actor=actor,
            audiences=_audiences(offer),
            changes={
                "status": OfferStatus.ACCEPTED,
                "listingId": listing.id,
                "amountMinor": offer.amount_minor,
                "currency": offer.currency,
                "orderId": order.id,
            },
        )
        return {"offerId": offer.id, "orderId": order.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="acceptOffer",
        request={"offerId": offer_id, "version": expected_version},
        work=work,
    )
    async with sessions() as session:
        offer = await session.get_one(Offer, int(result["offerId"]))
        order = await session.get_one(Order, int(result["orderId"]))
    return AcceptResult(offer=offer, order=order)


async def _close(
    sessions: async_sessionmaker[AsyncSession],
    *,
    offer_id: int,
    actor: Actor,
    target: OfferStatus,
    event_type: str,
    operation: str,
    expected_version: int | None,
    now: datetime | None,
    idempotency_key: str | None,
    reason: str | None = None,
) -> Offer:
    why = (reason or "").strip()[:500] or None

    async def work(session: AsyncSession) -> dict[str, Any]:
        offer = await _lock_for_answer(
            session,
            offer_id,
            actor=actor,
            expected_version=expected_version,
            moment=now or utcnow(),
            target=target,
        )
        transition(offer, OFFER_TRANSITIONS, target)
        changes: dict[str, Any] = {"status": target, "listingId": offer.listing_id}
        if why is not None:
            changes["reason"] = why
        await record(
            session, offer, event_type, actor=actor, audiences=_audiences(offer), changes=changes
        )
        return {"offerId": offer.id}

    request: dict[str, Any] = {"offerId": offer_id, "expectedVersion": expected_version}
    if target is OfferStatus.REJECTED:
        request["reason"] = why
    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation=operation,
        request=request,
        work=work,
    )
    return await _load(sessions, int(result["offerId"]))


async def reject_offer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    offer_id: int,
    actor: Actor,
    expected_version: int | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Offer:
    """The party that did not make the offer turns it down."""
    return await _close(
        sessions,
        offer_id=offer_id,
        actor=actor,
        target=OfferStatus.REJECTED,
        event_type="offer.rejected",
        operation="rejectOffer",
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        now=now,
        reason=reason,
    )


async def withdraw_offer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    offer_id: int,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Offer:
    """The party that made the offer takes it back."""
    return await _close(
        sessions,
        offer_id=offer_id,
        actor=actor,
        target=OfferStatus.WITHDRAWN,
        event_type="offer.withdrawn",
        operation="withdrawOffer",
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        now=now,
    )


# --- Expiry --------------------------------------------------------------------------------


async def expire_due_offers(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None, limit: int = 500
) -> int:
    """Move PENDING offers whose ``expires_at <= now`` to EXPIRED, ``limit`` per transaction.

    Each batch locks its rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: an offer being
    answered right now is left to that answer, and picked up next time if still pending).
    Returns how many offers expired.
    """
    moment = now or utcnow()
    if limit < 1:
        raise ValueError("limit must be positive")
    total = 0
    while True:
        expired = 0
        async with sessions.begin() as session:
            due = list(
                await session.scalars(
                    select(Offer)
                    .where(Offer.status == OfferStatus.PENDING, Offer.expires_at <= moment)
                    .order_by(Offer.expires_at, Offer.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                    .execution_options(populate_existing=True)
                )
            )
            for offer in due:
                if offer.status is OfferStatus.PENDING and is_due(offer.expires_at, moment):
                    await _expire(session, offer)
                    expired += 1
        total += expired
        if len(due) < limit or expired == 0:
            return total
