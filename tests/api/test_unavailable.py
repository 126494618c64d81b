"""Which database failures a client is told to retry (UNAVAILABLE), and which are bugs."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.resolvers.masking import is_unavailable


def wrapped(error: Exception) -> DBAPIError:
    """As SQLAlchemy raises it: a DBAPIError around the driver's error."""
    return DBAPIError("SELECT 1", None, error)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(wrapped(asyncpg.exceptions.CannotConnectNowError("starting up")), id="57P03"),
        pytest.param(wrapped(asyncpg.exceptions.AdminShutdownError("shutdown")), id="57P01"),
        pytest.param(wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("gone")), id="08003"),
        pytest.param(ConnectionRefusedError(111, "Connect call failed"), id="refused"),
        pytest.param(TimeoutError(), id="timeout"),
        pytest.param(
            OperationalError("BEGIN", None, sqlite3.OperationalError("database is locked")),
            id="sqlite-locked",
        ),
    ],
)
def test_connection_failures_are_unavailable(error: Exception) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            IntegrityError("INSERT", None, asyncpg.exceptions.UniqueViolationError("dup")),
            id="unique-violation",
        ),
        pytest.param(wrapped(asyncpg.exceptions.SyntaxOrAccessError("bad sql")), id="bad-sql"),
        pytest.param(ValueError("a bug"), id="bug"),
    ],
)
def test_other_failures_are_bugs(error: Exception) -> None:
    assert not is_unavailable(error)
