"""Webhook endpoints (where an organisation wants its events POSTed) and their deliveries.

An endpoint follows the event log from its own cursor ``(cursor_txid, cursor_id)``, the last
event it acknowledged. The delivery worker writes the cursor, the failure streak and the lease
with plain UPDATE statements, so they do not bump ``version``: the version moves only when
someone changes the endpoint (update, disable, enable, replay, rotate).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, Json, TimestampMixin, VersionedMixin, enum_column


class WebhookEndpointStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"
    """Being tried: the endpoint's next event, retried with backoff until it is acknowledged."""
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    """Given up: the endpoint was disabled while this was its next event."""


class WebhookEndpoint(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "webhook_endpoints"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    """The actor that registered it, as the event log names actors (``user:3``, ``apikey:7``)."""
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(Json)
    """Empty: every event the organisation may see (``webhook.*`` events only when named)."""
    secret: Mapped[str] = mapped_column(String(100))
    """Signs every request, so it is stored as is; the API shows it only when it is made."""
    status: Mapped[WebhookEndpointStatus] = mapped_column(
        enum_column(WebhookEndpointStatus, "webhook_endpoint_status")
    )
    cursor_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_id: Mapped[int] = mapped_column(BigInteger, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event sent (or being sent) to one endpoint: a replay makes a new row."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint_status", "endpoint_id", "status"),)

    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_txid: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        enum_column(WebhookDeliveryStatus, "webhook_delivery_status")
    )
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
