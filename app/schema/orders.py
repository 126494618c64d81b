"""Orders, their lines and shipments as the API shows them, with the results of the trade.

Relations load through the request's DataLoaders: an order page costs the same number of
queries whatever its size. An order's total is computed from its lines (rule 10), never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types.enum import has_enum_definition

from app.domain.statuses import OrderStatus, ShipmentStatus
from app.models import Listing as ListingRow
from app.models import Order as OrderRow
from app.models import OrderLine as OrderLineRow
from app.models import Shipment as ShipmentRow
from app.schema.devices import Device
from app.schema.errors import (
    DuplicateDeviceError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
)
from app.schema.listings import Listing
from app.schema.money import Money
from app.schema.organizations import Organization

if TYPE_CHECKING:
    from app.domain.actors import Actor

for _enum in (OrderStatus, ShipmentStatus):
    if not has_enum_definition(_enum):
        strawberry.enum(_enum)


@strawberry.enum(description="The order in which orders are listed, by when they were placed.")
class OrderSort(Enum):
    NEWEST = "NEWEST"
    OLDEST = "OLDEST"


def _actor(info: strawberry.Info) -> Actor:
    actor: Actor = info.context.actor
    return actor


def may_see(actor: Actor, buyer_id: int) -> bool:
    """Operators see every order, a buyer its own (app.services.order_queries.may_see, by row)."""
    if actor.is_operator:
        return True
    return actor.is_buyer and actor.organization_id == buyer_id


@strawberry.type(description="One device on an order, at the price agreed.")
class OrderLine:
    id: strawberry.ID
    price: Money
    released: bool = strawberry.field(
        description="True once the order is cancelled: the device may be sold again."
    )
    listing_id: strawberry.Private[int]
    device_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: OrderLineRow, currency: str) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            price=Money.of(row.price_minor, currency),
            released=row.released,
            listing_id=row.listing_id,
            device_id=row.device_id,
        )

    @strawberry.field(description="The listing bought; its device shows the specs and grade.")
    async def listing(self, info: strawberry.Info) -> Listing:
        row = await info.context.loaders.by_id(ListingRow).load(self.listing_id)
        if row is None:  # pragma: no cover - a foreign key guarantees the listing
            raise RuntimeError(f"order line {self.id} has no listing")
        return Listing.from_row(row)

    @strawberry.field(
        description="The full device record (IMEI, client, location): operators only, null "
        "for others, who see the device's specs through the listing."
    )
    async def device(self, info: strawberry.Info) -> Device | None:
        if not _actor(info).is_operator:
            return None
        row = await info.context.loaders.device.load(self.device_id)
        return Device.from_row(row) if row is not None else None


@strawberry.type(description="A buyer's order of one or several listings.")
class Order(relay.Node):
    id: relay.NodeID[int]
    status: OrderStatus
    version: int
    currency: str
    created_at: datetime
    buyer_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: OrderRow) -> Self:
        return cls(
            id=row.id,
            status=OrderStatus(row.status),
            version=row.version,
            currency=row.currency,
            created_at=row.created_at,
            buyer_id=row.buyer_id,
        )

    async def _line_rows(self, info: strawberry.Info) -> list[OrderLineRow]:
        rows: list[OrderLineRow] = await info.context.loaders.children(OrderLineRow.order_id).load(
            self.id
        )
        return rows

    @strawberry.field(description="The buying organisation: for operators and the buyer itself.")
    async def buyer(self, info: strawberry.Info) -> Organization | None:
        if not may_see(_actor(info), self.buyer_id):
            return None
        row = await info.context.loaders.organization.load(self.buyer_id)
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(description="The devices on the order with their prices.")
    async def lines(self, info: strawberry.Info) -> list[OrderLine]:
        return [OrderLine.from_row(row, self.currency) for row in await self._line_rows(info)]

    @strawberry.field(description="The sum of the lines' prices, computed from the lines.")
    async def total(self, info: strawberry.Info) -> Money:
        rows = await self._line_rows(info)
        return Money.of(sum(row.price_minor for row in rows), self.currency)

    @strawberry.field(description="The parcels that carry the order, oldest first.")
    async def shipments(self, info: strawberry.Info) -> list[Shipment]:
        rows = await info.context.loaders.children(ShipmentRow.order_id).load(self.id)
        return [Shipment.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        rows = await info.context.loaders.by_id(OrderRow).load_many([int(i) for i in node_ids])
        actor = _actor(info)
        return [
            cls.from_row(row) if row is not None and may_see(actor, row.buyer_id) else None
            for row in rows
        ]


@strawberry.type(description="A parcel on its way: the carrier and the tracking number.")
class Shipment(relay.Node):
    id: relay.NodeID[int]
    carrier: str
    tracking_number: str
    tracking_url: str | None
    status: ShipmentStatus
    version: int
    shipped_at: datetime | None
    delivered_at: datetime | None
    order_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: ShipmentRow) -> Self:
        return cls(
            id=row.id,
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            tracking_url=row.tracking_url,
            status=ShipmentStatus(row.status),
            version=row.version,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            order_id=row.order_id,
        )

    @strawberry.field(description="The order this parcel carries.")
    async def order(self, info: strawberry.Info) -> Order | None:
        row = await info.context.loaders.by_id(OrderRow).load(self.order_id)
        if row is None or not may_see(_actor(info), row.buyer_id):
            return None
        return Order.from_row(row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        loaders = info.context.loaders
        rows = await loaders.by_id(ShipmentRow).load_many([int(i) for i in node_ids])
        orders = await loaders.by_id(OrderRow).load_many(
            [row.order_id for row in rows if row is not None]
        )
        buyers = {order.id: order.buyer_id for order in orders if order is not None}
        actor = _actor(info)
        return [
            cls.from_row(row)
            if row is not None and row.order_id in buyers and may_see(actor, buyers[row.order_id])
            else None
            for row in rows
        ]


@strawberry.type
class OrderEdge(relay.Edge[Order]):
    pass


@strawberry.type(description="A page of orders.")
class OrderConnection:
    edges: list[OrderEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many orders match the filter.")


@strawberry.type
class ShipmentEdge(relay.Edge[Shipment]):
    pass


@strawberry.type(description="A page of shipments.")
class ShipmentConnection:
    edges: list[ShipmentEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many shipments match the filter.")


@strawberry.input(description="Narrow a list of orders; every field given must match.")
class OrderFilter:
    status: list[OrderStatus] | None = None
    buyer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Operators only: a buyer sees its own orders whatever this says."
    )


@strawberry.input(description="Narrow a list of shipments; every field given must match.")
class ShipmentFilter:
    status: list[ShipmentStatus] | None = None
    order_id: strawberry.ID | None = None


@strawberry.type
class BuyListingsPayload:
    order: Order


BuyListingsResult = Annotated[
    BuyListingsPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("BuyListingsResult"),
]


@strawberry.type
class ConfirmOrderPayload:
    order: Order


ConfirmOrderResult = Annotated[
    ConfirmOrderPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ConfirmOrderResult"),
]


@strawberry.type
class CancelOrderPayload:
    order: Order


CancelOrderResult = Annotated[
    CancelOrderPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("CancelOrderResult"),
]


@strawberry.type
class CompleteOrderPayload:
    order: Order


CompleteOrderResult = Annotated[
    CompleteOrderPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("CompleteOrderResult"),
]


@strawberry.type
class ShipOrderPayload:
    shipment: Shipment
    order: Order


ShipOrderResult = Annotated[
    ShipOrderPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ShipOrderResult"),
]


@strawberry.type
class MarkDeliveredPayload:
    shipment: Shipment
    order: Order


MarkDeliveredResult = Annotated[
    MarkDeliveredPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("MarkDeliveredResult"),
]


@strawberry.type
class ReportShipmentExceptionPayload:
    shipment: Shipment


ReportShipmentExceptionResult = Annotated[
    ReportShipmentExceptionPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ReportShipmentExceptionResult"),
]
