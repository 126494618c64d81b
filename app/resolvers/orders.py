"""Order and shipment queries, and the trade's mutations: buy, confirm, ship, deliver, close.

Thin: parse the ids, call one service (which checks the permission and the status machine),
map the result. Refusals come back as the mutation's union error; queries raise them with
``extensions.code``.
"""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.domain.errors import DomainError, ErrorCode
from app.resolvers.ids import parse_id
from app.schema.errors import error_result, query_error
from app.schema.order_inputs import (
    BuyListingsInput,
    CancelOrderInput,
    CompleteOrderInput,
    ConfirmOrderInput,
    MarkDeliveredInput,
    ReportShipmentExceptionInput,
    ShipOrderInput,
)
from app.schema.orders import (
    BuyListingsPayload,
    BuyListingsResult,
    CancelOrderPayload,
    CancelOrderResult,
    CompleteOrderPayload,
    CompleteOrderResult,
    ConfirmOrderPayload,
    ConfirmOrderResult,
    MarkDeliveredPayload,
    MarkDeliveredResult,
    Order,
    OrderConnection,
    OrderEdge,
    OrderFilter,
    OrderSort,
    ReportShipmentExceptionPayload,
    ReportShipmentExceptionResult,
    Shipment,
    ShipmentConnection,
    ShipmentEdge,
    ShipmentFilter,
    ShipOrderPayload,
    ShipOrderResult,
)
from app.schema.pagination import decode_cursor, encode_cursor, page_info, page_size
from app.services import order_queries
from app.services import orders as order_service
from app.services import shipments as shipment_service


def _required_id(raw: strawberry.ID, field: str, type_name: str) -> int:
    parsed = parse_id(raw, field, type_name=type_name)
    if parsed is None:  # pragma: no cover - GraphQL refuses a missing non-null argument
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is required.", field=field)
    return parsed


def _node_id(id: relay.GlobalID, type_name: str) -> int | None:
    if id.type_name != type_name or not id.node_id.isdigit():
        return None
    return int(id.node_id)


@strawberry.type
class OrderQueries:
    @strawberry.field(description="One order by its global id; null if you may not see it.")
    async def order(self, info: strawberry.Info, id: relay.GlobalID) -> Order | None:
        order_id = _node_id(id, "Order")
        try:
            order_queries.visible_buyer(info.context.actor)
            if order_id is None:
                return None
            async with info.context.reads() as session:
                row = await order_queries.get_order(session, order_id, actor=info.context.actor)
        except DomainError as error:
            raise query_error(error) from error
        return Order.from_row(row) if row is not None else None

    @strawberry.field(
        description="Orders, newest first unless sorted otherwise: operators see all, a buyer "
        "its own."
    )
    async def orders(
        self,
        info: strawberry.Info,
        filter: OrderFilter | None = None,
        sort: OrderSort = OrderSort.NEWEST,
        first: int | None = None,
        after: str | None = None,
    ) -> OrderConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            order_filter = order_queries.OrderFilter(
                statuses=tuple(filter.status or ()) if filter else (),
                buyer_id=parse_id(filter.buyer_id, "buyerId", type_name="Organization")
                if filter
                else None,
            )
            async with info.context.reads() as session:
                page = await order_queries.list_orders(
                    session,
                    order_filter,
                    actor=info.context.actor,
                    newest_first=sort is OrderSort.NEWEST,
                    after=decode_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            OrderEdge(cursor=encode_cursor(key), node=Order.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return OrderConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )

    @strawberry.field(description="One shipment by its global id; null if you may not see it.")
    async def shipment(self, info: strawberry.Info, id: relay.GlobalID) -> Shipment | None:
        shipment_id = _node_id(id, "Shipment")
        try:
            order_queries.visible_buyer(info.context.actor)
            if shipment_id is None:
                return None
            async with info.context.reads() as session:
                row = await shipment_service.get_shipment(
                    session, shipment_id, actor=info.context.actor
                )
        except DomainError as error:
            raise query_error(error) from error
        return Shipment.from_row(row) if row is not None else None

    @strawberry.field(description="Shipments, newest first: operators see all, a buyer its own.")
    async def shipments(
        self,
        info: strawberry.Info,
        filter: ShipmentFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ShipmentConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            shipment_filter = shipment_service.ShipmentFilter(
                statuses=tuple(filter.status or ()) if filter else (),
                order_id=parse_id(filter.order_id, "orderId", type_name="Order")
                if filter
                else None,
            )
            async with info.context.reads() as session:
                page = await shipment_service.list_shipments(
                    session,
                    shipment_filter,
                    actor=info.context.actor,
                    after=decode_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            ShipmentEdge(cursor=encode_cursor(key), node=Shipment.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return ShipmentConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )


@strawberry.type
class OrderMutations:
    @strawberry.mutation(
        description="Buy one or several listings at their price: one order, all or nothing. "
        "Of concurrent buyers of a listing exactly one wins; the others get NOT_AVAILABLE."
    )
    async def buy_listings(
        self,
        info: strawberry.Info,
        input: BuyListingsInput,
    ) -> BuyListingsResult:
        try:
            row = await order_service.buy_listings(
                info.context.sessions,
                listing_ids=[
                    _required_id(raw, "listingIds", "Listing") for raw in input.listing_ids
                ],
                actor=info.context.actor,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return BuyListingsPayload(order=Order.from_row(row))

    @strawberry.mutation(description="The order is paid or invoiced: its devices are sold.")
    async def confirm_order(
        self,
        info: strawberry.Info,
        input: ConfirmOrderInput,
    ) -> ConfirmOrderResult:
        try:
            row = await order_service.confirm_order(
                info.context.sessions,
                order_id=_required_id(input.order_id, "orderId", "Order"),
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return ConfirmOrderPayload(order=Order.from_row(row))

    @strawberry.mutation(
        description="Cancel a pending or confirmed order: its devices are for sale again. "
        "A buyer may cancel its own order while it is pending."
    )
    async def cancel_order(
        self,
        info: strawberry.Info,
        input: CancelOrderInput,
    ) -> CancelOrderResult:
        try:
            row = await order_service.cancel_order(
                info.context.sessions,
                order_id=_required_id(input.order_id, "orderId", "Order"),
                reason=input.reason,
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return CancelOrderPayload(order=Order.from_row(row))

    @strawberry.mutation(
        description="Record the carrier and tracking number: this ships the order (rule 6)."
    )
    async def ship_order(
        self,
        info: strawberry.Info,
        input: ShipOrderInput,
    ) -> ShipOrderResult:
        try:
            row = await shipment_service.ship_order(
                info.context.sessions,
                order_id=_required_id(input.order_id, "orderId", "Order"),
                carrier=input.carrier,
                tracking_number=input.tracking_number,
                tracking_url=input.tracking_url,
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
            order = await order_service.load_order(info.context.sessions, row.order_id)
        except DomainError as error:
            return error_result(error)
        return ShipOrderPayload(shipment=Shipment.from_row(row), order=Order.from_row(order))

    @strawberry.mutation(
        description="The parcel arrived. Name the order (its newest shipment) or the shipment; "
        "expectedVersion is the version of the one named."
    )
    async def mark_delivered(
        self,
        info: strawberry.Info,
        input: MarkDeliveredInput,
    ) -> MarkDeliveredResult:
        try:
            row = await shipment_service.mark_delivered(
                info.context.sessions,
                order_id=parse_id(input.order_id, "orderId", type_name="Order"),
                shipment_id=parse_id(input.shipment_id, "shipmentId", type_name="Shipment"),
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
            order = await order_service.load_order(info.context.sessions, row.order_id)
        except DomainError as error:
            return error_result(error)
        return MarkDeliveredPayload(shipment=Shipment.from_row(row), order=Order.from_row(order))

    @strawberry.mutation(
        description="The carrier reports a problem with a parcel in transit; the buyer sees it."
    )
    async def report_shipment_exception(
        self,
        info: strawberry.Info,
        input: ReportShipmentExceptionInput,
    ) -> ReportShipmentExceptionResult:
        try:
            row = await shipment_service.report_exception(
                info.context.sessions,
                shipment_id=_required_id(input.shipment_id, "shipmentId", "Shipment"),
                note=input.note,
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return ReportShipmentExceptionPayload(shipment=Shipment.from_row(row))

    @strawberry.mutation(description="Close a delivered order.")
    async def complete_order(
        self,
        info: strawberry.Info,
        input: CompleteOrderInput,
    ) -> CompleteOrderResult:
        try:
            row = await order_service.complete_order(
                info.context.sessions,
                order_id=_required_id(input.order_id, "orderId", "Order"),
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return CompleteOrderPayload(order=Order.from_row(row))
