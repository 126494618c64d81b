"""The worker: several processes never deliver the same event concurrently; the backoff;
failures are live on the `events` subscription."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from strawberry.relay import GlobalID

from app.db import create_engine, create_session_factory
from app.pubsub.cursors import START
from app.pubsub.log import EventLog, create_log_engine
from app.services.events import buyer_audience
from app.settings import Settings
from app.tasks.webhook_delivery import WebhookDeliveryTask
from app.webhooks.attempts import backoff
from tests.support.auth import token_for
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer
from tests.support.trade import World
from tests.support.ws import GraphQLSocket
from tests.webhooks.receiver import ReceiverServer, eventually
from tests.webhooks.support import Sessions, as_person, emit, register


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    for failures, low, high in [(1, 3.75, 5), (2, 7.5, 10), (3, 15, 20), (30, 2700, 3600)]:
        waits = [backoff(failures, initial=5, maximum=3600) for _ in range(200)]
        assert all(low <= wait <= high for wait in waits), (failures, min(waits), max(waits))
        assert len(set(waits)) > 1  # jitter
    # At the defaults, retries spread over a day take about thirty tries, not thousands.
    elapsed, tries = 0.0, 0
    while elapsed < 86_400:
        tries += 1
        elapsed += backoff(tries, initial=5, maximum=3600)
    assert 20 < tries < 40


@pytest.fixture
async def second_worker(settings: Settings) -> AsyncIterator[WebhookDeliveryTask]:
    """Another process's worker: its own engine, log reader and lease name."""
    engine = create_engine(settings)
    log_engine = create_log_engine(settings, engine)
    worker = WebhookDeliveryTask(create_session_factory(engine), EventLog(log_engine), settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        if log_engine is not engine:
            await log_engine.dispose()
        await engine.dispose()


async def test_two_workers_deliver_each_event_once_in_order(
    server: RunningServer,
    second_worker: WebhookDeliveryTask,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    assert second_worker.owner != server.app.state.webhooks.owner
    buyer = await as_person(graphql, sessions, world.buyer_a)
    await register(buyer, receiver)
    ids = await emit(sessions, [buyer_audience(world.buyer_a.organization.id)], 30)
    await eventually(lambda: len(receiver.receiver.events) == 30, what="thirty deliveries")
    await asyncio.sleep(0.3)
    sent = [json.loads(request.body)["id"] for request in receiver.receiver.requests]
    assert sent == [f"evt_{i}" for i in ids]  # each once: no duplicates, none concurrent
    assert receiver.receiver.duplicates == 0
    assert second_worker.failures == 0


async def test_failures_appear_live_on_the_events_subscription(
    server: RunningServer,
    graphql: GraphQLClient,
    sessions: Sessions,
    world: World,
    receiver: ReceiverServer,
) -> None:
    token = await token_for(sessions, world.buyer_a)
    buyer = graphql.as_(token)
    endpoint_id = await register(buyer, receiver)
    receiver.receiver.failing = True
    [event_id] = await emit(sessions, [buyer_audience(world.buyer_a.organization.id)])
    query = """subscription($after: String) {
      events(after: $after, types: ["webhook.delivery_failed"]) { type entityId changes }
    }"""
    async with GraphQLSocket.connect(server.graphql_ws_url, token=token) as socket:
        op = await socket.subscribe(query, {"after": START.encode()})
        events = await socket.take(op, 2, wait=10)
    for event in events:
        assert event["type"] == "webhook.delivery_failed"
        assert event["changes"]["eventId"] == f"evt_{event_id}"
        assert event["changes"]["responseStatus"] == 503
        assert event["changes"]["error"] == "HTTP 503"
        assert event["changes"]["nextAttemptAt"] is not None
    assert [event["changes"]["attempts"] for event in events] == [1, 2]
    assert {event["entityId"] for event in events} == {
        str(GlobalID("WebhookEndpoint", endpoint_id))
    }
