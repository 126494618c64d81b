"""Migrations on a fresh database of each kind: up, no drift from the models, down, up again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.db import create_engine
from app.models import Base
from app.settings import Settings
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    migrate_to_base,
    migrate_to_head,
    migration_heads,
    new_database_name,
    sqlite_url,
)


@pytest.fixture
async def _empty_postgres_url(postgres_server: str) -> AsyncIterator[str]:
    name = new_database_name("migrations")
    url = await create_postgres_database(postgres_server, name)
    try:
        yield url
    finally:
        await drop_postgres_database(postgres_server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A brand-new empty database, not the shared test one."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "migrations.db")
    url: str = request.getfixturevalue("_empty_postgres_url")
    return url


def _state(connection: Connection) -> dict[str, Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return {
        "tables": set(inspect(connection).get_table_names()),
        "revision": context.get_current_revision(),
        "diff": compare_metadata(context, Base.metadata),
    }


async def _inspect(database_url: str) -> dict[str, Any]:
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_state)
    finally:
        await engine.dispose()


def _head() -> str:
    [head] = migration_heads()
    return head


def test_one_head() -> None:
    heads = migration_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"


async def test_upgrade_check_downgrade_upgrade(empty_database_url: str) -> None:
    model_tables = {table.name for table in Base.metadata.sorted_tables}

    migrate_to_head(empty_database_url)
    state = await _inspect(empty_database_url)
    assert state["revision"] == _head()
    assert state["tables"] == model_tables | {"alembic_version"}
    assert state["diff"] == [], f"models and migrations differ: {state['diff']}"

    migrate_to_base(empty_database_url)
    state = await _inspect(empty_database_url)
    assert state["tables"] <= {"alembic_version"}, state["tables"]
    assert state["revision"] is None

    migrate_to_head(empty_database_url)
    migrate_to_head(empty_database_url)  # already at head: nothing to do, no error
    state = await _inspect(empty_database_url)
    assert state["tables"] == model_tables | {"alembic_version"}
    assert state["revision"] == _head()
    assert state["diff"] == []
