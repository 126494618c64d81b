"""Inputs of the order and shipment mutations."""

from __future__ import annotations

import strawberry

_VERSION = "The version you last saw; refused with STALE if it changed since (rule 9)."
_KEY = "Retry safely: the same key and input return the first result (rule 8)."


@strawberry.input
class BuyListingsInput:
    listing_ids: list[strawberry.ID]
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input
class ConfirmOrderInput:
    order_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str | None = None
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input
class ShipOrderInput:
    order_id: strawberry.ID
    carrier: str
    tracking_number: str
    tracking_url: str | None = strawberry.field(default=None, description="http or https.")
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Name the order (its newest shipment) or the shipment.")
class MarkDeliveredInput:
    order_id: strawberry.ID | None = None
    shipment_id: strawberry.ID | None = None
    expected_version: int | None = strawberry.field(
        default=None, description="The version of the order or shipment named. " + _VERSION
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input
class ReportShipmentExceptionInput:
    shipment_id: strawberry.ID
    note: str
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input
class CompleteOrderInput:
    order_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)
