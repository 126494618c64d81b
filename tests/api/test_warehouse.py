"""The warehouse through the real HTTP server, on SQLite and PostgreSQL, as signed-in people:
lots, batch intake, grading, quarantine, who may do it and who sees what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import DeviceStatus, ListingStatus, LotStatus, OfferStatus, Role
from app.models import Listing, Offer, Organization
from tests.support.auth import PASSWORD, Person, create_operator, create_person
from tests.support.databases import count_statements
from tests.support.events import reload
from tests.support.factories import create_buyer, create_client, create_lot, make_imei
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer
from tests.support.warehouse import create_device, put_on_sale, snapshot

Sessions = async_sessionmaker[AsyncSession]

ERRORS = """
    ... on Error { __typename code message }
    ... on InvalidInputError { field }
    ... on NotFoundError { field }
    ... on InvalidTransitionError { currentStatus currentVersion }
    ... on StaleError { currentVersion }
"""
LOT_FIELDS = """
    id reference status version expectedCount receivedCount missingCount extraCount
    client { id name }
"""
DEVICE_FIELDS = "id imei status version lockStatus blacklistStatus client { id } lot { id }"

CREATE_LOT = f"""
mutation($input: CreateLotInput!) {{
  createLot(input: $input) {{
    __typename
    ... on CreateLotPayload {{ lot {{ {LOT_FIELDS} }} }}
    {ERRORS}
  }}
}}
"""
RECEIVE_LOT = f"""
mutation($input: ReceiveLotInput!) {{
  receiveLot(input: $input) {{
    __typename
    ... on ReceiveLotPayload {{ lot {{ {LOT_FIELDS} }} devices {{ {DEVICE_FIELDS} }} }}
    ... on ReceiveLotRefusedError {{
      items {{ index code message field existingDeviceId duplicateOfIndex }}
    }}
    {ERRORS}
  }}
}}
"""
MOVE_LOT = """
mutation($input: {kind}LotInput!) {{
  {name}Lot(input: $input) {{
    __typename
    ... on {kind}LotPayload {{ lot {{ {fields} }} }}
    {errors}
  }}
}}
"""
RECONCILE_LOT = MOVE_LOT.format(
    kind="Reconcile", name="reconcile", fields=LOT_FIELDS, errors=ERRORS
)
CLOSE_LOT = MOVE_LOT.format(kind="Close", name="close", fields=LOT_FIELDS, errors=ERRORS)
RECORD_GRADE = f"""
mutation($input: RecordGradeInput!) {{
  recordGrade(input: $input) {{
    __typename
    ... on RecordGradePayload {{
      delisted
      grade {{ id cosmetic functionalPass failedChecks batteryHealthPct dataWiped notes }}
      device {{ {DEVICE_FIELDS} currentGrade {{ id cosmetic }} grades {{ id cosmetic }} }}
    }}
    {ERRORS}
  }}
}}
"""
QUARANTINE = f"""
mutation($input: QuarantineDeviceInput!) {{
  quarantineDevice(input: $input) {{
    __typename
    ... on QuarantineDevicePayload {{ device {{ {DEVICE_FIELDS} }} }}
    {ERRORS}
  }}
}}
"""
CLEAR = f"""
mutation($input: ClearQuarantineInput!) {{
  clearQuarantine(input: $input) {{
    __typename
    ... on ClearQuarantinePayload {{ device {{ {DEVICE_FIELDS} }} }}
    {ERRORS}
  }}
}}
"""
RECEIVE_DEVICE = f"""
mutation($input: ReceiveDeviceInput!) {{
  receiveDevice(input: $input) {{
    __typename
    ... on ReceiveDevicePayload {{ device {{ {DEVICE_FIELDS} }} }}
    {ERRORS}
  }}
}}
"""
LOT = f"""
query($id: ID!) {{
  lot(id: $id) {{
    {LOT_FIELDS}
    devices(first: 2) {{
      totalCount edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""
LOTS = """
query($filter: LotFilter, $sort: LotSort, $first: Int, $after: String) {
  lots(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    edges { node { id reference status receivedCount missingCount client { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
DEVICES = f"""
query($filter: DeviceFilter, $sort: DeviceSort, $first: Int, $after: String) {{
  devices(filter: $filter, sort: $sort, first: $first, after: $after) {{
    totalCount
    edges {{ node {{ {DEVICE_FIELDS} model currentGrade {{ cosmetic }} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
DEVICE = f"query($id: ID!) {{ device(id: $id) {{ {DEVICE_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


def gid(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))


def row_id(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


@pytest.fixture
async def client(sessions: Sessions) -> Organization:
    return await create_client(sessions, name="Acme Returns")


@pytest.fixture
async def people(sessions: Sessions, client: Organization) -> dict[str, Person]:
    operator = await create_operator(sessions)
    buyer = await create_buyer(sessions)
    other_client = await create_client(sessions)
    return {
        "warehouse": await create_person(sessions, operator, Role.WAREHOUSE),
        "sales": await create_person(sessions, operator, Role.SALES),
        "admin": await create_person(sessions, operator, Role.ADMIN),
        "client": await create_person(sessions, client, Role.VIEWER),
        "other_client": await create_person(sessions, other_client, Role.VIEWER),
        "buyer": await create_person(sessions, buyer, Role.BUYER),
    }


@pytest.fixture
def as_(graphql: GraphQLClient, people: dict[str, Person]) -> Any:
    def caller(name: str | None) -> GraphQLClient:
        return graphql.as_(people[name] if name is not None else None)

    return caller


async def mutate(caller: GraphQLClient, query: str, input: dict[str, Any]) -> dict[str, Any]:
    data = await caller.data(query, {"input": input})
    [result] = data.values()
    assert isinstance(result, dict)
    return result


def batch(count: int) -> list[dict[str, Any]]:
    return [{"make": "Apple", "model": "iPhone 13", "imei": make_imei()} for _ in range(count)]


# --- Signing in ----------------------------------------------------------------------------


async def test_a_warehouse_user_signs_in_and_creates_a_lot(
    graphql: GraphQLClient, sessions: Sessions, client: Organization, people: dict[str, Person]
) -> None:
    sign_in = """
    mutation($email: String!, $password: String!) {
      signIn(email: $email, password: $password) { ... on SignInPayload { token } }
    }
    """
    email = people["warehouse"].user.email
    token = (await graphql.data(sign_in, {"email": email, "password": PASSWORD}))["signIn"]["token"]
    result = (
        await graphql(
            CREATE_LOT,
            {
                "input": {
                    "clientId": gid("Organization", client.id),
                    "reference": "ASN-1",
                    "expectedCount": 5,
                }
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    )["data"]["createLot"]
    assert result["__typename"] == "CreateLotPayload", result
    assert result["lot"]["status"] == "OPEN"
    assert result["lot"]["client"] == {"id": gid("Organization", client.id), "name": client.name}


# --- The lot flow --------------------------------------------------------------------------


async def test_lot_flow_with_reconciliation(
    as_: Any, sessions: Sessions, client: Organization
) -> None:
    warehouse = as_("warehouse")
    created = await mutate(
        warehouse,
        CREATE_LOT,
        {"clientId": gid("Organization", client.id), "reference": "ASN-7", "expectedCount": 5},
    )
    lot = created["lot"]

    received = await mutate(
        warehouse,
        RECEIVE_LOT,
        {"lotId": lot["id"], "devices": batch(4), "expectedVersion": lot["version"]},
    )
    assert received["__typename"] == "ReceiveLotPayload", received
    assert (received["lot"]["status"], received["lot"]["receivedCount"]) == ("RECEIVING", 4)
    assert (received["lot"]["missingCount"], received["lot"]["extraCount"]) == (1, 0)
    assert [device["status"] for device in received["devices"]] == ["RECEIVED"] * 4
    assert {device["lot"]["id"] for device in received["devices"]} == {lot["id"]}

    page = (await warehouse.data(LOT, {"id": lot["id"]}))["lot"]["devices"]
    assert page["totalCount"] == 4
    assert [edge["node"]["id"] for edge in page["edges"]] == [
        device["id"] for device in received["devices"][:2]
    ]
    assert page["pageInfo"]["hasNextPage"] is True

    more = await mutate(warehouse, RECEIVE_LOT, {"lotId": lot["id"], "devices": batch(2)})
    assert (more["lot"]["receivedCount"], more["lot"]["extraCount"]) == (6, 1)
    assert more["lot"]["missingCount"] == 0

    reconciled = await mutate(warehouse, RECONCILE_LOT, {"lotId": lot["id"]})
    assert reconciled["lot"]["status"] == "RECONCILED"
    before = await snapshot(sessions)
    late = await mutate(warehouse, RECEIVE_LOT, {"lotId": lot["id"], "devices": batch(1)})
    assert (late["__typename"], late["code"], late["currentStatus"]) == (
        "InvalidTransitionError",
        "INVALID_TRANSITION",
        "RECONCILED",
    )
    assert await snapshot(sessions) == before
    closed = await mutate(
        warehouse,
        CLOSE_LOT,
        {"lotId": lot["id"], "expectedVersion": reconciled["lot"]["version"]},
    )
    assert closed["lot"]["status"] == "CLOSED"
    again = await mutate(warehouse, CLOSE_LOT, {"lotId": lot["id"]})
    assert (again["__typename"], again["currentStatus"]) == ("InvalidTransitionError", "CLOSED")


async def test_a_wrong_batch_lists_every_wrong_item_and_receives_nothing(
    as_: Any, sessions: Sessions, client: Organization
) -> None:
    lot = await create_lot(sessions, client, expected_count=4)
    existing = await create_device(sessions, client)
    items = [
        *batch(1),
        {"make": "Apple", "model": "iPhone 13", "imei": "490154203237519"},
        {"make": "Apple", "model": "iPhone 13", "imei": existing.imei},
        {"make": "Apple", "model": "iPhone 13", "serial": "SN-1"},
        {"make": "Apple", "model": "iPhone 13", "serial": "sn-1"},
    ]
    before = await snapshot(sessions)
    result = await mutate(
        as_("warehouse"), RECEIVE_LOT, {"lotId": gid("Lot", lot.id), "devices": items}
    )
    assert result["__typename"] == "ReceiveLotRefusedError", result
    assert result["code"] == "INVALID_INPUT"
    assert result["items"] == [
        {
            "index": 1,
            "code": "INVALID_IMEI",
            "message": result["items"][0]["message"],
            "field": "imei",
            "existingDeviceId": None,
            "duplicateOfIndex": None,
        },
        {
            "index": 2,
            "code": "DUPLICATE_IMEI",
            "message": result["items"][1]["message"],
            "field": "imei",
            "existingDeviceId": gid("Device", existing.id),
            "duplicateOfIndex": None,
        },
        {
            "index": 4,
            "code": "DUPLICATE_SERIAL",
            "message": result["items"][2]["message"],
            "field": "serial",
            "existingDeviceId": None,
            "duplicateOfIndex": 3,
        },
    ]
    assert all(item["message"] for item in result["items"])
    assert await snapshot(sessions) == before


async def test_receive_lot_replays_with_its_idempotency_key(
    as_: Any, sessions: Sessions, client: Organization
) -> None:
    lot = await create_lot(sessions, client, expected_count=2)
    input = {"lotId": gid("Lot", lot.id), "devices": batch(2), "idempotencyKey": "box-1"}
    first = await mutate(as_("warehouse"), RECEIVE_LOT, input)
    before = await snapshot(sessions)
    second = await mutate(as_("warehouse"), RECEIVE_LOT, input)
    assert second["__typename"] == "ReceiveLotPayload"
    assert [d["id"] for d in second["devices"]] == [d["id"] for d in first["devices"]]
    assert await snapshot(sessions) == before
    conflict = await mutate(as_("warehouse"), RECEIVE_LOT, {**input, "devices": batch(1)})
    assert (conflict["__typename"], conflict["code"], conflict["field"]) == (
        "InvalidInputError",
        "IDEMPOTENCY_CONFLICT",
        "idempotencyKey",
    )
    assert await snapshot(sessions) == before


# --- Grading and quarantine ----------------------------------------------------------------


async def test_grade_quarantine_clear(as_: Any, sessions: Sessions, client: Organization) -> None:
    warehouse = as_("warehouse")
    device = await create_device(sessions, client)
    device_id = gid("Device", device.id)

    graded = await mutate(
        warehouse,
        RECORD_GRADE,
        {
            "deviceId": device_id,
            "cosmetic": "B",
            "functionalPass": False,
            "failedChecks": ["Face ID"],
            "batteryHealthPct": 84,
            "dataWiped": True,
            "notes": "Scuffed corner",
            "expectedVersion": 1,
            "idempotencyKey": "g-1",
        },
    )
    assert graded["__typename"] == "RecordGradePayload", graded
    assert graded["delisted"] is False
    assert graded["grade"] == {
        "id": graded["grade"]["id"],
        "cosmetic": "B",
        "functionalPass": False,
        "failedChecks": ["Face ID"],
        "batteryHealthPct": 84,
        "dataWiped": True,
        "notes": "Scuffed corner",
    }
    assert (graded["device"]["status"], graded["device"]["version"]) == ("GRADED", 2)
    assert graded["device"]["currentGrade"] == {"id": graded["grade"]["id"], "cosmetic": "B"}

    regraded = await mutate(
        warehouse,
        RECORD_GRADE,
        {"deviceId": device_id, "cosmetic": "A", "functionalPass": True, "dataWiped": True},
    )
    assert [grade["cosmetic"] for grade in regraded["device"]["grades"]] == ["A", "B"]

    stale = await mutate(
        warehouse,
        QUARANTINE,
        {"deviceId": device_id, "lockStatus": "LOCKED", "reason": "lock", "expectedVersion": 2},
    )
    assert (stale["__typename"], stale["code"], stale["currentVersion"]) == (
        "StaleError",
        "STALE",
        3,
    )
    quarantined = await mutate(
        warehouse,
        QUARANTINE,
        {"deviceId": device_id, "blacklistStatus": "BLACKLISTED", "reason": "Reported stolen"},
    )
    assert quarantined["device"]["status"] == "QUARANTINED"
    assert quarantined["device"]["blacklistStatus"] == "BLACKLISTED"
    cleared = await mutate(warehouse, CLEAR, {"deviceId": device_id, "reason": "Police cleared"})
    assert (cleared["device"]["status"], cleared["device"]["blacklistStatus"]) == (
        "GRADED",
        "CLEAN",
    )

    not_quarantined = await mutate(warehouse, CLEAR, {"deviceId": device_id})
    assert (not_quarantined["__typename"], not_quarantined["currentStatus"]) == (
        "InvalidTransitionError",
        "GRADED",
    )
    missing = await mutate(
        warehouse,
        RECORD_GRADE,
        {
            "deviceId": gid("Device", 999_999),
            "cosmetic": "A",
            "functionalPass": True,
            "dataWiped": True,
        },
    )
    assert (missing["__typename"], missing["field"]) == ("NotFoundError", "deviceId")


async def test_regrading_a_listed_device_that_fails_delists_it(
    as_: Any, sessions: Sessions, client: Organization
) -> None:
    device = await create_device(sessions, client, status=DeviceStatus.GRADED)
    on_sale = await put_on_sale(sessions, device.id)
    result = await mutate(
        as_("admin"),
        RECORD_GRADE,
        {
            "deviceId": gid("Device", device.id),
            "cosmetic": "A",
            "functionalPass": True,
            "dataWiped": False,
        },
    )
    assert result["__typename"] == "RecordGradePayload", result
    assert result["delisted"] is True
    assert result["device"]["status"] == "GRADED"
    assert (await reload(sessions, Listing, on_sale.listing_id)).status is ListingStatus.WITHDRAWN
    for offer_id in on_sale.offer_ids:
        assert (await reload(sessions, Offer, offer_id)).status is OfferStatus.INVALIDATED


# --- Who may do what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [
        pytest.param(None, "UNAUTHENTICATED", id="anonymous"),
        pytest.param("buyer", "FORBIDDEN", id="buyer"),
        pytest.param("client", "FORBIDDEN", id="client"),
        pytest.param("sales", "FORBIDDEN", id="sales"),
    ],
)
async def test_only_the_warehouse_may_change_devices_and_lots(
    as_: Any, sessions: Sessions, client: Organization, who: str | None, code: str
) -> None:
    lot = await create_lot(sessions, client, status=LotStatus.RECEIVING)
    reconciled = await create_lot(sessions, client, status=LotStatus.RECONCILED)
    device = await create_device(sessions, client, status=DeviceStatus.GRADED)
    quarantined = await create_device(sessions, client, status=DeviceStatus.QUARANTINED)
    calls: list[tuple[str, dict[str, Any]]] = [
        (
            RECEIVE_DEVICE,
            {
                "clientId": gid("Organization", client.id),
                "make": "Apple",
                "model": "iPhone 12",
                "imei": make_imei(),
            },
        ),
        (
            CREATE_LOT,
            {"clientId": gid("Organization", client.id), "reference": "R", "expectedCount": 1},
        ),
        (RECEIVE_LOT, {"lotId": gid("Lot", lot.id), "devices": batch(1)}),
        (RECONCILE_LOT, {"lotId": gid("Lot", lot.id)}),
        (CLOSE_LOT, {"lotId": gid("Lot", reconciled.id)}),
        (
            RECORD_GRADE,
            {
                "deviceId": gid("Device", device.id),
                "cosmetic": "A",
                "functionalPass": True,
                "dataWiped": True,
            },
        ),
        (QUARANTINE, {"deviceId": gid("Device", device.id), "lockStatus": "LOCKED", "reason": "x"}),
        (CLEAR, {"deviceId": gid("Device", quarantined.id)}),
    ]
    before = await snapshot(sessions)
    for query, input in calls:
        result = await mutate(as_(who), query, input)
        assert (result["__typename"], result["code"]) == ("ForbiddenError", code), result
        assert result["message"]
    assert await snapshot(sessions) == before


# --- Who sees what -------------------------------------------------------------------------


async def test_device_and_lot_visibility(
    as_: Any, sessions: Sessions, client: Organization, people: dict[str, Person]
) -> None:
    lot = await create_lot(sessions, client)
    mine = await create_device(sessions, client, lot=lot)
    other_org = people["other_client"].organization
    theirs = await create_device(sessions, other_org)
    mine_id, theirs_id = gid("Device", mine.id), gid("Device", theirs.id)

    # Operators: everything, with the client and lot.
    page = (await as_("sales").data(DEVICES, {}))["devices"]
    assert page["totalCount"] == 2
    first = page["edges"][0]["node"]
    assert first["client"] == {"id": gid("Organization", client.id)}
    assert first["lot"] == {"id": gid("Lot", lot.id)}

    # The client: its own devices and lots, nothing of others.
    client_caller = as_("client")
    page = (await client_caller.data(DEVICES, {}))["devices"]
    assert [edge["node"]["id"] for edge in page["edges"]] == [mine_id]
    assert page["edges"][0]["node"]["client"] == {"id": gid("Organization", client.id)}
    assert (await client_caller.data(DEVICE, {"id": theirs_id}))["device"] is None
    assert (await client_caller.data(NODE, {"id": theirs_id}))["node"] is None
    assert (await client_caller.data(NODE, {"id": mine_id}))["node"]["id"] == mine_id
    lots = (await client_caller.data(LOTS, {}))["lots"]
    assert [edge["node"]["id"] for edge in lots["edges"]] == [gid("Lot", lot.id)]
    assert (await as_("other_client").data(LOT, {"id": gid("Lot", lot.id)}))["lot"] is None
    assert (await as_("other_client").data(DEVICE, {"id": mine_id}))["device"] is None

    # A buyer: no device or lot list; a device by id is not there for it.
    for query, field in [(DEVICES, "devices"), (LOTS, "lots")]:
        payload = await as_("buyer")(query, {})
        assert payload["data"] is None
        [error] = payload["errors"]
        assert (error["path"], error["extensions"]["code"]) == ([field], "FORBIDDEN")
    assert (await as_("buyer").data(DEVICE, {"id": mine_id}))["device"] is None
    assert (await as_("buyer").data(NODE, {"id": mine_id}))["node"] is None

    # Nobody signed in: refused.
    for query, variables, field in [
        (DEVICES, {}, "devices"),
        (LOTS, {}, "lots"),
        (DEVICE, {"id": mine_id}, "device"),
        (LOT, {"id": gid("Lot", lot.id)}, "lot"),
    ]:
        payload = await as_(None)(query, variables)
        [error] = payload["errors"]
        assert (error["path"], error["extensions"]["code"]) == ([field], "UNAUTHENTICATED")


async def test_devices_filter_and_sort_through_the_api(
    as_: Any, sessions: Sessions, client: Organization
) -> None:
    lot = await create_lot(sessions, client)
    made = [
        await create_device(sessions, client, model=model, lot=on_lot, status=status)
        for model, on_lot, status in [
            ("iPhone 14", lot, DeviceStatus.GRADED),
            ("iPhone 12", None, DeviceStatus.RECEIVED),
            ("iPhone 13", lot, DeviceStatus.GRADED),
        ]
    ]
    ids = [gid("Device", device.id) for device in made]
    operator = as_("warehouse")

    async def listed(variables: dict[str, Any]) -> list[str]:
        page = (await operator.data(DEVICES, variables))["devices"]
        return [edge["node"]["id"] for edge in page["edges"]]

    assert await listed({"sort": "NEWEST"}) == list(reversed(ids))
    assert await listed({"sort": "MAKE_MODEL"}) == [ids[1], ids[2], ids[0]]
    assert await listed({"filter": {"lotId": gid("Lot", lot.id)}}) == [ids[0], ids[2]]
    assert await listed({"filter": {"grade": ["B"], "status": ["GRADED"]}}) == [ids[0], ids[2]]
    assert await listed({"filter": {"model": "IPHONE 12"}}) == [ids[1]]

    # Pages of the NEWEST order follow their cursors.
    first = (await operator.data(DEVICES, {"sort": "NEWEST", "first": 2}))["devices"]
    rest = (
        await operator.data(
            DEVICES, {"sort": "NEWEST", "first": 2, "after": first["pageInfo"]["endCursor"]}
        )
    )["devices"]
    assert [edge["node"]["id"] for edge in first["edges"] + rest["edges"]] == list(reversed(ids))
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_lot_pages_cost_the_same_whatever_their_size(
    server: RunningServer, as_: Any, sessions: Sessions
) -> None:
    clients = [await create_client(sessions) for _ in range(3)]
    for n in range(12):
        owner = clients[n % 3]
        lot = await create_lot(sessions, owner, expected_count=3)
        for _ in range(n % 4):
            await create_device(sessions, owner, lot=lot)
    query = """
    query($first: Int!) {
      lots(first: $first) {
        edges { node {
          receivedCount missingCount extraCount client { name }
          devices(first: 2) { totalCount edges { node { id currentGrade { cosmetic } } } }
        } }
      }
    }
    """
    engine = server.app.state.runtime.engine.sync_engine
    operator = as_("warehouse")
    counts: dict[int, int] = {}
    for size in (3, 12):
        server.app.state.runtime.actors.clear()  # each request looks its token up
        with count_statements(engine) as log:
            page = (await operator.data(query, {"first": size}))["lots"]
        assert len(page["edges"]) == size
        counts[size] = log.count
    assert counts[3] == counts[12], counts
