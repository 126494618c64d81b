"""Shipping, delivery and carrier exceptions through the services, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import ANONYMOUS
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OrderStatus,
    Role,
    ShipmentStatus,
)
from app.services import shipments
from tests.support.auth import buyer_actor, client_actor, operator
from tests.support.events import events_after, kinds, last_event_id
from tests.support.factories import create_buyer
from tests.support.orders import order_status, snapshot, statuses, trade_in

Sessions = async_sessionmaker[AsyncSession]
WAREHOUSE = operator(Role.WAREHOUSE)


async def refused(sessions: Sessions, call: Any, code: ErrorCode) -> DomainError:
    before = await snapshot(sessions)
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.code is code, caught.value
    assert await snapshot(sessions) == before
    return caught.value


def ship(sessions: Sessions, order_id: int, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "carrier": "DHL Express",
        "tracking_number": "JD014600006281230704",
        "tracking_url": "https://www.dhl.com/track?id=JD014600006281230704",
        "actor": WAREHOUSE,
    }
    arguments.update(overrides)
    return shipments.ship_order(sessions, order_id=order_id, **arguments)


async def test_shipping_records_the_tracking_and_tells_the_buyer(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.CONFIRMED, listings=2)
    start = await last_event_id(sessions)

    shipment = await ship(sessions, trade.order_id, carrier="  DHL Express ")

    assert shipment.status is ShipmentStatus.IN_TRANSIT
    assert shipment.version == 1
    assert (shipment.carrier, shipment.tracking_number) == ("DHL Express", "JD014600006281230704")
    assert shipment.shipped_at is not None
    assert shipment.delivered_at is None
    for item in trade.listed:
        assert await statuses(sessions, item) == (ListingStatus.SOLD, DeviceStatus.SHIPPED)

    events = await events_after(sessions, start)
    first, second = trade.listed
    assert kinds(events) == [
        ("listing.sold", "Listing", first.listing_id),
        ("device.shipped", "Device", first.device_id),
        ("listing.sold", "Listing", second.listing_id),
        ("device.shipped", "Device", second.device_id),
        ("shipment.shipped", "Shipment", shipment.id),
        ("order.shipped", "Order", trade.order_id),
    ]
    shipped = events[4]
    assert shipped.audiences == [f"buyer:{trade.buyer.id}", "operator"]
    assert shipped.entity_version == 1
    assert shipped.changes["status"] == "IN_TRANSIT"
    assert shipped.changes["trackingNumber"] == "JD014600006281230704"
    assert shipped.changes["carrier"] == "DHL Express"
    assert shipped.changes["orderId"] == trade.order_id
    assert events[5].changes["shipmentId"] == shipment.id
    # The client whose devices these are learns they shipped, never to whom.
    client_events = [e for e in events if any(a.startswith("client:") for a in e.audiences)]
    assert [e.type for e in client_events] == ["device.shipped", "device.shipped"]
    assert [e.changes for e in client_events] == [
        {"status": "SHIPPED", "orderId": trade.order_id}
    ] * 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"carrier": "   "}, "carrier", id="blank-carrier"),
        pytest.param({"carrier": "x" * 101}, "carrier", id="long-carrier"),
        pytest.param({"carrier": "DHL\x00"}, "carrier", id="control-carrier"),
        pytest.param({"tracking_number": ""}, "trackingNumber", id="blank-number"),
        pytest.param({"tracking_number": "AB"}, "trackingNumber", id="short-number"),
        pytest.param({"tracking_number": "9" * 65}, "trackingNumber", id="long-number"),
        pytest.param({"tracking_number": "12<script>"}, "trackingNumber", id="odd-number"),
        pytest.param({"tracking_url": "javascript:alert(1)"}, "trackingUrl", id="js-url"),
        pytest.param({"tracking_url": "ftp://carrier.example/1"}, "trackingUrl", id="ftp-url"),
        pytest.param({"tracking_url": "https://"}, "trackingUrl", id="no-host"),
        pytest.param({"tracking_url": "https://a b.example/"}, "trackingUrl", id="space-url"),
        pytest.param(
            {"tracking_url": "https://t.example/" + "a" * 2000}, "trackingUrl", id="long-url"
        ),
    ],
)
async def test_bad_tracking_is_invalid_input(
    sessions: Sessions, overrides: dict[str, Any], field: str
) -> None:
    trade = await trade_in(sessions, OrderStatus.CONFIRMED)
    error = await refused(
        sessions, ship(sessions, trade.order_id, **overrides), ErrorCode.INVALID_INPUT
    )
    assert error.facts["field"] == field


async def test_a_tracking_url_is_optional_and_http_is_accepted(sessions: Sessions) -> None:
    for url in (None, "  ", "http://track.example/123"):
        trade = await trade_in(sessions, OrderStatus.CONFIRMED)
        shipment = await ship(sessions, trade.order_id, tracking_url=url)
        assert shipment.tracking_url == (url if url and url.strip() else None)


async def test_shipping_a_pending_order_is_refused(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.PENDING)
    error = await refused(sessions, ship(sessions, trade.order_id), ErrorCode.INVALID_TRANSITION)
    assert error.facts == {"current_status": "PENDING", "current_version": 1}


async def test_shipping_checks_the_order_version(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.CONFIRMED)
    error = await refused(
        sessions, ship(sessions, trade.order_id, expected_version=1), ErrorCode.STALE
    )
    assert error.facts == {"current_version": 2}


@pytest.mark.parametrize(
    "actor",
    [
        pytest.param(operator(Role.SALES), id="sales"),
        pytest.param(operator(Role.FINANCE), id="finance"),
        pytest.param(ANONYMOUS, id="anonymous"),
        pytest.param(client_actor(999), id="client"),
    ],
)
async def test_only_the_warehouse_ships(sessions: Sessions, actor: Any) -> None:
    trade = await trade_in(sessions, OrderStatus.CONFIRMED)
    expected = ErrorCode.UNAUTHENTICATED if actor is ANONYMOUS else ErrorCode.FORBIDDEN
    await refused(sessions, ship(sessions, trade.order_id, actor=actor), expected)
    await refused(
        sessions, ship(sessions, trade.order_id, actor=trade.buyer_actor), ErrorCode.FORBIDDEN
    )


async def test_shipping_twice_with_one_key_makes_one_shipment(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.CONFIRMED)
    first = await ship(sessions, trade.order_id, idempotency_key="ship-1")
    after = await snapshot(sessions)
    again = await ship(sessions, trade.order_id, idempotency_key="ship-1")
    assert again.id == first.id
    assert await snapshot(sessions) == after
    assert after["counts"]["Shipment"] == 1

    await refused(
        sessions,
        ship(sessions, trade.order_id, tracking_number="OTHER-123", idempotency_key="ship-1"),
        ErrorCode.IDEMPOTENCY_CONFLICT,
    )


@pytest.mark.parametrize("by", ["order", "shipment"])
async def test_delivery_by_order_or_by_shipment(sessions: Sessions, by: str) -> None:
    trade = await trade_in(sessions, OrderStatus.SHIPPED)
    async with sessions() as session:
        page = await shipments.list_shipments(
            session, shipments.ShipmentFilter(), actor=WAREHOUSE, limit=5
        )
    [shipment] = page.rows
    start = await last_event_id(sessions)
    ids = {"order_id": trade.order_id} if by == "order" else {"shipment_id": shipment.id}

    delivered = await shipments.mark_delivered(sessions, actor=WAREHOUSE, **ids)

    assert (delivered.id, delivered.status, delivered.version) == (
        shipment.id,
        ShipmentStatus.DELIVERED,
        2,
    )
    assert delivered.delivered_at is not None
    assert await order_status(sessions, trade.order_id) == (OrderStatus.DELIVERED, 4)
    assert await statuses(sessions, trade.listed[0]) == (ListingStatus.SOLD, DeviceStatus.DELIVERED)
    assert [e.type for e in await events_after(sessions, start)] == [
        "shipment.delivered",
        "device.delivered",
        "order.delivered",
    ]


async def test_delivery_names_exactly_one_thing_and_checks_its_version(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.SHIPPED)
    async with sessions() as session:
        [shipment] = (
            await shipments.list_shipments(
                session, shipments.ShipmentFilter(order_id=trade.order_id), actor=WAREHOUSE, limit=1
            )
        ).rows
    await refused(
        sessions, shipments.mark_delivered(sessions, actor=WAREHOUSE), ErrorCode.INVALID_INPUT
    )
    await refused(
        sessions,
        shipments.mark_delivered(
            sessions, actor=WAREHOUSE, order_id=trade.order_id, shipment_id=shipment.id
        ),
        ErrorCode.INVALID_INPUT,
    )
    stale = await refused(
        sessions,
        shipments.mark_delivered(
            sessions, actor=WAREHOUSE, shipment_id=shipment.id, expected_version=3
        ),
        ErrorCode.STALE,
    )
    assert stale.facts == {"current_version": 1}
    await refused(
        sessions,
        shipments.mark_delivered(sessions, actor=WAREHOUSE, shipment_id=4040),
        ErrorCode.NOT_FOUND,
    )
    await refused(
        sessions,
        shipments.mark_delivered(sessions, actor=trade.buyer_actor, order_id=trade.order_id),
        ErrorCode.FORBIDDEN,
    )


async def test_a_carrier_exception_stops_the_parcel(sessions: Sessions) -> None:
    trade = await trade_in(sessions, OrderStatus.SHIPPED)
    async with sessions() as session:
        [shipment] = (
            await shipments.list_shipments(
                session, shipments.ShipmentFilter(), actor=WAREHOUSE, limit=1
            )
        ).rows
    await refused(
        sessions,
        shipments.report_exception(sessions, shipment_id=shipment.id, note=" ", actor=WAREHOUSE),
        ErrorCode.INVALID_INPUT,
    )
    start = await last_event_id(sessions)

    reported = await shipments.report_exception(
        sessions,
        shipment_id=shipment.id,
        note="Parcel damaged at the hub",
        actor=WAREHOUSE,
        expected_version=1,
    )

    assert (reported.status, reported.version) == (ShipmentStatus.EXCEPTION, 2)
    assert await order_status(sessions, trade.order_id) == (OrderStatus.SHIPPED, 3)
    [event] = await events_after(sessions, start)
    assert (event.type, event.entity_id, event.entity_version) == (
        "shipment.exception",
        shipment.id,
        2,
    )
    assert event.changes == {
        "status": "EXCEPTION",
        "orderId": trade.order_id,
        "note": "Parcel damaged at the hub",
    }
    assert event.audiences == [f"buyer:{trade.buyer.id}", "operator"]

    for call in (
        shipments.mark_delivered(sessions, shipment_id=shipment.id, actor=WAREHOUSE),
        shipments.report_exception(
            sessions, shipment_id=shipment.id, note="again", actor=WAREHOUSE
        ),
    ):
        error = await refused(sessions, call, ErrorCode.INVALID_TRANSITION)
        assert error.facts == {"current_status": "EXCEPTION", "current_version": 2}


async def test_an_exception_after_delivery_is_refused(sessions: Sessions) -> None:
    await trade_in(sessions, OrderStatus.DELIVERED)
    async with sessions() as session:
        [shipment] = (
            await shipments.list_shipments(
                session, shipments.ShipmentFilter(), actor=WAREHOUSE, limit=1
            )
        ).rows
    error = await refused(
        sessions,
        shipments.report_exception(sessions, shipment_id=shipment.id, note="late", actor=WAREHOUSE),
        ErrorCode.INVALID_TRANSITION,
    )
    assert error.facts == {"current_status": "DELIVERED", "current_version": 2}


async def test_buyers_see_only_their_own_shipments(sessions: Sessions) -> None:
    mine = await trade_in(sessions, OrderStatus.SHIPPED)
    theirs = await trade_in(sessions, OrderStatus.DELIVERED)
    async with sessions() as session:
        everything = await shipments.list_shipments(
            session, shipments.ShipmentFilter(), actor=operator(Role.VIEWER), limit=10
        )
        assert everything.total == 2
        own = await shipments.list_shipments(
            session, shipments.ShipmentFilter(), actor=mine.buyer_actor, limit=10
        )
        assert [row.order_id for row in own.rows] == [mine.order_id]
        delivered = await shipments.list_shipments(
            session,
            shipments.ShipmentFilter(statuses=(ShipmentStatus.DELIVERED,)),
            actor=mine.buyer_actor,
            limit=10,
        )
        assert delivered.total == 0
        [other] = (
            await shipments.list_shipments(
                session,
                shipments.ShipmentFilter(order_id=theirs.order_id),
                actor=WAREHOUSE,
                limit=1,
            )
        ).rows
        assert await shipments.get_shipment(session, other.id, actor=mine.buyer_actor) is None
        assert await shipments.get_shipment(session, other.id, actor=theirs.buyer_actor) is not None
        for actor, code in (
            (client_actor(999), ErrorCode.FORBIDDEN),
            (ANONYMOUS, ErrorCode.UNAUTHENTICATED),
        ):
            with pytest.raises(DomainError) as caught:
                await shipments.list_shipments(
                    session, shipments.ShipmentFilter(), actor=actor, limit=10
                )
            assert caught.value.code is code
    # A buyer with no orders sees an empty list, not an error.
    newcomer = await create_buyer(sessions)
    async with sessions() as session:
        empty = await shipments.list_shipments(
            session, shipments.ShipmentFilter(), actor=buyer_actor(newcomer), limit=10
        )
    assert (empty.rows, empty.total) == ([], 0)
