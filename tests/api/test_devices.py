"""Devices through the real HTTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import DeviceStatus, LotStatus, Role
from app.models import Device, Event, Organization
from tests.support.auth import Person, create_person, sign_in_as
from tests.support.databases import count_statements
from tests.support.factories import (
    count_rows,
    create_buyer,
    create_client,
    create_lot,
    grade_device,
    make_imei,
)
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer

Sessions = async_sessionmaker[AsyncSession]

RECEIVE = """
mutation Receive($input: ReceiveDeviceInput!) {
  receiveDevice(input: $input) {
    __typename
    ... on ReceiveDevicePayload {
      device { id imei serial make model status version client { id name kind } }
    }
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on DuplicateDeviceError { field }
    ... on NotFoundError { field }
    ... on InvalidTransitionError { currentStatus currentVersion }
  }
}
"""

DEVICE = """
query One($id: ID!) {
  device(id: $id) { id imei serial make model status version client { id name } }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id ... on Device { imei status } }
}
"""

PAGE = """
query Page($first: Int, $after: String, $filter: DeviceFilter) {
  devices(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { id imei model status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def global_id(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))


@pytest.fixture
async def warehouse(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.WAREHOUSE)


@pytest.fixture
def graphql(graphql: GraphQLClient, warehouse: Person) -> GraphQLClient:
    """Every call in this module is made by a signed-in warehouse operator unless told."""
    return graphql.as_(warehouse)


@pytest.fixture
async def client(sessions: Sessions) -> Organization:
    return await create_client(sessions, name="Acme Returns")


def intake(client: Organization, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "clientId": global_id("Organization", client.id),
        "make": "Apple",
        "model": "iPhone 13",
        "imei": "356938035643809",
        "storageGb": 128,
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


async def receive(graphql: GraphQLClient, input: dict[str, Any]) -> dict[str, Any]:
    data = await graphql.data(RECEIVE, {"input": input})
    result: dict[str, Any] = data["receiveDevice"]
    return result


async def receive_ok(graphql: GraphQLClient, input: dict[str, Any]) -> dict[str, Any]:
    result = await receive(graphql, input)
    assert result["__typename"] == "ReceiveDevicePayload", result
    device: dict[str, Any] = result["device"]
    return device


async def test_receive_device_returns_the_device(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    device = await receive_ok(graphql, intake(client, imei="35-693803-564380-9", serial="sn-1"))

    assert GlobalID.from_id(device["id"]).type_name == "Device"
    assert device["status"] == "RECEIVED"
    assert device["version"] == 1
    assert device["imei"] == "356938035643809"
    assert device["serial"] == "SN-1"
    assert device["client"] == {
        "id": global_id("Organization", client.id),
        "name": "Acme Returns",
        "kind": "CLIENT",
    }
    assert await count_rows(sessions) == (1, 1)


async def test_receive_device_accepts_a_plain_numeric_client_id(
    graphql: GraphQLClient, client: Organization
) -> None:
    device = await receive_ok(graphql, intake(client, clientId=str(client.id)))
    assert device["client"]["name"] == client.name


@pytest.mark.parametrize(
    ("overrides", "typename", "code", "field"),
    [
        pytest.param(
            {"imei": "356938035643808"}, "InvalidInputError", "INVALID_IMEI", "imei", id="imei"
        ),
        pytest.param(
            {"imei": "3569380356438"}, "InvalidInputError", "INVALID_IMEI", "imei", id="short"
        ),
        pytest.param(
            {"imei": None, "serial": None}, "InvalidInputError", "INVALID_INPUT", "imei", id="none"
        ),
        pytest.param(
            {"clientId": "not an id"}, "InvalidInputError", "INVALID_INPUT", "clientId", id="junk"
        ),
        pytest.param(
            {"clientId": str(GlobalID("Device", "1"))},
            "InvalidInputError",
            "INVALID_INPUT",
            "clientId",
            id="wrong-type",
        ),
        pytest.param(
            {"clientId": "987654"}, "NotFoundError", "UNKNOWN_CLIENT", "clientId", id="no-client"
        ),
        pytest.param({"lotId": "987654"}, "NotFoundError", "UNKNOWN_LOT", "lotId", id="no-lot"),
        pytest.param(
            {"storageGb": -1}, "InvalidInputError", "INVALID_INPUT", "storageGb", id="storage"
        ),
    ],
)
async def test_bad_input_is_a_typed_error_and_writes_nothing(
    graphql: GraphQLClient,
    sessions: Sessions,
    client: Organization,
    overrides: dict[str, Any],
    typename: str,
    code: str,
    field: str,
) -> None:
    await receive_ok(graphql, intake(client, imei=make_imei()))
    before = await count_rows(sessions)

    result = await receive(graphql, intake(client, **overrides))  # None values are left out

    assert result["__typename"] == typename, result
    assert result["code"] == code
    assert result["field"] == field
    assert result["message"]
    assert await count_rows(sessions) == before


async def test_receive_device_needs_someone_signed_in(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    result = await receive(graphql.as_(None), intake(client))
    assert (result["__typename"], result["code"]) == ("ForbiddenError", "UNAUTHENTICATED")

    expired_or_junk = await receive(graphql.as_("dgs_not-a-real-token"), intake(client))
    assert expired_or_junk["code"] == "UNAUTHENTICATED"
    assert await count_rows(sessions) == (0, 0)


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.VIEWER])
async def test_receive_device_needs_the_warehouse_role(
    graphql: GraphQLClient, sessions: Sessions, client: Organization, role: Role
) -> None:
    person = await sign_in_as(sessions, role)
    result = await receive(graphql.as_(person), intake(client))
    assert (result["__typename"], result["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert await count_rows(sessions) == (0, 0)


async def test_buyers_and_clients_may_not_receive_devices(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    buyer = await create_person(sessions, await create_buyer(sessions), Role.BUYER)
    client_user = await create_person(sessions, client, Role.ADMIN)
    for person in (buyer, client_user):
        result = await receive(graphql.as_(person), intake(client))
        assert (result["__typename"], result["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert await count_rows(sessions) == (0, 0)


async def test_admin_may_receive_devices(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    admin = await sign_in_as(sessions, Role.ADMIN)
    device = await receive_ok(graphql.as_(admin), intake(client))
    assert device["status"] == "RECEIVED"


async def test_event_names_the_signed_in_actor(
    graphql: GraphQLClient, sessions: Sessions, client: Organization, warehouse: Person
) -> None:
    await receive_ok(graphql, intake(client))
    async with sessions() as session:
        [event] = (await session.scalars(select(Event))).all()
    assert event.actor == f"user:{warehouse.user.id}"
    assert event.type == "device.received"


async def test_anonymous_may_not_list_devices(graphql: GraphQLClient) -> None:
    payload = await graphql.as_(None)(PAGE, {"first": 3})
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_buyer_is_not_a_client(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    buyer = await create_buyer(sessions)
    result = await receive(graphql, intake(client, clientId=global_id("Organization", buyer.id)))
    assert (result["__typename"], result["code"]) == ("NotFoundError", "UNKNOWN_CLIENT")
    assert await count_rows(sessions) == (0, 0)


@pytest.mark.parametrize(
    ("first", "second", "code", "field"),
    [
        pytest.param(
            {"imei": "356938035643809", "serial": "AAA-1"},
            {"imei": "356938035643809", "serial": "BBB-2"},
            "DUPLICATE_IMEI",
            "imei",
            id="imei",
        ),
        pytest.param(
            {"imei": None, "serial": "SAME-1"},
            {"imei": "490154203237518", "serial": "same-1"},
            "DUPLICATE_SERIAL",
            "serial",
            id="serial",
        ),
    ],
)
async def test_duplicates_are_refused(
    graphql: GraphQLClient,
    sessions: Sessions,
    client: Organization,
    first: dict[str, Any],
    second: dict[str, Any],
    code: str,
    field: str,
) -> None:
    await receive_ok(graphql, intake(client, **first))
    result = await receive(graphql, intake(client, **second))
    assert result["__typename"] == "DuplicateDeviceError"
    assert (result["code"], result["field"]) == (code, field)
    assert await count_rows(sessions) == (1, 1)


async def test_closed_lot_is_an_invalid_transition(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    lot = await create_lot(sessions, client, status=LotStatus.CLOSED)
    result = await receive(graphql, intake(client, lotId=global_id("Lot", lot.id)))
    assert result["__typename"] == "InvalidTransitionError"
    assert result["code"] == "INVALID_TRANSITION"
    assert result["currentStatus"] == "CLOSED"
    assert result["currentVersion"] == lot.version
    assert await count_rows(sessions) == (0, 0)


async def test_device_and_node_round_trip(graphql: GraphQLClient, client: Organization) -> None:
    received = await receive_ok(graphql, intake(client, serial="RT-1"))

    device = (await graphql.data(DEVICE, {"id": received["id"]}))["device"]
    assert device == {
        "id": received["id"],
        "imei": received["imei"],
        "serial": "RT-1",
        "make": "Apple",
        "model": "iPhone 13",
        "status": "RECEIVED",
        "version": 1,
        "client": {"id": global_id("Organization", client.id), "name": client.name},
    }

    node = (await graphql.data(NODE, {"id": received["id"]}))["node"]
    assert node == {
        "__typename": "Device",
        "id": received["id"],
        "imei": received["imei"],
        "status": "RECEIVED",
    }

    organization = (await graphql.data(NODE, {"id": global_id("Organization", client.id)}))["node"]
    assert organization["__typename"] == "Organization"


async def test_device_that_does_not_exist_is_null(
    graphql: GraphQLClient, client: Organization
) -> None:
    received = await receive_ok(graphql, intake(client))
    device_id = int(GlobalID.from_id(received["id"]).node_id)
    for missing in (global_id("Device", device_id + 100), global_id("Organization", device_id)):
        assert (await graphql.data(DEVICE, {"id": missing}))["device"] is None


async def _receive_many(
    graphql: GraphQLClient, client: Organization, models: list[str]
) -> list[dict[str, Any]]:
    return [
        await receive_ok(graphql, intake(client, imei=make_imei(), model=model)) for model in models
    ]


async def test_devices_paginate_forward(graphql: GraphQLClient, client: Organization) -> None:
    received = await _receive_many(graphql, client, [f"Model {n}" for n in range(7)])
    expected_ids = [device["id"] for device in received]

    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(5):  # 3 pages expected; more would be a bug
        page = (await graphql.data(PAGE, {"first": 3, "after": after}))["devices"]
        pages.append(page)
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == expected_ids
    assert [len(page["edges"]) for page in pages] == [3, 3, 1]
    assert [page["totalCount"] for page in pages] == [7, 7, 7]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True]
    for page in pages:
        info = page["pageInfo"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]

    # After the last cursor: an empty page, not an error.
    last = await graphql.data(PAGE, {"first": 3, "after": pages[-1]["pageInfo"]["endCursor"]})
    empty = last["devices"]
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is False
    assert (empty["pageInfo"]["startCursor"], empty["pageInfo"]["endCursor"]) == (None, None)


async def test_devices_filter_by_status_and_search(
    graphql: GraphQLClient, sessions: Sessions, client: Organization
) -> None:
    received = await _receive_many(
        graphql, client, ["Pixel 7", "iPhone 12", "Pixel 8 Pro", "Galaxy S21", "iPhone 14"]
    )
    graded_ids = [int(GlobalID.from_id(received[n]["id"]).node_id) for n in (1, 3)]
    async with sessions.begin() as session:
        await session.execute(
            update(Device)
            .where(Device.id.in_(graded_ids))
            .values(status=DeviceStatus.GRADED, version=Device.version + 1)
        )

    async def ids(filter: dict[str, Any]) -> tuple[list[str], int]:
        page = (await graphql.data(PAGE, {"first": 50, "filter": filter}))["devices"]
        return [edge["node"]["id"] for edge in page["edges"]], page["totalCount"]

    assert await ids({"status": ["GRADED"]}) == ([received[1]["id"], received[3]["id"]], 2)
    assert await ids({"status": ["RECEIVED"]}) == (
        [received[0]["id"], received[2]["id"], received[4]["id"]],
        3,
    )
    assert (await ids({"status": ["RECEIVED", "GRADED"]}))[1] == 5
    assert await ids({"status": ["SOLD"]}) == ([], 0)
    assert await ids({"search": "PIXEL"}) == ([received[0]["id"], received[2]["id"]], 2)
    assert await ids({"search": "pixel", "status": ["GRADED"]}) == ([], 0)
    assert await ids({"search": received[4]["imei"]}) == ([received[4]["id"]], 1)
    assert await ids({"search": "  iphone 1"}) == ([received[1]["id"], received[4]["id"]], 2)

    other = await create_client(sessions)
    assert await ids({"clientId": global_id("Organization", other.id)}) == ([], 0)
    assert (await ids({"clientId": global_id("Organization", client.id)}))[1] == 5


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        pytest.param({"first": 101}, "first", id="first-101"),
        pytest.param({"first": -1}, "first", id="first-negative"),
        pytest.param({"first": 3, "after": "garbage"}, "after", id="after-garbage"),
        pytest.param({"first": 3, "after": "Zm9vYmFy"}, "after", id="after-base64-foobar"),
        pytest.param({"first": 3, "after": "ünïcödé"}, "after", id="after-non-ascii"),
        pytest.param({"filter": {"clientId": "%%%"}}, "clientId", id="filter-client"),
        pytest.param(
            {"first": 3, "after": "WyJub3QtYS1kYXRlIiwxXQ=="},  # ["not-a-date",1]
            "after",
            id="after-forged",
        ),
    ],
)
async def test_bad_page_arguments_are_invalid_input(
    graphql: GraphQLClient, client: Organization, variables: dict[str, Any], field: str
) -> None:
    await receive_ok(graphql, intake(client))
    payload = await graphql(PAGE, variables)
    assert payload["data"] is None
    [error] = payload["errors"]
    assert error["path"] == ["devices"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    assert error["extensions"]["field"] == field
    assert error["message"] != "Unexpected error."


async def test_first_at_the_maximum_is_allowed(graphql: GraphQLClient) -> None:
    page = (await graphql.data(PAGE, {"first": 100}))["devices"]
    assert page == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


WIDE_PAGE = """
query Wide($first: Int!) {
  devices(first: $first) {
    totalCount
    edges { node { id imei client { id name } currentGrade { cosmetic batteryHealthPct } } }
  }
}
"""


async def test_statements_per_page_do_not_grow_with_page_size(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions
) -> None:
    clients = [await create_client(sessions) for _ in range(3)]
    for n in range(20):
        owner = clients[n % len(clients)]
        device = await receive_ok(graphql, intake(owner, imei=make_imei()))
        if n % 2 == 0:
            await grade_device(sessions, int(GlobalID.from_id(device["id"]).node_id))

    engine = server.app.state.runtime.engine.sync_engine
    counts: dict[int, int] = {}
    for size in (5, 20):
        with count_statements(engine) as log:
            page = (await graphql.data(WIDE_PAGE, {"first": size}))["devices"]
        assert len(page["edges"]) == size
        assert all(edge["node"]["client"] is not None for edge in page["edges"])
        graded = [edge for edge in page["edges"] if edge["node"]["currentGrade"] is not None]
        assert len(graded) == (size + 1) // 2
        counts[size] = len(log.queries)

    assert counts[5] == counts[20], counts
    # The bearer token, a page, a count, one batch of clients and one of grades.
    assert counts[20] <= 6, counts
