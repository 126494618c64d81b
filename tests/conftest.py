"""Fixtures: every test that touches the database runs on SQLite and on PostgreSQL.

- ``database_url`` is parametrized ``[sqlite]`` / ``[postgresql]``. SQLite copies a template
  migrated once per session; PostgreSQL uses one throwaway database per session, emptied
  before each test. Narrow a test to one database with ``@only("sqlite")``
  (``tests.support.markers``).
- ``settings``, ``sessions`` (an async_sessionmaker on its own engine), ``server`` (the real
  app under uvicorn on a free port, ``.url``/``.ws_url``/``.runtime``), ``http`` (an httpx
  client for it) and ``graphql`` (``tests.support.graphql.GraphQLClient``).
- Someone to act as: ``person = await sign_in_as(sessions, Role.WAREHOUSE)`` and
  ``graphql.as_(person)`` (``tests.support.auth``); rows without a mutation yet:
  ``tests.support.factories``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_engine, create_session_factory
from app.settings import Settings
from tests.support.databases import (
    copy_sqlite,
    create_postgres_database,
    drop_postgres_database,
    migrate_to_head,
    new_database_name,
    postgres_base_url,
    postgres_reachable,
    require_service,
    sqlite_url,
    truncate_postgres,
    where,
)
from tests.support.graphql import GraphQLClient
from tests.support.server import RunningServer, make_app, serve_app

DATABASES = ("sqlite", "postgresql")
_URL_FIXTURES = {"sqlite": "sqlite_database_url", "postgresql": "postgres_database_url"}


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def postgres_server() -> str:
    """The base PostgreSQL URL, once it is known to answer (skip, or fail in CI, if not)."""
    url = postgres_base_url()
    require_service(await postgres_reachable(url), "PostgreSQL", where(url))
    return url


@pytest.fixture(scope="session")
async def postgres_session_database(postgres_server: str) -> AsyncIterator[str]:
    """One migrated database for the whole session, dropped at the end."""
    name = new_database_name("test")
    url = await create_postgres_database(postgres_server, name)
    try:
        migrate_to_head(url)
        yield url
    finally:
        await drop_postgres_database(postgres_server, name)


@pytest.fixture
async def postgres_database_url(postgres_session_database: str) -> str:
    """The session database, emptied (TRUNCATE ... RESTART IDENTITY) for this test."""
    await truncate_postgres(postgres_session_database)
    return postgres_session_database


# --- SQLite --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate_to_head(sqlite_url(path))
    return path


@pytest.fixture
def sqlite_database_url(sqlite_template: Path, tmp_path: Path) -> str:
    return copy_sqlite(sqlite_template, tmp_path / "devicegraph.db")


# --- What tests use ------------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each kind (sync: the kinds are set up lazily)."""
    url: str = request.getfixturevalue(_URL_FIXTURES[request.param])
    return url


@pytest.fixture
def database_kind(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, broadcast_url="memory://")


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    """The real app (``create_app(settings)``) under uvicorn on a free 127.0.0.1 port."""
    async with serve_app(make_app(settings), ws_ping_interval=settings.ws_ping_interval) as s:
        yield s


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as client:
        yield client


@pytest.fixture
def graphql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
