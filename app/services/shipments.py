"""Shipments: recording a carrier and tracking number ships the order (rule 6).

Shipping writes the shipment IN_TRANSIT in one step. The row is created LABEL_CREATED and
moved through SHIPMENT_TRANSITIONS to IN_TRANSIT before it is first written: the status
machine is applied, the buyer sees one row and one event ("shipment.shipped", version 1) with
the tracking number at once, and no label-only state ever becomes visible. LABEL_CREATED stays
in the machine for a future "print the label first" step.

In the same transaction: order CONFIRMED -> SHIPPED, each listing RESERVED -> SOLD, each device
SOLD -> SHIPPED. Delivery: shipment IN_TRANSIT -> DELIVERED, order SHIPPED -> DELIVERED, devices
SHIPPED -> DELIVERED. A carrier's problem: shipment IN_TRANSIT -> EXCEPTION, the order stays
SHIPPED. Warehouse people (SHIP_ORDERS) do all three; buyers see their own shipments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Permission, require
from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    ORDER_TRANSITIONS,
    SHIPMENT_TRANSITIONS,
    DeviceStatus,
    ListingStatus,
    OrderStatus,
    ShipmentStatus,
)
from app.models import Order, Shipment
from app.models.base import utcnow
from app.services import inventory
from app.services.common import lock, record, transition
from app.services.order_queries import visible_buyer
from app.services.orders import (
    Sessions,
    clean_text,
    lock_goods,
    once,
    order_audiences,
    record_order,
)
from app.services.paging import Page, paginate

MAX_CARRIER = 100
MAX_URL = 2000
MAX_NOTE = 1000
_TRACKING_NUMBER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 -]{1,62}[A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class Tracking:
    carrier: str
    tracking_number: str
    tracking_url: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentFilter:
    statuses: tuple[ShipmentStatus, ...] = ()
    order_id: int | None = None


def clean_tracking(carrier: str, tracking_number: str, tracking_url: str | None) -> Tracking:
    """Validate before anything is written: a carrier, a sane tracking number, an http(s) URL."""
    cleaned_carrier = clean_text(carrier, "carrier", MAX_CARRIER)
    if cleaned_carrier is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "Name the carrier.", field="carrier")
    number = tracking_number.strip()
    if not _TRACKING_NUMBER.fullmatch(number):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A tracking number has 3 to 64 letters, digits, spaces or dashes.",
            field="trackingNumber",
        )
    return Tracking(
        carrier=cleaned_carrier, tracking_number=number, tracking_url=_clean_url(tracking_url)
    )


def _clean_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    refused = DomainError(
        ErrorCode.INVALID_INPUT,
        "The tracking URL must be an http or https address.",
        field="trackingUrl",
    )
    if len(url) > MAX_URL or any(char.isspace() or ord(char) < 32 for char in url):
        raise refused
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise refused
    return url


async def ship_order(
    sessions: Sessions,
    *,
    order_id: int,
    carrier: str,
    tracking_number: str,
    tracking_url: str | None = None,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Shipment:
    """CONFIRMED -> SHIPPED with a new shipment IN_TRANSIT (see the module's docstring)."""
    require(actor, Permission.SHIP_ORDERS)
    tracking = clean_tracking(carrier, tracking_number, tracking_url)

    async def work(session: AsyncSession) -> dict[str, Any]:
        order = await lock(session, Order, order_id, field="orderId")
        transition(order, ORDER_TRANSITIONS, OrderStatus.SHIPPED, expected_version=expected_version)
        goods = await lock_goods(session, order)
        for item in goods:
            await inventory.move_listing(
                session, item.listing, ListingStatus.SOLD, actor=actor, event_type="listing.sold"
            )
            await inventory.move_device(
                session,
                item.device,
                DeviceStatus.SHIPPED,
                actor=actor,
                event_type="device.shipped",
                orderId=order.id,
            )
        shipment = Shipment(
            order_id=order.id,
            carrier=tracking.carrier,
            tracking_number=tracking.tracking_number,
            tracking_url=tracking.tracking_url,
            status=ShipmentStatus.LABEL_CREATED,
        )
        transition(shipment, SHIPMENT_TRANSITIONS, ShipmentStatus.IN_TRANSIT)
        shipment.shipped_at = utcnow()
        session.add(shipment)
        await record(
            session,
            shipment,
            "shipment.shipped",
            actor=actor,
            audiences=order_audiences(order),
            changes={
                "status": shipment.status,
                "orderId": order.id,
                "carrier": shipment.carrier,
                "trackingNumber": shipment.tracking_number,
                "trackingUrl": shipment.tracking_url,
                "shippedAt": shipment.shipped_at,
            },
        )
        await record_order(
            session,
            order,
            "order.shipped",
            actor=actor,
            shipmentId=shipment.id,
            carrier=shipment.carrier,
            trackingNumber=shipment.tracking_number,
            trackingUrl=shipment.tracking_url,
        )
        return {"shipmentId": shipment.id}

    request = {
        "orderId": order_id,
        "carrier": tracking.carrier,
        "trackingNumber": tracking.tracking_number,
        "trackingUrl": tracking.tracking_url,
        "expectedVersion": expected_version,
    }
    result = await once(sessions, actor, idempotency_key, "shipOrder", request, work)
    return await load_shipment(sessions, result["shipmentId"])


async def mark_delivered(
    sessions: Sessions,
    *,
    actor: Actor,
    order_id: int | None = None,
    shipment_id: int | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Shipment:
    """The parcel arrived: shipment, order and devices become DELIVERED.

    Name the order or the shipment (exactly one); ``expected_version`` is the version of the
    one named. By order, its newest shipment is the one delivered.
    """
    require(actor, Permission.SHIP_ORDERS)
    if (order_id is None) == (shipment_id is None):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Name either the order or the shipment.", field="orderId"
        )

    async def work(session: AsyncSession) -> dict[str, Any]:
        if shipment_id is not None:
            order, shipment = await _lock_by_shipment(session, shipment_id)
            transition(
                shipment,
                SHIPMENT_TRANSITIONS,
                ShipmentStatus.DELIVERED,
                expected_version=expected_version,
            )
            transition(order, ORDER_TRANSITIONS, OrderStatus.DELIVERED)
        else:
            assert order_id is not None
            order = await lock(session, Order, order_id, field="orderId")
            transition(
                order, ORDER_TRANSITIONS, OrderStatus.DELIVERED, expected_version=expected_version
            )
            shipment = await _newest_shipment(session, order)
            transition(shipment, SHIPMENT_TRANSITIONS, ShipmentStatus.DELIVERED)
        shipment.delivered_at = utcnow()
        await record(
            session,
            shipment,
            "shipment.delivered",
            actor=actor,
            audiences=order_audiences(order),
            changes={
                "status": shipment.status,
                "orderId": order.id,
                "deliveredAt": shipment.delivered_at,
            },
        )
        for item in await lock_goods(session, order):
            await inventory.move_device(
                session,
                item.device,
                DeviceStatus.DELIVERED,
                actor=actor,
                event_type="device.delivered",
                orderId=order.id,
            )
        await record_order(session, order, "order.delivered", actor=actor, shipmentId=shipment.id)
        return {"shipmentId": shipment.id}

    request = {
        "orderId": order_id,
        "shipmentId": shipment_id,
        "expectedVersion": expected_version,
    }
    result = await once(sessions, actor, idempotency_key, "markDelivered", request, work)
    return await load_shipment(sessions, result["shipmentId"])


async def report_exception(
    sessions: Sessions,
    *,
    shipment_id: int,
    note: str,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Shipment:
    """The carrier reports a problem (lost, damaged, refused): IN_TRANSIT -> EXCEPTION.

    The order stays SHIPPED; the note goes to the operator and the buyer with the event.
    """
    require(actor, Permission.SHIP_ORDERS)
    cleaned = clean_text(note, "note", MAX_NOTE)
    if cleaned is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "Say what went wrong.", field="note")

    async def work(session: AsyncSession) -> dict[str, Any]:
        order, shipment = await _lock_by_shipment(session, shipment_id)
        transition(
            shipment,
            SHIPMENT_TRANSITIONS,
            ShipmentStatus.EXCEPTION,
            expected_version=expected_version,
        )
        await record(
            session,
            shipment,
            "shipment.exception",
            actor=actor,
            audiences=order_audiences(order),
            changes={"status": shipment.status, "orderId": order.id, "note": cleaned},
        )
        return {"shipmentId": shipment.id}

    request = {"shipmentId": shipment_id, "note": cleaned, "expectedVersion": expected_version}
    result = await once(sessions, actor, idempotency_key, "reportShipmentException", request, work)
    return await load_shipment(sessions, result["shipmentId"])


# --- Reading -----------------------------------------------------------------------------------


async def get_shipment(session: AsyncSession, shipment_id: int, *, actor: Actor) -> Shipment | None:
    scope = visible_buyer(actor)
    shipment = await session.get(Shipment, shipment_id)
    if shipment is None or scope is None:
        return shipment
    order = await session.get(Order, shipment.order_id)
    return shipment if order is not None and order.buyer_id == scope else None


async def list_shipments(
    session: AsyncSession,
    shipment_filter: ShipmentFilter,
    *,
    actor: Actor,
    after: list[Any] | None = None,
    limit: int,
) -> Page[Shipment]:
    """A page of the shipments ``actor`` may see, newest first, and how many match."""
    conditions: list[ColumnElement[bool]] = []
    scope = visible_buyer(actor)
    if scope is not None:
        conditions.append(Shipment.order_id.in_(select(Order.id).where(Order.buyer_id == scope)))
    if shipment_filter.statuses:
        conditions.append(Shipment.status.in_(shipment_filter.statuses))
    if shipment_filter.order_id is not None:
        conditions.append(Shipment.order_id == shipment_filter.order_id)
    return await paginate(
        session,
        select(Shipment).where(*conditions),
        id_column=Shipment.id,
        descending=True,
        after=after,
        limit=limit,
    )


async def load_shipment(sessions: Sessions, shipment_id: int) -> Shipment:
    async with sessions() as session:
        return await session.get_one(Shipment, shipment_id)


async def _lock_by_shipment(session: AsyncSession, shipment_id: int) -> tuple[Order, Shipment]:
    """Lock the shipment's order first (the order is every use case's first lock), then it."""
    found = await session.get(Shipment, shipment_id)
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No shipment has that id.", field="shipmentId")
    order = await lock(session, Order, found.order_id, field="shipmentId")
    shipment = await lock(session, Shipment, shipment_id, field="shipmentId")
    return order, shipment


async def _newest_shipment(session: AsyncSession, order: Order) -> Shipment:
    shipment = await session.scalar(
        select(Shipment)
        .where(Shipment.order_id == order.id)
        .order_by(Shipment.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if shipment is None:  # pragma: no cover - a SHIPPED order always has its shipment
        raise DomainError(ErrorCode.NOT_FOUND, "This order has no shipment.", field="orderId")
    return shipment
