"""Throwaway databases for tests: a migrated SQLite template, PostgreSQL per session.

``app.migrate.upgrade`` is synchronous and calls ``asyncio.run`` itself: it must never run
inside the test's event loop, so every helper here runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from app import migrate
from app.models import Base

T = TypeVar("T")

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"


def postgres_base_url() -> str:
    return os.environ.get("DEVICEGRAPH_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def redis_url() -> str:
    return os.environ.get("DEVICEGRAPH_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require_service(reachable: bool, what: str, where: str) -> None:
    """Skip with a visible reason, or fail loudly in CI, when a service is down."""
    if reachable:
        return
    if in_ci():
        pytest.fail(f"{what} is required in CI but is not reachable at {where}", pytrace=False)
    pytest.skip(f"{what} not reachable at {where}; CI requires it")


def run_in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking code (such as alembic, which calls asyncio.run) away from any loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def migrate_to_head(database_url: str) -> None:
    """``app.migrate.upgrade`` to head, in a worker thread (it calls asyncio.run)."""
    run_in_thread(migrate.upgrade, database_url)


def migrate_to_base(database_url: str) -> None:
    run_in_thread(migrate.downgrade, database_url)


def migration_heads() -> tuple[str, ...]:
    """The head revisions of migrations/ (one, unless two branches were merged badly)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return tuple(script.get_heads())


# --- SQLite --------------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def copy_sqlite(template: Path, target: Path) -> str:
    """Copy a (closed) database file with its WAL, if any, and return the copy's URL."""
    shutil.copyfile(template, target)
    for suffix in ("-wal", "-shm"):
        extra = template.with_name(template.name + suffix)
        if extra.exists():
            shutil.copyfile(extra, target.with_name(target.name + suffix))
    return sqlite_url(target)


# --- PostgreSQL ----------------------------------------------------------------------------


def asyncpg_dsn(database_url: str) -> str:
    """The same database as a plain DSN asyncpg understands."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(database_url: str, name: str) -> str:
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


def where(database_url: str) -> str:
    parts = urlsplit(asyncpg_dsn(database_url))
    return f"{parts.hostname}:{parts.port or 5432}"


async def postgres_reachable(database_url: str, wait: float = 3.0) -> bool:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(database_url), timeout=wait)
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def tcp_reachable(url: str, default_port: int, wait: float = 2.0) -> bool:
    parts = urlsplit(url)
    try:
        async with asyncio.timeout(wait):
            _reader, writer = await asyncio.open_connection(
                parts.hostname or "127.0.0.1", parts.port or default_port
            )
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


def new_database_name(purpose: str = "test") -> str:
    return f"devicegraph_{purpose}_{os.getpid()}_{secrets.token_hex(4)}"


async def create_postgres_database(base_url: str, name: str) -> str:
    """CREATE DATABASE next to the base one; returns the new database's URL."""
    connection = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(base_url, name)


async def drop_postgres_database(base_url: str, name: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def table_names() -> list[str]:
    return [table.name for table in Base.metadata.sorted_tables]


async def truncate_postgres(database_url: str) -> None:
    """Empty every application table and reset its id sequence.

    TRUNCATE costs about 10 ms per table on PostgreSQL (new files for each relation), so a
    database that is already clean (no rows, no sequence ever used) is left alone: for it the
    TRUNCATE ... RESTART IDENTITY would change nothing.
    """
    names = table_names()
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = " OR ".join(f'EXISTS (SELECT 1 FROM "{name}")' for name in names)
        used_sequences = (
            "EXISTS (SELECT 1 FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL)"
        )
        if not await connection.fetchval(f"SELECT ({rows}) OR {used_sequences}"):
            return
        # A connection leaked by a test must not make the next one hang forever.
        await connection.execute("SET lock_timeout = '5s'")
        tables = ", ".join(f'"{name}"' for name in names)
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


# --- Counting statements -------------------------------------------------------------------


_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "SET ")


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        """Every statement, transaction control (SQLite's BEGIN IMMEDIATE) included."""
        return len(self.statements)

    @property
    def queries(self) -> list[str]:
        """The statements that read or write rows: transaction control left out."""
        return [s for s in self.statements if not s.lstrip().upper().startswith(_CONTROL)]

    def clear(self) -> None:
        self.statements.clear()


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementLog]:
    """Record every statement sent through ``engine`` (a sync engine) while inside."""
    log = StatementLog()

    def _before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", _before)
