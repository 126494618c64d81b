"""Settlements through the real HTTP server, signed in as finance, clients and buyers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import Role
from app.models import Organization
from tests.support.auth import create_operator, create_user, sign_in
from tests.support.databases import count_statements
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer
from tests.support.settlements import at, counts, create_buyer, create_client, day, deliver

Sessions = async_sessionmaker[AsyncSession]
Headers = dict[str, str]

MONEY = "{ amountMinor amount currency }"
SETTLEMENT = f"""
  id status version periodStart periodEnd currency createdAt lineCount
  client {{ id name kind }}
  totals {{ gross {MONEY} commission {MONEY} fees {MONEY} net {MONEY} }}
  lines {{
    id device {{ id imei status }}
    gross {MONEY} commission {MONEY} fees {MONEY} net {MONEY}
  }}
"""
ERRORS = """
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on NotFoundError { field }
    ... on InvalidTransitionError { currentStatus currentVersion }
    ... on StaleError { currentVersion }
"""
GENERATE = f"""
mutation Generate($input: GenerateSettlementInput!) {{
  generateSettlement(input: $input) {{
    __typename
    ... on GenerateSettlementPayload {{ settlement {{ {SETTLEMENT} }} }}
    {ERRORS}
  }}
}}
"""
MOVE = """
mutation Move($input: SettlementActionInput!) {{
  {name}(input: $input) {{
    __typename
    ... on {payload} {{ settlement {{ id status version lineCount }} }}
    {errors}
  }}
}}
"""
MOVES = {
    name: MOVE.format(name=name, payload=payload, errors=ERRORS)
    for name, payload in (
        ("approveSettlement", "ApproveSettlementPayload"),
        ("paySettlement", "PaySettlementPayload"),
        ("voidSettlement", "VoidSettlementPayload"),
    )
}
ONE = f"query One($id: ID!) {{ settlement(id: $id) {{ {SETTLEMENT} }} }}"
NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on Settlement { status } } }"
PAGE = """
query Page($first: Int, $after: String, $filter: SettlementFilter) {
  settlements(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { id status client { name } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def global_id(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))


@dataclass
class World:
    """The organisations, and their people signed in through the API on first use."""

    client: Organization
    other_client: Organization
    buyer: Organization
    operator: Organization
    sessions: Sessions
    http: httpx.AsyncClient
    _headers: dict[str, Headers] = field(default_factory=dict)

    async def as_(self, who: str | None) -> Headers | None:
        """Headers of ``finance``, ``sales``, ``client_user``, ``other_client_user``,
        ``buyer_user``; None for anonymous."""
        if who is None:
            return None
        if who not in self._headers:
            organization, role = {
                "finance": (self.operator, Role.FINANCE),
                "sales": (self.operator, Role.SALES),
                "client_user": (self.client, Role.VIEWER),
                "other_client_user": (self.other_client, Role.VIEWER),
                "buyer_user": (self.buyer, Role.BUYER),
            }[who]
            user = await create_user(self.sessions, organization, role)
            self._headers[who] = (await sign_in(GraphQLClient(self.http), user)).headers
        return self._headers[who]

    @property
    def finance(self) -> Headers:
        return self._headers["finance"]


@pytest.fixture
async def world(sessions: Sessions, http: httpx.AsyncClient) -> World:
    world = World(
        client=await create_client(sessions, name="Northwind", fee_per_device_minor=500),
        other_client=await create_client(sessions, name="Bluewave"),
        buyer=await create_buyer(sessions, name="Phonetrade"),
        operator=await create_operator(sessions),
        sessions=sessions,
        http=http,
    )
    await world.as_("finance")
    return world


async def call(
    graphql: GraphQLClient, query: str, variables: dict[str, Any], headers: Headers | None
) -> dict[str, Any]:
    payload = await graphql(query, variables, headers=headers)
    assert "errors" not in payload, payload
    data: dict[str, Any] = payload["data"]
    return data


def generate_input(client: Organization, **overrides: Any) -> dict[str, Any]:
    return {
        "clientId": global_id("Organization", client.id),
        "periodStart": "2024-03-01",
        "periodEnd": "2024-03-31",
        **overrides,
    }


async def generate(
    graphql: GraphQLClient, headers: Headers | None, input: dict[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = (await call(graphql, GENERATE, {"input": input}, headers))[
        "generateSettlement"
    ]
    return result


async def move(
    graphql: GraphQLClient, name: str, headers: Headers | None, **input: Any
) -> dict[str, Any]:
    result: dict[str, Any] = (await call(graphql, MOVES[name], {"input": input}, headers))[name]
    return result


def money(minor: int) -> dict[str, str]:
    sign = "-" if minor < 0 else ""
    return {
        "amountMinor": str(minor),
        "amount": f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}",
        "currency": "EUR",
    }


async def test_finance_generates_and_only_the_client_sees_it(
    graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    sold = await deliver(
        sessions, world.client, world.buyer, [12_345, 100], delivered_at=at(day(2))
    )

    result = await generate(graphql, world.finance, generate_input(world.client))

    assert result["__typename"] == "GenerateSettlementPayload", result
    settlement = result["settlement"]
    assert GlobalID.from_id(settlement["id"]).type_name == "Settlement"
    assert (settlement["status"], settlement["version"], settlement["lineCount"]) == ("DRAFT", 1, 2)
    assert (settlement["periodStart"], settlement["periodEnd"]) == ("2024-03-01", "2024-03-31")
    assert settlement["client"] == {
        "id": global_id("Organization", world.client.id),
        "name": "Northwind",
        "kind": "CLIENT",
    }
    assert [line["device"]["id"] for line in settlement["lines"]] == [
        global_id("Device", s.device_id) for s in sold
    ]
    assert [
        (line["gross"], line["commission"], line["fees"], line["net"])
        for line in settlement["lines"]
    ] == [
        (money(12_345), money(1852), money(500), money(9993)),
        (money(100), money(15), money(500), money(-415)),  # the client owes the fee
    ]
    assert settlement["totals"] == {
        "gross": money(12_445),
        "commission": money(1867),
        "fees": money(1000),
        "net": money(9578),
    }

    variables = {"id": settlement["id"]}
    for reader in (world.finance, await world.as_("sales"), await world.as_("client_user")):
        assert (await call(graphql, ONE, variables, reader))["settlement"] == settlement
        node = (await call(graphql, NODE, variables, reader))["node"]
        assert node == {"__typename": "Settlement", "id": settlement["id"], "status": "DRAFT"}
    assert (await call(graphql, ONE, variables, await world.as_("other_client_user")))[
        "settlement"
    ] is None
    assert (await call(graphql, NODE, variables, await world.as_("other_client_user")))[
        "node"
    ] is None
    empty = (await call(graphql, PAGE, {}, await world.as_("other_client_user")))["settlements"]
    assert (empty["totalCount"], empty["edges"]) == (0, [])
    mine = (await call(graphql, PAGE, {}, await world.as_("client_user")))["settlements"]
    assert [edge["node"]["id"] for edge in mine["edges"]] == [settlement["id"]]


@pytest.mark.parametrize(
    ("who", "code"),
    [
        pytest.param("buyer_user", "FORBIDDEN", id="buyer"),
        pytest.param(None, "UNAUTHENTICATED", id="anonymous"),
    ],
)
async def test_buyers_and_strangers_cannot_read_settlements(
    graphql: GraphQLClient, sessions: Sessions, world: World, who: str | None, code: str
) -> None:
    await deliver(sessions, world.client, world.buyer, [10_000], delivered_at=at(day(2)))
    created = (await generate(graphql, world.finance, generate_input(world.client)))["settlement"]
    headers = await world.as_(who)

    for query, variables, data in (
        (ONE, {"id": created["id"]}, {"settlement": None}),  # nullable: the field is null
        (PAGE, {}, None),
    ):
        payload = await graphql(query, variables, headers=headers)
        assert payload["data"] == data
        [error] = payload["errors"]
        assert error["extensions"]["code"] == code, error
    node = await call(graphql, NODE, {"id": created["id"]}, headers)
    assert node["node"] is None


async def test_a_settlement_line_shows_no_buyer(graphql: GraphQLClient) -> None:
    data = await call(
        graphql, '{ __type(name: "SettlementLine") { fields { name } } }', {}, headers=None
    )
    fields = {field["name"] for field in data["__type"]["fields"]}
    assert fields == {"id", "device", "gross", "commission", "fees", "net"}


@pytest.mark.parametrize(
    ("who", "code"),
    [
        pytest.param("sales", "FORBIDDEN", id="sales"),
        pytest.param("client_user", "FORBIDDEN", id="client"),
        pytest.param("buyer_user", "FORBIDDEN", id="buyer"),
        pytest.param(None, "UNAUTHENTICATED", id="anonymous"),
    ],
)
async def test_only_finance_settles(
    graphql: GraphQLClient, sessions: Sessions, world: World, who: str | None, code: str
) -> None:
    await deliver(sessions, world.client, world.buyer, [10_000], delivered_at=at(day(2)))
    created = (await generate(graphql, world.finance, generate_input(world.client)))["settlement"]
    await deliver(sessions, world.client, world.buyer, [10_000], delivered_at=at(day(3)))
    headers = await world.as_(who)
    before = await counts(sessions)

    result = await generate(graphql, headers, generate_input(world.client))
    assert (result["__typename"], result["code"]) == ("ForbiddenError", code)
    for name in MOVES:
        result = await move(graphql, name, headers, id=created["id"])
        assert (result["__typename"], result["code"]) == ("ForbiddenError", code)

    assert await counts(sessions) == before


async def test_approve_pay_and_the_refusals_on_the_way(
    graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    await deliver(sessions, world.client, world.buyer, [10_000, 20_000], delivered_at=at(day(2)))
    created = (await generate(graphql, world.finance, generate_input(world.client)))["settlement"]
    settlement_id = created["id"]
    before = await counts(sessions)

    early = await move(graphql, "paySettlement", world.finance, id=settlement_id)
    assert early["__typename"] == "InvalidTransitionError"
    assert (early["code"], early["currentStatus"], early["currentVersion"]) == (
        "INVALID_TRANSITION",
        "DRAFT",
        1,
    )
    stale = await move(
        graphql, "approveSettlement", world.finance, id=settlement_id, expectedVersion=0
    )
    assert (stale["__typename"], stale["code"], stale["currentVersion"]) == (
        "StaleError",
        "STALE",
        1,
    )
    junk = await move(graphql, "approveSettlement", world.finance, id="%%%")
    assert (junk["__typename"], junk["code"], junk["field"]) == (
        "InvalidInputError",
        "INVALID_INPUT",
        "id",
    )
    missing = await move(
        graphql, "approveSettlement", world.finance, id=global_id("Settlement", 999)
    )
    assert (missing["__typename"], missing["code"]) == ("NotFoundError", "NOT_FOUND")
    assert await counts(sessions) == before

    approved = await move(
        graphql, "approveSettlement", world.finance, id=settlement_id, expectedVersion=1
    )
    assert approved["settlement"] == {
        "id": settlement_id,
        "status": "APPROVED",
        "version": 2,
        "lineCount": 2,
    }
    paid = await move(graphql, "paySettlement", world.finance, id=settlement_id, expectedVersion=2)
    assert paid["settlement"]["status"] == "PAID"
    late = await move(graphql, "voidSettlement", world.finance, id=settlement_id)
    assert (late["__typename"], late["currentStatus"], late["currentVersion"]) == (
        "InvalidTransitionError",
        "PAID",
        3,
    )
    after = await counts(sessions)
    assert (after.settlements, after.events) == (before.settlements, before.events + 2)


async def test_void_then_generate_again(
    graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    await deliver(sessions, world.client, world.buyer, [10_000], delivered_at=at(day(2)))
    first = (await generate(graphql, world.finance, generate_input(world.client)))["settlement"]
    nothing = await generate(graphql, world.finance, generate_input(world.client))
    assert (nothing["__typename"], nothing["code"]) == ("InvalidInputError", "INVALID_INPUT")

    voided = await move(graphql, "voidSettlement", world.finance, id=first["id"], expectedVersion=1)
    assert voided["settlement"]["status"] == "VOID"
    second = await generate(graphql, world.finance, generate_input(world.client))

    assert second["__typename"] == "GenerateSettlementPayload"
    assert second["settlement"]["id"] != first["id"]
    assert [line["device"] for line in second["settlement"]["lines"]] == [
        line["device"] for line in first["lines"]
    ]


async def test_generate_input_is_checked_and_keys_are_idempotent(
    graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    await deliver(sessions, world.client, world.buyer, [10_000], delivered_at=at(day(2)))
    backwards = await generate(
        graphql, world.finance, generate_input(world.client, periodStart="2024-04-01")
    )
    assert (backwards["code"], backwards["field"]) == ("INVALID_INPUT", "periodEnd")
    stranger = await generate(graphql, world.finance, generate_input(world.buyer))
    assert (stranger["__typename"], stranger["code"]) == ("NotFoundError", "UNKNOWN_CLIENT")
    assert (await counts(sessions)).settlements == 0

    keyed = generate_input(world.client, idempotencyKey="march")
    first = await generate(graphql, world.finance, keyed)
    again = await generate(graphql, world.finance, keyed)
    assert again == first
    conflict = await generate(graphql, world.finance, {**keyed, "periodEnd": "2024-03-30"})
    assert (conflict["code"], conflict["field"]) == ("IDEMPOTENCY_CONFLICT", "idempotencyKey")
    assert (await counts(sessions)).settlements == 1


async def test_settlements_page_and_filter(
    graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    ids = []
    for n in range(3):
        await deliver(sessions, world.client, world.buyer, [10_000], delivered_at=at(day(n + 1)))
        created = await generate(
            graphql,
            world.finance,
            generate_input(
                world.client, periodStart=f"2024-03-0{n + 1}", periodEnd=f"2024-03-0{n + 1}"
            ),
        )
        ids.append(created["settlement"]["id"])
    await deliver(sessions, world.other_client, world.buyer, [10_000], delivered_at=at(day(1)))
    other = (await generate(graphql, world.finance, generate_input(world.other_client)))[
        "settlement"
    ]
    await move(graphql, "approveSettlement", world.finance, id=ids[0])

    first = (await call(graphql, PAGE, {"first": 2}, world.finance))["settlements"]
    assert first["totalCount"] == 4
    assert [edge["node"]["id"] for edge in first["edges"]] == [other["id"], ids[2]]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await call(
            graphql, PAGE, {"first": 2, "after": first["pageInfo"]["endCursor"]}, world.finance
        )
    )["settlements"]
    assert [edge["node"]["id"] for edge in rest["edges"]] == [ids[1], ids[0]]
    assert (rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"]) == (False, True)

    async def filtered(filter: dict[str, Any], headers: Headers | None) -> list[str]:
        page = (await call(graphql, PAGE, {"filter": filter}, headers))["settlements"]
        assert page["totalCount"] == len(page["edges"])
        return [edge["node"]["id"] for edge in page["edges"]]

    assert await filtered({"status": ["APPROVED"]}, world.finance) == [ids[0]]
    assert await filtered({"status": ["DRAFT"]}, await world.as_("client_user")) == [ids[2], ids[1]]
    client_filter = {"clientId": global_id("Organization", world.other_client.id)}
    assert await filtered(client_filter, world.finance) == [other["id"]]
    assert await filtered(client_filter, await world.as_("client_user")) == []

    payload = await graphql(PAGE, {"first": 101}, headers=world.finance)
    assert payload["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


WIDE = (
    "query Wide($first: Int!) "
    f"{{ settlements(first: $first) {{ edges {{ node {{ {SETTLEMENT} }} }} }} }}"
)


async def test_statements_per_page_do_not_grow_with_page_size(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    for n in range(1, 7):
        await deliver(
            sessions, world.client, world.buyer, [1_000 * n, 500], delivered_at=at(day(n))
        )
        period = f"2024-03-0{n}"
        created = await generate(
            graphql,
            world.finance,
            generate_input(world.client, periodStart=period, periodEnd=period),
        )
        assert created["__typename"] == "GenerateSettlementPayload"

    engine = server.app.state.runtime.engine.sync_engine
    statements: dict[int, int] = {}
    for size in (2, 6):
        with count_statements(engine) as log:
            page = (await call(graphql, WIDE, {"first": size}, world.finance))["settlements"]
        assert len(page["edges"]) == size
        assert all(len(edge["node"]["lines"]) == 2 for edge in page["edges"])
        statements[size] = log.count

    assert statements[2] == statements[6], statements
