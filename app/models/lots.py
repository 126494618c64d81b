"""Inbound batches from a client; received counts are computed from device rows."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.statuses import LotStatus
from app.models.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin, enum_column


class Lot(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("client_id", "reference"),
        CheckConstraint("expected_count >= 0", name="expected_non_negative"),
    )

    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    expected_count: Mapped[int] = mapped_column()
    status: Mapped[LotStatus] = mapped_column(
        enum_column(LotStatus, "lot_status"), default=LotStatus.OPEN
    )
