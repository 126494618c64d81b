"""Devices and their grades (one row per test; the newest is current)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.statuses import BlacklistStatus, CosmeticGrade, DeviceStatus, LockStatus
from app.models.base import (
    Base,
    BigId,
    IdMixin,
    Json,
    TimestampMixin,
    VersionedMixin,
    enum_column,
    utcnow,
)


class Device(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("imei IS NOT NULL OR serial IS NOT NULL", name="identified"),
        Index("ix_devices_status_id", "status", "id"),
    )

    imei: Mapped[str | None] = mapped_column(String(15), unique=True)
    serial: Mapped[str | None] = mapped_column(String(40), unique=True)
    make: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    storage_gb: Mapped[int | None] = mapped_column()
    colour: Mapped[str | None] = mapped_column(String(50))
    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("lots.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(50))
    lock_status: Mapped[LockStatus] = mapped_column(
        enum_column(LockStatus, "lock_status"), default=LockStatus.UNLOCKED
    )
    blacklist_status: Mapped[BlacklistStatus] = mapped_column(
        enum_column(BlacklistStatus, "blacklist_status"), default=BlacklistStatus.CLEAN
    )
    current_grade_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("grades.id", use_alter=True), default=None
    )
    status: Mapped[DeviceStatus] = mapped_column(
        enum_column(DeviceStatus, "device_status"), default=DeviceStatus.RECEIVED
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Grade(IdMixin, Base):
    __tablename__ = "grades"
    __table_args__ = (
        CheckConstraint("battery_health_pct BETWEEN 0 AND 100", name="battery_range"),
        Index("ix_grades_device_graded", "device_id", "graded_at"),
    )

    device_id: Mapped[int] = mapped_column(BigId, ForeignKey("devices.id"))
    cosmetic: Mapped[CosmeticGrade] = mapped_column(enum_column(CosmeticGrade, "cosmetic_grade"))
    functional_pass: Mapped[bool] = mapped_column()
    failed_checks: Mapped[list[str]] = mapped_column(Json, default=list)
    battery_health_pct: Mapped[int | None] = mapped_column()
    data_wiped: Mapped[bool] = mapped_column()
    notes: Mapped[str | None] = mapped_column(String(2000))
    graded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)
