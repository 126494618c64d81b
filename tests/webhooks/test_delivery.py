"""Delivery end to end: the real app's worker POSTs to a real receiving HTTP server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.services.events import PUBLIC, buyer_audience
from app.webhooks.signing import verify
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer
from tests.support.trade import World
from tests.webhooks.receiver import ReceiverServer, eventually, example
from tests.webhooks.support import Sessions, as_person, emit, register

DELIVERIES = """
query($id: ID!) {
  webhookDeliveries(endpointId: $id, first: 50) {
    totalCount
    edges { node { eventId eventCursor eventType attempts status responseStatus lastError
                   nextAttemptAt deliveredAt } }
  }
}"""

ENDPOINTS = """
{ webhookEndpoints { edges { node { id status cursor consecutiveFailures failingSince
                                      nextAttemptAt disabledReason version } } } }"""

EVENTS = """
query($types: [String!]) {
  events(first: 100, types: $types) { edges { node { type entityId changes } } }
}"""


def bodies(receiver: ReceiverServer) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in receiver.receiver.requests]


async def deliveries(client: GraphQLClient, endpoint_id: str) -> list[dict[str, Any]]:
    data = await client.data(DELIVERIES, {"id": endpoint_id})
    return [edge["node"] for edge in data["webhookDeliveries"]["edges"]]


async def endpoint(client: GraphQLClient, endpoint_id: str) -> dict[str, Any]:
    data = await client.data(ENDPOINTS)
    [node] = [
        edge["node"]
        for edge in data["webhookEndpoints"]["edges"]
        if edge["node"]["id"] == endpoint_id
    ]
    return node


async def test_deliveries_arrive_signed_in_order_with_event_ids(
    server: RunningServer,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    endpoint_id = await register(buyer, receiver)
    ids = await emit(sessions, [buyer_audience(world.buyer_a.organization.id)], 6)

    await eventually(lambda: len(receiver.receiver.events) == 6, what="six deliveries")
    secret = receiver.receiver.secret
    assert [event["id"] for event in receiver.receiver.events] == [f"evt_{i}" for i in ids]
    for request in receiver.receiver.requests:
        assert request.answered == 200
        signature = request.headers["devicegraph-signature"]
        example.verify(secret, request.body, signature)  # the partner's copy
        verify(secret, request.body, signature)  # the app's
        body = json.loads(request.body)
        assert request.headers["devicegraph-event-id"] == body["id"]
        assert request.headers["content-type"] == "application/json"
        assert set(body) == {"id", "cursor", "type", "entity", "occurredAt", "changes"}
        assert body["type"] == "test.happened"
        assert body["entity"]["type"] == "Device"
    assert [body["changes"]["n"] for body in bodies(receiver)] == list(range(6))

    log = await deliveries(buyer, endpoint_id)
    assert len(log) == 6
    assert {(row["status"], row["attempts"], row["responseStatus"]) for row in log} == {
        ("DELIVERED", 1, 200)
    }
    assert [row["eventId"] for row in reversed(log)] == [f"evt_{i}" for i in ids]
    # The endpoint's cursor is the last event's, the one the body carried.
    assert (await endpoint(buyer, endpoint_id))["cursor"] == bodies(receiver)[-1]["cursor"]


async def test_a_receiver_down_for_a_while_gets_everything_in_order_when_back(
    server: RunningServer,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    endpoint_id = await register(buyer, receiver)
    audience = [buyer_audience(world.buyer_a.organization.id)]
    first = await emit(sessions, audience, 2)
    await eventually(lambda: len(receiver.receiver.events) == 2, what="the first two")

    receiver.receiver.failing = True  # answers 503
    ids = await emit(sessions, audience, 3)
    await eventually(lambda: len(receiver.receiver.requests) >= 2 + 3, what="503 retries")
    failed = [body["id"] for body in bodies(receiver)[2:]]
    # The first undelivered event blocks the others: it alone is retried.
    assert set(failed) == {f"evt_{ids[0]}"}

    receiver.stop()  # then not there at all: connections refused
    ids += await emit(sessions, audience, 2)
    await asyncio.sleep(0.5)
    state = await endpoint(buyer, endpoint_id)
    assert state["consecutiveFailures"] >= 3
    assert state["failingSince"] is not None

    receiver.receiver.failing = False
    receiver.start()  # same port
    await eventually(lambda: len(receiver.receiver.events) == 7, what="everything after")
    assert [event["id"] for event in receiver.receiver.events] == [f"evt_{i}" for i in first + ids]
    assert receiver.receiver.duplicates == 0
    state = await endpoint(buyer, endpoint_id)
    assert (state["consecutiveFailures"], state["failingSince"]) == (0, None)

    log = {row["eventId"]: row for row in await deliveries(buyer, endpoint_id)}
    blocked = log[f"evt_{ids[0]}"]
    assert blocked["status"] == "DELIVERED"
    assert blocked["attempts"] >= 3
    # The failures are in the event log, for the endpoint's organisation to see.
    events = await buyer.data(EVENTS, {"types": ["webhook.delivery_failed"]})
    failures = [edge["node"]["changes"] for edge in events["events"]["edges"]]
    assert failures
    assert {failure["eventId"] for failure in failures} == {f"evt_{ids[0]}"}
    assert any(failure["responseStatus"] == 503 for failure in failures)
    assert any(failure["responseStatus"] is None for failure in failures)  # refused


async def test_replay_resends_with_the_same_event_ids(
    server: RunningServer,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    endpoint_id = await register(buyer, receiver)
    ids = await emit(sessions, [buyer_audience(world.buyer_a.organization.id)], 4)
    await eventually(lambda: len(receiver.receiver.events) == 4, what="four deliveries")
    after = receiver.receiver.events[0]["cursor"]

    data = await buyer.data(
        """mutation($input: ReplayWebhookEndpointInput!) {
             replayWebhookEndpoint(input: $input) {
               __typename ... on WebhookEndpointPayload { endpoint { cursor } }
             } }""",
        {"input": {"endpointId": endpoint_id, "after": after}},
    )
    assert data["replayWebhookEndpoint"]["endpoint"]["cursor"] == after

    await eventually(lambda: len(receiver.receiver.requests) == 7, what="three replayed")
    replayed = [body["id"] for body in bodies(receiver)[4:]]
    assert replayed == [f"evt_{i}" for i in ids[1:]]
    assert receiver.receiver.duplicates == 3  # recognised by event id, handled once
    assert [event["id"] for event in receiver.receiver.events] == [f"evt_{i}" for i in ids]


async def test_an_endpoint_failing_past_the_limit_is_disabled_with_an_event(
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
    server: RunningServer,
) -> None:
    server.app.state.webhooks.settings = server.app.state.webhooks.settings.model_copy(
        update={"webhook_disable_after_seconds": 0.6}
    )
    buyer = await as_person(graphql, sessions, world.buyer_a)
    endpoint_id = await register(buyer, receiver)
    receiver.receiver.failing = True
    [event_id] = await emit(sessions, [buyer_audience(world.buyer_a.organization.id)])

    async def disabled() -> dict[str, Any]:
        for _ in range(200):
            state = await endpoint(buyer, endpoint_id)
            if state["status"] == "DISABLED":
                return state
            await asyncio.sleep(0.05)
        raise AssertionError("the endpoint was not disabled")

    state = await disabled()
    assert "failed" in state["disabledReason"]
    assert "HTTP 503" in state["disabledReason"]
    assert state["nextAttemptAt"] is None
    [row] = await deliveries(buyer, endpoint_id)
    assert (row["eventId"], row["status"], row["responseStatus"]) == (
        f"evt_{event_id}",
        "FAILED",
        503,
    )
    assert row["attempts"] >= 2
    events = await buyer.data(EVENTS, {"types": ["webhook.endpoint_disabled"]})
    [disabled_event] = [edge["node"] for edge in events["events"]["edges"]]
    assert disabled_event["changes"]["status"] == "DISABLED"
    assert disabled_event["changes"]["reason"] == state["disabledReason"]

    # Nothing more is tried while it is disabled.
    tried = len(receiver.receiver.requests)
    await asyncio.sleep(0.4)
    assert len(receiver.receiver.requests) == tried

    # Enabled again, it resumes at the event it stopped at.
    receiver.receiver.failing = False
    data = await buyer.data(
        """mutation($input: WebhookEndpointActionInput!) {
             enableWebhookEndpoint(input: $input) {
               __typename ... on WebhookEndpointPayload { endpoint { status } }
             } }""",
        {"input": {"endpointId": endpoint_id, "expectedVersion": state["version"]}},
    )
    assert data["enableWebhookEndpoint"]["endpoint"]["status"] == "ACTIVE"
    await eventually(lambda: len(receiver.receiver.events) == 1, what="the blocked event")
    assert receiver.receiver.events[0]["id"] == f"evt_{event_id}"


async def test_a_buyer_endpoint_gets_only_what_the_buyer_may_see(
    server: RunningServer,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    buyer = await as_person(graphql, sessions, world.buyer_a)
    await register(buyer, receiver)
    own = buyer_audience(world.buyer_a.organization.id)
    other = buyer_audience(world.buyer_b.organization.id)
    client = f"client:{world.client.id}"
    expected = []
    for audiences in ([other], [client], [PUBLIC], [own], ["operator"], [other, client], [own]):
        ids = await emit(sessions, audiences)
        if own in audiences or PUBLIC in audiences:
            expected += ids
    marker = await emit(sessions, [own], type="test.last")
    await eventually(
        lambda: any(event["type"] == "test.last" for event in receiver.receiver.events),
        what="the last event",
    )
    await asyncio.sleep(0.2)
    received = [event["id"] for event in receiver.receiver.events]
    assert received == [f"evt_{i}" for i in expected + marker]
    leaked = [
        event for event in receiver.receiver.events if client in event["changes"]["audiences"]
    ]
    assert not leaked
