"""The domain subscriptions of the trade over real websockets: one order, one device, offers and
settlements. Each sends the current state first, then the state after each change made through
the API, in order, and nothing the subscriber may not see.

Every test runs on SQLite (in-process broadcast) and on PostgreSQL (``database_url``).
"""

from __future__ import annotations

from typing import Any

from app.domain.statuses import ListingStatus, OrganizationKind, Role
from tests.pubsub import test_domain_subscriptions as board
from tests.pubsub.support import eventually
from tests.pubsub.test_domain_subscriptions import Sessions, Tokens, listing_gid, subscribe
from tests.support.auth import create_person, token_for
from tests.support.server import RunningServer
from tests.support.settlements import at, create_organization, day, deliver_one
from tests.support.trade import World, create_listing, global_id
from tests.support.ws import GraphQLSocket

# The fixtures of the board's tests: a world of the trade, its people's tokens, their sockets.
world = board.world
people = board.people
socket_of = board.socket_of

ORDER = """
subscription Order($id: ID!) {
  order(id: $id) {
    kind cursor
    order { id status version total { amountMinor } shipments { carrier trackingNumber } }
  }
}
"""
DEVICE = """
subscription Device($id: ID!) {
  device(id: $id) { kind cursor device { id status currentGrade { cosmetic } } }
}
"""
OFFERS = """
subscription Offers($listingId: ID, $mine: Boolean! = false) {
  offers(listingId: $listingId, mine: $mine) {
    kind cursor hasMore offers { id status fromParty amount { amountMinor } }
  }
}
"""
SETTLEMENTS = """
subscription {
  settlements { kind cursor settlements { id status totals { net { amountMinor } } } }
}
"""


# --- order(id) ---------------------------------------------------------------------------------

BUY_SELECT = "... on BuyListingsPayload { order { id } }"


async def test_an_order_is_sent_then_each_change_and_only_to_its_buyer(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    listing = await create_listing(sessions, world.client, price_minor=30_000)
    bought = await people.mutate(
        "buyer_a", "buyListings", "BuyListingsInput", {"listingIds": [listing.id]}, BUY_SELECT
    )
    order_id = bought["order"]["id"]
    socket = await socket_of("buyer_a")
    op, snapshot = await subscribe(server, socket, ORDER, {"id": order_id})

    other = await socket_of("buyer_b")
    refused = await other.until_done(await other.subscribe(ORDER, {"id": order_id}))

    await people.mutate("sales", "confirmOrder", "ConfirmOrderInput", {"orderId": order_id})
    confirmed = await socket.take(op, 1)
    await people.mutate(
        "warehouse",
        "shipOrder",
        "ShipOrderInput",
        {"orderId": order_id, "carrier": "DHL", "trackingNumber": "JD0146000062812"},
    )
    shipped = await socket.take(op, 1)
    await socket.silence(op, 0.3)  # the shipment's events came with the order's: one update

    updates = [snapshot, *confirmed, *shipped]
    assert [(u["kind"], u["order"]["status"]) for u in updates] == [
        ("SNAPSHOT", "PENDING"),
        ("CHANGED", "CONFIRMED"),
        ("CHANGED", "SHIPPED"),
    ]
    assert [u["order"]["shipments"] for u in updates] == [
        [],
        [],
        [{"carrier": "DHL", "trackingNumber": "JD0146000062812"}],
    ]
    assert {u["order"]["total"]["amountMinor"] for u in updates} == {"30000"}
    assert [m["type"] for m in refused] == ["error"]
    assert [e["extensions"]["code"] for e in refused[0]["payload"]] == ["NOT_FOUND"]


async def test_a_lagging_order_subscriber_is_cut_off_and_resubscribes_to_a_fresh_snapshot(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    listing = await create_listing(sessions, world.client)
    bought = await people.mutate(
        "buyer_a", "buyListings", "BuyListingsInput", {"listingIds": [listing.id]}, BUY_SELECT
    )
    order_id = bought["order"]["id"]
    await people.mutate("sales", "confirmOrder", "ConfirmOrderInput", {"orderId": order_id})
    server.app.state.runtime.hub.queue_max = 1  # shipping writes two events of this order
    socket = await socket_of("buyer_a")
    op, snapshot = await subscribe(server, socket, ORDER, {"id": order_id})
    await people.mutate(
        "warehouse",
        "shipOrder",
        "ShipOrderInput",
        {"orderId": order_id, "carrier": "UPS", "trackingNumber": "1Z999"},
    )
    [ended, *_] = await socket.until_done(op)
    server.app.state.runtime.hub.queue_max = 1000
    _, fresh = await subscribe(server, socket, ORDER, {"id": order_id})

    assert snapshot["order"]["status"] == "CONFIRMED"
    assert ended["type"] == "next"
    [error] = ended["payload"]["errors"]
    assert error["extensions"]["code"] == "LAGGED"
    assert error["extensions"]["cursor"] == snapshot["cursor"]
    assert (fresh["kind"], fresh["order"]["status"]) == ("SNAPSHOT", "SHIPPED")
    assert fresh["cursor"] != snapshot["cursor"]


# --- device(id) --------------------------------------------------------------------------------


async def test_a_client_follows_its_device_and_no_one_elses(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    listing = await create_listing(sessions, world.client, status=ListingStatus.DRAFT)
    device_id = global_id("Device", listing.device_id)
    socket = await socket_of("client_user")
    op, snapshot = await subscribe(server, socket, DEVICE, {"id": device_id})
    other_client = await create_organization(sessions, OrganizationKind.CLIENT)
    stranger = await create_person(sessions, other_client, Role.VIEWER)
    async with GraphQLSocket.connect(
        server.graphql_ws_url, token=await token_for(sessions, stranger)
    ) as other:
        refused = await other.until_done(await other.subscribe(DEVICE, {"id": device_id}))
    buyer = await socket_of("buyer_a")
    forbidden = await buyer.until_done(await buyer.subscribe(DEVICE, {"id": device_id}))

    await people.mutate("sales", "publishListing", "ListingActionInput", {"listingId": listing.id})
    listed = await socket.take(op, 1)
    await people.mutate(
        "warehouse",
        "recordGrade",
        "RecordGradeInput",
        {
            "deviceId": listing.device_id,
            "cosmetic": "C",
            "functionalPass": True,
            "dataWiped": True,
        },
    )
    graded = await socket.take(op, 1)
    await socket.silence(op, 0.3)

    assert [
        (u["kind"], u["device"]["status"], u["device"]["currentGrade"]["cosmetic"])
        for u in [snapshot, *listed, *graded]
    ] == [("SNAPSHOT", "GRADED", "B"), ("CHANGED", "AVAILABLE", "B"), ("CHANGED", "AVAILABLE", "C")]
    assert [e["extensions"]["code"] for e in refused[0]["payload"]] == ["NOT_FOUND"]
    assert [e["extensions"]["code"] for e in forbidden[0]["payload"]] == ["FORBIDDEN"]


# --- offers(listingId | mine) ------------------------------------------------------------------

OFFER_SELECT = "... on OfferPayload { offer { id } }"


async def test_offers_reach_the_seller_and_their_own_buyer_only(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    listing = await create_listing(sessions, world.client, price_minor=50_000)
    mine_a = await socket_of("buyer_a")
    op_a, snapshot_a = await subscribe(server, mine_a, OFFERS, {"mine": True})
    listing_b = await socket_of("buyer_b")
    op_b, snapshot_b = await subscribe(server, listing_b, OFFERS, {"listingId": listing.id})
    seller = await socket_of("sales")
    op_s, snapshot_s = await subscribe(
        server, seller, OFFERS, {"listingId": listing_gid(listing.id)}
    )

    made = await people.mutate(
        "buyer_a",
        "makeOffer",
        "MakeOfferInput",
        {"listingId": listing.id, "amount": "40000"},
        OFFER_SELECT,
    )
    offer_id = made["offer"]["id"]
    a_made = await mine_a.take(op_a, 1)
    s_made = await seller.take(op_s, 1)
    await listing_b.silence(op_b, 0.2)  # another buyer's offer: never sent
    await people.mutate(
        "sales", "counterOffer", "CounterOfferInput", {"offerId": offer_id, "amount": "45000"}
    )
    a_countered = await mine_a.take(op_a, 2)
    s_countered = await seller.take(op_s, 2)
    await people.mutate(
        "buyer_b", "makeOffer", "MakeOfferInput", {"listingId": listing.id, "amount": "30000"}
    )
    b_made = await listing_b.take(op_b, 1)
    s_b_made = await seller.take(op_s, 1)
    await mine_a.silence(op_a, 0.3)
    subscribers = server.app.state.runtime.hub.subscriber_count
    await seller.complete(op_s)
    await eventually(lambda: server.app.state.runtime.hub.subscriber_count == subscribers - 1)
    unscoped = await seller.until_done(await seller.subscribe(OFFERS, {}))

    assert [s["offers"] for s in (snapshot_a, snapshot_b, snapshot_s)] == [[], [], []]

    def seen(updates: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
        return [
            (u["kind"], o["status"], o["fromParty"], o["amount"]["amountMinor"])
            for u in updates
            for o in u["offers"]
        ]

    assert seen(a_made) == seen(s_made) == [("ADDED", "PENDING", "BUYER", "40000")]
    assert [u["offers"][0]["id"] for u in a_made] == [offer_id]
    assert (
        seen(a_countered)
        == seen(s_countered)
        == [("CHANGED", "COUNTERED", "BUYER", "40000"), ("ADDED", "PENDING", "SELLER", "45000")]
    )
    assert seen(b_made) == seen(s_b_made) == [("ADDED", "PENDING", "BUYER", "30000")]
    assert [e["extensions"]["code"] for e in unscoped[0]["payload"]] == ["INVALID_INPUT"]


# --- settlements -------------------------------------------------------------------------------


async def test_a_client_sees_its_settlements_appear_and_change_and_no_one_elses(
    server: RunningServer, sessions: Sessions, world: World, people: Tokens, socket_of: Any
) -> None:
    delivered = at(day(5))
    await deliver_one(
        sessions, world.client, world.buyer_a.organization, 10_000, delivered_at=delivered
    )
    other_client = await create_organization(sessions, OrganizationKind.CLIENT)
    await deliver_one(sessions, other_client, world.buyer_a.organization, delivered_at=delivered)
    stranger = await create_person(sessions, other_client, Role.VIEWER)

    socket = await socket_of("client_user")
    op, snapshot = await subscribe(server, socket, SETTLEMENTS, {})
    async with GraphQLSocket.connect(
        server.graphql_ws_url, token=await token_for(sessions, stranger)
    ) as other:
        other_op, other_snapshot = await subscribe(server, other, SETTLEMENTS, {})
        period = {"periodStart": day(1).isoformat(), "periodEnd": day(31).isoformat()}
        generated = await people.mutate(
            "admin",
            "generateSettlement",
            "GenerateSettlementInput",
            {"clientId": world.client.id, **period},
            "... on GenerateSettlementPayload { settlement { id } }",
        )
        settlement_id = generated["settlement"]["id"]
        added = await socket.take(op, 1)
        await people.mutate(
            "admin", "approveSettlement", "SettlementActionInput", {"id": settlement_id}
        )
        approved = await socket.take(op, 1)
        await other.silence(other_op, 0.3)
    await socket.silence(op, 0.2)

    assert (snapshot["kind"], snapshot["settlements"]) == ("SNAPSHOT", [])
    assert other_snapshot["settlements"] == []
    # 10,000 gross, 15% commission, a fee of 200: 8,300 net.
    assert [
        (
            u["kind"],
            [(s["id"], s["status"], s["totals"]["net"]["amountMinor"]) for s in u["settlements"]],
        )
        for u in added + approved
    ] == [
        ("ADDED", [(settlement_id, "DRAFT", "8300")]),
        ("CHANGED", [(settlement_id, "APPROVED", "8300")]),
    ]
