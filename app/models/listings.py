"""Listings on the buyers' board and the offers (with counter chains) made on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.statuses import ListingStatus, OfferParty, OfferStatus
from app.models.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin, enum_column


class Listing(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("price_minor > 0", name="price_positive"),
        Index("ix_listings_status_id", "status", "id"),
        Index(
            "uq_listings_device_open",
            "device_id",
            unique=True,
            sqlite_where=text("status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'RESERVED')"),
            postgresql_where=text("status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'RESERVED')"),
        ),
    )

    device_id: Mapped[int] = mapped_column(BigId, ForeignKey("devices.id"), index=True)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus, "listing_status"), default=ListingStatus.DRAFT
    )


class Offer(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index(
            "uq_offers_pending_buyer_listing",
            "listing_id",
            "buyer_id",
            unique=True,
            sqlite_where=text("status = 'PENDING'"),
            postgresql_where=text("status = 'PENDING'"),
        ),
        Index("ix_offers_status_expires", "status", "expires_at"),
    )

    listing_id: Mapped[int] = mapped_column(BigId, ForeignKey("listings.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.PENDING
    )
    parent_offer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("offers.id"), index=True, default=None
    )
    from_party: Mapped[OfferParty] = mapped_column(enum_column(OfferParty, "offer_party"))
    expires_at: Mapped[datetime] = mapped_column()
