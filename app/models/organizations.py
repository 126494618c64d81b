"""Organisations (operator, clients, buyers), their people and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.statuses import OrganizationKind, Role
from app.models.base import Base, BigId, IdMixin, Json, TimestampMixin, VersionedMixin, enum_column


class Organization(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("commission_bps BETWEEN 0 AND 10000", name="commission_bps_range"),
        CheckConstraint("fee_per_device_minor >= 0", name="fee_non_negative"),
    )

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganizationKind] = mapped_column(enum_column(OrganizationKind, "org_kind"))
    currency: Mapped[str] = mapped_column(String(3))
    commission_bps: Mapped[int | None] = mapped_column(default=None)
    fee_per_device_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)


class User(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "users"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AuthSession(IdMixin, Base):
    """A signed-in user's opaque bearer token, stored as its SHA-256 hash."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
