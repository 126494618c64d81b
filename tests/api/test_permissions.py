"""The permission matrix, generated from the schema: every root field x every role, over HTTP.

- Every root field of Query, Mutation and Subscription must have a rule in
  app.auth.policy.ROOT_RULES and an argument template here: a new field without either fails.
- Each (field, role) is called on a real server with minimal valid arguments (ids that do not
  exist, so nothing changes): where the policy refuses, the answer is FORBIDDEN or
  UNAUTHENTICATED (a ForbiddenError result for mutations, an error with extensions.code for
  queries); where it allows, no refusal comes back, from the guard or from the resolvers.
- Subscriptions: through a websocket, each role either gets the backlog or the refusal.
- The sensitive fields of types (FIELD_VISIBILITY) are read by each role along a path it can
  reach: visible exactly to those the table names.

Everything on SQLite with one server and one world per module; a subset on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    get_named_type,
    is_leaf_type,
    is_union_type,
)
from strawberry.relay import GlobalID

from app.auth.policy import FIELD_VISIBILITY, ROOT_RULES, Sees, decide
from app.auth.sessions import TOKEN_PREFIX, token_hash
from app.models import AuthSession
from app.models.base import utcnow
from app.pubsub.cursors import START
from tests.auth.world import (
    BUYER_ROLES,
    CLIENT_ROLES,
    OPERATOR_ROLES,
    ROLES,
    Stack,
    World,
    emptied_postgres,
    gid,
    serve_world,
    sqlite_copy,
)
from tests.support.server import import_schema
from tests.support.ws import GraphQLSocket

REFUSALS = ("FORBIDDEN", "UNAUTHENTICATED")
MISSING = '"999999"'

Template = Callable[[World], str]


def _id(type_name: str, attribute: str) -> Template:
    return lambda world: f'id: "{gid(type_name, getattr(world, attribute))}"'


def _input(fields: str) -> Template:
    return lambda _world: f"input: {{{fields}}}"


def _none(_world: World) -> str:
    return ""


TEMPLATES: dict[str, Template] = {
    "Query.viewer": _none,
    "Query.apiKeys": _none,
    "Query.webhookEndpoints": _none,
    "Query.webhookDeliveries": lambda _world: f"endpointId: {MISSING}",
    "Query.device": _id("Device", "device_id"),
    "Query.devices": _none,
    "Query.lot": _id("Lot", "lot_id"),
    "Query.lots": _none,
    "Query.listing": _id("Listing", "listing_id"),
    "Query.listings": _none,
    "Query.offer": _id("Offer", "offer_id"),
    "Query.offers": _none,
    "Query.order": _id("Order", "order_id"),
    "Query.orders": _none,
    "Query.shipment": _id("Shipment", "shipment_id"),
    "Query.shipments": _none,
    "Query.settlement": lambda _world: f'id: "{gid("Settlement", 999999)}"',
    "Query.settlements": _none,
    "Query.events": lambda _world: "first: 5",
    "Query.node": _id("Device", "device_id"),
    "Mutation.signIn": lambda _world: 'email: "nobody@policy.test", password: "wrong"',
    "Mutation.signOut": _none,
    "Mutation.createApiKey": _input(f'organizationId: {MISSING}, name: "x", scopes: [READ]'),
    "Mutation.revokeApiKey": _input(f"id: {MISSING}"),
    "Mutation.receiveDevice": _input(f'clientId: {MISSING}, make: "Apple", model: "X"'),
    "Mutation.recordGrade": _input(
        f"deviceId: {MISSING}, cosmetic: A, functionalPass: true, dataWiped: true, failedChecks: []"
    ),
    "Mutation.quarantineDevice": _input(f'deviceId: {MISSING}, reason: "locked"'),
    "Mutation.clearQuarantine": _input(f"deviceId: {MISSING}"),
    "Mutation.createLot": _input(f'clientId: {MISSING}, reference: "R-1", expectedCount: 1'),
    "Mutation.receiveLot": _input(
        f'lotId: {MISSING}, devices: [{{make: "Apple", model: "X", serial: "S-1"}}]'
    ),
    "Mutation.reconcileLot": _input(f"lotId: {MISSING}"),
    "Mutation.closeLot": _input(f"lotId: {MISSING}"),
    "Mutation.createListing": _input(f'deviceId: {MISSING}, price: "100"'),
    "Mutation.publishListing": _input(f"listingId: {MISSING}"),
    "Mutation.pauseListing": _input(f"listingId: {MISSING}"),
    "Mutation.repriceListing": _input(f'listingId: {MISSING}, price: "100"'),
    "Mutation.withdrawListing": _input(f"listingId: {MISSING}"),
    "Mutation.makeOffer": _input(f'listingId: {MISSING}, amount: "100"'),
    "Mutation.counterOffer": _input(f'offerId: {MISSING}, amount: "100"'),
    "Mutation.acceptOffer": _input(f"offerId: {MISSING}"),
    "Mutation.rejectOffer": _input(f"offerId: {MISSING}"),
    "Mutation.withdrawOffer": _input(f"offerId: {MISSING}"),
    "Mutation.buyListings": _input(f"listingIds: [{MISSING}]"),
    "Mutation.confirmOrder": _input(f"orderId: {MISSING}"),
    "Mutation.cancelOrder": _input(f"orderId: {MISSING}"),
    "Mutation.shipOrder": _input(f'orderId: {MISSING}, carrier: "DHL", trackingNumber: "T-1"'),
    "Mutation.markDelivered": _input(f"orderId: {MISSING}"),
    "Mutation.reportShipmentException": _input(f'shipmentId: {MISSING}, note: "lost"'),
    "Mutation.completeOrder": _input(f"orderId: {MISSING}"),
    "Mutation.generateSettlement": _input(
        f'clientId: {MISSING}, periodStart: "2024-01-01", periodEnd: "2024-01-31"'
    ),
    "Mutation.approveSettlement": _input(f"id: {MISSING}"),
    "Mutation.paySettlement": _input(f"id: {MISSING}"),
    "Mutation.voidSettlement": _input(f"id: {MISSING}"),
    "Mutation.registerWebhookEndpoint": _input('url: "ftp://nowhere.invalid/"'),
    "Mutation.updateWebhookEndpoint": _input(f"endpointId: {MISSING}"),
    "Mutation.disableWebhookEndpoint": _input(f"endpointId: {MISSING}"),
    "Mutation.enableWebhookEndpoint": _input(f"endpointId: {MISSING}"),
    "Mutation.replayWebhookEndpoint": _input(f'endpointId: {MISSING}, after: "ZXYxOjA6MA"'),
    "Mutation.rotateWebhookSecret": _input(f"endpointId: {MISSING}"),
    "Subscription.events": lambda _world: "after: $after",
    "Subscription.listingBoard": lambda _world: "first: 1",
    "Subscription.order": lambda _world: f'id: "{GlobalID("Order", "999999")}"',
    "Subscription.device": lambda _world: f'id: "{GlobalID("Device", "999999")}"',
    "Subscription.offers": lambda _world: "mine: true, first: 1",
    "Subscription.settlements": lambda _world: "first: 1",
}


def root_fields() -> dict[str, GraphQLField]:
    """Every root field of the schema, by coordinate, e.g. ``Mutation.buyListings``."""
    schema = import_schema()._schema
    fields: dict[str, GraphQLField] = {}
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            fields.update({f"{root.name}.{name}": field for name, field in root.fields.items()})
    return fields


ROOT_FIELDS = root_fields()
QUERY_AND_MUTATION = sorted(c for c in ROOT_FIELDS if not c.startswith("Subscription."))
POSTGRES_SUBSET = [
    "Query.devices",
    "Query.orders",
    "Query.apiKeys",
    "Mutation.buyListings",
    "Mutation.receiveDevice",
    "Mutation.createApiKey",
]


def operation(coordinate: str, world: World) -> str:
    kind, _, name = coordinate.partition(".")
    field = ROOT_FIELDS[coordinate]
    arguments = TEMPLATES[coordinate](world)
    named = get_named_type(field.type)
    if is_leaf_type(named):
        selection = ""
    elif is_union_type(named):
        selection = "{ __typename ... on Error { code message } }"
    else:
        selection = "{ __typename }"
    call = f"{name}({arguments})" if arguments else name
    return f"{kind.lower()} {{ {call} {selection} }}"


def refusal_of(body: dict[str, Any], name: str) -> str | None:
    """The refusal code a root field got, if any (error or ForbiddenError result)."""
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if error.get("path") == [name] and code in REFUSALS:
            return str(code)
    value = (body.get("data") or {}).get(name)
    if isinstance(value, dict) and value.get("__typename") == "ForbiddenError":
        return str(value["code"])
    return None


async def fresh_session_token(stack: Stack, role: str) -> str | None:
    """A second session of a role's user: signOut may end it without ending the role's."""
    person = stack.world.people.get(role)
    if person is None:
        return stack.world.callers[role].token
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    async with stack.sessions.begin() as session:
        session.add(
            AuthSession(
                user_id=person.user.id,
                token_hash=token_hash(token),
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    return token


async def call_as(stack: Stack, coordinate: str, role: str) -> dict[str, Any]:
    query = operation(coordinate, stack.world)
    headers = stack.world.callers[role].headers
    if coordinate == "Mutation.signOut":
        token = await fresh_session_token(stack, role)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await stack.http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, (coordinate, role, response.text)
    body: dict[str, Any] = response.json()
    # The template must be a valid operation, and nothing may fail unexpectedly.
    for error in body.get("errors") or []:
        assert error.get("path") is not None, (coordinate, role, query, body)
        assert error["message"] != "Unexpected error.", (coordinate, role, query, body)
    return body


async def check_matrix(stack: Stack, coordinate: str) -> None:
    name = coordinate.partition(".")[2]
    wrong = []
    for role in ROLES:
        expected = decide(stack.world.callers[role].actor, coordinate)
        body = await call_as(stack, coordinate, role)
        got = refusal_of(body, name)
        want = expected.code.value if expected is not None else None
        if got != want:
            wrong.append((role, f"expected {want}, got {got}", body))
    assert not wrong, f"{coordinate}: {wrong}"


# --- Fixtures: one server and one world per module and database -----------------------------


@pytest.fixture(scope="module")
async def sqlite_stack(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    url = sqlite_copy(sqlite_template, tmp_path_factory.mktemp("permissions"))
    async with serve_world(url) as stack:
        yield stack


@pytest.fixture(scope="module")
async def postgres_stack(postgres_session_database: str) -> AsyncIterator[Stack]:
    async with serve_world(await emptied_postgres(postgres_session_database)) as stack:
        yield stack


# --- The table covers the schema -------------------------------------------------------------


def test_every_root_field_has_a_rule() -> None:
    missing = sorted(set(ROOT_FIELDS) - set(ROOT_RULES))
    stale = sorted(set(ROOT_RULES) - set(ROOT_FIELDS))
    assert not missing, f"root fields without a rule in app/auth/policy.py ROOT_RULES: {missing}"
    assert not stale, f"rules for fields the schema no longer has: {stale}"


def test_every_root_field_has_an_argument_template() -> None:
    missing = sorted(set(ROOT_FIELDS) - set(TEMPLATES))
    assert not missing, f"root fields without an argument template in this file: {missing}"


def test_every_sensitive_field_exists_and_has_a_path() -> None:
    schema = import_schema()._schema
    for coordinate in FIELD_VISIBILITY:
        type_name, _, field_name = coordinate.partition(".")
        assert field_name in schema.get_type(type_name).fields, coordinate
    assert set(FIELD_VISIBILITY) == set(PATHS)


def test_the_roles_cover_every_kind_of_caller() -> None:
    assert set(ROLES) == {"anonymous"} | OPERATOR_ROLES | CLIENT_ROLES | BUYER_ROLES


# --- Root fields x roles ---------------------------------------------------------------------


@pytest.mark.parametrize("coordinate", QUERY_AND_MUTATION)
async def test_root_field_matrix_sqlite(sqlite_stack: Stack, coordinate: str) -> None:
    await check_matrix(sqlite_stack, coordinate)


@pytest.mark.parametrize("coordinate", POSTGRES_SUBSET)
async def test_root_field_matrix_postgresql(postgres_stack: Stack, coordinate: str) -> None:
    await check_matrix(postgres_stack, coordinate)


SUBSCRIBE = "subscription($after: String) { events(after: $after) { cursor type } }"


async def test_subscription_matrix_sqlite(sqlite_stack: Stack) -> None:
    """Through a websocket: the backlog for those allowed, the refusal for the others."""
    assert set(TEMPLATES) >= {c for c in ROOT_FIELDS if c.startswith("Subscription.")}
    wrong = []
    for role in ROLES:
        caller = sqlite_stack.world.callers[role]
        expected = decide(caller.actor, "Subscription.events")
        async with GraphQLSocket.connect(
            sqlite_stack.server.graphql_ws_url, token=caller.token
        ) as socket:
            op = await socket.subscribe(SUBSCRIBE, {"after": START.encode()})
            message = await socket.message(op)
            await socket.complete(op)
        if expected is None:
            ok = message["type"] == "next" and not message["payload"].get("errors")
        else:
            ok = message["type"] == "error" and [
                error["extensions"]["code"] for error in message["payload"]
            ] == [expected.code.value]
        if not ok:
            wrong.append((role, expected, message))
    assert not wrong, wrong


DOMAIN_SUBSCRIPTIONS = sorted(
    c for c in ROOT_FIELDS if c.startswith("Subscription.") and c != "Subscription.events"
)


async def test_domain_subscription_matrix_sqlite(sqlite_stack: Stack) -> None:
    """Each role's first message: the refusal where the policy refuses, and where it allows
    no refusal (a snapshot, or NOT_FOUND for ids that do not exist)."""
    wrong = []
    for role in ROLES:
        caller = sqlite_stack.world.callers[role]
        async with GraphQLSocket.connect(
            sqlite_stack.server.graphql_ws_url, token=caller.token
        ) as socket:
            for coordinate in DOMAIN_SUBSCRIPTIONS:
                expected = decide(caller.actor, coordinate)
                op = await socket.subscribe(operation(coordinate, sqlite_stack.world))
                message = await socket.message(op)
                await socket.complete(op)
                errors = (
                    message["payload"]
                    if message["type"] == "error"
                    else message["payload"].get("errors") or []
                )
                codes = [(error.get("extensions") or {}).get("code") for error in errors]
                if expected is None:
                    ok = not set(codes) & set(REFUSALS) and all(
                        error["message"] != "Unexpected error." for error in errors
                    )
                else:
                    ok = message["type"] == "error" and codes == [expected.code.value]
                if not ok:
                    wrong.append((coordinate, role, expected, message))
    assert not wrong, wrong


# --- Sensitive fields of types -----------------------------------------------------------------


def _dig(value: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def _any_actor(data: dict[str, Any]) -> Any:
    edges = _dig(data, "events", "edges") or []
    return [edge["node"]["actor"] for edge in edges if edge["node"]["actor"]] or None


Path_ = tuple[str, Callable[[World], dict[str, Any]], Callable[[dict[str, Any]], Any]]

PATHS: dict[str, Path_] = {
    "Device.client": (
        "query($id: ID!) { device(id: $id) { client { id } } }",
        lambda w: {"id": gid("Device", w.device_id)},
        lambda d: _dig(d, "device", "client"),
    ),
    "Device.lot": (
        "query($id: ID!) { device(id: $id) { lot { id } } }",
        lambda w: {"id": gid("Device", w.device_id)},
        lambda d: _dig(d, "device", "lot"),
    ),
    "Lot.client": (
        "query($id: ID!) { lot(id: $id) { client { id } } }",
        lambda w: {"id": gid("Lot", w.lot_id)},
        lambda d: _dig(d, "lot", "client"),
    ),
    "Listing.offers": (
        "query($id: ID!) { listing(id: $id) { offers { id } } }",
        lambda w: {"id": gid("Listing", w.listing_id)},
        lambda d: _dig(d, "listing", "offers") or None,
    ),
    "Offer.buyer": (
        "query($id: ID!) { offer(id: $id) { buyer { id } } }",
        lambda w: {"id": gid("Offer", w.offer_id)},
        lambda d: _dig(d, "offer", "buyer"),
    ),
    "Order.buyer": (
        "query($id: ID!) { order(id: $id) { buyer { id } } }",
        lambda w: {"id": gid("Order", w.order_id)},
        lambda d: _dig(d, "order", "buyer"),
    ),
    "OrderLine.device": (
        "query($id: ID!) { order(id: $id) { lines { device { id } } } }",
        lambda w: {"id": gid("Order", w.order_id)},
        lambda d: _dig(d, "order", "lines", 0, "device"),
    ),
    "Shipment.order": (
        "query($id: ID!) { shipment(id: $id) { order { id } } }",
        lambda w: {"id": gid("Shipment", w.shipment_id)},
        lambda d: _dig(d, "shipment", "order"),
    ),
    "Event.actor": (
        "{ events(first: 50) { edges { node { actor } } } }",
        lambda _w: {},
        _any_actor,
    ),
}


def sees(role: str, rule: Sees) -> bool:
    if role in OPERATOR_ROLES:
        return True
    match rule:
        case Sees.OPERATORS_AND_OWN_CLIENT:
            return role in CLIENT_ROLES
        case Sees.OPERATORS_AND_OWN_BUYER:
            return role in BUYER_ROLES
        case _:
            return False


async def check_sensitive(stack: Stack, coordinate: str) -> None:
    query, variables, extract = PATHS[coordinate]
    wrong = []
    for role in ROLES:
        body = await stack.post(query, variables(stack.world), who=role)
        for error in body.get("errors") or []:
            # Refused outright is hidden too, but only ever as a refusal.
            assert error["extensions"]["code"] in REFUSALS, (coordinate, role, body)
        visible = extract(body.get("data") or {}) is not None
        if visible != sees(role, FIELD_VISIBILITY[coordinate]):
            wrong.append((role, "visible" if visible else "hidden", body))
    assert not wrong, f"{coordinate} ({FIELD_VISIBILITY[coordinate].value}): {wrong}"


@pytest.mark.parametrize("coordinate", sorted(FIELD_VISIBILITY))
async def test_sensitive_fields_sqlite(sqlite_stack: Stack, coordinate: str) -> None:
    await check_sensitive(sqlite_stack, coordinate)


@pytest.mark.parametrize("coordinate", ["Device.client", "Order.buyer", "Event.actor"])
async def test_sensitive_fields_postgresql(postgres_stack: Stack, coordinate: str) -> None:
    await check_sensitive(postgres_stack, coordinate)


async def test_organisations_are_seen_by_operators_and_their_own_people(
    sqlite_stack: Stack,
) -> None:
    """node(id:) on an Organization: a buyer never learns a client's name (nor the reverse)."""
    world = sqlite_stack.world
    query = "query($id: ID!) { node(id: $id) { ... on Organization { name } } }"
    wrong = []
    for organization, own in ((world.client, CLIENT_ROLES), (world.buyer, BUYER_ROLES)):
        for role in ROLES:
            body = await sqlite_stack.post(
                query, {"id": gid("Organization", organization.id)}, who=role
            )
            seen = (body.get("data") or {}).get("node") is not None
            if seen != (role in OPERATOR_ROLES | own):
                wrong.append((organization.name, role, body))
    assert not wrong, wrong
