"""Lot queries and mutations: create, receive a batch, reconcile, close."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth.policy import Permission, require
from app.domain.errors import DomainError
from app.resolvers.ids import parse_id
from app.schema.devices import Device
from app.schema.errors import error_result, query_error
from app.schema.lots import (
    CloseLotInput,
    CloseLotPayload,
    CloseLotResult,
    CreateLotInput,
    CreateLotPayload,
    CreateLotResult,
    Lot,
    LotConnection,
    LotEdge,
    LotFilter,
    LotSort,
    ReceiveLotInput,
    ReceiveLotItemError,
    ReceiveLotPayload,
    ReceiveLotRefusedError,
    ReceiveLotResult,
    ReconcileLotInput,
    ReconcileLotPayload,
    ReconcileLotResult,
)
from app.schema.pagination import decode_cursor, encode_cursor, page_info, page_size
from app.services import lot_queries
from app.services import lots as lot_service


def _lot_id(raw: str) -> int:
    return parse_id(raw, "lotId", type_name="Lot") or 0


def _refused(error: lot_service.BatchRefused) -> ReceiveLotRefusedError:
    items = []
    for item in error.items:
        existing = item.error.facts.get("existing_id")
        items.append(
            ReceiveLotItemError(
                index=item.index,
                code=item.error.code,
                message=item.error.message,
                field=item.error.facts.get("field"),
                existing_device_id=(
                    relay.GlobalID("Device", str(existing)) if existing is not None else None
                ),
                duplicate_of_index=item.error.facts.get("duplicate_of_index"),
            )
        )
    return ReceiveLotRefusedError(code=error.code, message=error.message, items=items)


@strawberry.type
class LotQueries:
    @strawberry.field(
        description="One lot by its global id: null if it does not exist or is not yours."
    )
    async def lot(self, info: strawberry.Info, id: relay.GlobalID) -> Lot | None:
        if id.type_name != "Lot" or not id.node_id.isdigit():
            return None
        try:
            async with info.context.reads() as session:
                row = await lot_queries.get_lot(session, int(id.node_id), actor=info.context.actor)
        except DomainError as error:
            raise query_error(error) from error
        return Lot.from_row(row) if row is not None else None

    @strawberry.field(description="Lots a page at a time: operators see all, a client its own.")
    async def lots(
        self,
        info: strawberry.Info,
        filter: LotFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        sort: LotSort = LotSort.NEWEST,
    ) -> LotConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            lot_filter = lot_queries.LotFilter(
                client_id=parse_id(
                    filter.client_id if filter else None, "clientId", type_name="Organization"
                ),
                statuses=tuple(filter.status or ()) if filter else (),
            )
            async with info.context.reads() as session:
                page = await lot_queries.list_lots(
                    session,
                    lot_filter,
                    actor=info.context.actor,
                    after=decode_cursor(after),
                    limit=limit,
                    sort=lot_queries.LotSort(sort.value),
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            LotEdge(cursor=encode_cursor(key), node=Lot.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return LotConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )


@strawberry.type
class LotMutations:
    @strawberry.mutation(description="Open a lot for a client's inbound batch (OPEN).")
    async def create_lot(self, info: strawberry.Info, input: CreateLotInput) -> CreateLotResult:
        try:
            require(info.context.actor, Permission.MANAGE_LOTS)
            row = await lot_service.create_lot(
                info.context.sessions,
                client_id=parse_id(input.client_id, "clientId", type_name="Organization") or 0,
                reference=input.reference,
                expected_count=input.expected_count,
                actor=info.context.actor,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return CreateLotPayload(lot=Lot.from_row(row))

    @strawberry.mutation(
        description="Receive a batch of devices into an OPEN or RECEIVING lot, in one "
        "transaction: if any item is wrong nothing is received and every wrong item is listed."
    )
    async def receive_lot(self, info: strawberry.Info, input: ReceiveLotInput) -> ReceiveLotResult:
        try:
            require(info.context.actor, Permission.RECEIVE_DEVICES)
            receipt = await lot_service.receive_lot(
                info.context.sessions,
                _lot_id(input.lot_id),
                [
                    lot_service.LotItem(
                        make=item.make,
                        model=item.model,
                        imei=item.imei,
                        serial=item.serial,
                        storage_gb=item.storage_gb,
                        colour=item.colour,
                        location=item.location,
                    )
                    for item in input.devices
                ],
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except lot_service.BatchRefused as refused:
            return _refused(refused)
        except DomainError as error:
            return error_result(error)
        return ReceiveLotPayload(
            lot=Lot.from_row(receipt.lot),
            devices=[Device.from_row(row) for row in receipt.devices],
        )

    @strawberry.mutation(description="Settle a lot's count: RECEIVING -> RECONCILED.")
    async def reconcile_lot(
        self, info: strawberry.Info, input: ReconcileLotInput
    ) -> ReconcileLotResult:
        try:
            require(info.context.actor, Permission.MANAGE_LOTS)
            row = await lot_service.reconcile_lot(
                info.context.sessions,
                _lot_id(input.lot_id),
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return ReconcileLotPayload(lot=Lot.from_row(row))

    @strawberry.mutation(description="Close a reconciled lot: RECONCILED -> CLOSED.")
    async def close_lot(self, info: strawberry.Info, input: CloseLotInput) -> CloseLotResult:
        try:
            require(info.context.actor, Permission.MANAGE_LOTS)
            row = await lot_service.close_lot(
                info.context.sessions,
                _lot_id(input.lot_id),
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return CloseLotPayload(lot=Lot.from_row(row))
