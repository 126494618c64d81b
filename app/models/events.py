"""The event log: one row per change, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, Json, utcnow


class Event(IdMixin, Base):
    """An immutable fact. ``id`` is the cursor; ``audiences`` says who may see it.

    Audiences are strings: ``operator``, ``public`` (the buyers' board), ``buyer:<org id>``,
    ``client:<org id>``.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_entity", "entity_type", "entity_id"),)

    type: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigId)
    entity_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(Json)
    audiences: Mapped[list[str]] = mapped_column(Json)


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
