"""Negotiation through the real server, on SQLite and PostgreSQL: the chain from an offer to an
order, refusals as typed results with nothing written, and who sees which offers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import DeviceStatus, ListingStatus, OfferParty, OfferStatus, OrderStatus
from app.models import Device, Listing, Offer, Order, OrderLine
from tests.support.auth import token_for
from tests.support.events import events_after, last_event_id, reload
from tests.support.graphql import GraphQLClient
from tests.support.trade import (
    World,
    create_listing,
    create_offer,
    create_world,
    global_id,
    gql_data,
    gql_errors,
    snapshot,
)

Sessions = async_sessionmaker[AsyncSession]

OFFER_FIELDS = """
  id status fromParty version expiresAt createdAt
  amount { amountMinor amount currency }
  listing { id status }
  parent { id status }
  counter { id }
  buyer { id name }
"""
ERRORS = """
  ... on Error { code message }
  ... on InvalidInputError { field }
  ... on NotFoundError { field }
  ... on NotAvailableError { currentStatus }
  ... on InvalidTransitionError { currentStatus currentVersion }
  ... on StaleError { currentVersion }
"""
PAYLOADS = {
    "OfferPayload": f"offer {{ {OFFER_FIELDS} }}",
    "CounterOfferPayload": f"offer {{ {OFFER_FIELDS} }} counteredOffer {{ id status version }}",
    "AcceptOfferPayload": f"orderId offer {{ {OFFER_FIELDS} }}",
}


def _mutation(field: str, input_type: str, payload: str = "OfferPayload") -> str:
    result = f"__typename ... on {payload} {{ {PAYLOADS[payload]} }} {ERRORS}"
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {result} }} }}"


MAKE = _mutation("makeOffer", "MakeOfferInput")
COUNTER = _mutation("counterOffer", "CounterOfferInput", "CounterOfferPayload")
ACCEPT = _mutation("acceptOffer", "AcceptOfferInput", "AcceptOfferPayload")
REJECT = _mutation("rejectOffer", "RejectOfferInput")
WITHDRAW = _mutation("withdrawOffer", "WithdrawOfferInput")

OFFERS = """
query($filter: OfferFilter, $first: Int, $after: String) {
  offers(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id status fromParty buyer { name } } }
  }
}
"""
OFFER = "query($id: ID!) { offer(id: $id) { id status buyer { id } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Offer { status } } }"


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


@pytest.fixture
async def tokens(sessions: Sessions, world: World) -> dict[str, str]:
    return {
        name: await token_for(sessions, getattr(world, name))
        for name in ("sales", "warehouse", "client_user", "buyer_a", "buyer_b")
    }


@pytest.fixture
async def listing(sessions: Sessions, world: World) -> Listing:
    return await create_listing(sessions, world.client, price_minor=50_000)


async def act(
    graphql: GraphQLClient, token: str | None, operation: str, **fields: Any
) -> dict[str, Any]:
    data = await gql_data(graphql, token, operation, {"input": fields})
    [result] = data.values()
    assert isinstance(result, dict)
    return result


def db_id(global_id_text: str) -> int:
    return int(GlobalID.from_id(global_id_text).node_id)


async def test_the_negotiation_chain_ends_in_an_order(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
    listing: Listing,
) -> None:
    listing_id = global_id("Listing", listing.id)
    rival = await act(graphql, tokens["buyer_b"], MAKE, listingId=listing_id, amount="39000")
    assert rival["__typename"] == "OfferPayload", rival

    made = await act(
        graphql, tokens["buyer_a"], MAKE, listingId=listing_id, amount="40000", idempotencyKey="o1"
    )
    assert made["__typename"] == "OfferPayload", made
    offer = made["offer"]
    assert (offer["status"], offer["fromParty"], offer["version"]) == ("PENDING", "BUYER", 1)
    assert offer["amount"] == {"amountMinor": "40000", "amount": "400.00", "currency": "EUR"}
    assert offer["listing"] == {"id": listing_id, "status": "ACTIVE"}
    assert offer["buyer"]["name"] == world.buyer_a.organization.name
    assert offer["parent"] is None

    countered = await act(
        graphql,
        tokens["sales"],
        COUNTER,
        offerId=offer["id"],
        amount="45000",
        expectedVersion=1,
        idempotencyKey="c1",
    )
    assert countered["__typename"] == "CounterOfferPayload", countered
    counter = countered["offer"]
    assert countered["counteredOffer"] == {"id": offer["id"], "status": "COUNTERED", "version": 2}
    assert (counter["status"], counter["fromParty"]) == ("PENDING", "SELLER")
    assert counter["parent"] == {"id": offer["id"], "status": "COUNTERED"}
    assert counter["amount"]["amountMinor"] == "45000"

    cursor = await last_event_id(sessions)
    accepted = await act(
        graphql,
        tokens["buyer_a"],
        ACCEPT,
        offerId=counter["id"],
        expectedVersion=1,
        idempotencyKey="a1",
    )
    assert accepted["__typename"] == "AcceptOfferPayload", accepted
    assert accepted["offer"]["status"] == "ACCEPTED"
    order_id = db_id(accepted["orderId"])
    assert GlobalID.from_id(accepted["orderId"]).type_name == "Order"

    order = await reload(sessions, Order, order_id)
    assert (order.status, order.buyer_id) == (OrderStatus.PENDING, world.buyer_a.organization.id)
    async with sessions() as session:
        prices = list(await session.scalars(select(OrderLine.price_minor)))
    assert prices == [45_000]
    assert (await reload(sessions, Listing, listing.id)).status is ListingStatus.RESERVED
    assert (await reload(sessions, Device, listing.device_id)).status is DeviceStatus.RESERVED
    rival_offer = await reload(sessions, Offer, db_id(rival["offer"]["id"]))
    assert rival_offer.status is OfferStatus.INVALIDATED
    types = [(e.type, e.entity_type) for e in await events_after(sessions, cursor)]
    assert types == [
        ("listing.reserved", "Listing"),
        ("device.reserved", "Device"),
        ("offer.invalidated", "Offer"),
        ("order.placed", "Order"),
        ("offer.accepted", "Offer"),
    ]

    # The same key and input return the first result and write nothing.
    before = await snapshot(sessions)
    again = await act(
        graphql,
        tokens["buyer_a"],
        ACCEPT,
        offerId=counter["id"],
        expectedVersion=1,
        idempotencyKey="a1",
    )
    assert again["orderId"] == accepted["orderId"]
    assert await snapshot(sessions) == before

    # The rival buyer lost the race: its offer is over, and a new one is refused (rule 3).
    late = await act(graphql, tokens["buyer_b"], MAKE, listingId=listing_id, amount="41000")
    assert (late["__typename"], late["code"], late["currentStatus"]) == (
        "NotAvailableError",
        "LISTING_NOT_AVAILABLE",
        "RESERVED",
    )


async def test_refusals_are_typed_results_and_write_nothing(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
    listing: Listing,
) -> None:
    listing_id = global_id("Listing", listing.id)
    pending = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=40_000)
    offer_id = global_id("Offer", pending.id)
    paused = await create_listing(sessions, world.client, status=ListingStatus.PAUSED)
    before = await snapshot(sessions)

    cases: list[tuple[str | None, str, dict[str, Any], dict[str, Any]]] = [
        # rule 3
        (
            "buyer_b",
            MAKE,
            {"listingId": global_id("Listing", paused.id), "amount": "100"},
            {"code": "LISTING_NOT_AVAILABLE", "currentStatus": "PAUSED"},
        ),
        # rule 4: one pending offer per buyer per listing
        (
            "buyer_a",
            MAKE,
            {"listingId": listing_id, "amount": "100"},
            {"code": "INVALID_INPUT", "field": "listingId"},
        ),
        # above the list price
        (
            "buyer_b",
            MAKE,
            {"listingId": listing_id, "amount": "50001"},
            {"code": "INVALID_INPUT", "field": "amount"},
        ),
        (
            "buyer_b",
            MAKE,
            {"listingId": listing_id, "amount": "0"},
            {"code": "INVALID_INPUT", "field": "amount"},
        ),
        # rule 4: a counter never exceeds the list price
        (
            "sales",
            COUNTER,
            {"offerId": offer_id, "amount": "50001"},
            {"code": "INVALID_INPUT", "field": "amount"},
        ),
        # rule 9
        (
            "sales",
            ACCEPT,
            {"offerId": offer_id, "expectedVersion": 5},
            {"code": "STALE", "currentVersion": 1},
        ),
        # the maker does not answer its own offer
        ("buyer_a", ACCEPT, {"offerId": offer_id}, {"code": "FORBIDDEN"}),
        ("buyer_a", REJECT, {"offerId": offer_id}, {"code": "FORBIDDEN"}),
        # another buyer's negotiation does not exist for it
        (
            "buyer_b",
            WITHDRAW,
            {"offerId": offer_id},
            {"code": "NOT_FOUND", "field": "offerId"},
        ),
        # roles: a seller never makes offers; warehouse and clients never negotiate
        ("sales", MAKE, {"listingId": listing_id, "amount": "100"}, {"code": "FORBIDDEN"}),
        ("warehouse", REJECT, {"offerId": offer_id}, {"code": "FORBIDDEN"}),
        ("client_user", ACCEPT, {"offerId": offer_id}, {"code": "FORBIDDEN"}),
        (None, MAKE, {"listingId": listing_id, "amount": "100"}, {"code": "UNAUTHENTICATED"}),
        (None, ACCEPT, {"offerId": offer_id}, {"code": "UNAUTHENTICATED"}),
        # malformed ids
        (
            "buyer_b",
            MAKE,
            {"listingId": offer_id, "amount": "100"},
            {"code": "INVALID_INPUT", "field": "listingId"},
        ),
    ]
    for who, operation, fields, expected in cases:
        result = await act(graphql, tokens[who] if who else None, operation, **fields)
        assert {key: result.get(key) for key in expected} == expected, (who, fields, result)
        assert result["message"], result
    assert await snapshot(sessions) == before


async def test_buyers_see_only_their_own_offers(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
    listing: Listing,
) -> None:
    a = await create_offer(sessions, listing, world.buyer_a.organization)
    b = await create_offer(sessions, listing, world.buyer_b.organization)
    counter_for_b = await create_offer(
        sessions,
        listing,
        world.buyer_b.organization,
        from_party=OfferParty.SELLER,
        status=OfferStatus.REJECTED,
        parent=b,
    )
    a_id, b_id = global_id("Offer", a.id), global_id("Offer", b.id)

    async def ids(token: str, **variables: Any) -> list[str]:
        data = await gql_data(graphql, token, OFFERS, variables)
        connection = data["offers"]
        assert connection["totalCount"] == len(connection["edges"])
        return [edge["node"]["id"] for edge in connection["edges"]]

    assert await ids(tokens["buyer_a"]) == [a_id]
    assert await ids(tokens["buyer_b"]) == [global_id("Offer", counter_for_b.id), b_id]
    assert await ids(tokens["buyer_b"], filter={"mine": True}) == [b_id]
    assert await ids(tokens["sales"], filter={"status": ["PENDING"]}) == [b_id, a_id]
    assert await ids(tokens["sales"], filter={"fromParty": "SELLER"}) == [
        global_id("Offer", counter_for_b.id)
    ]

    # One at a time, and through node(): another buyer's offer is simply not there.
    assert (await gql_data(graphql, tokens["buyer_a"], OFFER, {"id": b_id}))["offer"] is None
    assert (await gql_data(graphql, tokens["buyer_a"], NODE, {"id": b_id}))["node"] is None
    own = await gql_data(graphql, tokens["buyer_a"], OFFER, {"id": a_id})
    assert own["offer"]["buyer"] == {"id": global_id("Organization", world.buyer_a.organization.id)}
    seen = await gql_data(graphql, tokens["sales"], NODE, {"id": b_id})
    assert seen["node"] == {"id": b_id, "status": "PENDING"}

    # Clients never see offers (they would name buyers); nobody signed in sees nothing.
    errors = await gql_errors(graphql, tokens["client_user"], OFFERS)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    errors = await gql_errors(graphql, None, OFFER, {"id": a_id})
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_offers_page_with_cursors(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
) -> None:
    created = []
    for _ in range(5):
        listing = await create_listing(sessions, world.client)
        created.append(await create_offer(sessions, listing, world.buyer_a.organization))
    expected = [global_id("Offer", offer.id) for offer in reversed(created)]
    seen: list[str] = []
    after = None
    while True:
        data = await gql_data(graphql, tokens["buyer_a"], OFFERS, {"first": 2, "after": after})
        connection = data["offers"]
        assert connection["totalCount"] == 5
        seen.extend(edge["node"]["id"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected


async def test_reject_and_withdraw_through_the_api(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
    listing: Listing,
) -> None:
    first = await create_offer(sessions, listing, world.buyer_a.organization)
    rejected = await act(
        graphql,
        tokens["sales"],
        REJECT,
        offerId=global_id("Offer", first.id),
        reason="Too low",
        expectedVersion=1,
    )
    assert (rejected["__typename"], rejected["offer"]["status"]) == ("OfferPayload", "REJECTED")

    second = await create_offer(sessions, listing, world.buyer_a.organization)
    withdrawn = await act(
        graphql, tokens["buyer_a"], WITHDRAW, offerId=global_id("Offer", second.id)
    )
    assert withdrawn["offer"]["status"] == "WITHDRAWN"
    assert withdrawn["offer"]["version"] == 2
