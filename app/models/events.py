"""The event log: one row per change, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.models.base import Base, BigId, IdMixin, Json, utcnow


class current_txid(FunctionElement[int]):  # named like the SQL function it stands for
    """The writing transaction's id as a BIGINT: ``pg_current_xact_id()`` on PostgreSQL.

    On SQLite, where writers are serialised and ``id`` order is commit order, it is 0.
    """

    type = BigInteger()
    inherit_cache = True
    name = "current_txid"


@compiles(current_txid)
def _current_txid_default(element: current_txid, compiler: SQLCompiler, **kw: Any) -> str:
    return "0"


@compiles(current_txid, "postgresql")
def _current_txid_postgresql(element: current_txid, compiler: SQLCompiler, **kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


class Event(IdMixin, Base):
    """An immutable fact; ``audiences`` says who may see it.

    Its position in the log is ``(txid, id)`` (see app.pubsub.log): on PostgreSQL ``txid`` is
    the writing transaction's id, filled in by the database, and readers read only below the
    oldest transaction still running, so no event can appear behind a reader's cursor. On
    SQLite ``txid`` is 0 and ``id`` alone is commit order.

    Audiences are strings: ``operator``, ``public`` (the buyers' board), ``buyer:<org id>``,
    ``client:<org id>``.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_entity", "entity_type", "entity_id"),
        Index("ix_events_txid_id", "txid", "id"),
    )

    type: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigId)
    entity_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(Json)
    audiences: Mapped[list[str]] = mapped_column(Json)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=current_txid())


class IdempotencyRecord(IdMixin, Base):
    """The first result of a mutation sent with an idempotency key, per caller."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
