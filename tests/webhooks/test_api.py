"""Managing endpoints through GraphQL: who may, what each sees, the mutation contract."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.domain.actors import Actor, ActorKind
from app.domain.statuses import OrganizationKind
from app.resolvers.events import visible_audiences
from app.services.events import buyer_audience
from app.webhooks.rules import endpoint_audiences
from app.webhooks.signing import SignatureError, verify
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer
from tests.support.trade import World
from tests.webhooks.receiver import ReceiverServer, eventually
from tests.webhooks.support import REGISTER, Sessions, as_person, emit, register

ENDPOINTS = (
    "{ webhookEndpoints { totalCount edges { node { id url status organization { id } } } } }"
)

ACTION = """
mutation($input: WebhookEndpointActionInput!) {
  %s(input: $input) {
    __typename
    ... on WebhookEndpointPayload { endpoint { id status version disabledReason } }
    ... on WebhookSecretPayload { secret endpoint { id version } }
    ... on StaleError { code currentVersion }
    ... on InvalidTransitionError { code currentStatus }
    ... on Error { code message }
  }
}"""

UPDATE = """
mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) {
    __typename
    ... on WebhookEndpointPayload { endpoint { id url eventTypes description version } }
    ... on InvalidInputError { code field }
    ... on Error { code message }
  }
}"""


async def action(client: GraphQLClient, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    payload = "WebhookSecretPayload" if name == "rotateWebhookSecret" else "WebhookEndpointPayload"
    lines = [
        line
        for line in (ACTION % name).splitlines()
        if "Payload" not in line or f"on {payload} " in line
    ]
    data = await client.data("\n".join(lines), {"input": fields})
    result: dict[str, Any] = data[name]
    return result


@pytest.mark.parametrize(
    ("kind", "audiences"),
    [
        (OrganizationKind.OPERATOR, None),
        (OrganizationKind.BUYER, frozenset({"public", "buyer:7"})),
        (OrganizationKind.CLIENT, frozenset({"client:7"})),
    ],
)
def test_an_endpoint_sees_what_its_organisation_sees_on_the_events_stream(
    kind: OrganizationKind, audiences: frozenset[str] | None
) -> None:
    for actor_kind in (ActorKind.USER, ActorKind.API_KEY):
        actor = Actor(actor_kind, 1, 7, kind)
        assert endpoint_audiences(kind, 7) == visible_audiences(actor) == audiences


async def test_register_shows_the_secret_once_and_endpoints_are_per_organisation(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    buyer_a = await as_person(graphql, sessions, world.buyer_a)
    buyer_b = await as_person(graphql, sessions, world.buyer_b)
    admin = await as_person(graphql, sessions, world.admin)
    data = await buyer_a.data(
        REGISTER,
        {"input": {"url": "https://erp.example.com/hooks", "eventTypes": ["order.placed"]}},
    )
    created = data["registerWebhookEndpoint"]
    endpoint_id = created["endpoint"]["id"]
    assert created["endpoint"]["status"] == "ACTIVE"
    assert created["endpoint"]["eventTypes"] == ["order.placed"]

    # The secret is in no type but the two payloads that make it.
    listed = await buyer_a.data(ENDPOINTS)
    assert created["secret"] not in json.dumps(listed)
    assert [edge["node"]["id"] for edge in listed["webhookEndpoints"]["edges"]] == [endpoint_id]
    assert (await buyer_b.data(ENDPOINTS))["webhookEndpoints"]["totalCount"] == 0
    admin_view = await admin.data(ENDPOINTS)
    assert endpoint_id in [edge["node"]["id"] for edge in admin_view["webhookEndpoints"]["edges"]]

    # Another buyer cannot see, change or replay it: it does not exist for them.
    refused = await action(buyer_b, "disableWebhookEndpoint", {"endpointId": endpoint_id})
    assert (refused["__typename"], refused["code"]) == ("NotFoundError", "NOT_FOUND")
    deliveries = await buyer_b(
        "query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }",
        {"id": endpoint_id},
    )
    assert deliveries["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The registration is in the organisation's log, without the secret.
    events = await buyer_a.data(
        '{ events(types: ["webhook.endpoint_registered"]) { edges { node { changes } } } }'
    )
    [registered] = events["events"]["edges"]
    assert registered["node"]["changes"]["url"] == "https://erp.example.com/hooks"
    assert created["secret"] not in json.dumps(events)
    other = await buyer_b.data(
        '{ events(types: ["webhook.endpoint_registered"]) { edges { node { type } } } }'
    )
    assert other["events"]["edges"] == []


async def test_operators_other_than_admins_may_not_manage_webhooks(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    warehouse = await as_person(graphql, sessions, world.warehouse)
    data = await warehouse.data(REGISTER, {"input": {"url": "https://example.com/h"}})
    assert data["registerWebhookEndpoint"]["code"] == "FORBIDDEN"
    answer = await warehouse(ENDPOINTS)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_only_admins_register_for_another_organisation(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    admin = await as_person(graphql, sessions, world.admin)
    other = str(world.buyer_b.organization.id)
    fields = {"url": "https://example.com/h", "organizationId": other}
    refused = await buyer.data(REGISTER, {"input": fields})
    assert refused["registerWebhookEndpoint"]["code"] == "FORBIDDEN"
    allowed = await admin.data(REGISTER, {"input": fields})
    assert allowed["registerWebhookEndpoint"]["__typename"] == "WebhookSecretPayload"
    listed = await as_person(graphql, sessions, world.buyer_b)
    assert (await listed.data(ENDPOINTS))["webhookEndpoints"]["totalCount"] == 1


async def test_idempotent_registration_and_input_errors(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    fields = {"url": "https://example.com/h", "idempotencyKey": "reg-1"}
    first = (await buyer.data(REGISTER, {"input": fields}))["registerWebhookEndpoint"]
    again = (await buyer.data(REGISTER, {"input": fields}))["registerWebhookEndpoint"]
    # The same endpoint and secret (its cursor may have moved on meanwhile).
    assert (again["endpoint"]["id"], again["secret"]) == (first["endpoint"]["id"], first["secret"])
    assert (await buyer.data(ENDPOINTS))["webhookEndpoints"]["totalCount"] == 1
    conflict = await buyer.data(REGISTER, {"input": {**fields, "url": "https://example.com/o"}})
    assert conflict["registerWebhookEndpoint"]["code"] == "IDEMPOTENCY_CONFLICT"

    for bad, field in [
        ({"url": "not a url"}, "url"),
        ({"url": "https://example.com/h", "eventTypes": ["x" * 65]}, "eventTypes"),
        ({"url": "https://example.com/h", "after": "nonsense"}, "after"),
    ]:
        data = await buyer.data(
            REGISTER.replace("... on Error", "... on InvalidInputError { field } ... on Error"),
            {"input": bad},
        )
        result = data["registerWebhookEndpoint"]
        assert (result["__typename"], result["field"]) == ("InvalidInputError", field)


async def test_update_disable_enable_with_versions(
    server: RunningServer, graphql: GraphQLClient, sessions: Sessions, world: World
) -> None:
    client_user = await as_person(graphql, sessions, world.client_user)
    data = await client_user.data(REGISTER, {"input": {"url": "https://assets.example.com/h"}})
    endpoint_id = data["registerWebhookEndpoint"]["endpoint"]["id"]
    assert data["registerWebhookEndpoint"]["endpoint"]["version"] == 1

    updated = await client_user.data(
        UPDATE,
        {
            "input": {
                "endpointId": endpoint_id,
                "eventTypes": ["device.graded", "device.received"],
                "description": "asset system",
                "expectedVersion": 1,
            }
        },
    )
    endpoint = updated["updateWebhookEndpoint"]["endpoint"]
    assert endpoint["url"] == "https://assets.example.com/h"
    assert endpoint["eventTypes"] == ["device.graded", "device.received"]
    assert endpoint["version"] == 2

    stale = await action(
        client_user, "disableWebhookEndpoint", {"endpointId": endpoint_id, "expectedVersion": 1}
    )
    assert (stale["__typename"], stale["currentVersion"]) == ("StaleError", 2)
    disabled = await action(
        client_user, "disableWebhookEndpoint", {"endpointId": endpoint_id, "expectedVersion": 2}
    )
    assert disabled["endpoint"]["status"] == "DISABLED"
    assert disabled["endpoint"]["disabledReason"].startswith("Disabled by user:")
    twice = await action(client_user, "disableWebhookEndpoint", {"endpointId": endpoint_id})
    assert (twice["__typename"], twice["currentStatus"]) == ("InvalidTransitionError", "DISABLED")
    enabled = await action(client_user, "enableWebhookEndpoint", {"endpointId": endpoint_id})
    assert (enabled["endpoint"]["status"], enabled["endpoint"]["disabledReason"]) == (
        "ACTIVE",
        None,
    )


async def test_a_rotated_secret_signs_from_the_next_request(
    server: RunningServer,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    endpoint_id = await register(buyer, receiver)
    audience = [buyer_audience(world.buyer_a.organization.id)]
    await emit(sessions, audience)
    await eventually(lambda: len(receiver.receiver.events) == 1, what="one delivery")
    old = receiver.receiver.secret

    rotated = await action(buyer, "rotateWebhookSecret", {"endpointId": endpoint_id})
    new = rotated["secret"]
    assert new != old
    assert new.startswith("whsec_")
    receiver.receiver.secret = new
    await emit(sessions, audience)
    await eventually(lambda: len(receiver.receiver.events) == 2, what="a second delivery")
    request = receiver.receiver.requests[-1]
    signature = request.headers["devicegraph-signature"]
    verify(new, request.body, signature)
    with pytest.raises(SignatureError):
        verify(old, request.body, signature)
