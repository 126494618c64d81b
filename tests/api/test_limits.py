"""Each limit refuses with its code, and production hides what it should (real server).

Limits do not depend on the database: these tests run on SQLite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import OrganizationKind, Role
from app.settings import Settings
from tests.support.auth import create_person
from tests.support.factories import create_organization
from tests.support.markers import only
from tests.support.server import make_app, serve_app

Sessions = async_sessionmaker[AsyncSession]
pytestmark = only("sqlite")

DEEP = "{ listings { edges { node { device { currentGrade { id } } } } } }"


@contextlib.asynccontextmanager
async def app_with(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    config = Settings(database_url=database_url, broadcast_url="memory://", **settings)
    async with (
        serve_app(make_app(config)) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as http,
    ):
        yield http


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


async def post(http: httpx.AsyncClient, query: str, **options: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query}, **options)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def admin_headers(sessions: Sessions) -> dict[str, str]:
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    return (await create_person(sessions, operator, Role.ADMIN)).headers


# --- Per operation -----------------------------------------------------------------------------


async def test_depth(database_url: str) -> None:
    async with app_with(database_url, max_query_depth=4) as http:
        refused = await post(http, DEEP)
        assert "data" not in refused
        assert codes(refused) == ["QUERY_TOO_DEEP"]
        allowed = await post(http, "{ viewer { organization { id } } }")
        assert "errors" not in allowed


async def test_aliases(database_url: str) -> None:
    async with app_with(database_url, max_aliases=2) as http:
        refused = await post(
            http,
            "{ a: viewer { user { id } } b: viewer { user { id } } c: viewer { user { id } } }",
        )
        assert codes(refused) == ["TOO_MANY_ALIASES"]
        allowed = await post(http, "{ a: viewer { user { id } } b: viewer { user { id } } }")
        assert allowed == {"data": {"a": {"user": None}, "b": {"user": None}}}


async def test_tokens(database_url: str) -> None:
    async with app_with(database_url, max_tokens=20) as http:
        refused = await post(http, "{ " + "viewer { user { id } } " * 5 + "}")
        assert codes(refused) == ["TOO_MANY_TOKENS"]
        assert "data" not in refused
        assert "errors" not in await post(http, "{ viewer { user { id } } }")


async def test_page_size(database_url: str, sessions: Sessions) -> None:
    headers = await admin_headers(sessions)
    async with app_with(database_url, page_size_max=5) as http:
        refused = await post(http, "{ devices(first: 6) { totalCount } }", headers=headers)
        assert codes(refused) == ["INVALID_INPUT"]
        assert refused["errors"][0]["extensions"]["field"] == "first"
        allowed = await post(http, "{ devices(first: 5) { totalCount } }", headers=headers)
        assert allowed == {"data": {"devices": {"totalCount": 0}}}
    async with app_with(database_url) as http:  # the default: 100
        refused = await post(http, "{ devices(first: 101) { totalCount } }", headers=headers)
        assert codes(refused) == ["INVALID_INPUT"]


# --- Per request -------------------------------------------------------------------------------


async def test_body_size(database_url: str) -> None:
    async with app_with(database_url, max_body_bytes=200) as http:
        small = await http.post("/graphql", json={"query": "{ viewer { user { id } } }"})
        assert small.status_code == 200

        big = json.dumps({"query": "{ viewer { user { id } } }" + " " * 300}).encode()
        declared = await http.post(
            "/graphql", content=big, headers={"content-type": "application/json"}
        )

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 50):
                yield big[start : start + 50]

        chunked = await http.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in chunked.request.headers
        for response in (declared, chunked):
            assert response.status_code == 413, response.text
            assert response.json() == {
                "errors": [
                    {
                        "message": "The request body is larger than 200 bytes.",
                        "extensions": {"code": "PAYLOAD_TOO_LARGE", "maxBytes": 200},
                    }
                ]
            }

        # A small body in chunks is read whole and answered normally.
        async def small_chunks() -> AsyncIterator[bytes]:
            yield b'{"query": "{ viewer '
            yield b'{ user { id } } }"}'

        ok = await http.post(
            "/graphql", content=small_chunks(), headers={"content-type": "application/json"}
        )
        assert ok.json() == {"data": {"viewer": {"user": None}}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            '[{"query": "{ viewer { user { id } } }"}]',
            "Send one operation per request: batches (JSON arrays) are not supported.",
            id="batch",
        ),
        pytest.param(
            '"{ viewer { user { id } } }"', "The request body must be a JSON object.", id="string"
        ),
        pytest.param("null", "The request body must be a JSON object.", id="null"),
        pytest.param(
            b'{"query": "\x80"}', "The request body is not UTF-8 encoded JSON.", id="not-utf-8"
        ),
        pytest.param(" 42", "The request body must be a JSON object.", id="number"),
    ],
)
async def test_one_operation_per_request(
    database_url: str, body: str | bytes, message: str
) -> None:
    async with app_with(database_url) as http:
        response = await http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_rate_limit_refuses_then_recovers(database_url: str, sessions: Sessions) -> None:
    window = 1.0
    query = {"query": "{ viewer { user { id } } }"}
    async with app_with(
        database_url, rate_limit_requests=3, rate_limit_window_seconds=window
    ) as http:
        answers = [await http.post("/graphql", json=query) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.headers["retry-after"] == "1"
        body = refused.json()
        assert codes(body) == ["RATE_LIMITED"]
        assert body["errors"][0]["extensions"]["retryAfter"] == 1
        # Health checks and the web app are not counted.
        assert (await http.get("/healthz")).status_code == 200

        await asyncio.sleep(window)
        assert (await http.post("/graphql", json=query)).status_code == 200

        # Made-up tokens are counted against the address, not given fresh allowances.
        await asyncio.sleep(window)
        made_up = [
            await http.post("/graphql", json=query, headers={"Authorization": f"Bearer dgs_x{n}"})
            for n in range(4)
        ]
        assert [a.status_code for a in made_up] == [200, 200, 200, 429]

        # A token that signs someone in has its own allowance once it has been seen.
        await asyncio.sleep(window)
        headers = await admin_headers(sessions)
        assert (await http.post("/graphql", json=query, headers=headers)).status_code == 200
        mine = [await http.post("/graphql", json=query, headers=headers) for _ in range(4)]
        assert [a.status_code for a in mine] == [200, 200, 200, 429]
        assert (await http.post("/graphql", json=query)).status_code == 200  # the address's own


# --- Production --------------------------------------------------------------------------------


async def test_production_hides_the_schema(
    database_url: str, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await admin_headers(sessions)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("connection to db.internal:5432 failed, password=hunter2")

    async with app_with(database_url, environment="production") as http:
        introspection = await post(http, "{ __schema { queryType { name } } }")
        assert "data" not in introspection
        assert set(codes(introspection)) == {"INTROSPECTION_DISABLED"}
        by_type = await post(http, '{ __type(name: "Device") { fields { name } } }')
        assert set(codes(by_type)) == {"INTROSPECTION_DISABLED"}
        assert await post(http, "{ __typename }") == {"data": {"__typename": "Query"}}

        for query in ("{ viewer { usr } }", "{ listings(sort: NEWST) { totalCount } }"):
            body = await post(http, query, headers=headers)
            assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
            assert "Did you mean" not in json.dumps(body), body

        assert (await http.get("/graphiql")).status_code == 404
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 404
        assert "graphiql" not in page.text.lower()

        monkeypatch.setattr("app.auth.api_keys.list_api_keys", broken)
        response = await http.post(
            "/graphql", json={"query": "{ apiKeys { totalCount } }"}, headers=headers
        )
        assert response.status_code == 200
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text
        assert [e["message"] for e in response.json()["errors"]] == ["Unexpected error."]

    async with app_with(database_url) as http:  # development: the same requests are helped
        body = await post(http, "{ viewer { usr } }")
        assert "Did you mean 'user'?" in body["errors"][0]["message"]
        assert "errors" not in await post(http, "{ __schema { queryType { name } } }")


async def test_websocket_origins_reach_the_view(database_url: str) -> None:
    origins = ["https://partner.example", "https://App.Example:443"]
    config = Settings(database_url=database_url, broadcast_url="memory://", allowed_origins=origins)
    async with serve_app(make_app(config)) as server:
        [view] = [
            route.endpoint
            for route in server.app.routes
            if getattr(route, "path", None) == "/graphql" and hasattr(route.endpoint, "schema")
        ][:1]
        assert view.allowed_origins == frozenset({"https://partner.example", "https://app.example"})


async def test_an_undefined_fragment_is_a_plain_validation_error(database_url: str) -> None:
    async with app_with(database_url) as http:
        body = await post(http, "{ viewer { ...Missing } }")
    assert body == {
        "errors": [
            {
                "message": "Unknown fragment 'Missing'.",
                "locations": [{"line": 1, "column": 15}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }
