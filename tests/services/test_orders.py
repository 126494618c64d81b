"""Orders through the services, on SQLite and PostgreSQL: buy, confirm, cancel, complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import ANONYMOUS, Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OfferParty,
    OfferStatus,
    OrderStatus,
    Role,
)
from app.models import Listing, Offer, OrderLine
from app.services import order_queries, orders, shipments
from tests.support.auth import buyer_actor, client_actor, operator
from tests.support.events import events_after, kinds, last_event_id
from tests.support.factories import create_buyer
from tests.support.orders import create_listed_device, order_status, snapshot, statuses, trade_in

Sessions = async_sessionmaker[AsyncSession]
SALES = operator(Role.SALES)
WAREHOUSE = operator(Role.WAREHOUSE)


async def refused(sessions: Sessions, call: object, code: ErrorCode) -> DomainError:
    """Await ``call``; it must raise ``code`` and leave every row and event as it was."""
    before = await snapshot(sessions)
    with pytest.raises(DomainError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code is code, caught.value
    assert await snapshot(sessions) == before
    return caught.value


async def test_an_order_lives_from_pending_to_completed(sessions: Sessions) -> None:
    buyer = await create_buyer(sessions)
    listed = await create_listed_device(sessions, price_minor=25000)
    L, D = listed.listing_id, listed.device_id

    start = await last_event_id(sessions)
    order = await orders.buy_listings(sessions, listing_ids=[L], actor=buyer_actor(buyer))
    assert (order.status, order.version, order.buyer_id) == (OrderStatus.PENDING, 1, buyer.id)
    assert await statuses(sessions, listed) == (ListingStatus.RESERVED, DeviceStatus.RESERVED)
    placed = await events_after(sessions, start)
    assert kinds(placed) == [
        ("listing.reserved", "Listing", L),
        ("device.reserved", "Device", D),
        ("order.placed", "Order", order.id),
    ]
    assert placed[2].changes == {
        "status": "PENDING",
        "listingIds": [L],
        "totalMinor": 25000,
        "currency": "EUR",
    }
    assert placed[2].audiences == [f"buyer:{buyer.id}", "operator"]
    assert placed[1].audiences == [f"client:{listed.client_id}", "operator"]
    assert placed[0].audiences == ["operator", "public"]

    step = await last_event_id(sessions)
    confirmed = await orders.confirm_order(
        sessions, order_id=order.id, actor=SALES, expected_version=1
    )
    assert (confirmed.status, confirmed.version) == (OrderStatus.CONFIRMED, 2)
    assert await statuses(sessions, listed) == (ListingStatus.RESERVED, DeviceStatus.SOLD)
    assert kinds(await events_after(sessions, step)) == [
        ("device.sold", "Device", D),
        ("order.confirmed", "Order", order.id),
    ]

    step = await last_event_id(sessions)
    shipment = await shipments.ship_order(
        sessions,
        order_id=order.id,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
        actor=WAREHOUSE,
        expected_version=2,
    )
    assert await order_status(sessions, order.id) == (OrderStatus.SHIPPED, 3)
    assert await statuses(sessions, listed) == (ListingStatus.SOLD, DeviceStatus.SHIPPED)
    assert kinds(await events_after(sessions, step)) == [
        ("listing.sold", "Listing", L),
        ("device.shipped", "Device", D),
        ("shipment.shipped", "Shipment", shipment.id),
        ("order.shipped", "Order", order.id),
    ]

    step = await last_event_id(sessions)
    delivered = await shipments.mark_delivered(sessions, order_id=order.id, actor=WAREHOUSE)
    assert delivered.delivered_at is not None
    assert await order_status(sessions, order.id) == (OrderStatus.DELIVERED, 4)
    assert await statuses(sessions, listed) == (ListingStatus.SOLD, DeviceStatus.DELIVERED)
    assert kinds(await events_after(sessions, step)) == [
        ("shipment.delivered", "Shipment", shipment.id),
        ("device.delivered", "Device", D),
        ("order.delivered", "Order", order.id),
    ]

    step = await last_event_id(sessions)
    completed = await orders.complete_order(
        sessions, order_id=order.id, actor=SALES, expected_version=4
    )
    assert (completed.status, completed.version) == (OrderStatus.COMPLETED, 5)
    assert await statuses(sessions, listed) == (ListingStatus.SOLD, DeviceStatus.DELIVERED)
    assert kinds(await events_after(sessions, step)) == [("order.completed", "Order", order.id)]

    # Every event carries its entity's version after the change: the order's are 1..5.
    order_events = [e for e in await events_after(sessions, start) if e.entity_type == "Order"]
    assert [e.entity_version for e in order_events] == [1, 2, 3, 4, 5]
    assert all(e.actor.startswith("user:") for e in order_events)


async def test_one_order_takes_several_listings(sessions: Sessions) -> None:
    buyer = await create_buyer(sessions)
    listed = [await create_listed_device(sessions, price_minor=p) for p in (10000, 2550, 999)]
    order = await orders.buy_listings(
        sessions,
        listing_ids=[item.listing_id for item in reversed(listed)],
        actor=buyer_actor(buyer),
    )
    async with sessions() as session:
        lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    assert sorted((line.listing_id, line.device_id, line.price_minor) for line in lines) == [
        (item.listing_id, item.device_id, item.price_minor) for item in listed
    ]
    assert not any(line.released for line in lines)
    for item in listed:
        assert await statuses(sessions, item) == (ListingStatus.RESERVED, DeviceStatus.RESERVED)


async def test_several_listings_are_all_or_nothing(sessions: Sessions) -> None:
    first = await trade_in(sessions, OrderStatus.PENDING)
    free = [await create_listed_device(sessions) for _ in range(2)]
    taken = first.listed[0].listing_id
    ids = [free[0].listing_id, taken, free[1].listing_id]
    other = buyer_actor(await create_buyer(sessions))

    error = await refused(
        sessions,
        orders.buy_listings(sessions, listing_ids=ids, actor=other),
        ErrorCode.NOT_AVAILABLE,
    )
    assert error.facts["current_status"] == "RESERVED"
    for item in free:
        assert await statuses(sessions, item) == (ListingStatus.ACTIVE, DeviceStatus.AVAILABLE)


@pytest.mark.parametrize(
    ("listing_ids", "field"),
    [
        pytest.param([], "listingIds", id="empty"),
        pytest.param([1, 1], "listingIds", id="twice"),
        pytest.param(list(range(1, 102)), "listingIds", id="too-many"),
    ],
)
async def test_bad_listing_lists_are_invalid_input(
    sessions: Sessions, listing_ids: list[int], field: str
) -> None:
    await create_listed_device(sessions)
    buyer = buyer_actor(await create_buyer(sessions))
    error = await refused(
        sessions,
        orders.buy_listings(sessions, listing_ids=listing_ids, actor=buyer),
        ErrorCode.INVALID_INPUT,
    )
    assert error.facts["field"] == field


async def test_buying_an_unknown_listing_is_not_found(sessions: Sessions) -> None:
    buyer = buyer_actor(await create_buyer(sessions))
    await refused(
        sessions,
        orders.buy_listings(sessions, listing_ids=[4040], actor=buyer),
        ErrorCode.NOT_FOUND,
    )


@pytest.mark.parametrize("status", [ListingStatus.PAUSED, ListingStatus.DRAFT])
async def test_a_listing_not_for_sale_is_not_available(
    sessions: Sessions, status: ListingStatus
) -> None:
    listed = await create_listed_device(sessions)
    async with sessions.begin() as session:
        (await session.get_one(Listing, listed.listing_id)).status = status
    buyer = buyer_actor(await create_buyer(sessions))
    error = await refused(
        sessions,
        orders.buy_listings(sessions, listing_ids=[listed.listing_id], actor=buyer),
        ErrorCode.NOT_AVAILABLE,
    )
    assert error.facts == {"current_status": status.value, "current_version": 2}


async def test_buying_invalidates_pending_offers_on_the_listing(sessions: Sessions) -> None:
    listed = await create_listed_device(sessions)
    offerer = await create_buyer(sessions)
    async with sessions.begin() as session:
        offer = Offer(
            listing_id=listed.listing_id,
            buyer_id=offerer.id,
            amount_minor=9000,
            currency="EUR",
            from_party=OfferParty.BUYER,
            expires_at=datetime.now(UTC) + timedelta(hours=48),
        )
        session.add(offer)
    start = await last_event_id(sessions)
    buyer = await create_buyer(sessions)
    await orders.buy_listings(sessions, listing_ids=[listed.listing_id], actor=buyer_actor(buyer))
    async with sessions() as session:
        assert (await session.get_one(Offer, offer.id)).status is OfferStatus.INVALIDATED
    invalidated = [e for e in await events_after(sessions, start) if e.type == "offer.invalidated"]
    assert [e.audiences for e in invalidated] == [[f"buyer:{offerer.id}", "operator"]]


# --- Idempotency (rule 8) --------------------------------------------------------------------


async def test_the_same_key_and_input_return_the_first_order(sessions: Sessions) -> None:
    buyer = buyer_actor(await create_buyer(sessions))
    listed = [await create_listed_device(sessions) for _ in range(2)]
    ids = [item.listing_id for item in listed]
    first = await orders.buy_listings(sessions, listing_ids=ids, actor=buyer, idempotency_key="k-1")
    after_first = await snapshot(sessions)

    again = await orders.buy_listings(
        sessions, listing_ids=list(reversed(ids)), actor=buyer, idempotency_key="k-1"
    )
    assert again.id == first.id
    assert await snapshot(sessions) == after_first
    assert after_first["counts"]["Order"] == 1


async def test_the_same_key_with_other_input_is_a_conflict(sessions: Sessions) -> None:
    buyer = buyer_actor(await create_buyer(sessions))
    listed = [await create_listed_device(sessions) for _ in range(2)]
    await orders.buy_listings(
        sessions, listing_ids=[listed[0].listing_id], actor=buyer, idempotency_key="k-2"
    )
    error = await refused(
        sessions,
        orders.buy_listings(
            sessions, listing_ids=[listed[1].listing_id], actor=buyer, idempotency_key="k-2"
        ),
        ErrorCode.IDEMPOTENCY_CONFLICT,
    )
    assert error.facts["field"] == "idempotencyKey"
    assert await statuses(sessions, listed[1]) == (ListingStatus.ACTIVE, DeviceStatus.AVAILABLE)


async def test_a_colleague_reusing_a_key_for_another_order_is_a_conflict(
    sessions: Sessions,
) -> None:
    """Keys are kept per user; the order's (buyer, key) unique index still refuses a reuse."""
    buyer = await create_buyer(sessions)
    listed = [await create_listed_device(sessions) for _ in range(2)]
    await orders.buy_listings(
        sessions, listing_ids=[listed[0].listing_id], actor=buyer_actor(buyer), idempotency_key="k"
    )
    await refused(
        sessions,
        orders.buy_listings(
            sessions,
            listing_ids=[listed[1].listing_id],
            actor=buyer_actor(buyer),
            idempotency_key="k",
        ),
        ErrorCode.IDEMPOTENCY_CONFLICT,
    )


async def test_a_refused_buy_stores_no_result_under_its_key(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.PENDING)
    buyer = buyer_actor(await create_buyer(sessions))
    taken = [trade.listed[0].listing_id]
    await refused(
        sessions,
        orders.buy_listings(sessions, listing_ids=taken, actor=buyer, idempotency_key="k-3"),
        ErrorCode.NOT_AVAILABLE,
    )
    # The key is still free: after a cancel the same call succeeds.
    await orders.cancel_order(sessions, order_id=trade.order_id, actor=SALES)
    order = await orders.buy_listings(
        sessions, listing_ids=taken, actor=buyer, idempotency_key="k-3"
    )
    assert order.status is OrderStatus.PENDING


# --- Cancel ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "who"),
    [
        pytest.param(OrderStatus.PENDING, "buyer", id="pending-by-buyer"),
        pytest.param(OrderStatus.PENDING, "sales", id="pending-by-sales"),
        pytest.param(OrderStatus.CONFIRMED, "sales", id="confirmed-by-sales"),
        pytest.param(OrderStatus.CONFIRMED, "finance", id="confirmed-by-finance"),
    ],
)
async def test_cancel_puts_the_devices_back_on_sale(
    sessions: Sessions, status: OrderStatus, who: str
) -> None:
    trade = await trade_in(sessions, status, listings=2)
    actor = {
        "buyer": trade.buyer_actor,
        "sales": SALES,
        "finance": operator(Role.FINANCE),
    }[who]
    start = await last_event_id(sessions)

    order = await orders.cancel_order(
        sessions, order_id=trade.order_id, actor=actor, reason="  Changed our mind  "
    )

    assert order.status is OrderStatus.CANCELLED
    for item in trade.listed:
        assert await statuses(sessions, item) == (ListingStatus.ACTIVE, DeviceStatus.AVAILABLE)
    async with sessions() as session:
        lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    assert [line.released for line in lines] == [True, True]
    events = await events_after(sessions, start)
    first, second = trade.listed
    assert kinds(events) == [
        ("listing.released", "Listing", first.listing_id),
        ("device.released", "Device", first.device_id),
        ("listing.released", "Listing", second.listing_id),
        ("device.released", "Device", second.device_id),
        ("order.cancelled", "Order", order.id),
    ]
    assert events[-1].changes == {
        "status": "CANCELLED",
        "reason": "Changed our mind",
        "releasedListingIds": [first.listing_id, second.listing_id],
    }

    # The devices can be bought again, by someone else.
    other = buyer_actor(await create_buyer(sessions))
    again = await orders.buy_listings(
        sessions, listing_ids=[item.listing_id for item in trade.listed], actor=other
    )
    assert again.id != order.id
    for item in trade.listed:
        assert await statuses(sessions, item) == (ListingStatus.RESERVED, DeviceStatus.RESERVED)


async def test_a_buyer_may_not_cancel_a_confirmed_order(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.CONFIRMED)
    await refused(
        sessions,
        orders.cancel_order(sessions, order_id=trade.order_id, actor=trade.buyer_actor),
        ErrorCode.FORBIDDEN,
    )


async def test_a_buyer_may_not_cancel_another_buyers_order(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.PENDING)
    stranger = buyer_actor(await create_buyer(sessions))
    await refused(
        sessions,
        orders.cancel_order(sessions, order_id=trade.order_id, actor=stranger),
        ErrorCode.NOT_FOUND,
    )


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.CANCELLED])
async def test_cancel_after_shipping_or_twice_is_refused(
    sessions: Sessions, status: OrderStatus
) -> None:
    trade = await trade_in(sessions, status)
    _, version = await order_status(sessions, trade.order_id)
    error = await refused(
        sessions,
        orders.cancel_order(sessions, order_id=trade.order_id, actor=SALES),
        ErrorCode.INVALID_TRANSITION,
    )
    assert error.facts == {"current_status": status.value, "current_version": version}


# --- Who may do what ---------------------------------------------------------------------------


def _client() -> Actor:
    return client_actor(999)


@pytest.mark.parametrize(
    ("action", "actor", "code"),
    [
        pytest.param("buy", ANONYMOUS, ErrorCode.UNAUTHENTICATED, id="buy-anonymous"),
        pytest.param("buy", SALES, ErrorCode.FORBIDDEN, id="buy-sales"),
        pytest.param("buy", "client", ErrorCode.FORBIDDEN, id="buy-client"),
        pytest.param("buy", "buyer-viewer", ErrorCode.FORBIDDEN, id="buy-buyer-viewer"),
        pytest.param("confirm", WAREHOUSE, ErrorCode.FORBIDDEN, id="confirm-warehouse"),
        pytest.param("confirm", "buyer", ErrorCode.FORBIDDEN, id="confirm-buyer"),
        pytest.param("confirm", operator(Role.VIEWER), ErrorCode.FORBIDDEN, id="confirm-viewer"),
        pytest.param("cancel", WAREHOUSE, ErrorCode.FORBIDDEN, id="cancel-warehouse"),
        pytest.param("cancel", ANONYMOUS, ErrorCode.UNAUTHENTICATED, id="cancel-anonymous"),
        pytest.param("complete", "buyer", ErrorCode.FORBIDDEN, id="complete-buyer"),
    ],
)
async def test_roles_that_may_not_act_are_refused(
    sessions: Sessions, action: str, actor: Actor | str, code: ErrorCode
) -> None:
    trade = await trade_in(sessions, OrderStatus.PENDING)
    spare = await create_listed_device(sessions)
    if actor == "buyer":
        actor = trade.buyer_actor
    elif actor == "buyer-viewer":
        actor = buyer_actor(trade.buyer, role=Role.VIEWER)
    elif actor == "client":
        actor = _client()
    assert isinstance(actor, Actor)
    calls = {
        "buy": lambda: orders.buy_listings(sessions, listing_ids=[spare.listing_id], actor=actor),
        "confirm": lambda: orders.confirm_order(sessions, order_id=trade.order_id, actor=actor),
        "cancel": lambda: orders.cancel_order(sessions, order_id=trade.order_id, actor=actor),
        "complete": lambda: orders.complete_order(sessions, order_id=trade.order_id, actor=actor),
    }
    await refused(sessions, calls[action](), code)


async def test_a_stale_version_is_refused(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.PENDING)
    error = await refused(
        sessions,
        orders.confirm_order(sessions, order_id=trade.order_id, actor=SALES, expected_version=7),
        ErrorCode.STALE,
    )
    assert error.facts == {"current_version": 1}
    await refused(
        sessions,
        orders.cancel_order(
            sessions, order_id=trade.order_id, actor=trade.buyer_actor, expected_version=2
        ),
        ErrorCode.STALE,
    )


async def test_a_repeated_confirm_with_its_key_returns_the_first_result(
    sessions: Sessions,
) -> None:
    trade = await trade_in(sessions, OrderStatus.PENDING)
    first = await orders.confirm_order(
        sessions, order_id=trade.order_id, actor=SALES, idempotency_key="c-1"
    )
    after = await snapshot(sessions)
    again = await orders.confirm_order(
        sessions, order_id=trade.order_id, actor=SALES, idempotency_key="c-1"
    )
    assert (again.id, again.status, again.version) == (first.id, OrderStatus.CONFIRMED, 2)
    assert await snapshot(sessions) == after
    # Without the key the same call is an invalid transition.
    await refused(
        sessions,
        orders.confirm_order(sessions, order_id=trade.order_id, actor=SALES),
        ErrorCode.INVALID_TRANSITION,
    )


# --- Every action from every status ------------------------------------------------------------

ACTIONS = {
    "confirm": OrderStatus.CONFIRMED,
    "cancel": OrderStatus.CANCELLED,
    "ship": OrderStatus.SHIPPED,
    "deliver": OrderStatus.DELIVERED,
    "complete": OrderStatus.COMPLETED,
}
ALLOWED = {
    ("confirm", OrderStatus.PENDING),
    ("cancel", OrderStatus.PENDING),
    ("cancel", OrderStatus.CONFIRMED),
    ("ship", OrderStatus.CONFIRMED),
    ("deliver", OrderStatus.SHIPPED),
    ("complete", OrderStatus.DELIVERED),
}


async def act(sessions: Sessions, action: str, order_id: int) -> object:
    if action == "confirm":
        return await orders.confirm_order(sessions, order_id=order_id, actor=SALES)
    if action == "cancel":
        return await orders.cancel_order(sessions, order_id=order_id, actor=SALES)
    if action == "ship":
        return await shipments.ship_order(
            sessions, order_id=order_id, carrier="DPD", tracking_number="0521 7654", actor=WAREHOUSE
        )
    if action == "deliver":
        return await shipments.mark_delivered(sessions, order_id=order_id, actor=WAREHOUSE)
    return await orders.complete_order(sessions, order_id=order_id, actor=SALES)


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_every_action_from_every_status(sessions: Sessions, action: str) -> None:
    """One order per status (a loop, not parameters: one database reset for all six)."""
    for status in OrderStatus:
        trade = await trade_in(sessions, status)
        _, version = await order_status(sessions, trade.order_id)
        if (action, status) in ALLOWED:
            await act(sessions, action, trade.order_id)
            after = await order_status(sessions, trade.order_id)
            assert after == (ACTIONS[action], version + 1), status
            continue
        error = await refused(
            sessions, act(sessions, action, trade.order_id), ErrorCode.INVALID_TRANSITION
        )
        assert error.facts == {"current_status": status.value, "current_version": version}


# --- Reading -----------------------------------------------------------------------------------


async def test_operators_see_every_order_buyers_their_own_clients_none(
    sessions: Sessions,
) -> None:
    mine = await create_buyer(sessions)
    theirs = await create_buyer(sessions)
    own = [await trade_in(sessions, OrderStatus.PENDING, buyer=mine) for _ in range(2)]
    other = await trade_in(sessions, OrderStatus.PENDING, buyer=theirs)

    async with sessions() as session:
        all_orders = await order_queries.list_orders(
            session, order_queries.OrderFilter(), actor=operator(Role.VIEWER), limit=10
        )
        assert [row.id for row in all_orders.rows] == [
            other.order_id,
            own[1].order_id,
            own[0].order_id,
        ]
        assert all_orders.total == 3

        visible = await order_queries.list_orders(
            session,
            order_queries.OrderFilter(buyer_id=theirs.id),
            actor=own[0].buyer_actor,
            limit=10,
        )
        assert (visible.rows, visible.total) == ([], 0)
        page = await order_queries.list_orders(
            session,
            order_queries.OrderFilter(),
            actor=own[0].buyer_actor,
            newest_first=False,
            limit=10,
        )
        assert [row.id for row in page.rows] == [own[0].order_id, own[1].order_id]

        assert (
            await order_queries.get_order(session, other.order_id, actor=own[0].buyer_actor) is None
        )
        found = await order_queries.get_order(session, other.order_id, actor=other.buyer_actor)
        assert found is not None

        for actor, code in (
            (_client(), ErrorCode.FORBIDDEN),
            (ANONYMOUS, ErrorCode.UNAUTHENTICATED),
        ):
            with pytest.raises(DomainError) as caught:
                await order_queries.list_orders(
                    session, order_queries.OrderFilter(), actor=actor, limit=10
                )
            assert caught.value.code is code
            with pytest.raises(DomainError) as caught:
                await order_queries.get_order(session, other.order_id, actor=actor)
            assert caught.value.code is code


async def test_orders_filter_by_status_and_page_by_cursor(sessions: Sessions) -> None:
    buyer = await create_buyer(sessions)
    pending = [await trade_in(sessions, OrderStatus.PENDING, buyer=buyer) for _ in range(3)]
    confirmed = await trade_in(sessions, OrderStatus.CONFIRMED, buyer=buyer)
    staff = operator(Role.FINANCE)

    async with sessions() as session:
        only = await order_queries.list_orders(
            session,
            order_queries.OrderFilter(statuses=(OrderStatus.CONFIRMED,)),
            actor=staff,
            limit=5,
        )
        assert [row.id for row in only.rows] == [confirmed.order_id]

        seen: list[int] = []
        after = None
        for _ in range(3):
            page = await order_queries.list_orders(
                session,
                order_queries.OrderFilter(statuses=(OrderStatus.PENDING,), buyer_id=buyer.id),
                actor=staff,
                newest_first=False,
                after=after,
                limit=2,
            )
            assert page.total == 3
            seen.extend(row.id for row in page.rows)
            if not page.has_next:
                break
            after = page.keys[-1]
        assert seen == [trade.order_id for trade in pending]
