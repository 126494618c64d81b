"""Logs: one JSON line per request with its request id and who asked (never the token), a line
per mutation and per websocket, and failures with their stack trace."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import app.auth.actor_cache
from app.domain.statuses import OrganizationKind, Role
from app.observability.logging import configure_logging, log_format, make_formatter
from app.settings import Environment, Settings
from tests.pubsub.support import eventually
from tests.support.auth import sign_in_as
from tests.support.factories import create_organization, make_imei
from tests.support.markers import only
from tests.support.server import RunningServer
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

RECEIVE = """
mutation Receive($client: ID!, $imei: String!) {
  receiveDevice(input: {clientId: $client, make: "Apple", model: "iPhone 13", imei: $imei}) {
    __typename
  }
}
"""


class Lines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def where(self, **fields: Any) -> list[dict[str, Any]]:
        return [line for line in self.all() if all(line.get(k) == v for k, v in fields.items())]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, broadcast_url="memory://", log_format="json")


@pytest.fixture
def lines(server: RunningServer) -> Iterator[Lines]:
    """What the app logs, in its JSON format (created after the app configured logging)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield Lines(stream)
    finally:
        root.removeHandler(handler)


@only("sqlite")
async def test_each_request_is_logged_once_with_its_id_and_identity(
    http: httpx.AsyncClient, sessions: Sessions, lines: Lines
) -> None:
    person = await sign_in_as(sessions, Role.WAREHOUSE)
    client = await create_organization(sessions, kind=OrganizationKind.CLIENT)
    variables = {"client": str(client.id), "imei": make_imei(515_151)}
    response = await http.post(
        "/graphql",
        json={"query": RECEIVE, "variables": variables, "operationName": "Receive"},
        headers={**person.headers, "X-Request-ID": "req-42.abc"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "req-42.abc"

    [request] = lines.where(event="request", request_id="req-42.abc")
    assert request["level"] == "info"
    assert (request["method"], request["path"], request["route"]) == (
        "POST",
        "/graphql",
        "/graphql",
    )
    assert request["status"] == 200
    assert request["duration_ms"] > 0
    assert request["actor"] == f"user:{person.user.id}"
    assert request["role"] == "WAREHOUSE"
    assert request["organization_id"] == person.organization.id
    assert request["operation"] == "Receive"
    assert "timestamp" in request
    [mutation] = lines.where(event="mutation", request_id="req-42.abc")
    assert (mutation["mutation"], mutation["result"]) == ("receiveDevice", "ok")
    assert person.token not in lines.stream.getvalue()


@only("sqlite")
async def test_a_request_without_an_id_gets_one(http: httpx.AsyncClient, lines: Lines) -> None:
    response = await http.post("/graphql", json={"query": "{ viewer { __typename } }"})
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    [line] = lines.where(event="request", request_id=request_id)
    assert line["actor"] == "anonymous"
    # A made-up id that is not a sane token is replaced, not logged.
    response = await http.get("/healthz", headers={"X-Request-ID": 'bad id"\\'})
    assert response.headers["x-request-id"] != 'bad id"\\'


@only("sqlite")
async def test_websockets_are_logged_when_they_open_and_close(
    server: RunningServer, sessions: Sessions, lines: Lines
) -> None:
    person = await sign_in_as(sessions, Role.ADMIN)
    async with GraphQLSocket.connect(server.graphql_ws_url, token=person.token) as socket:
        op = await socket.subscribe("subscription { events { cursor } }")
        await eventually(lambda: server.runtime.hub.subscriber_count == 1)
        assert socket.connection.response is not None
        handshake_id = socket.connection.response.headers["x-request-id"]
        await socket.complete(op)
    await eventually(lambda: bool(lines.where(event="websocket closed")), what="a close line")
    [opened] = lines.where(event="websocket open")
    [closed] = lines.where(event="websocket closed")
    assert opened["request_id"] == closed["request_id"] == handshake_id
    assert closed["actor"] == f"user:{person.user.id}"
    assert closed["path"] == "/graphql"


@only("sqlite")
async def test_a_failure_is_logged_with_its_stack_trace(
    http: httpx.AsyncClient, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("the session store is broken")

    monkeypatch.setattr(app.auth.actor_cache, "actor_for_token", broken)
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { __typename } }"},
        headers={"X-Request-ID": "r-500", "Authorization": "Bearer dgs_looked-up"},
    )
    assert response.status_code == 500
    [line] = lines.where(event="request failed", request_id="r-500")
    assert line["level"] == "error"
    assert line["status"] == 500
    assert "Traceback" in line["exception"]
    assert "the session store is broken" in line["exception"]


def test_console_format_in_development_json_in_production(request: pytest.FixtureRequest) -> None:
    assert log_format(Settings()) == "console"
    assert log_format(Settings(environment=Environment.PRODUCTION)) == "json"
    assert log_format(Settings(environment=Environment.PRODUCTION, log_format="console")) == (
        "console"
    )
    stream = io.StringIO()
    request.addfinalizer(lambda: configure_logging(Settings()))
    configure_logging(Settings(log_format="console"), stream=stream)
    logging.getLogger("devicegraph.test").warning("disk %s", "full")
    text = stream.getvalue()
    assert "disk full" in text
    assert "warning" in text
    assert not text.lstrip().startswith("{")
    configure_logging(Settings(log_format="json"), stream=stream)
    stream.truncate(0)
    stream.seek(0)
    logging.getLogger("devicegraph.test").warning("disk %s", "full")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert (line["event"], line["level"], line["logger"]) == (
        "disk full",
        "warning",
        "devicegraph.test",
    )


@only("sqlite")
async def test_a_refusal_is_logged_as_the_clients_error_without_a_trace(
    http: httpx.AsyncClient, lines: Lines
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ listings(first: 1) { totalCount } }"},
        headers={"X-Request-ID": "r-refused"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    [line] = lines.where(event="graphql error", request_id="r-refused")
    assert line["level"] == "info"
    assert line["code"] == "UNAUTHENTICATED"
    assert line["path"] == "listings"
    assert "exception" not in line
    assert not [x for x in lines.all() if x.get("level") == "error"]
