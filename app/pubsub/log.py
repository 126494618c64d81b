"""Reading the event log in order, without gaps, on SQLite and PostgreSQL.

Position: ``(txid, id)``, see app.pubsub.cursors.

- SQLite serialises writers (``BEGIN IMMEDIATE``), so id order is commit order and ``txid`` is
  always 0. Reads go through an engine of their own that does not take the write lock.
- PostgreSQL: a BIGSERIAL id is not commit order. Each event carries the id of the transaction
  that wrote it (``txid``, filled in by the database), and a reader reads only events whose
  ``txid`` is below the *horizon*: the oldest transaction of this database still running in
  the reader's snapshot. Every transaction below the horizon has finished, so no event can
  later appear before a position already read. Rows at or above the horizon are committed but
  held back until the older transactions end; ``LogPage.held_back`` says so, and the tail
  looks again soon. See docs/live.md for why and what it costs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    event,
    exists,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import create_engine
from app.models.events import Event
from app.pubsub.cursors import START, Cursor
from app.settings import Settings

# The oldest in-progress transaction of the snapshot, leaving out those positively seen
# running in another database of the cluster (they can never write this database's events).
# Anything not identified stays in: the horizon can only be too low (later delivery), never
# too high (a gap). With no transaction in progress it is the snapshot's xmax.
HORIZON_SQL = """COALESCE(
  (SELECT min(x.xid::text::bigint)
     FROM pg_snapshot_xip(pg_current_snapshot()) AS x(xid)
    WHERE x.xid::text::bigint % 4294967296 NOT IN (
          SELECT a.backend_xid::text::bigint
            FROM pg_stat_activity AS a
           WHERE a.backend_xid IS NOT NULL
             AND a.datid <> (SELECT d.oid FROM pg_database AS d
                              WHERE d.datname = current_database()))),
  pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as read from the log: immutable, shared by every subscriber it goes to."""

    cursor: Cursor
    type: str
    entity_type: str
    entity_id: int
    entity_version: int
    occurred_at: datetime
    actor: str
    changes: Mapping[str, Any]
    audiences: frozenset[str]

    @property
    def id(self) -> int:
        return self.cursor.id


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What a subscriber or a page wants, and what it may see.

    ``audiences`` None means every event (operators); otherwise an event is seen only when one
    of its audiences is in the set.
    """

    audiences: frozenset[str] | None = None
    types: frozenset[str] | None = None
    entity_type: str | None = None
    entity_id: int | None = None

    def matches(self, record: EventRecord) -> bool:
        if self.audiences is not None and self.audiences.isdisjoint(record.audiences):
            return False
        if self.types is not None and record.type not in self.types:
            return False
        if self.entity_type is not None and record.entity_type != self.entity_type:
            return False
        return self.entity_id is None or record.entity_id == self.entity_id


EVERYTHING = EventFilter()


@dataclass(frozen=True, slots=True)
class LogPage:
    records: list[EventRecord]
    has_more: bool
    """More readable events follow the last record (the page was full)."""
    held_back: int
    """Committed events seen after the page but not readable yet (PostgreSQL only: an older
    transaction is still open). A lower bound: at most the page size is looked at."""
    oldest_held_back_at: datetime | None = None


_COLUMNS = (
    Event.txid,
    Event.id,
    Event.type,
    Event.entity_type,
    Event.entity_id,
    Event.entity_version,
    Event.occurred_at,
    Event.actor,
    Event.changes,
    Event.audiences,
)


def _record(row: Any) -> EventRecord:
    return EventRecord(
        cursor=Cursor(int(row.txid), int(row.id)),
        type=row.type,
        entity_type=row.entity_type,
        entity_id=int(row.entity_id),
        entity_version=int(row.entity_version),
        occurred_at=row.occurred_at,
        actor=row.actor,
        changes=row.changes or {},
        audiences=frozenset(row.audiences or ()),
    )


class EventLog:
    """Reads of the log: one statement each, so each sees one consistent snapshot."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_postgresql = engine.dialect.name == "postgresql"
        self.reads = 0
        """Statements run so far (for tests and the fan-out cost checks)."""

    async def head(self) -> Cursor:
        """The position of the last readable event (START for an empty log)."""
        if self.is_postgresql:
            statement: Select[int, int] = (
                select(Event.txid, Event.id)
                .where(Event.txid < literal_column(f"({HORIZON_SQL})", BigInteger))
                .order_by(Event.txid.desc(), Event.id.desc())
                .limit(1)
            )
        else:
            statement = select(literal(0).label("txid"), func.max(Event.id).label("id"))
        async with self.engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        self.reads += 1
        if row is None or row.id is None:
            return START
        return Cursor(int(row.txid), int(row.id))

    async def read(
        self, after: Cursor, limit: int, event_filter: EventFilter = EVERYTHING
    ) -> LogPage:
        """Up to ``limit`` readable events after ``after`` that match, in log order."""
        statement = select(*_COLUMNS)
        if self.is_postgresql:
            statement = statement.add_columns(
                literal_column(f"({HORIZON_SQL})", BigInteger).label("horizon")
            ).where(tuple_(Event.txid, Event.id) > tuple_(literal(after.txid), literal(after.id)))
            statement = statement.order_by(Event.txid, Event.id)
        else:
            statement = statement.where(Event.id > after.id).order_by(Event.id)
        statement = statement.where(*self._conditions(event_filter)).limit(limit + 1)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        self.reads += 1
        readable = rows
        if self.is_postgresql and rows:
            horizon = int(rows[0].horizon)
            readable = [row for row in rows if row.txid < horizon]
        held = rows[len(readable) :]
        return LogPage(
            records=[_record(row) for row in readable[:limit]],
            has_more=len(readable) > limit,
            held_back=len(held),
            oldest_held_back_at=min((row.occurred_at for row in held), default=None),
        )

    def _conditions(self, event_filter: EventFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if event_filter.types is not None:
            conditions.append(Event.type.in_(sorted(event_filter.types)))
        if event_filter.entity_type is not None:
            conditions.append(Event.entity_type == event_filter.entity_type)
        if event_filter.entity_id is not None:
            conditions.append(Event.entity_id == event_filter.entity_id)
        if event_filter.audiences is not None:
            conditions.append(self._any_audience(sorted(event_filter.audiences)))
        return conditions

    def _any_audience(self, audiences: Sequence[str]) -> ColumnElement[bool]:
        if self.is_postgresql:
            wanted = literal(list(audiences), ARRAY(Text()))
            overlap: ColumnElement[bool] = type_coerce(Event.audiences, JSONB()).has_any(wanted)
            return overlap
        each = func.json_each(Event.audiences).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(each.c.value.in_(audiences)))


def create_log_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """The engine log reads go through: an engine of its own, so that delivery never waits
    for the request pool (nor requests for the tail), and statements counted on the app's
    engine are the requests' own.

    PostgreSQL: a small pool of the same database. SQLite: reads are plain autocommit SELECTs
    (the app's engine starts every transaction with BEGIN IMMEDIATE, which would make every
    read of the log queue behind writers for the write lock). An in-memory SQLite database
    cannot be shared between engines, so it keeps the app's engine.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(
            settings.model_copy(update={"db_pool_size": min(5, settings.db_pool_size)})
        )
    if url.database in (None, "", ":memory:"):
        return engine
    reader = create_async_engine(url, connect_args={"timeout": 30})
    busy_timeout_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(reader.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return reader


def lag_seconds(records: Iterable[EventRecord]) -> float:
    """How long ago the newest of ``records`` happened (0 for none)."""
    newest = max((record.occurred_at for record in records), default=None)
    if newest is None:
        return 0.0
    return max(0.0, time.time() - newest.timestamp())
