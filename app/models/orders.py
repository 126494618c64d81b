"""Orders, their lines, and the shipments that carry them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.statuses import OrderStatus, ShipmentStatus
from app.models.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin, enum_column


class Order(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("buyer_id", "idempotency_key"),)

    buyer_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "order_status"), default=OrderStatus.PENDING
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)


class OrderLine(IdMixin, Base):
    """``released`` is set when the order is cancelled: the device may then be sold again."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("price_minor > 0", name="price_positive"),
        Index(
            "uq_order_lines_device_active",
            "device_id",
            unique=True,
            sqlite_where=text("released = 0"),
            postgresql_where=text("released = false"),
        ),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    listing_id: Mapped[int] = mapped_column(BigId, ForeignKey("listings.id"), index=True)
    device_id: Mapped[int] = mapped_column(BigId, ForeignKey("devices.id"), index=True)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(default=False)


class Shipment(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "shipments"

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_column(ShipmentStatus, "shipment_status"), default=ShipmentStatus.LABEL_CREATED
    )
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
