"""Subscriptions over Server-Sent Events, read with a real HTTP streaming client (httpx).

``Accept: text/event-stream`` on /graphql: ``event: next`` messages with the result's cursor as
``id``, ``Last-Event-ID`` resumption, refusals as JSON 4xx, errors during the stream followed
by ``event: complete``, heartbeats, and a disconnect that ends the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.api_keys import create_api_key
from app.auth.policy import Scope
from app.auth.sessions import sign_out
from app.domain.statuses import Role
from app.settings import Settings
from tests.pubsub.support import append, eventually, subscribed
from tests.support.auth import Person, sign_in_as
from tests.support.factories import create_buyer
from tests.support.server import RunningServer

Sessions = async_sessionmaker[AsyncSession]

EVENTS = """
subscription Follow($after: String, $types: [String!]) {
  events(after: $after, types: $types) { cursor type changes }
}
"""
PAGE = "query { events(first: 100) { edges { cursor } pageInfo { endCursor } } }"
STREAM = {"Accept": "text/event-stream"}
HEARTBEAT = 0.3
QUEUE_MAX = 20
RECHECK = 1.0
MAX_PER_IDENTITY = 3


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broadcast_url="memory://",
        sse_heartbeat_seconds=HEARTBEAT,
        subscriber_queue_max=QUEUE_MAX,
        ws_recheck_interval=RECHECK,
        ws_max_connections_per_identity=MAX_PER_IDENTITY,
    )


@pytest.fixture
def app_sessions(server: RunningServer) -> Sessions:
    """The served app's sessions: a commit through them wakes its tail like a mutation."""
    sessions: Sessions = server.runtime.sessions
    return sessions


@pytest.fixture
async def operator(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


@dataclass
class Message:
    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)

    @property
    def payload(self) -> Any:
        return json.loads("\n".join(self.data))


class EventSource:
    """Reads an event stream's messages and comments as the SSE specification frames them."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments: list[str] = []

    async def message(self, wait: float = 10.0) -> Message:
        message = Message()
        async with asyncio.timeout(wait):
            async for line in self.lines:
                if line == "":
                    if message.event or message.data:
                        return message
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    message.data.append(value)
                elif name == "event":
                    message.event = value
                elif name == "id":
                    message.id = value
        raise AssertionError(f"the stream ended; comments {self.comments}")

    async def events(self, count: int) -> list[Message]:
        return [await self.message() for _ in range(count)]

    async def comment(self, wait: float) -> str:
        seen = len(self.comments)
        async with asyncio.timeout(wait):
            async for line in self.lines:
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    if len(self.comments) > seen:
                        return self.comments[-1]
                elif line:
                    raise AssertionError(f"expected a comment, got {line!r}")
        raise AssertionError("the stream ended")


@asynccontextmanager
async def stream(
    http: httpx.AsyncClient,
    token: str | None,
    *,
    variables: dict[str, Any] | None = None,
    last_event_id: str | None = None,
    method: str = "POST",
    query: str = EVENTS,
) -> AsyncIterator[EventSource]:
    headers = dict(STREAM)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    if method == "GET":
        params = {"query": query, "variables": json.dumps(variables or {})}
        request = http.stream("GET", "/graphql", params=params, headers=headers)
    else:
        body = {"query": query, "variables": variables or {}}
        request = http.stream("POST", "/graphql", json=body, headers=headers)
    async with request as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache, no-transform"
        yield EventSource(response)


def _numbers(messages: list[Message]) -> list[int]:
    return [m.payload["data"]["events"]["changes"]["n"] for m in messages]


async def test_each_event_is_a_next_message_with_its_cursor_as_id(
    server: RunningServer, http: httpx.AsyncClient, app_sessions: Sessions, operator: Person
) -> None:
    async with stream(http, operator.token) as events:
        await subscribed(server.app)
        await append(app_sessions, 3, type="device.received")
        messages = await events.events(3)

    assert [m.event for m in messages] == ["next"] * 3
    assert _numbers(messages) == [0, 1, 2]
    assert [m.id for m in messages] == [m.payload["data"]["events"]["cursor"] for m in messages]
    assert len({m.id for m in messages}) == 3
    assert {m.payload["data"]["events"]["type"] for m in messages} == {"device.received"}
    assert all("errors" not in m.payload for m in messages)


async def test_last_event_id_resumes_after_that_event_once_in_order(
    server: RunningServer, http: httpx.AsyncClient, app_sessions: Sessions, operator: Person
) -> None:
    async with stream(http, operator.token) as events:
        await subscribed(server.app)
        await append(app_sessions, 3)
        first = await events.events(3)
    await eventually(lambda: server.runtime.hub.subscriber_count == 0, what="unsubscribed")
    await append(app_sessions, 2, changes={"n": 9})

    # What a reconnecting EventSource does: the same request, with Last-Event-ID. It wins over
    # the `after` variable of the request.
    async with stream(
        http,
        operator.token,
        method="GET",
        variables={"after": first[0].id},
        last_event_id=first[1].id,
    ) as events:
        resumed = await events.events(3)
        await append(app_sessions, 1, changes={"n": 10})
        live = await events.message()

    assert _numbers(resumed) == [2, 9, 9]
    assert resumed[0].id == first[2].id
    assert _numbers([live]) == [10]
    cursors = [m.id for m in [*first, *resumed[1:], live]]
    page = (await http.post("/graphql", json={"query": PAGE}, headers=operator.headers)).json()[
        "data"
    ]["events"]
    assert cursors == [edge["cursor"] for edge in page["edges"]]


async def test_without_after_last_event_id_is_ignored_and_without_cursor_no_id_is_sent(
    server: RunningServer, http: httpx.AsyncClient, app_sessions: Sessions, operator: Person
) -> None:
    await append(app_sessions, 2)
    page = (await http.post("/graphql", json={"query": PAGE}, headers=operator.headers)).json()[
        "data"
    ]["events"]
    query = "subscription { events { type changes } }"
    async with stream(
        http, operator.token, query=query, last_event_id=page["edges"][0]["cursor"]
    ) as events:
        await subscribed(server.app)
        await append(app_sessions, 1, changes={"n": 5})
        (message,) = await events.events(1)

    assert _numbers([message]) == [5]  # live only: the header had no variable to go to
    assert message.id is None  # no cursor selected, no id


async def test_a_disconnect_ends_the_subscription(
    server: RunningServer, http: httpx.AsyncClient, operator: Person
) -> None:
    hub = server.runtime.hub
    async with stream(http, operator.token):
        await subscribed(server.app)
        assert hub.subscriber_count == 1
    await eventually(lambda: hub.subscriber_count == 0, what="the subscriber left the hub")

    async with stream(http, operator.token), stream(http, operator.token, method="GET"):
        await subscribed(server.app, 2)
    await eventually(lambda: hub.subscriber_count == 0, what="both subscribers left")


async def test_a_quiet_stream_sends_heartbeat_comments(
    server: RunningServer, http: httpx.AsyncClient, operator: Person
) -> None:
    loop = asyncio.get_running_loop()
    async with stream(http, operator.token) as events:
        started = loop.time()
        assert await events.comment(wait=5) == "ping"
        assert await events.comment(wait=5) == "ping"
        elapsed = loop.time() - started

    assert elapsed >= HEARTBEAT * 1.5


async def test_lagging_ends_with_an_error_message_then_complete(
    server: RunningServer, http: httpx.AsyncClient, app_sessions: Sessions, operator: Person
) -> None:
    async with stream(http, operator.token) as events:
        await subscribed(server.app)
        await append(app_sessions, QUEUE_MAX + 5)  # one batch: more than the queue holds
        error = await events.message()
        complete = await events.message()
        rest = [line async for line in events.lines]

    assert error.event == "next"
    (detail,) = error.payload["errors"]
    assert detail["extensions"]["code"] == "LAGGED"
    assert detail["extensions"]["cursor"]
    assert error.payload["data"] is None
    assert (complete.event, complete.data) == ("complete", [""])
    assert [line for line in rest if line and not line.startswith(":")] == []


async def _refusal(
    http: httpx.AsyncClient, status: int, *, headers: dict[str, str] | None = None, **request: Any
) -> dict[str, Any]:
    response = await http.request(
        request.pop("method", "POST"), "/graphql", headers={**STREAM, **(headers or {})}, **request
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    detail: dict[str, Any] = error
    return detail


async def test_refusals_before_streaming_are_json_errors_with_codes(
    server: RunningServer, http: httpx.AsyncClient, sessions: Sessions, operator: Person
) -> None:
    auth = operator.headers
    anonymous = await _refusal(http, 401, json={"query": EVENTS})
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    bad_cursor = await _refusal(
        http, 400, headers=auth, json={"query": EVENTS, "variables": {"after": "nope"}}
    )
    assert bad_cursor["extensions"]["code"] == "INVALID_INPUT"
    bad_header = await _refusal(
        http, 400, headers={**auth, "Last-Event-ID": "nope"}, json={"query": EVENTS}
    )
    assert bad_header["extensions"]["code"] == "INVALID_INPUT"
    syntax = await _refusal(http, 400, headers=auth, json={"query": "subscription {"})
    assert syntax["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # as over HTTP
    unknown = await _refusal(http, 400, headers=auth, json={"query": "subscription { nope }"})
    assert unknown["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    a_query = await _refusal(http, 400, headers=auth, json={"query": PAGE})
    assert a_query["extensions"]["code"] == "BAD_REQUEST"
    assert "Only subscriptions stream" in a_query["message"]
    missing = await _refusal(http, 400, headers=auth, json={"variables": {}})
    assert missing["extensions"]["code"] == "BAD_REQUEST"
    bad_variables = await _refusal(
        http, 400, method="GET", headers=auth, params={"query": EVENTS, "variables": "{"}
    )
    assert bad_variables["extensions"]["code"] == "BAD_REQUEST"
    form = await _refusal(http, 415, headers=auth, data={"query": EVENTS})
    assert form["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"

    buyer = await create_buyer(sessions)
    reader = await create_api_key(
        sessions, organization_id=buyer.id, name="reader", scopes=[Scope.READ], actor=operator.actor
    )
    no_scope = await _refusal(
        http, 403, headers={"Authorization": f"Bearer {reader.token}"}, json={"query": EVENTS}
    )
    assert no_scope["extensions"]["code"] == "FORBIDDEN"
    assert server.runtime.hub.subscriber_count == 0


async def test_an_api_key_streams_only_its_organisations_events(
    server: RunningServer,
    http: httpx.AsyncClient,
    sessions: Sessions,
    app_sessions: Sessions,
    operator: Person,
) -> None:
    buyer = await create_buyer(sessions)
    key = await create_api_key(
        sessions,
        organization_id=buyer.id,
        name="erp",
        scopes=[Scope.SUBSCRIBE],
        actor=operator.actor,
    )
    # (types: the key's own api_key.created event may reach the tail after subscribing)
    async with stream(http, key.token, variables={"types": ["test.happened"]}) as events:
        await subscribed(server.app)
        await append(app_sessions, 1, audiences=["client:1"], changes={"n": 1})
        await append(app_sessions, 1, audiences=[f"buyer:{buyer.id}"], changes={"n": 2})
        await append(app_sessions, 1, audiences=["public"], changes={"n": 3})
        messages = await events.events(2)

    assert _numbers(messages) == [2, 3]
    assert [m.id for m in messages] == [m.payload["data"]["events"]["cursor"] for m in messages]


async def test_other_requests_to_graphql_are_unchanged(
    http: httpx.AsyncClient, operator: Person
) -> None:
    response = await http.post("/graphql", json={"query": PAGE}, headers=operator.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "errors" not in response.json()


async def test_signing_out_ends_the_stream_with_forbidden_then_complete(
    server: RunningServer, http: httpx.AsyncClient, app_sessions: Sessions, operator: Person
) -> None:
    async with stream(http, operator.token) as events:
        await subscribed(server.app)
        assert await sign_out(app_sessions, operator.token)  # the app's own process: at once
        ended = await events.message(wait=2)
        assert ended.event == "next"
        assert ended.payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await events.message(wait=2)).event == "complete"
    await eventually(lambda: server.runtime.hub.subscriber_count == 0)
    assert server.app.state.sockets.count() == 0


async def test_a_session_revoked_elsewhere_ends_the_stream_within_5_seconds(
    server: RunningServer, http: httpx.AsyncClient, sessions: Sessions, operator: Person
) -> None:
    """Revoked through another connection pool (as by another process): the re-check sees it."""
    async with stream(http, operator.token) as events:
        await subscribed(server.app)
        started = time.monotonic()
        assert await sign_out(sessions, operator.token)
        ended = await events.message(wait=5)
        elapsed = time.monotonic() - started
        assert ended.payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert (await events.message(wait=2)).event == "complete"
    assert elapsed < 5.0, elapsed


async def test_streams_count_towards_the_connections_per_identity(
    server: RunningServer, http: httpx.AsyncClient, operator: Person
) -> None:
    async with contextlib.AsyncExitStack() as open_streams:
        for _ in range(MAX_PER_IDENTITY):
            await open_streams.enter_async_context(stream(http, operator.token))
        await subscribed(server.app, MAX_PER_IDENTITY)
        headers = {**STREAM, "Authorization": f"Bearer {operator.token}"}
        refused = await http.post("/graphql", json={"query": EVENTS}, headers=headers)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
    await eventually(lambda: server.app.state.sockets.count() == 0)
    async with stream(http, operator.token):  # a slot is free again
        await subscribed(server.app)


async def test_clients_that_list_json_first_get_json_whatever_else_they_accept(
    http: httpx.AsyncClient, operator: Person
) -> None:
    """urql and others send every type they read, event streams included, on every query."""
    accept = (
        "application/graphql-response+json, application/graphql+json, application/json, "
        "text/event-stream, multipart/mixed"
    )
    headers = {"Accept": accept, "Authorization": f"Bearer {operator.token}"}
    response = await http.post("/graphql", json={"query": PAGE}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert "edges" in response.json()["data"]["events"]
