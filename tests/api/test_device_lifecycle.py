"""One device's whole life through the API, with the event log checked step by step.

received -> graded -> listed -> offered -> countered -> accepted -> confirmed -> shipped ->
delivered -> settled, each action by the role that does it in the business, on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import OrganizationKind, Role
from app.models import Event
from tests.support.auth import create_person
from tests.support.factories import create_organization, make_imei
from tests.support.graphql import GraphQLClient

Sessions = async_sessionmaker[AsyncSession]

ERROR = "... on Error { code message }"


async def _events_since(sessions: Sessions, last_id: int) -> list[Event]:
    async with sessions() as session:
        rows = await session.scalars(select(Event).where(Event.id > last_id).order_by(Event.id))
        return list(rows)


async def _act(graphql: GraphQLClient, mutation: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await graphql(mutation, variables)
    assert "errors" not in body, body
    (result,) = body["data"].values()
    assert "code" not in result, result
    return dict(result)


async def test_one_device_from_intake_to_settlement(
    sessions: Sessions, graphql: GraphQLClient
) -> None:
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    client = await create_organization(sessions, kind=OrganizationKind.CLIENT)  # 15 %, 2.00 fee
    buyer_org = await create_organization(sessions, kind=OrganizationKind.BUYER)
    warehouse = graphql.as_(await create_person(sessions, operator, Role.WAREHOUSE))
    sales = graphql.as_(await create_person(sessions, operator, Role.SALES))
    finance = graphql.as_(await create_person(sessions, operator, Role.FINANCE))
    buyer = graphql.as_(await create_person(sessions, buyer_org, Role.BUYER))
    client_id = f"{client.id}"
    steps: list[tuple[str, list[str]]] = []
    cursor = 0

    async def step(name: str, client_call: Any) -> dict[str, Any]:
        nonlocal cursor
        result = await client_call
        events = await _events_since(sessions, cursor)
        assert events, f"{name} appended no event"
        cursor = events[-1].id
        steps.append((name, [event.type for event in events]))
        return result

    received = await step(
        "receive",
        _act(
            warehouse,
            "mutation($c: ID!, $imei: String!) { receiveDevice(input: {clientId: $c, "
            'make: "Apple", model: "iPhone 14", imei: $imei, storageGb: 128}) '
            f"{{ ... on ReceiveDevicePayload {{ device {{ id status }} }} {ERROR} }} }}",
            {"c": client_id, "imei": make_imei()},
        ),
    )
    device_id = received["device"]["id"]
    assert received["device"]["status"] == "RECEIVED"

    graded = await step(
        "grade",
        _act(
            warehouse,
            "mutation($d: ID!) { recordGrade(input: {deviceId: $d, cosmetic: A, "
            "functionalPass: true, dataWiped: true, batteryHealthPct: 91}) "
            f"{{ ... on RecordGradePayload {{ device {{ status }} }} {ERROR} }} }}",
            {"d": device_id},
        ),
    )
    assert graded["device"]["status"] == "GRADED"

    created = await step(
        "list",
        _act(
            sales,
            'mutation($d: ID!) { createListing(input: {deviceId: $d, price: "50000"}) '
            f"{{ ... on ListingPayload {{ listing {{ id status }} }} {ERROR} }} }}",
            {"d": device_id},
        ),
    )
    listing_id = created["listing"]["id"]
    published = await step(
        "publish",
        _act(
            sales,
            "mutation($l: ID!) { publishListing(input: {listingId: $l}) "
            f"{{ ... on ListingPayload {{ listing {{ status }} }} {ERROR} }} }}",
            {"l": listing_id},
        ),
    )
    assert published["listing"]["status"] == "ACTIVE"

    offered = await step(
        "offer",
        _act(
            buyer,
            'mutation($l: ID!) { makeOffer(input: {listingId: $l, amount: "40000"}) '
            f"{{ ... on OfferPayload {{ offer {{ id status }} }} {ERROR} }} }}",
            {"l": listing_id},
        ),
    )
    countered = await step(
        "counter",
        _act(
            sales,
            'mutation($o: ID!) { counterOffer(input: {offerId: $o, amount: "45000"}) '
            "{ ... on CounterOfferPayload { offer { id status fromParty } "
            f"counteredOffer {{ status }} }} {ERROR} }} }}",
            {"o": offered["offer"]["id"]},
        ),
    )
    assert countered["counteredOffer"]["status"] == "COUNTERED"
    assert countered["offer"]["fromParty"] == "SELLER"

    accepted = await step(
        "accept",
        _act(
            buyer,
            "mutation($o: ID!) { acceptOffer(input: {offerId: $o}) "
            f"{{ ... on AcceptOfferPayload {{ offer {{ status }} orderId }} {ERROR} }} }}",
            {"o": countered["offer"]["id"]},
        ),
    )
    order_id = accepted["orderId"]
    assert accepted["offer"]["status"] == "ACCEPTED"

    confirmed = await step(
        "confirm",
        _act(
            sales,
            "mutation($o: ID!) { confirmOrder(input: {orderId: $o}) "
            f"{{ ... on ConfirmOrderPayload {{ order {{ status }} }} {ERROR} }} }}",
            {"o": order_id},
        ),
    )
    assert confirmed["order"]["status"] == "CONFIRMED"

    shipped = await step(
        "ship",
        _act(
            warehouse,
            'mutation($o: ID!) { shipOrder(input: {orderId: $o, carrier: "DHL", '
            'trackingNumber: "JD014600003SE", trackingUrl: "https://dhl.example/JD014600003SE"}) '
            "{ ... on ShipOrderPayload { order { status } shipment { trackingNumber } } "
            f"{ERROR} }} }}",
            {"o": order_id},
        ),
    )
    assert shipped["order"]["status"] == "SHIPPED"

    delivered = await step(
        "deliver",
        _act(
            warehouse,
            "mutation($o: ID!) { markDelivered(input: {orderId: $o}) "
            f"{{ ... on MarkDeliveredPayload {{ order {{ status }} }} {ERROR} }} }}",
            {"o": order_id},
        ),
    )
    assert delivered["order"]["status"] == "DELIVERED"

    today = datetime.now(UTC).date().isoformat()
    settled = await step(
        "settle",
        _act(
            finance,
            "mutation($c: ID!, $day: Date!) { generateSettlement(input: {clientId: $c, "
            "periodStart: $day, periodEnd: $day}) { ... on GenerateSettlementPayload { "
            "settlement { status lineCount totals { gross { amountMinor } commission "
            "{ amountMinor } fees { amountMinor } net { amountMinor amount } } } } "
            f"{ERROR} }} }}",
            {"c": client_id, "day": today},
        ),
    )
    settlement = settled["settlement"]
    assert settlement["status"] == "DRAFT"
    assert settlement["lineCount"] == 1
    totals = settlement["totals"]
    # The agreed price, 15 % commission rounded half up, a 2.00 fee per device.
    assert totals["gross"]["amountMinor"] == "45000"
    assert totals["commission"]["amountMinor"] == "6750"
    assert totals["fees"]["amountMinor"] == "200"
    assert totals["net"] == {"amountMinor": "38050", "amount": "380.50"}

    device = await warehouse(
        "query($id: ID!) { device(id: $id) { status version } }", {"id": device_id}
    )
    assert device["data"]["device"]["status"] == "DELIVERED"

    # The log tells the same story, in order: each step's events, and the device's own moves.
    assert steps == [
        ("receive", ["device.received"]),
        ("grade", ["device.graded"]),
        ("list", ["listing.created"]),
        ("publish", ["listing.published", "device.listed"]),
        ("offer", ["offer.made"]),
        ("counter", ["offer.countered", "offer.made"]),
        ("accept", ["listing.reserved", "device.reserved", "order.placed", "offer.accepted"]),
        ("confirm", ["device.sold", "order.confirmed"]),
        ("ship", ["listing.sold", "device.shipped", "shipment.shipped", "order.shipped"]),
        ("deliver", ["shipment.delivered", "device.delivered", "order.delivered"]),
        ("settle", ["settlement.generated"]),
    ]
    all_events = await _events_since(sessions, 0)
    device_moves = [
        event.changes["status"]
        for event in all_events
        if event.entity_type == "Device" and "status" in event.changes
    ]
    assert device_moves == [
        "RECEIVED", "GRADED", "AVAILABLE", "RESERVED", "SOLD", "SHIPPED", "DELIVERED",
    ]  # fmt: skip
    versions = [event.entity_version for event in all_events if event.entity_type == "Device"]
    assert versions == sorted(versions), "a device's events carry increasing versions"
