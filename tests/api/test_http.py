"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/) on the real server.

The transport does not depend on the database: these tests run on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.typing import Subprotocol

from app.domain.statuses import Role
from app.settings import Settings
from tests.support.auth import sign_in_as
from tests.support.graphql import GRAPHQL_RESPONSE, GraphQLClient
from tests.support.markers import only
from tests.support.server import RunningServer, make_app, serve_app

JSON = "application/json"
QUERY = "{ viewer { user { id } } }"
QUERY_DATA = {"viewer": {"user": None}}
MUTATION = "mutation { signOut }"


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


def assert_json_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert media_type(response) in (JSON, GRAPHQL_RESPONSE)
    body: dict[str, Any] = response.json()
    assert "data" not in body
    assert body["errors"], body
    assert all(error["message"] for error in body["errors"])
    assert error_codes(body) == [code] * len(body["errors"]), body
    return body


@only("sqlite")
async def test_get_query(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": QUERY})
    assert response.status_code == 200
    assert media_type(response) == JSON
    assert response.json() == {"data": QUERY_DATA}


@only("sqlite")
async def test_get_query_answers_in_the_accepted_media_type(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql", params={"query": QUERY}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE
    assert response.json() == {"data": QUERY_DATA}


@only("sqlite")
async def test_get_query_with_variables(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql",
        params={
            "query": "query Q($name: String!) { __type(name: $name) { name kind } }",
            "variables": '{"name": "Device"}',
        },
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Device", "kind": "OBJECT"}}}


@only("sqlite")
async def test_mutation_over_get_is_405_with_allow(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": MUTATION})
    assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["allow"]


@only("sqlite")
async def test_mutation_over_get_is_refused_with_a_json_error(http: httpx.AsyncClient) -> None:
    """Whatever the status, a mutation must never run over GET, and the error is JSON."""
    response = await http.get("/graphql", params={"query": MUTATION})
    assert response.status_code in (400, 405)
    body = response.json()
    assert "data" not in body
    assert error_codes(body)[0] in ("BAD_REQUEST", "METHOD_NOT_ALLOWED")
    assert "mutation" in body["errors"][0]["message"].lower()


@only("sqlite")
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405_with_allow(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql", json={"query": QUERY})
    assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
    allowed = {part.strip() for part in response.headers["allow"].split(",")}
    assert allowed == {"GET", "POST"}


@only("sqlite")
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_post_with_invalid_json_is_400(http: httpx.AsyncClient, accept: str) -> None:
    response = await http.post(
        "/graphql",
        content=b'{"query": "{ devices { totalCount } }"',
        headers={"content-type": JSON, "accept": accept},
    )
    assert_json_error(response, 400, "BAD_REQUEST")
    assert media_type(response) == accept


@only("sqlite")
@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"variables": {"n": 1}}, id="variables-only"),
        pytest.param({"query": None}, id="null-query"),
    ],
)
async def test_post_without_query_is_400(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await http.post("/graphql", json=body)
    assert_json_error(response, 400, "BAD_REQUEST")


@only("sqlite")
async def test_post_with_an_unsupported_content_type_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", content=QUERY.encode(), headers={"content-type": "text/plain"}
    )
    assert response.status_code in (400, 415)
    assert error_codes(response.json())[0] in ("BAD_REQUEST", "UNSUPPORTED_MEDIA_TYPE")


@only("sqlite")
async def test_batches_are_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json=[{"query": QUERY}, {"query": QUERY}])
    assert_json_error(response, 400, "BAD_REQUEST")


# The spec prescribes no codes; GRAPHQL_PARSE_FAILED / BAD_USER_INPUT would be more precise.
VALIDATION = frozenset({"GRAPHQL_VALIDATION_FAILED"})
PARSE = frozenset({"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})
VARIABLES = frozenset({"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"})
BAD_VARIABLE_QUERY = "query Q($n: Int!) { devices(first: $n) { totalCount } }"

REQUEST_ERRORS = [
    pytest.param({"query": "{ devices { nope } }"}, VALIDATION, id="unknown-field"),
    pytest.param({"query": "{ devices( }"}, PARSE, id="syntax-error"),
    pytest.param({"query": BAD_VARIABLE_QUERY, "variables": {}}, VARIABLES, id="missing-var"),
    pytest.param(
        {"query": BAD_VARIABLE_QUERY, "variables": {"n": "three"}}, VARIABLES, id="bad-var"
    ),
]
"""Request errors: nothing executes, so the response has no ``data`` key at all."""


def assert_request_error_code(body: dict[str, Any], allowed: frozenset[str]) -> None:
    codes = set(error_codes(body))
    assert codes, body
    assert codes <= allowed, codes


@only("sqlite")
@pytest.mark.parametrize(("body", "allowed"), REQUEST_ERRORS)
async def test_request_error_with_graphql_response_json_is_400(
    http: httpx.AsyncClient, body: dict[str, Any], allowed: frozenset[str]
) -> None:
    response = await http.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400, response.text
    assert media_type(response) == GRAPHQL_RESPONSE
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"]
    assert_request_error_code(payload, allowed)


@only("sqlite")
@pytest.mark.parametrize(("body", "allowed"), REQUEST_ERRORS)
async def test_request_error_with_application_json_is_200(
    http: httpx.AsyncClient, body: dict[str, Any], allowed: frozenset[str]
) -> None:
    response = await http.post("/graphql", json=body, headers={"accept": JSON})
    assert response.status_code == 200, response.text
    assert media_type(response) == JSON
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"]
    assert_request_error_code(payload, allowed)


@only("sqlite")
@pytest.mark.parametrize(
    ("accept", "status", "expected_type"),
    [
        pytest.param(None, 200, JSON, id="no-accept"),
        pytest.param("*/*", 200, JSON, id="any"),
        pytest.param(f"{JSON}, {GRAPHQL_RESPONSE}", 200, JSON, id="json-first"),
        pytest.param(f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", 400, GRAPHQL_RESPONSE, id="gql-first"),
    ],
)
async def test_accept_header_chooses_the_media_type(
    server: RunningServer, accept: str | None, status: int, expected_type: str
) -> None:
    headers = {"accept": accept} if accept is not None else {}
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        if accept is None:
            client.headers.pop("accept", None)
        response = await client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    assert response.status_code == status
    assert media_type(response) == expected_type
    assert "data" not in response.json()


@only("sqlite")
async def test_field_error_is_2xx_even_with_graphql_response_json(
    graphql: GraphQLClient, sessions: Any
) -> None:
    """data is null (devices is non-null) but execution ran: not a request error."""
    person = await sign_in_as(sessions, Role.WAREHOUSE)
    payload = await graphql.as_(person)(
        "{ devices(first: 1000) { totalCount } }", headers={"accept": GRAPHQL_RESPONSE}
    )
    assert payload["data"] is None
    assert payload["errors"][0]["path"] == ["devices"]
    assert payload["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


@only("sqlite")
async def test_unknown_operation_name_is_a_request_error(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "query A { devices { totalCount } }", "operationName": "B"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert "data" not in response.json()
    assert error_codes(response.json())[0] is not None


# --- Limits and masking ---------------------------------------------------------------------


def nested_selection(depth: int) -> str:
    """``{ devices { f1 { f2 { ... } } } }`` with ``depth`` levels of selection sets."""
    inner = "leaf"
    for level in range(depth - 1, 0, -1):
        inner = f"f{level} {{ {inner} }}"
    return f"{{ devices {{ {inner} }} }}"


@only("sqlite")
async def test_query_deeper_than_the_limit_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": nested_selection(20)}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    messages = [error["message"] for error in body["errors"]]
    assert any("exceeds maximum operation depth of 12" in message for message in messages), messages


def test_schema_imports_without_deprecation_warnings() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-c",
            "import app.resolvers.root, app.main",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture
async def unreachable_database_http() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/devicegraph",
        broadcast_url="memory://",
        db_pool_timeout=2,
    )
    async with (
        serve_app(make_app(settings)) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False) as client,
    ):
        yield client


async def test_an_unreachable_database_is_unavailable_without_its_details(
    unreachable_database_http: httpx.AsyncClient,
) -> None:
    """signIn needs the database, which refuses connections: the client may retry, and
    learns nothing about the server's insides."""
    sign_in = 'mutation { signIn(email: "a@b.test", password: "pw") { __typename } }'
    response = await unreachable_database_http.post("/graphql", json={"query": sign_in})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAVAILABLE"}
    assert error["message"].startswith("The database cannot be reached right now.")
    assert error["path"] == ["signIn"]

    signed_in = await unreachable_database_http.post(
        "/graphql",
        json={"query": "{ viewer { __typename } }"},
        headers={"Authorization": "Bearer dgs_" + "x" * 40},
    )  # the token cannot be checked: refused before execution, with a status that says so
    assert signed_in.status_code == 503
    assert signed_in.headers["retry-after"] == "1"
    assert signed_in.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    text = response.text.lower()
    for leak in ("connect", "refused", "127.0.0.1", "errno", "traceback", "asyncpg"):
        assert leak not in text, response.text


# --- Websocket transport -------------------------------------------------------------------


@only("sqlite")
async def test_websocket_handshake_on_graphql_transport_ws(server: RunningServer) -> None:
    """The server fixture also serves websockets (later used by subscription tests)."""
    from websockets.asyncio.client import connect

    async with connect(
        server.graphql_ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=5
    ) as websocket:
        assert websocket.subprotocol == "graphql-transport-ws"
        await websocket.send(json.dumps({"type": "connection_init", "payload": {}}))
        async with asyncio.timeout(5):
            reply = json.loads(await websocket.recv())
        assert reply["type"] == "connection_ack"
        await websocket.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(5):
            assert json.loads(await websocket.recv())["type"] == "pong"
