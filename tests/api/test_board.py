"""The buyers' board and listing mutations through the real server, on SQLite and PostgreSQL:
filters, sorting, pages, who sees what (never the client), the number of SQL statements a page
costs, and the permission on every listing mutation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import CosmeticGrade, DeviceStatus, ListingStatus, OfferParty
from app.models import Device, Listing
from tests.support.auth import token_for
from tests.support.databases import count_statements
from tests.support.events import reload
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer
from tests.support.trade import (
    World,
    create_device,
    create_listing,
    create_listings,
    create_offer,
    create_world,
    global_id,
    gql_data,
    gql_errors,
    snapshot,
)

Sessions = async_sessionmaker[AsyncSession]

BOARD = """
query Board($filter: ListingFilter, $sort: ListingSort, $first: Int, $after: String) {
  listings(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id status version
        price { amountMinor amount currency }
        device { id make model storageGb colour status currentGrade { cosmetic dataWiped } }
      }
    }
  }
}
"""

LISTING = """
query One($id: ID!) {
  listing(id: $id) {
    id status price { amountMinor currency }
    device { make }
    offers { id amount { amountMinor } buyer { id name } }
  }
}
"""

LISTING_RESULT = """
  __typename
  ... on ListingPayload {
    listing { id status version price { amountMinor amount currency } device { id status } }
  }
  ... on Error { code message }
  ... on InvalidInputError { field }
  ... on NotFoundError { field }
  ... on InvalidTransitionError { currentStatus currentVersion }
  ... on StaleError { currentVersion }
"""


def _mutation(field: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {LISTING_RESULT} }} }}"


CREATE = _mutation("createListing", "CreateListingInput")
PUBLISH = _mutation("publishListing", "ListingActionInput")
PAUSE = _mutation("pauseListing", "ListingActionInput")
REPRICE = _mutation("repriceListing", "RepriceListingInput")
WITHDRAW = _mutation("withdrawListing", "WithdrawListingInput")


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


@pytest.fixture
async def tokens(sessions: Sessions, world: World) -> dict[str, str]:
    return {
        name: await token_for(sessions, getattr(world, name))
        for name in ("sales", "admin", "warehouse", "client_user", "buyer_a", "buyer_b")
    }


async def board_ids(
    graphql: GraphQLClient, token: str, **variables: Any
) -> tuple[list[str], dict[str, Any]]:
    data = await gql_data(graphql, token, BOARD, variables)
    connection: dict[str, Any] = data["listings"]
    return [edge["node"]["id"] for edge in connection["edges"]], connection


# --- Reading the board ---------------------------------------------------------------------


async def test_the_board_shows_buyers_active_listings_with_device_and_grade(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    active = await create_listing(
        sessions, world.client, price_minor=45_050, cosmetic=CosmeticGrade.A, storage_gb=256
    )
    await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    await create_listing(sessions, world.client, status=ListingStatus.PAUSED)
    await create_listing(sessions, world.client, status=ListingStatus.RESERVED)

    ids, connection = await board_ids(
        graphql, tokens["buyer_a"], filter={"status": ["DRAFT", "PAUSED", "RESERVED"]}
    )

    assert ids == [global_id("Listing", active.id)]
    assert connection["totalCount"] == 1
    node = connection["edges"][0]["node"]
    assert node["status"] == "ACTIVE"
    assert node["version"] == 1
    assert node["price"] == {"amountMinor": "45050", "amount": "450.50", "currency": "EUR"}
    assert node["device"] == {
        "id": global_id("Device", active.device_id),
        "make": "Apple",
        "model": "iPhone 13",
        "storageGb": 256,
        "colour": "Midnight",
        "status": "AVAILABLE",
        "currentGrade": {"cosmetic": "A", "dataWiped": True},
    }


async def test_operators_see_and_filter_every_status(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    listings = {
        status: await create_listing(sessions, world.client, status=status)
        for status in ListingStatus
    }
    ids, _ = await board_ids(graphql, tokens["sales"])
    assert len(ids) == len(ListingStatus)
    ids, _ = await board_ids(graphql, tokens["sales"], filter={"status": ["DRAFT", "SOLD"]})
    assert ids == [
        global_id("Listing", listings[ListingStatus.SOLD].id),
        global_id("Listing", listings[ListingStatus.DRAFT].id),
    ]


async def test_board_filters_and_sorting(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    client = world.client
    iphone = await create_listing(sessions, client, price_minor=60_000, cosmetic=CosmeticGrade.A)
    cheap = await create_listing(
        sessions, client, price_minor=30_000, cosmetic=CosmeticGrade.C, storage_gb=64
    )
    galaxy = await create_listing(
        sessions, client, price_minor=45_000, make="Samsung", model="Galaxy S22"
    )
    gid = {
        "iphone": global_id("Listing", iphone.id),
        "cheap": global_id("Listing", cheap.id),
        "galaxy": global_id("Listing", galaxy.id),
    }
    token = tokens["buyer_a"]

    async def ids(**variables: Any) -> list[str]:
        found, _ = await board_ids(graphql, token, **variables)
        return found

    assert await ids() == [gid["galaxy"], gid["cheap"], gid["iphone"]]
    assert await ids(sort="PRICE_ASC") == [gid["cheap"], gid["galaxy"], gid["iphone"]]
    assert await ids(sort="PRICE_DESC") == [gid["iphone"], gid["galaxy"], gid["cheap"]]
    assert await ids(filter={"make": "APPLE"}) == [gid["cheap"], gid["iphone"]]
    assert await ids(filter={"model": "Galaxy S22"}) == [gid["galaxy"]]
    assert await ids(filter={"storageGb": 64}) == [gid["cheap"]]
    assert await ids(filter={"grade": "A"}) == [gid["iphone"]]  # one value is a list of one
    assert await ids(filter={"grade": ["A", "C"]}, sort="PRICE_ASC") == [
        gid["cheap"],
        gid["iphone"],
    ]
    assert await ids(filter={"priceMin": "45000", "priceMax": "60000"}, sort="PRICE_ASC") == [
        gid["galaxy"],
        gid["iphone"],
    ]
    assert await ids(filter={"text": "gal"}) == [gid["galaxy"]]


async def test_board_pages_with_cursors(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    listings = await create_listings(sessions, world.client, 5, price_minor=1_000)
    expected = [global_id("Listing", row.id) for row in listings]  # ascending prices
    seen: list[str] = []
    after = None
    while True:
        ids, connection = await board_ids(
            graphql, tokens["buyer_b"], sort="PRICE_ASC", first=2, after=after
        )
        assert connection["totalCount"] == 5
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.extend(ids)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 101}, "INVALID_INPUT"),
        ({"after": "not-a-cursor"}, "INVALID_INPUT"),
        ({"filter": {"priceMin": "500", "priceMax": "100"}}, "INVALID_INPUT"),
    ],
)
async def test_board_refuses_bad_arguments(
    graphql: GraphQLClient, tokens: dict[str, str], variables: dict[str, Any], code: str
) -> None:
    errors = await gql_errors(graphql, tokens["buyer_a"], BOARD, variables)
    assert errors[0]["extensions"]["code"] == code


async def test_the_board_needs_a_signed_in_viewer(graphql: GraphQLClient, world: World) -> None:
    errors = await gql_errors(graphql, None, BOARD)
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- Never the client ----------------------------------------------------------------------


async def test_the_board_never_exposes_the_client(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    listing = await create_listing(sessions, world.client)
    # The board's device has no client field at all: asking for one is a validation error.
    errors = await gql_errors(
        graphql,
        tokens["buyer_a"],
        "{ listings { edges { node { device { client { name } } } } } }",
    )
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Nothing a buyer can reach from the board names the client, not even through node().
    reach = """
    query($id: ID!) {
      listings { edges { node { id device { id } offers { id } } } }
      listing(id: $id) { device { id make } }
    }
    """
    data = await gql_data(
        graphql, tokens["buyer_a"], reach, {"id": global_id("Listing", listing.id)}
    )
    device_id = data["listing"]["device"]["id"]
    node = await gql_data(
        graphql,
        tokens["buyer_a"],
        "query($id: ID!) { node(id: $id) { ... on Device { client { id name } } } }",
        {"id": device_id},
    )
    everything = json.dumps([data, node])
    assert world.client.name not in everything
    assert global_id("Organization", world.client.id) not in everything


async def test_listing_by_id_hides_drafts_from_buyers(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    draft = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    sold = await create_listing(sessions, world.client, status=ListingStatus.SOLD)
    variables = {"id": global_id("Listing", draft.id)}
    assert (await gql_data(graphql, tokens["buyer_a"], LISTING, variables))["listing"] is None
    assert (await gql_data(graphql, tokens["sales"], LISTING, variables))["listing"] is not None
    node = await gql_data(
        graphql,
        tokens["buyer_a"],
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": global_id("Listing", draft.id)},
    )
    assert node["node"] is None
    # A listing that left the board stays readable, so a buyer's screen can show what happened.
    seen = await gql_data(graphql, tokens["buyer_a"], LISTING, {"id": str(sold.id)})
    assert seen["listing"]["status"] == "SOLD"


async def test_listing_offers_operators_see_all_buyers_their_own(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    listing = await create_listing(sessions, world.client)
    a = await create_offer(sessions, listing, world.buyer_a.organization, amount_minor=100)
    b = await create_offer(
        sessions,
        listing,
        world.buyer_b.organization,
        amount_minor=200,
        from_party=OfferParty.SELLER,
    )
    variables = {"id": global_id("Listing", listing.id)}

    for_sales = (await gql_data(graphql, tokens["sales"], LISTING, variables))["listing"]
    for_a = (await gql_data(graphql, tokens["buyer_a"], LISTING, variables))["listing"]
    for_client = (await gql_data(graphql, tokens["client_user"], LISTING, variables))["listing"]

    assert [offer["id"] for offer in for_sales["offers"]] == [
        global_id("Offer", a.id),
        global_id("Offer", b.id),
    ]
    assert for_sales["offers"][1]["buyer"]["name"] == world.buyer_b.organization.name
    assert for_a["offers"] == [
        {
            "id": global_id("Offer", a.id),
            "amount": {"amountMinor": "100"},
            "buyer": {
                "id": global_id("Organization", world.buyer_a.organization.id),
                "name": world.buyer_a.organization.name,
            },
        }
    ]
    assert for_client["offers"] == []


# --- The cost of a page --------------------------------------------------------------------


async def test_a_board_page_costs_the_same_statements_for_10_and_50_listings(
    graphql: GraphQLClient,
    server: RunningServer,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
) -> None:
    engine = server.app.state.runtime.engine.sync_engine
    query = """
    query($first: Int) {
      listings(first: $first) {
        totalCount
        edges { node { id price { amount } device { make model currentGrade { cosmetic } } } }
      }
    }
    """
    await create_listings(sessions, world.client, 50)
    counts = {}
    for size in (10, 50):
        await gql_data(graphql, tokens["buyer_a"], query, {"first": size})  # warm the pool
        with count_statements(engine) as log:
            data = await gql_data(graphql, tokens["buyer_a"], query, {"first": size})
        assert len(data["listings"]["edges"]) == size
        assert all(e["node"]["device"]["currentGrade"] for e in data["listings"]["edges"])
        counts[size] = log.count
    assert counts[10] == counts[50]
    # Sign-in look-up, count, page, devices, grades; plus SQLite's BEGIN per transaction.
    assert counts[50] <= 10, counts


# --- Listing mutations ---------------------------------------------------------------------


async def test_sales_lists_a_device_through_its_life(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    device = await create_device(sessions, world.client)
    token = tokens["sales"]

    created = (
        await gql_data(
            graphql,
            token,
            CREATE,
            {"input": {"deviceId": global_id("Device", device.id), "price": "49900"}},
        )
    )["createListing"]
    assert created["__typename"] == "ListingPayload", created
    listing = created["listing"]
    assert (listing["status"], listing["version"]) == ("DRAFT", 1)
    assert listing["price"] == {"amountMinor": "49900", "amount": "499.00", "currency": "EUR"}
    listing_id = listing["id"]

    published = (
        await gql_data(
            graphql, token, PUBLISH, {"input": {"listingId": listing_id, "expectedVersion": 1}}
        )
    )["publishListing"]
    assert published["listing"]["status"] == "ACTIVE"
    assert published["listing"]["device"]["status"] == "AVAILABLE"

    stale = (
        await gql_data(
            graphql,
            token,
            REPRICE,
            {"input": {"listingId": listing_id, "price": "45000", "expectedVersion": 1}},
        )
    )["repriceListing"]
    assert stale == {
        "__typename": "StaleError",
        "code": "STALE",
        "message": stale["message"],
        "currentVersion": 2,
    }
    repriced = (
        await gql_data(
            graphql,
            token,
            REPRICE,
            {"input": {"listingId": listing_id, "price": "45000", "expectedVersion": 2}},
        )
    )["repriceListing"]
    assert repriced["listing"]["price"]["amount"] == "450.00"

    paused = (await gql_data(graphql, token, PAUSE, {"input": {"listingId": listing_id}}))[
        "pauseListing"
    ]
    assert paused["listing"]["status"] == "PAUSED"

    withdrawn = (
        await gql_data(
            graphql, token, WITHDRAW, {"input": {"listingId": listing_id, "reason": "Sold offline"}}
        )
    )["withdrawListing"]
    assert withdrawn["listing"]["status"] == "WITHDRAWN"
    assert withdrawn["listing"]["device"]["status"] == "GRADED"
    assert (await reload(sessions, Device, device.id)).status is DeviceStatus.GRADED

    again = (await gql_data(graphql, token, PAUSE, {"input": {"listingId": listing_id}}))[
        "pauseListing"
    ]
    assert (again["__typename"], again["code"], again["currentStatus"]) == (
        "InvalidTransitionError",
        "INVALID_TRANSITION",
        "WITHDRAWN",
    )


async def test_create_listing_refusals_name_what_is_wrong(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    unwiped = await create_device(sessions, world.client, data_wiped=False)
    received = await create_device(sessions, world.client, status=DeviceStatus.RECEIVED)
    before = await snapshot(sessions)

    async def create(device_id: str, price: str = "100") -> dict[str, Any]:
        data = await gql_data(
            graphql, tokens["sales"], CREATE, {"input": {"deviceId": device_id, "price": price}}
        )
        result: dict[str, Any] = data["createListing"]
        return result

    not_wiped = await create(global_id("Device", unwiped.id))
    assert (not_wiped["__typename"], not_wiped["code"], not_wiped["field"]) == (
        "InvalidInputError",
        "INVALID_INPUT",
        "deviceId",
    )
    assert "data is not wiped" in not_wiped["message"]
    not_graded = await create(str(received.id))
    assert (not_graded["code"], not_graded["currentStatus"]) == ("INVALID_TRANSITION", "RECEIVED")
    zero = await create(str(unwiped.id), price="0")
    assert (zero["code"], zero["field"]) == ("INVALID_INPUT", "price")
    unknown = await create(global_id("Device", 99_999))
    assert (unknown["__typename"], unknown["field"]) == ("NotFoundError", "deviceId")
    bad_id = await create(global_id("Listing", unwiped.id))
    assert (bad_id["code"], bad_id["field"]) == ("INVALID_INPUT", "deviceId")
    assert await snapshot(sessions) == before


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("warehouse", "FORBIDDEN"),
        ("buyer_a", "FORBIDDEN"),
        ("client_user", "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ],
)
async def test_listing_mutations_need_manage_listings(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    tokens: dict[str, str],
    who: str | None,
    code: str,
) -> None:
    device = await create_device(sessions, world.client)
    listing = await create_listing(sessions, world.client)
    token = tokens[who] if who else None
    listing_id = global_id("Listing", listing.id)
    before = await snapshot(sessions)
    operations = [
        (CREATE, "createListing", {"deviceId": str(device.id), "price": "100"}),
        (PUBLISH, "publishListing", {"listingId": listing_id}),
        (PAUSE, "pauseListing", {"listingId": listing_id}),
        (REPRICE, "repriceListing", {"listingId": listing_id, "price": "100"}),
        (WITHDRAW, "withdrawListing", {"listingId": listing_id}),
    ]
    for operation, field, variables in operations:
        result = (await gql_data(graphql, token, operation, {"input": variables}))[field]
        assert (result["__typename"], result["code"]) == ("ForbiddenError", code), field
    assert await snapshot(sessions) == before
    assert (await reload(sessions, Listing, listing.id)).status is ListingStatus.ACTIVE


async def test_admin_may_manage_listings(
    graphql: GraphQLClient, sessions: Sessions, world: World, tokens: dict[str, str]
) -> None:
    listing = await create_listing(sessions, world.client)
    result = (
        await gql_data(
            graphql,
            tokens["admin"],
            PAUSE,
            {"input": {"listingId": global_id("Listing", listing.id)}},
        )
    )["pauseListing"]
    assert result["listing"]["status"] == "PAUSED"
