"""The buyers' board live over real websockets: the first page, then each listing added, changed
or removed by the API, in order, and nothing the subscriber may not see; the window between the
snapshot and the live stream; one read per change for alike subscribers. Also the fixtures the
other domain subscriptions' tests share (test_domain_subscriptions_trade.py).

Every test runs on SQLite (in-process broadcast) and on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import CosmeticGrade, ListingStatus
from app.pubsub.render import render_groups_of
from app.resolvers.live_common import shared_cache
from app.services import listing_queries
from app.services import listings as listing_service
from tests.pubsub.support import eventually, subscribed
from tests.support.auth import token_for
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, import_schema
from tests.support.trade import (
    World,
    bearer,
    create_listing,
    create_world,
    global_id,
    reprice_in_database,
)
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

BOARD = """
subscription Board($filter: ListingFilter, $first: Int) {
  listingBoard(filter: $filter, first: $first) {
    kind cursor totalCount hasMore removedIds
    listings { id status price { amountMinor } device { make currentGrade { cosmetic } } }
  }
}
"""


class Tokens:
    """Signed-in tokens of the world's people, and API calls as them."""

    def __init__(self, graphql: GraphQLClient, tokens: dict[str, str]) -> None:
        self.graphql = graphql
        self.tokens = tokens

    def __getitem__(self, name: str) -> str:
        return self.tokens[name]

    async def mutate(
        self, who: str, name: str, input_type: str, input: dict[str, Any], select: str = ""
    ) -> dict[str, Any]:
        query = (
            f"mutation M($input: {input_type}!) {{ {name}(input: $input) "
            f"{{ __typename ... on Error {{ code message }} {select} }} }}"
        )
        body = await self.graphql(query, {"input": input}, headers=bearer(self.tokens[who]))
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][name]
        assert result["__typename"].endswith("Payload"), result
        return result


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


@pytest.fixture
async def people(sessions: Sessions, world: World, graphql: GraphQLClient) -> Tokens:
    names = ("sales", "admin", "warehouse", "client_user", "buyer_a", "buyer_b")
    return Tokens(
        graphql, {name: await token_for(sessions, getattr(world, name)) for name in names}
    )


@pytest.fixture
async def socket_of(server: RunningServer, people: Tokens) -> AsyncIterator[Any]:
    """``await socket_of("buyer_a")``: an open socket signed in as that person."""
    stack: list[Any] = []

    async def open_socket(name: str) -> GraphQLSocket:
        manager = GraphQLSocket.connect(server.graphql_ws_url, token=people[name])
        socket = await manager.__aenter__()
        stack.append(manager)
        return socket

    yield open_socket
    for manager in reversed(stack):
        await manager.__aexit__(None, None, None)


async def subscribe(
    server: RunningServer, socket: GraphQLSocket, query: str, variables: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Subscribe; returns the operation and its first value (the snapshot)."""
    before = server.app.state.runtime.hub.subscriber_count
    op = await socket.subscribe(query, variables)
    [first] = await socket.take(op, 1)
    await subscribed(server.app, before + 1)
    return op, first


def listing_gid(listing_id: int) -> str:
    return global_id("Listing", listing_id)


# --- listingBoard ------------------------------------------------------------------------------


BOARD_WITH_OFFERS = """
subscription Board {
  listingBoard { kind listings { id price { amountMinor } offers { id } } }
}
"""


@pytest.mark.parametrize(
    ("query", "renderings_per_change"),
    [(BOARD, 1), (BOARD_WITH_OFFERS, 2)],
    ids=["plain-fields", "with-offers"],
)
async def test_buyers_of_two_organisations_share_a_change_unless_it_shows_their_offers(
    server: RunningServer,
    sessions: Sessions,
    world: World,
    people: Tokens,
    socket_of: Any,
    query: str,
    renderings_per_change: int,
) -> None:
    listing = await create_listing(sessions, world.client)
    sockets = [await socket_of("buyer_a"), await socket_of("buyer_b")]
    ops = [(await subscribe(server, socket, query, {}))[0] for socket in sockets]
    groups = render_groups_of(import_schema())
    assert groups is not None
    before = groups.renderings

    await people.mutate(
        "sales", "repriceListing", "RepriceListingInput", {"listingId": listing.id, "price": "9"}
    )
    updates = [(await socket.take(op, 1))[0] for socket, op in zip(sockets, ops, strict=True)]

    assert [u["listings"][0]["price"]["amountMinor"] for u in updates] == ["9", "9"]
    # Listing.offers shows each buyer its own offers: then each organisation renders its own.
    assert groups.renderings - before == renderings_per_change


async def test_the_board_sends_its_page_then_added_changed_and_removed_listings(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    apple = await create_listing(sessions, world.client, price_minor=50_000)
    samsung = await create_listing(sessions, world.client, make="Samsung", price_minor=40_000)
    paused = await create_listing(
        sessions, world.client, status=ListingStatus.PAUSED, cosmetic=CosmeticGrade.B
    )
    draft = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    socket = await socket_of("buyer_a")
    op, snapshot = await subscribe(
        server, socket, BOARD, {"filter": {"make": "apple", "grade": ["B"]}}
    )
    assert snapshot["kind"] == "SNAPSHOT"
    assert [item["id"] for item in snapshot["listings"]] == [listing_gid(apple.id)]
    assert (snapshot["totalCount"], snapshot["hasMore"], snapshot["removedIds"]) == (1, False, [])
    client_socket = await socket_of("client_user")  # clients see the public board too
    client_op, _ = await subscribe(server, client_socket, BOARD, {"filter": {"make": "Apple"}})

    await people.mutate(
        "sales", "repriceListing", "RepriceListingInput", {"listingId": apple.id, "price": "45000"}
    )
    changed = await socket.take(op, 1)
    assert await client_socket.take(client_op, 1) == changed
    await people.mutate(
        "sales", "repriceListing", "RepriceListingInput", {"listingId": samsung.id, "price": "1"}
    )
    await people.mutate("sales", "publishListing", "ListingActionInput", {"listingId": paused.id})
    added = await socket.take(op, 1)  # the Samsung change is outside the filter: nothing
    await people.mutate(
        "warehouse",
        "recordGrade",
        "RecordGradeInput",
        {"deviceId": paused.device_id, "cosmetic": "A", "functionalPass": True, "dataWiped": True},
    )
    regraded_out = await socket.take(op, 1)
    await people.mutate("buyer_b", "buyListings", "BuyListingsInput", {"listingIds": [apple.id]})
    sold = await socket.take(op, 1)
    await people.mutate("sales", "publishListing", "ListingActionInput", {"listingId": draft.id})
    published = await socket.take(op, 1)
    await socket.silence(op, 0.3)

    [changed_update] = changed
    assert changed_update["kind"] == "CHANGED"
    assert [(i["id"], i["price"]["amountMinor"]) for i in changed_update["listings"]] == [
        (listing_gid(apple.id), "45000")
    ]
    assert [(u["kind"], [i["id"] for i in u["listings"]]) for u in added] == [
        ("ADDED", [listing_gid(paused.id)])
    ]
    assert [(u["kind"], u["removedIds"], u["listings"]) for u in regraded_out + sold] == [
        ("REMOVED", [listing_gid(paused.id)], []),
        ("REMOVED", [listing_gid(apple.id)], []),
    ]
    assert [(u["kind"], [i["status"] for i in u["listings"]]) for u in published] == [
        ("ADDED", ["ACTIVE"])
    ]
    cursors = [snapshot["cursor"]] + [u["cursor"] for u in changed + added + regraded_out + sold]
    assert len(set(cursors)) == len(cursors)
    everything = json.dumps([snapshot, changed, added, regraded_out, sold, published])
    assert world.client.name not in everything  # no client identity on the board


async def test_a_change_committed_just_after_the_snapshot_was_read_still_arrives(
    server: RunningServer,
    sessions: Sessions,
    world: World,
    socket_of: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The window the design closes: the snapshot is read, then a change commits and the tail
    dispatches it before the stream goes live. Registered first, the stream has it queued."""
    listing = await create_listing(sessions, world.client, price_minor=50_000)
    runtime = server.app.state.runtime
    original = listing_queries.list_listings

    async def read_then_change(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(listing_queries, "list_listings", original)
        page = await original(*args, **kwargs)
        before = runtime.tail.cursor
        await listing_service.reprice_listing(
            runtime.sessions, listing_id=listing.id, price_minor=41_000, actor=world.sales.actor
        )
        await eventually(lambda: runtime.tail.cursor > before, what="the tail read the change")
        return page

    monkeypatch.setattr(listing_queries, "list_listings", read_then_change)
    socket = await socket_of("buyer_a")
    op = await socket.subscribe(BOARD, {})
    snapshot, changed = await socket.take(op, 2)

    assert [(i["id"], i["price"]["amountMinor"]) for i in snapshot["listings"]] == [
        (listing_gid(listing.id), "50000")
    ]
    assert [(i["id"], i["price"]["amountMinor"]) for i in changed["listings"]] == [
        (listing_gid(listing.id), "41000")
    ]
    assert changed["kind"] == "CHANGED"


async def test_alike_board_subscribers_share_one_read_and_one_update_per_change(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    listing = await create_listing(sessions, world.client)
    sockets = [await socket_of("buyer_a") for _ in range(3)]
    ops = [(await subscribe(server, socket, BOARD, {}))[0] for socket in sockets]
    cache = shared_cache(server.app.state.runtime)
    loads = cache.loads

    await people.mutate(
        "sales", "repriceListing", "RepriceListingInput", {"listingId": listing.id, "price": "7"}
    )
    updates = [(await socket.take(op, 1))[0] for socket, op in zip(sockets, ops, strict=True)]

    assert cache.loads == loads + 1  # one read of the listing for three subscribers
    assert [u["listings"][0]["price"]["amountMinor"] for u in updates] == ["7"] * 3
    assert len({u["cursor"] for u in updates}) == 1


async def test_a_batch_of_changes_costs_one_read_for_every_subscriber(
    server: RunningServer, sessions: Sessions, world: World, socket_of: Any
) -> None:
    first = await create_listing(sessions, world.client)
    second = await create_listing(sessions, world.client)
    sockets = [await socket_of("buyer_a"), await socket_of("buyer_b")]
    ops = [(await subscribe(server, socket, BOARD, {}))[0] for socket in sockets]
    cache = shared_cache(server.app.state.runtime)
    loads = cache.loads

    # Two changes in one transaction: the tail reads them together, one batch.
    async with server.app.state.runtime.sessions.begin() as session:
        await reprice_in_database(session, first, 11)
        await reprice_in_database(session, second, 12)
    for socket, op in zip(sockets, ops, strict=True):
        updates = await socket.take(op, 2)
        prices = {u["listings"][0]["id"]: u["listings"][0]["price"]["amountMinor"] for u in updates}
        assert prices == {listing_gid(first.id): "11", listing_gid(second.id): "12"}
    assert cache.loads == loads + 1  # both listings, for both subscribers, in one read
