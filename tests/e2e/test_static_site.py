"""How the app serves the built frontend (app/web/static_site.py), without a browser.

The routing tests use a small stand-in build in tmp_path, so they run without npm; the last
ones check create_app's wiring with the real build and are skipped when it is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from app.settings import Environment, Settings
from app.web.static_site import IMMUTABLE, NO_CACHE, graphiql_redirect, static_routes
from tests.e2e.conftest import STATIC_INDEX, require
from tests.support.markers import only
from tests.support.server import make_app


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<title>app</title>")
    (tmp_path / "graphiql.html").write_text("<title>graphiql</title>")
    (tmp_path / "assets" / "main-abc123.js").write_text("console.log(1)")
    return tmp_path


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def development(build: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(Starlette(routes=static_routes(build, graphiql=True))) as client:
        yield client


@pytest.fixture
async def production(build: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(Starlette(routes=static_routes(build, graphiql=False))) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/devices", "/devices/RGV2aWNlOjE=", "/settlements/"])
async def test_client_routes_get_the_app_uncached(
    development: httpx.AsyncClient, path: str
) -> None:
    response = await development.get(path)
    assert response.status_code == 200
    assert response.text == "<title>app</title>"
    assert response.headers["cache-control"] == NO_CACHE


async def test_hashed_assets_are_cached_for_good(development: httpx.AsyncClient) -> None:
    response = await development.get("/assets/main-abc123.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize("path", ["/assets/missing.js", "/assets/sub/page", "/logo.png"])
async def test_missing_files_are_404_not_the_app(development: httpx.AsyncClient, path: str) -> None:
    response = await development.get(path)
    assert response.status_code == 404
    assert "<title>app</title>" not in response.text


async def test_only_get_and_head(development: httpx.AsyncClient) -> None:
    assert (await development.post("/devices")).status_code == 405
    assert (await development.head("/")).status_code == 200


async def test_graphiql_is_served_in_development(development: httpx.AsyncClient) -> None:
    response = await development.get("/graphiql")
    assert response.status_code == 200
    assert response.text == "<title>graphiql</title>"
    assert response.headers["cache-control"] == NO_CACHE


@pytest.mark.parametrize("path", ["/graphiql", "/graphiql.html"])
async def test_graphiql_is_off_in_production(production: httpx.AsyncClient, path: str) -> None:
    response = await production.get(path)
    assert response.status_code == 404
    assert "graphiql" not in response.text
    assert (await production.get("/")).status_code == 200


async def test_graphiql_redirect_keeps_the_mount_prefix() -> None:
    async def endpoint(request: Request) -> Response:
        return graphiql_redirect(request)

    app = Starlette()
    app.add_route("/graphql", endpoint)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path="/api"), base_url="http://test"
    ) as client:
        response = await client.get("/graphql")
    assert response.status_code == 307
    assert response.headers["location"] == "/api/graphiql"


# --- create_app with the real build ---------------------------------------------------------


async def get_pages(database_url: str, environment: Environment) -> dict[str, httpx.Response]:
    require(STATIC_INDEX.exists(), "the frontend is not built (app/static/index.html)")
    settings = Settings(database_url=database_url, environment=environment)
    async with client_for(make_app(settings)) as client:
        return {
            "index": await client.get("/devices"),
            "graphiql": await client.get("/graphiql"),
            # What a person typing the URL sends.
            "graphql": await client.get("/graphql", headers={"accept": "text/html"}),
        }


@only("sqlite")
async def test_development_serves_the_app_and_graphiql(database_url: str) -> None:
    pages = await get_pages(database_url, Environment.DEVELOPMENT)
    assert pages["index"].status_code == 200
    assert '<div id="root">' in pages["index"].text
    assert pages["graphiql"].status_code == 200
    assert '<div id="graphiql">' in pages["graphiql"].text
    assert pages["graphql"].status_code == 307
    assert pages["graphql"].headers["location"] == "/graphiql"


@only("sqlite")
async def test_production_serves_the_app_without_graphiql(database_url: str) -> None:
    pages = await get_pages(database_url, Environment.PRODUCTION)
    assert pages["index"].status_code == 200
    assert '<div id="root">' in pages["index"].text
    assert pages["graphiql"].status_code == 404
    assert pages["graphql"].status_code == 404
