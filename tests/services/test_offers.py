"""Offers on SQLite and PostgreSQL: the negotiation chain to an order, every refusal with its
code and nothing written, idempotency keys, and concurrent accepts (rule 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OfferParty,
    OfferStatus,
    OrderStatus,
)
from app.models import Device, Listing, Offer, Order, OrderLine
from app.models.base import utcnow
from app.services import offer_queries
from app.services import offers as offer_service
from app.services.offer_queries import OfferFilter
from tests.support.events import events_after, last_event_id, reload
from tests.support.trade import World, create_listing, create_offer, create_world, snapshot

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


@pytest.fixture
async def listing(sessions: Sessions, world: World) -> Listing:
    return await create_listing(sessions, world.client, price_minor=50_000)


async def refused(
    sessions: Sessions, code: ErrorCode, action: Callable[[], Awaitable[Any]]
) -> DomainError:
    """Run a refused action: its code, and nothing written at all."""
    before = await snapshot(sessions)
    with pytest.raises(DomainError) as error:
        await action()
    assert error.value.code is code, error.value
    assert await snapshot(sessions) == before
    return error.value


# --- The negotiation chain -----------------------------------------------------------------


async def test_offer_counter_accept_places_an_order_at_the_agreed_price(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    buyer_a, buyer_b = world.buyer_a, world.buyer_b
    other = await offer_service.make_offer(
        sessions, listing_id=listing.id, amount_minor=38_000, actor=buyer_b.actor
    )
    cursor = await last_event_id(sessions)

    # The buyer offers 400.00.
    offer = await offer_service.make_offer(
        sessions, listing_id=listing.id, amount_minor=40_000, actor=buyer_a.actor
    )
    assert (offer.status, offer.from_party, offer.amount_minor, offer.currency) == (
        OfferStatus.PENDING,
        OfferParty.BUYER,
        40_000,
        "EUR",
    )
    assert offer.buyer_id == buyer_a.organization.id
    assert abs(offer.expires_at - offer.created_at - timedelta(hours=48)) < timedelta(seconds=5)

    # Sales counters at 450.00.
    countered = await offer_service.counter_offer(
        sessions,
        offer_id=offer.id,
        amount_minor=45_000,
        actor=world.sales.actor,
        expected_version=1,
    )
    counter = countered.offer
    assert countered.countered.id == offer.id
    assert countered.countered.status is OfferStatus.COUNTERED
    assert (counter.status, counter.from_party, counter.amount_minor) == (
        OfferStatus.PENDING,
        OfferParty.SELLER,
        45_000,
    )
    assert (counter.parent_offer_id, counter.buyer_id) == (offer.id, buyer_a.organization.id)

    # The buyer accepts the counter.
    accepted = await offer_service.accept_offer(
        sessions, offer_id=counter.id, actor=buyer_a.actor, expected_version=1
    )

    assert accepted.offer.status is OfferStatus.ACCEPTED
    order = accepted.order
    assert (order.status, order.buyer_id, order.currency) == (
        OrderStatus.PENDING,
        buyer_a.organization.id,
        "EUR",
    )
    async with sessions() as session:
        [line] = (await session.scalars(select(OrderLine))).all()
    assert (line.order_id, line.listing_id, line.device_id, line.price_minor) == (
        order.id,
        listing.id,
        listing.device_id,
        45_000,
    )
    assert (await reload(sessions, Listing, listing.id)).status is ListingStatus.RESERVED
    assert (await reload(sessions, Device, listing.device_id)).status is DeviceStatus.RESERVED
    assert (await reload(sessions, Offer, other.id)).status is OfferStatus.INVALIDATED
    assert (await reload(sessions, Offer, offer.id)).status is OfferStatus.COUNTERED

    events = await events_after(sessions, cursor)
    a, b = f"buyer:{buyer_a.organization.id}", f"buyer:{buyer_b.organization.id}"
    assert [(e.type, e.entity_type, e.entity_id, e.audiences) for e in events] == [
        ("offer.made", "Offer", offer.id, [a, "operator"]),
        ("offer.countered", "Offer", offer.id, [a, "operator"]),
        ("offer.made", "Offer", counter.id, [a, "operator"]),
        ("listing.reserved", "Listing", listing.id, ["operator", "public"]),
        ("device.reserved", "Device", listing.device_id, [f"client:{world.client.id}", "operator"]),
        ("offer.invalidated", "Offer", other.id, [b, "operator"]),
        ("order.placed", "Order", order.id, [a, "operator"]),
        ("offer.accepted", "Offer", counter.id, [a, "operator"]),
    ]
    assert events[1].changes == {
        "status": "COUNTERED",
        "listingId": listing.id,
        "counterOfferId": counter.id,
    }
    assert events[2].changes["parentOfferId"] == offer.id
    assert events[2].changes["fromParty"] == "SELLER"
    assert events[2].changes["amountMinor"] == 45_000
    assert events[-1].changes == {
        "status": "ACCEPTED",
        "listingId": listing.id,
        "amountMinor": 45_000,
        "currency": "EUR",
        "orderId": order.id,
    }
    assert [e.actor for e in events] == [
        buyer_a.actor.ref,
        world.sales.actor.ref,
        world.sales.actor.ref,
        *[buyer_a.actor.ref] * 5,
    ]
    # Every event carries the entity's version after the change.
    assert events[0].entity_version == 1
    assert events[1].entity_version == 2
    assert events[-1].entity_version == 2


async def test_sales_accepts_a_buyer_offer(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer = await offer_service.make_offer(
        sessions, listing_id=listing.id, amount_minor=42_000, actor=world.buyer_a.actor
    )
    accepted = await offer_service.accept_offer(
        sessions, offer_id=offer.id, actor=world.sales.actor
    )
    assert accepted.offer.status is OfferStatus.ACCEPTED
    assert accepted.order.buyer_id == world.buyer_a.organization.id
    async with sessions() as session:
        price = await session.scalar(select(OrderLine.price_minor))
    assert price == 42_000


async def test_a_buyer_counters_a_seller_counter(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=40_000)
    counter = (
        await offer_service.counter_offer(
            sessions, offer_id=offer.id, amount_minor=48_000, actor=world.sales.actor
        )
    ).offer
    again = await offer_service.counter_offer(
        sessions, offer_id=counter.id, amount_minor=44_000, actor=world.buyer_a.actor
    )
    assert (again.offer.from_party, again.offer.amount_minor) == (OfferParty.BUYER, 44_000)
    assert again.offer.parent_offer_id == counter.id
    assert again.countered.status is OfferStatus.COUNTERED


async def test_make_offer_expiry_is_configurable(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    now = utcnow()
    offer = await offer_service.make_offer(
        sessions,
        listing_id=listing.id,
        amount_minor=100,
        actor=world.buyer_a.actor,
        ttl=timedelta(hours=2),
        now=now,
    )
    assert offer.expires_at == now + timedelta(hours=2)


# --- Make: refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [ListingStatus.PAUSED, ListingStatus.RESERVED, ListingStatus.SOLD, ListingStatus.WITHDRAWN],
)
async def test_an_offer_on_a_listing_that_is_not_active_is_refused(
    sessions: Sessions, world: World, status: ListingStatus
) -> None:
    listing = await create_listing(sessions, world.client, status=status)
    error = await refused(
        sessions,
        ErrorCode.LISTING_NOT_AVAILABLE,
        lambda: offer_service.make_offer(
            sessions,
            listing_id=listing.id,
            amount_minor=100,
            actor=world.buyer_a.actor,
            idempotency_key="k-1",
        ),
    )
    assert error.facts["current_status"] == status.value


async def test_an_offer_on_a_draft_is_not_found_for_a_buyer(
    sessions: Sessions, world: World
) -> None:
    draft = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    error = await refused(
        sessions,
        ErrorCode.NOT_FOUND,
        lambda: offer_service.make_offer(
            sessions, listing_id=draft.id, amount_minor=100, actor=world.buyer_a.actor
        ),
    )
    assert error.facts["field"] == "listingId"


async def test_an_offer_on_an_unknown_listing_is_not_found(
    sessions: Sessions, world: World
) -> None:
    await refused(
        sessions,
        ErrorCode.NOT_FOUND,
        lambda: offer_service.make_offer(
            sessions, listing_id=123_456, amount_minor=100, actor=world.buyer_a.actor
        ),
    )


@pytest.mark.parametrize("amount", [0, -1, 50_001])
async def test_an_offer_must_be_positive_and_at_most_the_list_price(
    sessions: Sessions, world: World, listing: Listing, amount: int
) -> None:
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: offer_service.make_offer(
            sessions, listing_id=listing.id, amount_minor=amount, actor=world.buyer_a.actor
        ),
    )
    assert error.facts["field"] == "amount"


@pytest.mark.parametrize("from_party", list(OfferParty))
async def test_one_pending_offer_per_buyer_and_listing(
    sessions: Sessions, world: World, listing: Listing, from_party: OfferParty
) -> None:
    pending = await create_offer(
        sessions, listing, world.buyer_a.organization, from_party=from_party
    )
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: offer_service.make_offer(
            sessions, listing_id=listing.id, amount_minor=100, actor=world.buyer_a.actor
        ),
    )
    assert error.facts == {"field": "listingId", "offer_id": pending.id}
    # Another buyer may still offer.
    other = await offer_service.make_offer(
        sessions, listing_id=listing.id, amount_minor=100, actor=world.buyer_b.actor
    )
    assert other.status is OfferStatus.PENDING


async def test_a_new_offer_replaces_an_expired_pending_one(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    old = await create_offer(
        sessions, listing, world.buyer_a.organization, expires_at=utcnow() - timedelta(minutes=1)
    )
    cursor = await last_event_id(sessions)
    new = await offer_service.make_offer(
        sessions, listing_id=listing.id, amount_minor=41_000, actor=world.buyer_a.actor
    )
    assert (await reload(sessions, Offer, old.id)).status is OfferStatus.EXPIRED
    events = await events_after(sessions, cursor)
    assert [(e.type, e.entity_id, e.actor) for e in events] == [
        ("offer.expired", old.id, "system:offer-expiry"),
        ("offer.made", new.id, world.buyer_a.actor.ref),
    ]


@pytest.mark.parametrize("who", ["sales", "client_user"])
async def test_only_buyers_make_offers(
    sessions: Sessions, world: World, listing: Listing, who: str
) -> None:
    person = getattr(world, who)
    await refused(
        sessions,
        ErrorCode.FORBIDDEN,
        lambda: offer_service.make_offer(
            sessions, listing_id=listing.id, amount_minor=100, actor=person.actor
        ),
    )


# --- Idempotency (rule 8) ------------------------------------------------------------------


async def test_make_offer_with_a_key_runs_once(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    first = await offer_service.make_offer(
        sessions,
        listing_id=listing.id,
        amount_minor=40_000,
        actor=world.buyer_a.actor,
        idempotency_key="offer-1",
    )
    before = await snapshot(sessions)
    again = await offer_service.make_offer(
        sessions,
        listing_id=listing.id,
        amount_minor=40_000,
        actor=world.buyer_a.actor,
        idempotency_key="offer-1",
    )
    assert again.id == first.id
    assert await snapshot(sessions) == before
    await refused(
        sessions,
        ErrorCode.IDEMPOTENCY_CONFLICT,
        lambda: offer_service.make_offer(
            sessions,
            listing_id=listing.id,
            amount_minor=41_000,
            actor=world.buyer_a.actor,
            idempotency_key="offer-1",
        ),
    )


async def test_accept_with_a_key_returns_the_same_order(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    first = await offer_service.accept_offer(
        sessions, offer_id=offer.id, actor=world.sales.actor, idempotency_key="accept-1"
    )
    before = await snapshot(sessions)
    again = await offer_service.accept_offer(
        sessions, offer_id=offer.id, actor=world.sales.actor, idempotency_key="accept-1"
    )
    assert again.order.id == first.order.id
    assert await snapshot(sessions) == before


async def test_counter_with_a_key_runs_once(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    first = await offer_service.counter_offer(
        sessions,
        offer_id=offer.id,
        amount_minor=46_000,
        actor=world.sales.actor,
        idempotency_key="c-1",
    )
    before = await snapshot(sessions)
    again = await offer_service.counter_offer(
        sessions,
        offer_id=offer.id,
        amount_minor=46_000,
        actor=world.sales.actor,
        idempotency_key="c-1",
    )
    assert again.offer.id == first.offer.id
    assert await snapshot(sessions) == before


# --- Counter, accept, reject, withdraw: refusals --------------------------------------------


async def test_counter_refusals(sessions: Sessions, world: World, listing: Listing) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=40_000)
    sales, buyer_a, buyer_b = world.sales.actor, world.buyer_a.actor, world.buyer_b.actor

    def counter(actor: Any, amount: int, **kwargs: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: offer_service.counter_offer(
            sessions, offer_id=offer.id, amount_minor=amount, actor=actor, **kwargs
        )

    # Rule 4: never above the list price.
    error = await refused(sessions, ErrorCode.INVALID_INPUT, counter(sales, 50_001))
    assert error.facts["field"] == "amount"
    # A seller counter at or below the buyer's offer: accept instead.
    await refused(sessions, ErrorCode.INVALID_INPUT, counter(sales, 40_000))
    # The buyer cannot counter its own offer.
    await refused(sessions, ErrorCode.FORBIDDEN, counter(buyer_a, 39_000))
    # Another buyer does not see it at all.
    await refused(sessions, ErrorCode.NOT_FOUND, counter(buyer_b, 45_000))
    # Rule 9.
    stale = await refused(sessions, ErrorCode.STALE, counter(sales, 45_000, expected_version=3))
    assert stale.facts["current_version"] == 1
    # An unknown offer.
    await refused(
        sessions,
        ErrorCode.NOT_FOUND,
        lambda: offer_service.counter_offer(
            sessions, offer_id=987_654, amount_minor=45_000, actor=sales
        ),
    )


async def test_a_counter_on_a_paused_listing_is_refused(sessions: Sessions, world: World) -> None:
    listing = await create_listing(sessions, world.client, status=ListingStatus.PAUSED)
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    error = await refused(
        sessions,
        ErrorCode.LISTING_NOT_AVAILABLE,
        lambda: offer_service.counter_offer(
            sessions, offer_id=offer.id, amount_minor=45_000, actor=world.sales.actor
        ),
    )
    assert error.facts["current_status"] == "PAUSED"


@pytest.mark.parametrize(
    "status",
    [s for s in OfferStatus if s is not OfferStatus.PENDING],
)
@pytest.mark.parametrize("action", ["counter", "accept", "reject", "withdraw"])
async def test_only_pending_offers_can_be_answered(
    sessions: Sessions, world: World, listing: Listing, status: OfferStatus, action: str
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization, status=status)
    actor = world.buyer_a.actor if action == "withdraw" else world.sales.actor
    error = await refused(
        sessions, ErrorCode.INVALID_TRANSITION, _answer(sessions, action, offer, actor)
    )
    assert error.facts == {"current_status": status.value, "current_version": 1}


def _answer(
    sessions: Sessions, action: str, offer: Offer, actor: Any
) -> Callable[[], Awaitable[Any]]:
    if action == "counter":
        return lambda: offer_service.counter_offer(
            sessions, offer_id=offer.id, amount_minor=45_000, actor=actor
        )
    if action == "accept":
        return lambda: offer_service.accept_offer(sessions, offer_id=offer.id, actor=actor)
    if action == "reject":
        return lambda: offer_service.reject_offer(sessions, offer_id=offer.id, actor=actor)
    return lambda: offer_service.withdraw_offer(sessions, offer_id=offer.id, actor=actor)


@pytest.mark.parametrize("action", ["counter", "accept", "reject", "withdraw"])
async def test_an_expired_pending_offer_cannot_be_answered(
    sessions: Sessions, world: World, listing: Listing, action: str
) -> None:
    offer = await create_offer(
        sessions, listing, world.buyer_a.organization, expires_at=utcnow() - timedelta(seconds=1)
    )
    actor = world.buyer_a.actor if action == "withdraw" else world.sales.actor
    error = await refused(
        sessions, ErrorCode.INVALID_TRANSITION, _answer(sessions, action, offer, actor)
    )
    assert error.facts["current_status"] == "EXPIRED"


@pytest.mark.parametrize(
    ("from_party", "action", "who", "code"),
    [
        # A buyer's offer: the seller answers it, the buyer withdraws it.
        (OfferParty.BUYER, "accept", "buyer_a", ErrorCode.FORBIDDEN),
        (OfferParty.BUYER, "reject", "buyer_a", ErrorCode.FORBIDDEN),
        (OfferParty.BUYER, "withdraw", "sales", ErrorCode.FORBIDDEN),
        # A seller's counter: the buyer answers it, the seller withdraws it.
        (OfferParty.SELLER, "accept", "sales", ErrorCode.FORBIDDEN),
        (OfferParty.SELLER, "reject", "sales", ErrorCode.FORBIDDEN),
        (OfferParty.SELLER, "withdraw", "buyer_a", ErrorCode.FORBIDDEN),
        # Another buyer's negotiation does not exist for buyer B.
        (OfferParty.SELLER, "accept", "buyer_b", ErrorCode.NOT_FOUND),
        (OfferParty.SELLER, "reject", "buyer_b", ErrorCode.NOT_FOUND),
        (OfferParty.BUYER, "withdraw", "buyer_b", ErrorCode.NOT_FOUND),
        # A client never negotiates.
        (OfferParty.BUYER, "accept", "client_user", ErrorCode.FORBIDDEN),
    ],
)
async def test_the_wrong_party_is_refused(
    sessions: Sessions,
    world: World,
    listing: Listing,
    from_party: OfferParty,
    action: str,
    who: str,
    code: ErrorCode,
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization, from_party=from_party)
    await refused(sessions, code, _answer(sessions, action, offer, getattr(world, who).actor))


@pytest.mark.parametrize(
    ("from_party", "action", "who", "status", "event_type"),
    [
        (OfferParty.BUYER, "reject", "sales", OfferStatus.REJECTED, "offer.rejected"),
        (OfferParty.BUYER, "withdraw", "buyer_a", OfferStatus.WITHDRAWN, "offer.withdrawn"),
        (OfferParty.SELLER, "reject", "buyer_a", OfferStatus.REJECTED, "offer.rejected"),
        (OfferParty.SELLER, "withdraw", "sales", OfferStatus.WITHDRAWN, "offer.withdrawn"),
    ],
)
async def test_reject_and_withdraw(
    sessions: Sessions,
    world: World,
    listing: Listing,
    from_party: OfferParty,
    action: str,
    who: str,
    status: OfferStatus,
    event_type: str,
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization, from_party=from_party)
    cursor = await last_event_id(sessions)
    actor = getattr(world, who).actor
    result = await _answer(sessions, action, offer, actor)()
    assert (result.status, result.version) == (status, 2)
    [event] = await events_after(sessions, cursor)
    assert (event.type, event.entity_id, event.entity_version, event.actor) == (
        event_type,
        offer.id,
        2,
        actor.ref,
    )
    assert event.audiences == [f"buyer:{world.buyer_a.organization.id}", "operator"]
    assert (await reload(sessions, Listing, listing.id)).status is ListingStatus.ACTIVE


async def test_reject_with_a_stale_version_is_refused(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    error = await refused(
        sessions,
        ErrorCode.STALE,
        lambda: offer_service.reject_offer(
            sessions, offer_id=offer.id, actor=world.sales.actor, expected_version=2
        ),
    )
    assert error.facts["current_version"] == 1


@pytest.mark.parametrize("status", [ListingStatus.PAUSED, ListingStatus.RESERVED])
async def test_accept_on_a_listing_not_for_sale_is_not_available(
    sessions: Sessions, world: World, status: ListingStatus
) -> None:
    listing = await create_listing(sessions, world.client, status=status)
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    error = await refused(
        sessions,
        ErrorCode.NOT_AVAILABLE,
        lambda: offer_service.accept_offer(sessions, offer_id=offer.id, actor=world.sales.actor),
    )
    assert error.facts["current_status"] == status.value


async def test_concurrent_accepts_on_one_listing_have_one_winner(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer_a = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=41_000)
    offer_b = await create_offer(sessions, listing, world.buyer_b.organization, amount_minor=42_000)

    results = await asyncio.gather(
        offer_service.accept_offer(sessions, offer_id=offer_a.id, actor=world.sales.actor),
        offer_service.accept_offer(sessions, offer_id=offer_b.id, actor=world.admin.actor),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, offer_service.AcceptResult)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0].code is ErrorCode.NOT_AVAILABLE
    assert losers[0].facts["current_status"] == "RESERVED"
    async with sessions() as session:
        orders = (await session.scalars(select(Order))).all()
        statuses = {
            row.id: row.status for row in await session.execute(select(Offer.id, Offer.status))
        }
    assert len(orders) == 1
    assert sorted(statuses.values()) == [OfferStatus.ACCEPTED, OfferStatus.INVALIDATED]


# --- Reading -------------------------------------------------------------------------------


async def test_list_offers_shows_a_buyer_its_own_only(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    a = await create_offer(sessions, listing, world.buyer_a.organization)
    b = await create_offer(sessions, listing, world.buyer_b.organization)
    counter = await create_offer(
        sessions,
        listing,
        world.buyer_a.organization,
        status=OfferStatus.REJECTED,
        from_party=OfferParty.SELLER,
    )

    async def ids(actor: Any, offer_filter: OfferFilter | None = None) -> list[int]:
        async with sessions() as session:
            page = await offer_queries.list_offers(
                session, offer_filter or OfferFilter(), actor=actor, after=None, limit=50
            )
        assert page.total == len(page.rows)
        return [row.id for row in page.rows]

    assert await ids(world.sales.actor) == [counter.id, b.id, a.id]
    assert await ids(world.buyer_a.actor) == [counter.id, a.id]
    assert await ids(world.buyer_b.actor) == [b.id]
    assert await ids(world.buyer_a.actor, OfferFilter(mine=True)) == [a.id]
    assert await ids(world.sales.actor, OfferFilter(mine=True)) == [counter.id]
    assert await ids(
        world.sales.actor, OfferFilter(statuses=(OfferStatus.PENDING,), listing_id=listing.id)
    ) == [b.id, a.id]
    assert await ids(world.sales.actor, OfferFilter(listing_id=listing.id + 1)) == []
    async with sessions() as session:
        assert await offer_queries.get_offer(session, b.id, actor=world.buyer_a.actor) is None
        assert await offer_queries.get_offer(session, b.id, actor=world.buyer_b.actor) is not None
        with pytest.raises(DomainError) as error:
            await offer_queries.list_offers(
                session, OfferFilter(), actor=world.client_user.actor, after=None, limit=5
            )
    assert error.value.code is ErrorCode.FORBIDDEN
