"""graphql-transport-ws close codes, the legacy graphql-ws protocol, pings and origins, each
against the real server with a real websocket client.

The protocol: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md. The protocol
itself does not touch the database, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from app.domain.statuses import Role
from app.settings import Settings
from tests.pubsub.support import append, subscribed
from tests.support.auth import Person, sign_in_as
from tests.support.graphql import GraphQLClient
from tests.support.markers import only
from tests.support.server import RunningServer
from tests.support.ws import GraphQLSocket

Sessions = async_sessionmaker[AsyncSession]

pytestmark = only("sqlite")

EVENTS = "subscription { events { cursor type } }"
INIT_TIMEOUT = 0.5
PING_INTERVAL = 0.3
PARTNER = "https://partner.example"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broadcast_url="memory://",
        ws_connection_init_timeout=INIT_TIMEOUT,
        ws_ping_interval=PING_INTERVAL,
        allowed_origins=[PARTNER],
    )


@pytest.fixture
async def admin(sessions: Sessions) -> Person:
    return await sign_in_as(sessions, Role.ADMIN)


def app_sessions(server: RunningServer) -> Sessions:
    sessions: Sessions = server.runtime.sessions
    return sessions


# --- 4400: invalid messages -----------------------------------------------------------------


async def test_4400_for_a_frame_that_is_not_json(server: RunningServer) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url) as socket:
        await socket.connection.send("{not json")
        assert await socket.closed() == (4400, "WebSocket message must be valid JSON")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        pytest.param([], "A message must be a JSON object", id="array"),
        pytest.param("connection_init", "A message must be a JSON object", id="string"),
        pytest.param({"payload": {}}, "A message needs a string type", id="no-type"),
        pytest.param({"type": "hello"}, "Unknown message type: hello", id="unknown-type"),
        pytest.param({"type": "next", "id": "1"}, "Unknown message type: next", id="server-type"),
        pytest.param({"type": "complete"}, "complete needs a string id", id="complete-no-id"),
        pytest.param(
            {"type": "ping", "payload": 7}, "The ping payload must be an object", id="ping"
        ),
    ],
)
async def test_4400_for_an_unknown_or_malformed_message(
    server: RunningServer, message: Any, reason: str
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url) as socket:
        await socket.send(message)
        assert await socket.closed() == (4400, reason)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        pytest.param({"id": "1"}, "subscribe needs a payload object", id="no-payload"),
        pytest.param(
            {"id": "1", "payload": "{ viewer { user { id } } }"},
            "subscribe needs a payload object",
            id="payload-string",
        ),
        pytest.param(
            {"id": "1", "payload": {"query": 42}},
            "The subscribe payload needs a query string",
            id="query-number",
        ),
        pytest.param(
            {"id": "1", "payload": {"query": EVENTS, "variables": [1]}},
            "variables must be an object",
            id="variables-list",
        ),
        pytest.param(
            {"id": "1", "payload": {"query": EVENTS, "operationName": 3}},
            "operationName must be a string",
            id="operation-name",
        ),
        pytest.param(
            {"id": 1, "payload": {"query": EVENTS}}, "subscribe needs a string id", id="id-number"
        ),
        pytest.param(
            {"id": "1", "payload": {"query": "subscription {"}},
            "Syntax Error: Expected Name, found <EOF>.",
            id="syntax-error",
        ),
    ],
)
async def test_4400_for_a_subscribe_whose_payload_is_invalid(
    server: RunningServer, admin: Person, message: dict[str, Any], reason: str
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        await socket.send({"type": "subscribe", **message})
        assert await socket.closed() == (4400, reason)


async def test_a_validation_error_is_the_operation_error_and_the_socket_stays(
    server: RunningServer, admin: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        op = await socket.subscribe("subscription { nothingHere }")
        [error] = await socket.until_done(op)
        assert error["type"] == "error"
        await socket.ping()  # still open


# --- 4401, 4403, 4408, 4409, 4429 -----------------------------------------------------------


async def test_4401_for_a_subscribe_before_connection_ack(server: RunningServer) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, init=False) as socket:
        await socket.subscribe(EVENTS)
        assert await socket.closed() == (4401, "Unauthorized")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"Authorization": 42}, id="authorization-number"),
        pytest.param({"authorization": None}, id="authorization-null"),
        pytest.param({"token": ["dgs_x"]}, id="token-list"),
    ],
)
async def test_4403_for_a_connection_init_with_a_malformed_token(
    server: RunningServer, payload: dict[str, Any]
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, init=False) as socket:
        await socket.send({"type": "connection_init", "payload": payload})
        assert await socket.closed() == (4403, "Forbidden")


async def test_4408_when_connection_init_does_not_come_in_time(server: RunningServer) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, init=False) as socket:
        started = time.monotonic()
        assert await socket.closed() == (4408, "Connection initialisation timeout")
        elapsed = time.monotonic() - started
    assert INIT_TIMEOUT * 0.8 <= elapsed < INIT_TIMEOUT + 2, elapsed


async def test_connection_init_in_time_is_not_closed_later(server: RunningServer) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url) as socket:
        await asyncio.sleep(INIT_TIMEOUT * 2)
        await socket.ping()


async def test_4409_for_a_second_subscribe_with_the_same_id(
    server: RunningServer, admin: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        await socket.subscribe(EVENTS, operation_id="same")
        await subscribed(server.app)
        await socket.subscribe(EVENTS, operation_id="same")
        assert await socket.closed() == (4409, "Subscriber for same already exists")


async def test_an_id_may_be_used_again_once_its_operation_completed(
    server: RunningServer, admin: Person
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        op = await socket.subscribe("query { viewer { user { id } } }", operation_id="again")
        await socket.until_done(op)
        op = await socket.subscribe("query { viewer { user { id } } }", operation_id="again")
        messages = await socket.until_done(op)
    assert [message["type"] for message in messages] == ["next", "complete"]


async def test_a_close_reason_is_cut_to_what_a_close_frame_holds(
    server: RunningServer, admin: Person
) -> None:
    long_id = "x" * 300
    async with GraphQLSocket.connect(server.graphql_ws_url, token=admin.token) as socket:
        await socket.subscribe(EVENTS, operation_id=long_id)
        await subscribed(server.app)
        await socket.subscribe(EVENTS, operation_id=long_id)
        code, reason = await socket.closed()
    assert code == 4409
    assert reason is not None
    assert reason.startswith("Subscriber for xxx")
    assert len(reason.encode()) <= 123


async def test_4429_for_a_second_connection_init(server: RunningServer) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url) as socket:
        await socket.send({"type": "connection_init"})
        assert await socket.closed() == (4429, "Too many initialisation requests")


async def test_a_connection_init_with_a_null_payload_is_acknowledged(
    server: RunningServer,
) -> None:
    async with GraphQLSocket.connect(server.graphql_ws_url, init=False) as socket:
        await socket.send({"type": "connection_init", "payload": None})
        assert (await socket._receive_other(5.0))["type"] == "connection_ack"
        await socket.ping()


# --- The legacy graphql-ws protocol -----------------------------------------------------------


async def test_the_legacy_protocol_authenticates_and_streams_events(
    server: RunningServer, admin: Person
) -> None:
    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None
    ) as ws:
        assert ws.subprotocol == "graphql-ws"
        init = {"Authorization": f"Bearer {admin.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        start = {"type": "start", "id": "1", "payload": {"query": EVENTS}}
        await ws.send(json.dumps(start))
        await subscribed(server.app)
        await append(app_sessions(server), 1, type="legacy.seen")
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "data"
        assert message["id"] == "1"
        assert message["payload"]["data"]["events"]["type"] == "legacy.seen"
        await ws.send(json.dumps({"type": "stop", "id": "1"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "complete"


async def test_the_legacy_protocol_needs_a_token_for_events(server: RunningServer) -> None:
    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "1", "payload": {"query": EVENTS}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] == "error"
    assert message["payload"]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_legacy_protocol_refuses_a_malformed_token(server: RunningServer) -> None:
    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None
    ) as ws:
        payload = {"Authorization": 42}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "connection_error"
        await asyncio.wait_for(ws.wait_closed(), 5)


async def test_the_legacy_protocol_closes_on_sign_out(server: RunningServer, admin: Person) -> None:
    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-ws")], proxy=None
    ) as ws:
        init = {"Authorization": f"Bearer {admin.token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "1", "payload": {"query": EVENTS}}))
        await subscribed(server.app)
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            body = await GraphQLClient(http).as_(admin)("mutation { signOut }")
        assert body == {"data": {"signOut": True}}
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert (ws.close_code, ws.close_reason) == (4403, "Signed out")


# --- Server pings ----------------------------------------------------------------------------


class _Frames(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.pings: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("< PING"):
            self.pings.append(time.monotonic())


async def test_the_server_pings_at_the_configured_interval(server: RunningServer) -> None:
    frames = _Frames()
    logger = logging.getLogger("tests.websocket.frames")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(frames)
    try:
        async with GraphQLSocket.connect(server.graphql_ws_url, logger=logger) as socket:
            await asyncio.sleep(PING_INTERVAL * 6)
            await socket.ping()  # the socket is healthy: every ping got its pong
    finally:
        logger.removeHandler(frames)
    assert len(frames.pings) >= 3, frames.pings
    gaps = [later - earlier for earlier, later in zip(frames.pings, frames.pings[1:], strict=False)]
    assert all(PING_INTERVAL * 0.7 <= gap <= PING_INTERVAL * 4 for gap in gaps), gaps


# --- Browser origins -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(PARTNER, id="allowed"),
        pytest.param(None, id="not-a-browser"),
        pytest.param("own", id="own-origin"),
    ],
)
async def test_an_allowed_origin_may_open_a_socket(
    server: RunningServer, origin: str | None
) -> None:
    value = server.url if origin == "own" else origin
    options = {"origin": Origin(value)} if value is not None else {}
    async with GraphQLSocket.connect(server.graphql_ws_url, **options) as socket:
        assert socket.ack is not None


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://partner.example.evil.example", "null"]
)
async def test_another_origin_is_refused_at_the_handshake(
    server: RunningServer, origin: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with GraphQLSocket.connect(server.graphql_ws_url, origin=Origin(origin)):
            pass
    assert refused.value.response.status_code == 403
