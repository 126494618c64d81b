"""The trade through the real HTTP server with signed-in users, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import Role
from app.models import Organization
from tests.support.auth import create_operator, create_user, sign_in
from tests.support.databases import count_statements
from tests.support.factories import create_buyer, create_client
from tests.support.graphql import GraphQLClient
from tests.support.orders import Listed, create_listed_device, snapshot
from tests.support.server import RunningServer

Sessions = async_sessionmaker[AsyncSession]

ERROR_FIELDS = """
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on NotFoundError { field }
    ... on NotAvailableError { currentStatus }
    ... on InvalidTransitionError { currentStatus currentVersion }
    ... on StaleError { currentVersion }
"""
ORDER_FIELDS = """
    id status version createdAt
    buyer { id name }
    total { amount amountMinor currency }
    lines {
      price { amount amountMinor currency }
      released
      listing { id status price { amountMinor } device { id model } }
      device { id imei status }
    }
    shipments { id carrier trackingNumber trackingUrl status shippedAt deliveredAt }
"""

BUY = f"""
mutation Buy($ids: [ID!]!, $key: String) {{
  buyListings(input: {{listingIds: $ids, idempotencyKey: $key}}) {{
    __typename
    ... on BuyListingsPayload {{ order {{ {ORDER_FIELDS} }} }}
    {ERROR_FIELDS}
  }}
}}
"""
CONFIRM = f"""
mutation Confirm($id: ID!, $version: Int) {{
  confirmOrder(input: {{orderId: $id, expectedVersion: $version}}) {{
    __typename
    ... on ConfirmOrderPayload {{ order {{ id status version }} }}
    {ERROR_FIELDS}
  }}
}}
"""
CANCEL = f"""
mutation Cancel($id: ID!, $reason: String) {{
  cancelOrder(input: {{orderId: $id, reason: $reason}}) {{
    __typename
    ... on CancelOrderPayload {{ order {{ {ORDER_FIELDS} }} }}
    {ERROR_FIELDS}
  }}
}}
"""
SHIP = f"""
mutation Ship($id: ID!, $carrier: String!, $number: String!, $url: String, $key: String) {{
  shipOrder(input: {{
    orderId: $id, carrier: $carrier, trackingNumber: $number,
                   trackingUrl: $url, idempotencyKey: $key}}) {{
    __typename
    ... on ShipOrderPayload {{
      shipment {{ id status version carrier trackingNumber order {{ id }} }}
      order {{ id status version }}
    }}
    {ERROR_FIELDS}
  }}
}}
"""
DELIVER = f"""
mutation Deliver($orderId: ID, $shipmentId: ID) {{
  markDelivered(input: {{orderId: $orderId, shipmentId: $shipmentId}}) {{
    __typename
    ... on MarkDeliveredPayload {{ shipment {{ id status deliveredAt }} order {{ id status }} }}
    {ERROR_FIELDS}
  }}
}}
"""
EXCEPTION = f"""
mutation Exception($id: ID!, $note: String!) {{
  reportShipmentException(input: {{shipmentId: $id, note: $note}}) {{
    __typename
    ... on ReportShipmentExceptionPayload {{ shipment {{ id status version }} }}
    {ERROR_FIELDS}
  }}
}}
"""
COMPLETE = f"""
mutation Complete($id: ID!) {{
  completeOrder(input: {{orderId: $id}}) {{
    __typename
    ... on CompleteOrderPayload {{ order {{ id status version }} }}
    {ERROR_FIELDS}
  }}
}}
"""
ORDER = f"query One($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
NODE = "query Node($id: ID!) { node(id: $id) { __typename id } }"
SHIPMENT = "query One($id: ID!) { shipment(id: $id) { id trackingNumber order { id } } }"
ORDERS = """
query Orders($filter: OrderFilter, $sort: OrderSort, $first: Int, $after: String) {
  orders(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    edges { cursor node { id status buyer { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
SHIPMENTS = """
query Shipments($filter: ShipmentFilter) {
  shipments(filter: $filter) {
    totalCount
    edges { node { id trackingNumber status order { id } } }
  }
}
"""


def gid(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))


@dataclass
class People:
    buyer_org: Organization
    buyer: GraphQLClient
    other_buyer: GraphQLClient
    sales: GraphQLClient
    warehouse: GraphQLClient
    client: GraphQLClient
    anonymous: GraphQLClient


@pytest.fixture
async def people(graphql: GraphQLClient, sessions: Sessions) -> People:
    operator = await create_operator(sessions)
    buyer_org = await create_buyer(sessions, name="Phones4Trade")

    async def member(organization: Organization, role: Role) -> GraphQLClient:
        """A new user of ``organization``, signed in through the API."""
        return await sign_in(graphql, await create_user(sessions, organization, role))

    return People(
        buyer_org=buyer_org,
        buyer=await member(buyer_org, Role.BUYER),
        other_buyer=await member(await create_buyer(sessions), Role.BUYER),
        sales=await member(operator, Role.SALES),
        warehouse=await member(operator, Role.WAREHOUSE),
        client=await member(await create_client(sessions), Role.VIEWER),
        anonymous=graphql.as_("no-such-token"),
    )


async def call(who: GraphQLClient, query: str, variables: dict[str, Any], field: str) -> Any:
    return (await who.data(query, variables))[field]


async def buy(who: GraphQLClient, *listed: Listed, key: str | None = None) -> Any:
    ids = [gid("Listing", item.listing_id) for item in listed]
    return await call(who, BUY, {"ids": ids, "key": key}, "buyListings")


async def bought(who: GraphQLClient, *listed: Listed) -> dict[str, Any]:
    result = await buy(who, *listed)
    assert result["__typename"] == "BuyListingsPayload", result
    order: dict[str, Any] = result["order"]
    return order


async def test_a_buyer_buys_and_follows_the_order_to_its_end(
    sessions: Sessions, people: People
) -> None:
    listed = [await create_listed_device(sessions, price_minor=p) for p in (12900, 7150)]

    order = await bought(people.buyer, *listed)
    assert order["status"] == "PENDING"
    assert order["version"] == 1
    assert order["buyer"] == {
        "id": gid("Organization", people.buyer_org.id),
        "name": "Phones4Trade",
    }
    assert order["total"] == {"amount": "200.50", "amountMinor": "20050", "currency": "EUR"}
    assert [line["price"]["amountMinor"] for line in order["lines"]] == ["12900", "7150"]
    assert [line["listing"]["status"] for line in order["lines"]] == ["RESERVED", "RESERVED"]
    assert [line["device"] for line in order["lines"]] == [None, None]  # operators only
    assert order["shipments"] == []
    order_id = order["id"]

    confirmed = await call(people.sales, CONFIRM, {"id": order_id, "version": 1}, "confirmOrder")
    assert confirmed["order"] == {"id": order_id, "status": "CONFIRMED", "version": 2}

    shipped = await call(
        people.warehouse,
        SHIP,
        {"id": order_id, "carrier": "UPS", "number": "1Z999AA10123456784", "key": "s-1"},
        "shipOrder",
    )
    assert shipped["__typename"] == "ShipOrderPayload", shipped
    assert shipped["order"] == {"id": order_id, "status": "SHIPPED", "version": 3}
    assert shipped["shipment"]["status"] == "IN_TRANSIT"
    assert shipped["shipment"]["order"] == {"id": order_id}

    # The buyer's portal shows the tracking number at once (rule 6).
    seen = (await people.buyer.data(ORDER, {"id": order_id}))["order"]
    [shipment] = seen["shipments"]
    assert (shipment["carrier"], shipment["trackingNumber"]) == ("UPS", "1Z999AA10123456784")
    assert shipment["shippedAt"] is not None
    assert [line["listing"]["status"] for line in seen["lines"]] == ["SOLD", "SOLD"]

    # The sales view shows the full device records.
    staff_view = (await people.sales.data(ORDER, {"id": order_id}))["order"]
    assert [line["device"]["status"] for line in staff_view["lines"]] == ["SHIPPED", "SHIPPED"]

    delivered = await call(people.warehouse, DELIVER, {"orderId": order_id}, "markDelivered")
    assert delivered["order"]["status"] == "DELIVERED"
    assert delivered["shipment"]["deliveredAt"] is not None

    completed = await call(people.sales, COMPLETE, {"id": order_id}, "completeOrder")
    assert completed["order"] == {"id": order_id, "status": "COMPLETED", "version": 5}


async def test_the_second_buyer_is_told_the_listing_is_reserved(
    sessions: Sessions, people: People
) -> None:
    listed = await create_listed_device(sessions)
    await bought(people.buyer, listed)
    before = await snapshot(sessions)
    result = await buy(people.other_buyer, listed)
    assert result["__typename"] == "NotAvailableError"
    assert (result["code"], result["currentStatus"]) == ("NOT_AVAILABLE", "RESERVED")
    assert await snapshot(sessions) == before


async def test_buying_with_a_key_is_idempotent(sessions: Sessions, people: People) -> None:
    listed = [await create_listed_device(sessions) for _ in range(2)]
    first = await bought_with_key(people.buyer, listed[0], "key-1")
    before = await snapshot(sessions)
    again = await bought_with_key(people.buyer, listed[0], "key-1")
    assert again["id"] == first["id"]
    assert await snapshot(sessions) == before

    conflict = await buy(people.buyer, listed[1], key="key-1")
    assert conflict["__typename"] == "InvalidInputError"
    assert (conflict["code"], conflict["field"]) == ("IDEMPOTENCY_CONFLICT", "idempotencyKey")
    assert await snapshot(sessions) == before


async def bought_with_key(who: GraphQLClient, listed: Listed, key: str) -> dict[str, Any]:
    result = await buy(who, listed, key=key)
    assert result["__typename"] == "BuyListingsPayload", result
    order: dict[str, Any] = result["order"]
    return order


@pytest.mark.parametrize(
    ("who", "typename", "code"),
    [
        pytest.param("anonymous", "ForbiddenError", "UNAUTHENTICATED", id="anonymous"),
        pytest.param("client", "ForbiddenError", "FORBIDDEN", id="client"),
        pytest.param("sales", "ForbiddenError", "FORBIDDEN", id="sales"),
    ],
)
async def test_only_buyers_buy(
    sessions: Sessions, people: People, who: str, typename: str, code: str
) -> None:
    listed = await create_listed_device(sessions)
    before = await snapshot(sessions)
    result = await buy(getattr(people, who), listed)
    assert (result["__typename"], result["code"]) == (typename, code)
    assert await snapshot(sessions) == before


async def test_bad_listing_ids_are_invalid_input(sessions: Sessions, people: People) -> None:
    listed = await create_listed_device(sessions)
    before = await snapshot(sessions)
    for ids in (["not-an-id"], [gid("Device", listed.device_id)], []):
        result = await call(people.buyer, BUY, {"ids": ids}, "buyListings")
        assert (result["__typename"], result["code"]) == ("InvalidInputError", "INVALID_INPUT")
        assert result["field"] == "listingIds"
    missing = await call(people.buyer, BUY, {"ids": [gid("Listing", 4040)]}, "buyListings")
    assert (missing["__typename"], missing["code"]) == ("NotFoundError", "NOT_FOUND")
    assert await snapshot(sessions) == before


async def test_refusals_of_the_order_flow(sessions: Sessions, people: People) -> None:
    listed = await create_listed_device(sessions)
    order_id = (await bought(people.buyer, listed))["id"]
    before = await snapshot(sessions)

    stale = await call(people.sales, CONFIRM, {"id": order_id, "version": 9}, "confirmOrder")
    assert (stale["__typename"], stale["code"], stale["currentVersion"]) == (
        "StaleError",
        "STALE",
        1,
    )
    forbidden = await call(people.warehouse, CONFIRM, {"id": order_id}, "confirmOrder")
    assert (forbidden["__typename"], forbidden["code"]) == ("ForbiddenError", "FORBIDDEN")
    early = await call(
        people.warehouse,
        SHIP,
        {"id": order_id, "carrier": "DHL", "number": "123456"},
        "shipOrder",
    )
    assert early["__typename"] == "InvalidTransitionError"
    assert (early["code"], early["currentStatus"], early["currentVersion"]) == (
        "INVALID_TRANSITION",
        "PENDING",
        1,
    )
    bad_url = await call(
        people.warehouse,
        SHIP,
        {"id": order_id, "carrier": "DHL", "number": "123456", "url": "javascript:alert(1)"},
        "shipOrder",
    )
    assert (bad_url["__typename"], bad_url["field"]) == ("InvalidInputError", "trackingUrl")
    not_theirs = await call(people.other_buyer, CANCEL, {"id": order_id}, "cancelOrder")
    assert (not_theirs["__typename"], not_theirs["code"]) == ("NotFoundError", "NOT_FOUND")
    assert await snapshot(sessions) == before


async def test_a_buyer_cancels_its_pending_order_and_the_device_sells_again(
    sessions: Sessions, people: People
) -> None:
    listed = await create_listed_device(sessions)
    order_id = (await bought(people.buyer, listed))["id"]

    result = await call(
        people.buyer, CANCEL, {"id": order_id, "reason": "Wrong model"}, "cancelOrder"
    )

    assert result["__typename"] == "CancelOrderPayload", result
    order = result["order"]
    assert order["status"] == "CANCELLED"
    assert [line["released"] for line in order["lines"]] == [True]
    assert [line["listing"]["status"] for line in order["lines"]] == ["ACTIVE"]
    assert order["total"]["amountMinor"] == str(listed.price_minor)
    again = await bought(people.other_buyer, listed)
    assert again["id"] != order_id


async def test_a_buyer_may_not_cancel_once_confirmed(sessions: Sessions, people: People) -> None:
    listed = await create_listed_device(sessions)
    order_id = (await bought(people.buyer, listed))["id"]
    await call(people.sales, CONFIRM, {"id": order_id}, "confirmOrder")
    before = await snapshot(sessions)
    result = await call(people.buyer, CANCEL, {"id": order_id}, "cancelOrder")
    assert (result["__typename"], result["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert await snapshot(sessions) == before
    by_sales = await call(people.sales, CANCEL, {"id": order_id}, "cancelOrder")
    assert by_sales["order"]["status"] == "CANCELLED"


async def test_a_carrier_exception_reaches_the_buyer(sessions: Sessions, people: People) -> None:
    listed = await create_listed_device(sessions)
    order_id = (await bought(people.buyer, listed))["id"]
    await call(people.sales, CONFIRM, {"id": order_id}, "confirmOrder")
    shipped = await call(
        people.warehouse, SHIP, {"id": order_id, "carrier": "DPD", "number": "05 2176"}, "shipOrder"
    )
    shipment_id = shipped["shipment"]["id"]

    result = await call(
        people.warehouse, EXCEPTION, {"id": shipment_id, "note": "Lost"}, "reportShipmentException"
    )
    assert result["shipment"] == {"id": shipment_id, "status": "EXCEPTION", "version": 2}
    late = await call(people.warehouse, DELIVER, {"shipmentId": shipment_id}, "markDelivered")
    assert (late["__typename"], late["currentStatus"]) == ("InvalidTransitionError", "EXCEPTION")
    page = (await people.buyer.data(SHIPMENTS, {"filter": {"status": ["EXCEPTION"]}}))["shipments"]
    assert page["totalCount"] == 1
    assert page["edges"][0]["node"]["order"] == {"id": order_id}
    assert (await people.buyer.data(SHIPMENT, {"id": shipment_id}))["shipment"] == {
        "id": shipment_id,
        "trackingNumber": "05 2176",
        "order": {"id": order_id},
    }
    assert (await people.other_buyer.data(SHIPMENT, {"id": shipment_id}))["shipment"] is None
    assert (await people.other_buyer.data(SHIPMENTS, {}))["shipments"]["totalCount"] == 0
    for query in (SHIPMENT, SHIPMENTS):
        payload = await people.client(query, {"id": shipment_id} if query is SHIPMENT else {})
        assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_who_sees_which_orders(sessions: Sessions, people: People) -> None:
    mine = [
        (await bought(people.buyer, await create_listed_device(sessions)))["id"] for _ in range(3)
    ]
    theirs = (await bought(people.other_buyer, await create_listed_device(sessions)))["id"]

    staff = (await people.sales.data(ORDERS, {}))["orders"]
    assert staff["totalCount"] == 4
    assert [edge["node"]["id"] for edge in staff["edges"]] == [theirs, *reversed(mine)]

    own = (await people.buyer.data(ORDERS, {"sort": "OLDEST", "first": 2}))["orders"]
    assert own["totalCount"] == 3
    assert [edge["node"]["id"] for edge in own["edges"]] == mine[:2]
    assert own["pageInfo"]["hasNextPage"] is True
    rest = (
        await people.buyer.data(
            ORDERS, {"sort": "OLDEST", "first": 2, "after": own["pageInfo"]["endCursor"]}
        )
    )["orders"]
    assert [edge["node"]["id"] for edge in rest["edges"]] == mine[2:]

    # Filtering by another buyer does not widen what a buyer sees.
    other_org = {"buyerId": gid("Organization", people.buyer_org.id + 1)}
    assert (await people.buyer.data(ORDERS, {"filter": other_org}))["orders"]["totalCount"] == 0
    assert (await people.buyer.data(ORDER, {"id": theirs}))["order"] is None
    assert (await people.buyer.data(NODE, {"id": theirs}))["node"] is None
    assert (await people.other_buyer.data(NODE, {"id": theirs}))["node"] == {
        "__typename": "Order",
        "id": theirs,
    }
    assert (await people.sales.data(ORDER, {"id": gid("Device", 1)}))["order"] is None

    for who, code in ((people.client, "FORBIDDEN"), (people.anonymous, "UNAUTHENTICATED")):
        payload = await who(ORDERS, {})
        assert payload["data"] is None
        [error] = payload["errors"]
        assert (error["path"], error["extensions"]["code"]) == (["orders"], code)
        for some_id in (mine[0], gid("Device", 1)):
            single = await who(ORDER, {"id": some_id})
            assert single["errors"][0]["extensions"]["code"] == code


async def test_statements_for_an_order_page_do_not_grow_with_its_size(
    server: RunningServer, sessions: Sessions, people: People
) -> None:
    for n in range(10):
        listed = [await create_listed_device(sessions) for _ in range(2)]
        order_id = (await bought(people.buyer, *listed))["id"]
        if n % 2 == 0:
            await call(people.sales, CONFIRM, {"id": order_id}, "confirmOrder")
            await call(
                people.warehouse,
                SHIP,
                {"id": order_id, "carrier": "DHL", "number": f"TRACK-{n:04d}"},
                "shipOrder",
            )
    page_query = f"""
    query Page($first: Int!) {{
      orders(first: $first) {{ totalCount edges {{ node {{ {ORDER_FIELDS} }} }} }}
    }}
    """
    engine = server.app.state.runtime.engine.sync_engine
    counts: dict[int, int] = {}
    for size in (2, 10):
        server.app.state.runtime.actors.clear()  # each request looks its token up
        with count_statements(engine) as log:
            page = (await people.sales.data(page_query, {"first": size}))["orders"]
        assert len(page["edges"]) == size
        nodes = [edge["node"] for edge in page["edges"]]
        assert all(len(node["lines"]) == 2 for node in nodes)
        assert all(line["device"]["imei"] for node in nodes for line in node["lines"])
        assert sum(len(node["shipments"]) for node in nodes) == size // 2
        counts[size] = log.count

    assert counts[2] == counts[10], counts
    # Eight SELECTs: the actor, a count, a page, then one batch each of lines, buyers, listings,
    # shipments and devices (the lines' and the listings' devices share one loader). SQLite
    # adds a BEGIN per session.
    selects = [statement for statement in log.statements if statement.lstrip().startswith("SELECT")]
    assert len(selects) == 8, selects
    assert counts[10] <= 16, counts
