"""Listings on SQLite and PostgreSQL: rule 1, the status machine through the services, events,
the board's filters, sorting and pages, and what a refusal leaves (nothing)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    BlacklistStatus,
    CosmeticGrade,
    DeviceStatus,
    ListingStatus,
    LockStatus,
    OfferParty,
    OfferStatus,
    OrganizationKind,
)
from app.models import Device, Listing, Offer
from app.services import listing_queries
from app.services import listings as listing_service
from app.services.listing_queries import ListingFilter, ListingSort
from tests.support.events import events_after, last_event_id, reload
from tests.support.factories import create_client
from tests.support.trade import (
    World,
    create_device,
    create_listing,
    create_offer,
    create_world,
    snapshot,
)

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


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


# --- Create (rule 1) -----------------------------------------------------------------------


async def test_create_listing_writes_a_draft_and_its_event(
    sessions: Sessions, world: World
) -> None:
    device = await create_device(sessions, world.client)
    cursor = await last_event_id(sessions)

    listing = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=45_000, actor=world.sales.actor
    )

    stored = await reload(sessions, Listing, listing.id)
    assert (stored.status, stored.price_minor, stored.currency, stored.version) == (
        ListingStatus.DRAFT,
        45_000,
        "EUR",
        1,
    )
    assert (await reload(sessions, Device, device.id)).status is DeviceStatus.GRADED
    [event] = await events_after(sessions, cursor)
    assert (event.type, event.entity_type, event.entity_id, event.entity_version) == (
        "listing.created",
        "Listing",
        listing.id,
        1,
    )
    assert event.audiences == ["operator"]
    assert event.actor == world.sales.actor.ref
    assert event.changes == {
        "status": "DRAFT",
        "deviceId": device.id,
        "priceMinor": 45_000,
        "currency": "EUR",
    }


async def test_the_listing_currency_is_the_operators(sessions: Sessions) -> None:
    world = await create_world(sessions, currency="GBP")
    device = await create_device(sessions, world.client)
    listing = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=100, actor=world.sales.actor
    )
    assert listing.currency == "GBP"


async def test_the_listing_currency_is_eur_without_an_operator(sessions: Sessions) -> None:
    client = await create_client(sessions)
    device = await create_device(sessions, client)
    sales = Actor(ActorKind.USER, subject_id=1, organization_kind=OrganizationKind.OPERATOR)
    listing = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=100, actor=sales
    )
    assert listing.currency == "EUR"


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"data_wiped": False}, "its data is not wiped"),
        ({"lock_status": LockStatus.LOCKED}, "it is locked"),
        ({"blacklist_status": BlacklistStatus.BLACKLISTED}, "it is blacklisted"),
        ({"graded": False}, "it has no grade"),
        (
            {"data_wiped": False, "lock_status": LockStatus.LOCKED},
            "its data is not wiped, it is locked",
        ),
    ],
)
async def test_create_listing_refuses_a_device_that_fails_rule_1(
    sessions: Sessions, world: World, fields: dict[str, Any], missing: str
) -> None:
    device = await create_device(sessions, world.client, **fields)
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: listing_service.create_listing(
            sessions, device_id=device.id, price_minor=100, actor=world.sales.actor
        ),
    )
    assert error.facts["field"] == "deviceId"
    assert missing in error.message


@pytest.mark.parametrize(
    "status",
    [DeviceStatus.RECEIVED, DeviceStatus.QUARANTINED, DeviceStatus.AVAILABLE, DeviceStatus.SOLD],
)
async def test_create_listing_refuses_a_device_that_is_not_graded(
    sessions: Sessions, world: World, status: DeviceStatus
) -> None:
    device = await create_device(sessions, world.client, status=status)
    error = await refused(
        sessions,
        ErrorCode.INVALID_TRANSITION,
        lambda: listing_service.create_listing(
            sessions, device_id=device.id, price_minor=100, actor=world.sales.actor
        ),
    )
    assert error.facts["current_status"] == status.value
    assert error.facts["current_version"] == device.version


async def test_one_open_listing_per_device(sessions: Sessions, world: World) -> None:
    device = await create_device(sessions, world.client)
    first = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=100, actor=world.sales.actor
    )
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: listing_service.create_listing(
            sessions, device_id=device.id, price_minor=200, actor=world.sales.actor
        ),
    )
    assert error.facts == {"field": "deviceId", "listing_id": first.id}
    assert f"listing {first.id}, DRAFT" in error.message


async def test_a_withdrawn_listing_does_not_block_a_new_one(
    sessions: Sessions, world: World
) -> None:
    device = await create_device(sessions, world.client)
    first = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=100, actor=world.sales.actor
    )
    await listing_service.withdraw_listing(sessions, listing_id=first.id, actor=world.sales.actor)
    second = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=200, actor=world.sales.actor
    )
    assert second.id != first.id


@pytest.mark.parametrize("price", [0, -5])
async def test_create_listing_refuses_a_price_that_is_not_positive(
    sessions: Sessions, world: World, price: int
) -> None:
    device = await create_device(sessions, world.client)
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: listing_service.create_listing(
            sessions, device_id=device.id, price_minor=price, actor=world.sales.actor
        ),
    )
    assert error.facts["field"] == "price"


async def test_create_listing_refuses_an_unknown_device(sessions: Sessions, world: World) -> None:
    error = await refused(
        sessions,
        ErrorCode.NOT_FOUND,
        lambda: listing_service.create_listing(
            sessions, device_id=999_999, price_minor=100, actor=world.sales.actor
        ),
    )
    assert error.facts["field"] == "deviceId"


# --- Transitions through the services (a matrix) --------------------------------------------

ACTIONS: dict[str, tuple[set[ListingStatus], ListingStatus | None]] = {
    "publish": ({ListingStatus.DRAFT, ListingStatus.PAUSED}, ListingStatus.ACTIVE),
    "pause": ({ListingStatus.ACTIVE}, ListingStatus.PAUSED),
    "withdraw": (
        {ListingStatus.DRAFT, ListingStatus.ACTIVE, ListingStatus.PAUSED},
        ListingStatus.WITHDRAWN,
    ),
    "reprice": ({ListingStatus.DRAFT, ListingStatus.ACTIVE, ListingStatus.PAUSED}, None),
}
MATRIX = list(itertools.product(ACTIONS, ListingStatus))


def _action(
    sessions: Sessions, name: str, listing_id: int, actor: Actor, expected: int | None = None
) -> Awaitable[Listing]:
    if name == "publish":
        return listing_service.publish_listing(
            sessions, listing_id=listing_id, actor=actor, expected_version=expected
        )
    if name == "pause":
        return listing_service.pause_listing(
            sessions, listing_id=listing_id, actor=actor, expected_version=expected
        )
    if name == "withdraw":
        return listing_service.withdraw_listing(
            sessions, listing_id=listing_id, actor=actor, expected_version=expected
        )
    return listing_service.reprice_listing(
        sessions, listing_id=listing_id, price_minor=12_345, actor=actor, expected_version=expected
    )


@pytest.mark.parametrize(("action", "status"), MATRIX, ids=[f"{a}-{s}" for a, s in MATRIX])
async def test_listing_actions_from_every_status(
    sessions: Sessions, world: World, action: str, status: ListingStatus
) -> None:
    listing = await create_listing(sessions, world.client, status=status)
    allowed, target = ACTIONS[action]
    if status not in allowed:
        error = await refused(
            sessions,
            ErrorCode.INVALID_TRANSITION,
            lambda: _action(sessions, action, listing.id, world.sales.actor),
        )
        assert error.facts["current_status"] == status.value
        assert error.facts["current_version"] == 1
        return
    cursor = await last_event_id(sessions)
    result = await _action(sessions, action, listing.id, world.sales.actor, expected=1)
    assert result.status is (target or status)
    assert result.version == 2
    events = await events_after(sessions, cursor)
    assert events[0].entity_type == "Listing"


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_listing_actions_refuse_a_stale_version(
    sessions: Sessions, world: World, action: str
) -> None:
    listing = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    if action == "pause":
        listing = await create_listing(sessions, world.client, status=ListingStatus.ACTIVE)
    error = await refused(
        sessions,
        ErrorCode.STALE,
        lambda: _action(sessions, action, listing.id, world.sales.actor, expected=7),
    )
    assert error.facts["current_version"] == 1


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_listing_actions_refuse_an_unknown_listing(
    sessions: Sessions, world: World, action: str
) -> None:
    error = await refused(
        sessions,
        ErrorCode.NOT_FOUND,
        lambda: _action(sessions, action, 424_242, world.sales.actor),
    )
    assert error.facts["field"] == "listingId"


# --- Publish, pause, withdraw: the device and the offers -------------------------------------


async def test_publishing_a_draft_lists_the_device(sessions: Sessions, world: World) -> None:
    device = await create_device(sessions, world.client)
    listing = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=30_000, actor=world.sales.actor
    )
    cursor = await last_event_id(sessions)

    published = await listing_service.publish_listing(
        sessions, listing_id=listing.id, actor=world.sales.actor, expected_version=1
    )

    assert (published.status, published.version) == (ListingStatus.ACTIVE, 2)
    assert (await reload(sessions, Device, device.id)).status is DeviceStatus.AVAILABLE
    events = await events_after(sessions, cursor)
    assert [(e.type, e.entity_type, e.entity_id) for e in events] == [
        ("listing.published", "Listing", listing.id),
        ("device.listed", "Device", device.id),
    ]
    assert events[0].audiences == ["operator", "public"]
    assert events[0].changes == {
        "status": "ACTIVE",
        "deviceId": device.id,
        "priceMinor": 30_000,
        "currency": "EUR",
    }
    assert events[1].audiences == ["client:" + str(world.client.id), "operator"]
    assert events[1].changes == {"status": "AVAILABLE", "listingId": listing.id}


async def test_publishing_a_draft_checks_rule_1_again(sessions: Sessions, world: World) -> None:
    device = await create_device(sessions, world.client)
    listing = await listing_service.create_listing(
        sessions, device_id=device.id, price_minor=30_000, actor=world.sales.actor
    )
    async with sessions.begin() as session:
        row = await session.get_one(Device, device.id)
        row.lock_status = LockStatus.LOCKED
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: listing_service.publish_listing(
            sessions, listing_id=listing.id, actor=world.sales.actor
        ),
    )
    assert "it is locked" in error.message


async def test_pausing_keeps_the_device_available_and_the_offers_pending(
    sessions: Sessions, world: World
) -> None:
    listing = await create_listing(sessions, world.client)
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    cursor = await last_event_id(sessions)

    paused = await listing_service.pause_listing(
        sessions, listing_id=listing.id, actor=world.sales.actor
    )

    assert paused.status is ListingStatus.PAUSED
    assert (await reload(sessions, Device, listing.device_id)).status is DeviceStatus.AVAILABLE
    assert (await reload(sessions, Offer, offer.id)).status is OfferStatus.PENDING
    [event] = await events_after(sessions, cursor)
    assert (event.type, event.audiences) == ("listing.paused", ["operator", "public"])

    resumed = await listing_service.publish_listing(
        sessions, listing_id=listing.id, actor=world.sales.actor
    )
    assert resumed.status is ListingStatus.ACTIVE
    assert (await reload(sessions, Device, listing.device_id)).status is DeviceStatus.AVAILABLE


@pytest.mark.parametrize("status", [ListingStatus.ACTIVE, ListingStatus.PAUSED])
async def test_withdrawing_delists_the_device_and_invalidates_pending_offers(
    sessions: Sessions, world: World, status: ListingStatus
) -> None:
    listing = await create_listing(sessions, world.client, status=status)
    pending_a = await create_offer(sessions, listing, world.buyer_a.organization)
    pending_b = await create_offer(
        sessions, listing, world.buyer_b.organization, from_party=OfferParty.SELLER
    )
    rejected = await create_offer(
        sessions, listing, world.buyer_b.organization, status=OfferStatus.REJECTED
    )
    cursor = await last_event_id(sessions)

    withdrawn = await listing_service.withdraw_listing(
        sessions, listing_id=listing.id, actor=world.sales.actor, reason="Damaged in storage"
    )

    assert withdrawn.status is ListingStatus.WITHDRAWN
    assert (await reload(sessions, Device, listing.device_id)).status is DeviceStatus.GRADED
    assert (await reload(sessions, Offer, pending_a.id)).status is OfferStatus.INVALIDATED
    assert (await reload(sessions, Offer, pending_b.id)).status is OfferStatus.INVALIDATED
    assert (await reload(sessions, Offer, rejected.id)).status is OfferStatus.REJECTED
    events = await events_after(sessions, cursor)
    assert [(e.type, e.entity_id) for e in events] == [
        ("offer.invalidated", pending_a.id),
        ("offer.invalidated", pending_b.id),
        ("listing.withdrawn", listing.id),
        ("device.delisted", listing.device_id),
    ]
    assert events[0].audiences == ["buyer:" + str(world.buyer_a.organization.id), "operator"]
    assert events[0].changes["reason"] == "Damaged in storage"
    assert events[2].audiences == ["operator", "public"]


async def test_withdrawing_a_draft_leaves_the_device_graded_and_stays_private(
    sessions: Sessions, world: World
) -> None:
    listing = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    cursor = await last_event_id(sessions)
    await listing_service.withdraw_listing(sessions, listing_id=listing.id, actor=world.sales.actor)
    assert (await reload(sessions, Device, listing.device_id)).status is DeviceStatus.GRADED
    [event] = await events_after(sessions, cursor)
    assert (event.type, event.audiences) == ("listing.withdrawn", ["operator"])


# --- Reprice -------------------------------------------------------------------------------


async def test_reprice_changes_the_price_with_a_public_event(
    sessions: Sessions, world: World
) -> None:
    listing = await create_listing(sessions, world.client, price_minor=50_000)
    below = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=40_000)
    cursor = await last_event_id(sessions)

    repriced = await listing_service.reprice_listing(
        sessions, listing_id=listing.id, price_minor=55_000, actor=world.sales.actor
    )

    assert (repriced.price_minor, repriced.version) == (55_000, 2)
    [event] = await events_after(sessions, cursor)
    assert event.type == "listing.price_changed"
    assert event.audiences == ["operator", "public"]
    assert event.changes == {
        "status": "ACTIVE",
        "deviceId": listing.device_id,
        "priceMinor": 55_000,
        "previousPriceMinor": 50_000,
        "currency": "EUR",
    }
    assert (await reload(sessions, Offer, below.id)).status is OfferStatus.PENDING


async def test_reprice_below_pending_offers_invalidates_them(
    sessions: Sessions, world: World
) -> None:
    listing = await create_listing(sessions, world.client, price_minor=50_000)
    above = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=48_000)
    equal = await create_offer(sessions, listing, world.buyer_b.organization, amount_minor=45_000)
    cursor = await last_event_id(sessions)

    await listing_service.reprice_listing(
        sessions, listing_id=listing.id, price_minor=45_000, actor=world.sales.actor
    )

    assert (await reload(sessions, Offer, above.id)).status is OfferStatus.INVALIDATED
    assert (await reload(sessions, Offer, equal.id)).status is OfferStatus.PENDING
    events = await events_after(sessions, cursor)
    assert [(e.type, e.entity_id) for e in events] == [
        ("listing.price_changed", listing.id),
        ("offer.invalidated", above.id),
    ]
    assert events[1].audiences == ["buyer:" + str(world.buyer_a.organization.id), "operator"]


async def test_reprice_to_the_same_price_writes_nothing(sessions: Sessions, world: World) -> None:
    listing = await create_listing(sessions, world.client, price_minor=50_000)
    before = await snapshot(sessions)
    same = await listing_service.reprice_listing(
        sessions, listing_id=listing.id, price_minor=50_000, actor=world.sales.actor
    )
    assert same.version == 1
    assert await snapshot(sessions) == before


async def test_reprice_of_a_draft_stays_private(sessions: Sessions, world: World) -> None:
    listing = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    cursor = await last_event_id(sessions)
    await listing_service.reprice_listing(
        sessions, listing_id=listing.id, price_minor=1_000, actor=world.sales.actor
    )
    [event] = await events_after(sessions, cursor)
    assert event.audiences == ["operator"]


@pytest.mark.parametrize("price", [0, -100])
async def test_reprice_refuses_a_price_that_is_not_positive(
    sessions: Sessions, world: World, price: int
) -> None:
    listing = await create_listing(sessions, world.client)
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: listing_service.reprice_listing(
            sessions, listing_id=listing.id, price_minor=price, actor=world.sales.actor
        ),
    )
    assert error.facts["field"] == "price"


# --- The board -----------------------------------------------------------------------------


@pytest.fixture
async def board(sessions: Sessions, world: World) -> dict[str, Listing]:
    """Six listings of every kind, created in this order (ids ascending)."""
    client = world.client
    return {
        "iphone_a": await create_listing(
            sessions, client, price_minor=60_000, cosmetic=CosmeticGrade.A, storage_gb=256
        ),
        "iphone_c": await create_listing(
            sessions, client, price_minor=30_000, cosmetic=CosmeticGrade.C, colour="Blue"
        ),
        "galaxy_b": await create_listing(
            sessions,
            client,
            price_minor=45_000,
            make="Samsung",
            model="Galaxy S22",
            cosmetic=CosmeticGrade.B,
        ),
        "pixel_paused": await create_listing(
            sessions,
            client,
            price_minor=20_000,
            make="Google",
            model="Pixel 7",
            status=ListingStatus.PAUSED,
        ),
        "draft": await create_listing(
            sessions, client, price_minor=10_000, status=ListingStatus.DRAFT
        ),
        "sold": await create_listing(
            sessions, client, price_minor=70_000, status=ListingStatus.SOLD
        ),
    }


async def _ids(
    sessions: Sessions,
    actor: Actor,
    listing_filter: ListingFilter | None = None,
    sort: ListingSort = ListingSort.NEWEST,
) -> list[int]:
    async with sessions() as session:
        page = await listing_queries.list_listings(
            session,
            listing_filter or ListingFilter(),
            actor=actor,
            sort=sort,
            after=None,
            limit=50,
        )
    assert page.total == len(page.rows)
    return [row.id for row in page.rows]


async def test_buyers_see_active_listings_only_whatever_they_ask(
    sessions: Sessions, world: World, board: dict[str, Listing]
) -> None:
    active = [board[name].id for name in ("galaxy_b", "iphone_c", "iphone_a")]
    buyer = world.buyer_a.actor
    assert await _ids(sessions, buyer) == active
    asked = ListingFilter(statuses=(ListingStatus.DRAFT, ListingStatus.SOLD))
    assert await _ids(sessions, buyer, asked) == active
    assert await _ids(sessions, world.client_user.actor) == active


async def test_operators_see_every_status_and_may_filter_by_it(
    sessions: Sessions, world: World, board: dict[str, Listing]
) -> None:
    sales = world.sales.actor
    assert len(await _ids(sessions, sales)) == 6
    drafts = await _ids(sessions, sales, ListingFilter(statuses=(ListingStatus.DRAFT,)))
    assert drafts == [board["draft"].id]


FILTERS = [
    (ListingFilter(make="apple"), ["iphone_c", "iphone_a"]),
    (ListingFilter(make="Samsung", model="galaxy s22"), ["galaxy_b"]),
    (ListingFilter(storage_gb=256), ["iphone_a"]),
    (ListingFilter(grades=(CosmeticGrade.A, CosmeticGrade.B)), ["galaxy_b", "iphone_a"]),
    (ListingFilter(grades=(CosmeticGrade.D,)), []),
    (ListingFilter(price_min=30_000, price_max=45_000), ["galaxy_b", "iphone_c"]),
    (ListingFilter(price_min=45_001), ["iphone_a"]),
    (ListingFilter(text="GALAXY"), ["galaxy_b"]),
    (ListingFilter(text="blue"), ["iphone_c"]),
    (ListingFilter(text="%"), []),
    (ListingFilter(make="Apple", grades=(CosmeticGrade.C,), price_max=30_000), ["iphone_c"]),
]


async def test_board_filters(sessions: Sessions, world: World, board: dict[str, Listing]) -> None:
    for listing_filter, expected in FILTERS:
        ids = await _ids(sessions, world.buyer_a.actor, listing_filter)
        assert ids == [board[name].id for name in expected], listing_filter


async def test_board_sorting(sessions: Sessions, world: World, board: dict[str, Listing]) -> None:
    orders = {
        ListingSort.NEWEST: ["galaxy_b", "iphone_c", "iphone_a"],
        ListingSort.PRICE_ASC: ["iphone_c", "galaxy_b", "iphone_a"],
        ListingSort.PRICE_DESC: ["iphone_a", "galaxy_b", "iphone_c"],
    }
    for sort, expected in orders.items():
        ids = await _ids(sessions, world.buyer_a.actor, sort=sort)
        assert ids == [board[name].id for name in expected], sort


@pytest.mark.parametrize("sort", list(ListingSort))
async def test_board_pages_cover_every_listing_once(
    sessions: Sessions, world: World, sort: ListingSort
) -> None:
    for price in (500, 300, 300, 700, 300, 100, 900):  # ties on price: id breaks them
        await create_listing(sessions, world.client, price_minor=price)
    seen: list[int] = []
    after = None
    async with sessions() as session:
        everything = await listing_queries.list_listings(
            session, ListingFilter(), actor=world.buyer_a.actor, sort=sort, after=None, limit=50
        )
        while True:
            page = await listing_queries.list_listings(
                session, ListingFilter(), actor=world.buyer_a.actor, sort=sort, after=after, limit=3
            )
            assert page.total == 7
            seen.extend(row.id for row in page.rows)
            if not page.has_next:
                break
            after = page.keys[-1]
    assert seen == [row.id for row in everything.rows]
    assert len(set(seen)) == 7


@pytest.mark.parametrize(
    ("listing_filter", "field"),
    [
        (ListingFilter(price_min=-1), "priceMin"),
        (ListingFilter(price_max=-1), "priceMax"),
        (ListingFilter(price_min=10, price_max=5), "priceMin"),
    ],
)
async def test_board_refuses_a_bad_price_range(
    sessions: Sessions, world: World, listing_filter: ListingFilter, field: str
) -> None:
    with pytest.raises(DomainError) as error:
        await _ids(sessions, world.buyer_a.actor, listing_filter)
    assert error.value.code is ErrorCode.INVALID_INPUT
    assert error.value.facts["field"] == field


@pytest.mark.parametrize("status", list(ListingStatus))
async def test_get_listing_hides_drafts_from_everyone_but_operators(
    sessions: Sessions, world: World, status: ListingStatus
) -> None:
    listing = await create_listing(sessions, world.client, status=status)
    async with sessions() as session:
        for_sales = await listing_queries.get_listing(session, listing.id, actor=world.sales.actor)
        for_buyer = await listing_queries.get_listing(
            session, listing.id, actor=world.buyer_a.actor
        )
    assert for_sales is not None
    assert (for_buyer is None) is (status is ListingStatus.DRAFT)
