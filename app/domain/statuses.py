"""The status machines of DOMAIN.md as data: each table maps a status to the ones it may become."""

from __future__ import annotations

from enum import StrEnum


class OrganizationKind(StrEnum):
    OPERATOR = "OPERATOR"
    CLIENT = "CLIENT"
    BUYER = "BUYER"


class Role(StrEnum):
    ADMIN = "ADMIN"
    WAREHOUSE = "WAREHOUSE"
    SALES = "SALES"
    FINANCE = "FINANCE"
    VIEWER = "VIEWER"
    BUYER = "BUYER"


class LotStatus(StrEnum):
    OPEN = "OPEN"
    RECEIVING = "RECEIVING"
    RECONCILED = "RECONCILED"
    CLOSED = "CLOSED"


class DeviceStatus(StrEnum):
    RECEIVED = "RECEIVED"
    GRADED = "GRADED"
    QUARANTINED = "QUARANTINED"
    AVAILABLE = "AVAILABLE"
    RESERVED = "RESERVED"
    SOLD = "SOLD"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class LockStatus(StrEnum):
    UNLOCKED = "UNLOCKED"
    LOCKED = "LOCKED"


class BlacklistStatus(StrEnum):
    CLEAN = "CLEAN"
    BLACKLISTED = "BLACKLISTED"


class CosmeticGrade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class ListingStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    RESERVED = "RESERVED"
    SOLD = "SOLD"
    WITHDRAWN = "WITHDRAWN"


class OfferStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    COUNTERED = "COUNTERED"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"
    INVALIDATED = "INVALIDATED"


class OfferParty(StrEnum):
    BUYER = "BUYER"
    SELLER = "SELLER"


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "LABEL_CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"


class SettlementStatus(StrEnum):
    DRAFT = "DRAFT"
    APPROVED = "APPROVED"
    PAID = "PAID"
    VOID = "VOID"


LOT_TRANSITIONS: dict[LotStatus, frozenset[LotStatus]] = {
    LotStatus.OPEN: frozenset({LotStatus.RECEIVING}),
    LotStatus.RECEIVING: frozenset({LotStatus.RECONCILED}),
    LotStatus.RECONCILED: frozenset({LotStatus.CLOSED}),
    LotStatus.CLOSED: frozenset(),
}

DEVICE_TRANSITIONS: dict[DeviceStatus, frozenset[DeviceStatus]] = {
    DeviceStatus.RECEIVED: frozenset({DeviceStatus.GRADED, DeviceStatus.QUARANTINED}),
    DeviceStatus.GRADED: frozenset({DeviceStatus.AVAILABLE, DeviceStatus.QUARANTINED}),
    DeviceStatus.QUARANTINED: frozenset({DeviceStatus.GRADED}),
    DeviceStatus.AVAILABLE: frozenset({DeviceStatus.RESERVED, DeviceStatus.GRADED}),
    DeviceStatus.RESERVED: frozenset({DeviceStatus.SOLD, DeviceStatus.AVAILABLE}),
    DeviceStatus.SOLD: frozenset({DeviceStatus.SHIPPED, DeviceStatus.AVAILABLE}),
    DeviceStatus.SHIPPED: frozenset({DeviceStatus.DELIVERED}),
    DeviceStatus.DELIVERED: frozenset(),
}
"""SOLD -> AVAILABLE is the device side of cancelling a CONFIRMED order."""

LISTING_TRANSITIONS: dict[ListingStatus, frozenset[ListingStatus]] = {
    ListingStatus.DRAFT: frozenset({ListingStatus.ACTIVE, ListingStatus.WITHDRAWN}),
    ListingStatus.ACTIVE: frozenset(
        {ListingStatus.PAUSED, ListingStatus.RESERVED, ListingStatus.WITHDRAWN}
    ),
    ListingStatus.PAUSED: frozenset({ListingStatus.ACTIVE, ListingStatus.WITHDRAWN}),
    ListingStatus.RESERVED: frozenset({ListingStatus.SOLD, ListingStatus.ACTIVE}),
    ListingStatus.SOLD: frozenset(),
    ListingStatus.WITHDRAWN: frozenset(),
}

OFFER_TRANSITIONS: dict[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.PENDING: frozenset(
        {
            OfferStatus.ACCEPTED,
            OfferStatus.REJECTED,
            OfferStatus.COUNTERED,
            OfferStatus.EXPIRED,
            OfferStatus.WITHDRAWN,
            OfferStatus.INVALIDATED,
        }
    ),
    **{status: frozenset() for status in OfferStatus if status is not OfferStatus.PENDING},
}

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.COMPLETED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

SHIPMENT_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    ShipmentStatus.LABEL_CREATED: frozenset({ShipmentStatus.IN_TRANSIT}),
    ShipmentStatus.IN_TRANSIT: frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION}),
    ShipmentStatus.DELIVERED: frozenset(),
    ShipmentStatus.EXCEPTION: frozenset(),
}

SETTLEMENT_TRANSITIONS: dict[SettlementStatus, frozenset[SettlementStatus]] = {
    SettlementStatus.DRAFT: frozenset({SettlementStatus.APPROVED, SettlementStatus.VOID}),
    SettlementStatus.APPROVED: frozenset({SettlementStatus.PAID, SettlementStatus.VOID}),
    SettlementStatus.PAID: frozenset(),
    SettlementStatus.VOID: frozenset(),
}
