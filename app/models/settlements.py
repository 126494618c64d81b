"""Settlements: what each client is owed for its delivered devices, line by line."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.statuses import SettlementStatus
from app.models.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin, enum_column


class Settlement(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Totals are sums of the lines, computed when read: never stored to drift."""

    __tablename__ = "settlements"
    __table_args__ = (CheckConstraint("period_start <= period_end", name="period_ordered"),)

    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    period_start: Mapped[date] = mapped_column()
    period_end: Mapped[date] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[SettlementStatus] = mapped_column(
        enum_column(SettlementStatus, "settlement_status"), default=SettlementStatus.DRAFT
    )


class SettlementLine(IdMixin, Base):
    """``released`` is set when the settlement is voided: the device becomes settleable again.

    The partial unique index makes "each delivered device is settled at most once" a fact the
    database enforces, whatever the code above it does.
    """

    __tablename__ = "settlement_lines"
    __table_args__ = (
        CheckConstraint("gross_minor >= 0", name="gross_non_negative"),
        CheckConstraint("commission_minor >= 0", name="commission_non_negative"),
        CheckConstraint("fees_minor >= 0", name="fees_non_negative"),
        CheckConstraint(
            "net_minor = gross_minor - commission_minor - fees_minor", name="net_is_difference"
        ),
        Index(
            "uq_settlement_lines_device_active",
            "device_id",
            unique=True,
            sqlite_where=text("released = 0"),
            postgresql_where=text("released = false"),
        ),
    )

    settlement_id: Mapped[int] = mapped_column(BigId, ForeignKey("settlements.id"), index=True)
    device_id: Mapped[int] = mapped_column(BigId, ForeignKey("devices.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), index=True)
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    commission_minor: Mapped[int] = mapped_column(BigInteger)
    fees_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(default=False)
