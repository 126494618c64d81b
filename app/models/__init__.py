"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

from app.models.base import Base
from app.models.devices import Device, Grade
from app.models.events import Event, IdempotencyRecord
from app.models.listings import Listing, Offer
from app.models.lots import Lot
from app.models.orders import Order, OrderLine, Shipment
from app.models.organizations import ApiKey, AuthSession, Organization, User
from app.models.settlements import Settlement, SettlementLine
from app.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "AuthSession",
    "Base",
    "Device",
    "Event",
    "Grade",
    "IdempotencyRecord",
    "Listing",
    "Lot",
    "Offer",
    "Order",
    "OrderLine",
    "Organization",
    "Settlement",
    "SettlementLine",
    "Shipment",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
