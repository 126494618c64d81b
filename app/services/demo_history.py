"""The demo's history as facts: one per change of each row, to become the event log.

Audiences follow DOMAIN.md: a client sees its lots, devices and settlements; a buyer its
offers, orders and parcels; the board (``public``) the listings; the operator everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.statuses import (
    DeviceStatus,
    LotStatus,
    OfferStatus,
    OrderStatus,
    SettlementStatus,
    ShipmentStatus,
)
from app.models import Lot, Offer, Shipment
from app.models.base import IdMixin
from app.services.demo_plan import DemoPlan, Sale, SettlementPlan, Unit
from app.services.events import PUBLIC, buyer_audience, client_audience


@dataclass(frozen=True, slots=True)
class Fact:
    at: datetime
    type: str
    entity: IdMixin
    changes: dict[str, Any]
    audiences: list[str]


_LOT_EVENTS = {
    LotStatus.RECEIVING: "lot.devices_received",
    LotStatus.RECONCILED: "lot.reconciled",
    LotStatus.CLOSED: "lot.closed",
}


def history(plan: DemoPlan) -> Iterator[Fact]:
    """Every fact of the plan (read once all rows have their ids), in no particular order."""
    for lot, moments in plan.lots:
        yield from _lot(lot, moments)
    for unit in plan.units:
        yield from _device(unit)
        yield from _listing(unit)
    for offer, closed_at in plan.offers:
        yield from _offer(offer, closed_at)
    for sale in plan.sales:
        yield from _order(sale)
    if plan.settlement is not None:
        yield from _settlement(plan.settlement)


def _lot(lot: Lot, moments: list[tuple[datetime, LotStatus]]) -> Iterator[Fact]:
    audiences = [client_audience(lot.client_id)]
    created, _ = moments[0]
    changes = {
        "status": LotStatus.OPEN,
        "reference": lot.reference,
        "clientId": lot.client_id,
        "expectedCount": lot.expected_count,
    }
    yield Fact(created, "lot.created", lot, changes, audiences)
    for at, status in moments[1:]:
        yield Fact(at, _LOT_EVENTS[status], lot, {"status": status}, audiences)


def _device(unit: Unit) -> Iterator[Fact]:
    device = unit.device
    audiences = [client_audience(device.client_id)]
    received = {
        "status": DeviceStatus.RECEIVED,
        "imei": device.imei,
        "serial": device.serial,
        "make": device.make,
        "model": device.model,
        "lotId": device.lot_id,
    }
    yield Fact(device.received_at, "device.received", device, received, audiences)
    for grade in unit.grades:
        graded = {
            "status": DeviceStatus.GRADED,
            "gradeId": grade.id,
            "cosmetic": grade.cosmetic,
            "functionalPass": grade.functional_pass,
            "failedChecks": grade.failed_checks,
            "batteryHealthPct": grade.battery_health_pct,
            "dataWiped": grade.data_wiped,
        }
        yield Fact(grade.graded_at, "device.graded", device, graded, audiences)
    for at, event_type, status in unit.steps:
        changes: dict[str, Any] = {"status": status}
        if status is DeviceStatus.QUARANTINED:
            changes |= {
                "lockStatus": device.lock_status,
                "blacklistStatus": device.blacklist_status,
            }
        if unit.listing is not None and status is DeviceStatus.AVAILABLE:
            changes["listingId"] = unit.listing.id
        yield Fact(at, event_type, device, changes, audiences)


def _listing(unit: Unit) -> Iterator[Fact]:
    listing = unit.listing
    if listing is None:
        return
    for at, event_type, status in unit.listing_steps:
        changes: dict[str, Any] = {"status": status, "deviceId": listing.device_id}
        if event_type == "listing.published":
            changes |= {"priceMinor": listing.price_minor, "currency": listing.currency}
        yield Fact(at, event_type, listing, changes, [PUBLIC])


def _offer(offer: Offer, closed_at: datetime | None) -> Iterator[Fact]:
    audiences = [buyer_audience(offer.buyer_id)]
    made = {
        "status": OfferStatus.PENDING,
        "listingId": offer.listing_id,
        "amountMinor": offer.amount_minor,
        "currency": offer.currency,
        "fromParty": offer.from_party,
        "parentOfferId": offer.parent_offer_id,
        "expiresAt": offer.expires_at,
    }
    yield Fact(offer.created_at, "offer.made", offer, made, audiences)
    if closed_at is not None:
        closed = {"status": offer.status, "listingId": offer.listing_id}
        yield Fact(closed_at, f"offer.{offer.status.value.lower()}", offer, closed, audiences)


def _order(sale: Sale) -> Iterator[Fact]:
    order, audiences = sale.order, [buyer_audience(sale.buyer.id)]
    placed = {
        "status": OrderStatus.PENDING,
        "listingIds": [line.listing_id for line in sale.lines],
        "totalMinor": sum(line.price_minor for line in sale.lines),
        "currency": order.currency,
    }
    yield Fact(sale.placed_at, "order.placed", order, placed, audiences)
    shipment = sale.shipment
    parcel = {} if shipment is None else _parcel(shipment)
    for status, at in list(sale.moments.items())[1:]:
        changes = {"status": status, **(parcel if status is OrderStatus.SHIPPED else {})}
        yield Fact(at, f"order.{status.value.lower()}", order, changes, audiences)
    if shipment is None or shipment.shipped_at is None:
        return
    shipped = {
        "status": ShipmentStatus.IN_TRANSIT,
        "orderId": order.id,
        **parcel,
        "shippedAt": shipment.shipped_at,
    }
    yield Fact(shipment.shipped_at, "shipment.shipped", shipment, shipped, audiences)
    if shipment.delivered_at is not None:
        delivered = {
            "status": shipment.status,
            "orderId": order.id,
            "deliveredAt": shipment.delivered_at,
        }
        yield Fact(shipment.delivered_at, "shipment.delivered", shipment, delivered, audiences)


def _parcel(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipmentId": shipment.id,
        "carrier": shipment.carrier,
        "trackingNumber": shipment.tracking_number,
        "trackingUrl": shipment.tracking_url,
    }


def _settlement(plan: SettlementPlan) -> Iterator[Fact]:
    row, audiences = plan.row, [client_audience(plan.client.id)]
    generated = {
        "status": SettlementStatus.DRAFT,
        "periodStart": row.period_start,
        "periodEnd": row.period_end,
        "lineCount": len(plan.lines),
        "grossMinor": sum(line.gross_minor for line in plan.lines),
        "netMinor": sum(line.net_minor for line in plan.lines),
        "currency": row.currency,
    }
    yield Fact(row.created_at, "settlement.generated", row, generated, audiences)
    approved = {"status": SettlementStatus.APPROVED}
    yield Fact(plan.approved_at, "settlement.approved", row, approved, audiences)
