"""Settlement queries and mutations: parse, call the service, map the result."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth.policy import Permission, require
from app.domain.errors import DomainError, ErrorCode
from app.domain.settlements import ensure_may_view, may_view
from app.domain.statuses import SettlementStatus
from app.models import Settlement as SettlementRow
from app.resolvers.ids import parse_id
from app.schema.errors import error_result, query_error
from app.schema.pagination import decode_cursor, encode_cursor, page_info, page_size
from app.schema.settlements import (
    ApproveSettlementPayload,
    ApproveSettlementResult,
    GenerateSettlementInput,
    GenerateSettlementPayload,
    GenerateSettlementResult,
    PaySettlementPayload,
    PaySettlementResult,
    Settlement,
    SettlementActionInput,
    SettlementConnection,
    SettlementEdge,
    SettlementFilter,
    VoidSettlementPayload,
    VoidSettlementResult,
)
from app.services import settlement_queries
from app.services import settlements as settlement_service


def _settlement_filter(raw: SettlementFilter | None) -> settlement_queries.SettlementFilter:
    if raw is None:
        return settlement_queries.SettlementFilter()
    return settlement_queries.SettlementFilter(
        client_id=parse_id(raw.client_id, "clientId", type_name="Organization"),
        statuses=tuple(raw.status or ()),
    )


def _settlement_id(raw: strawberry.ID) -> int:
    settlement_id = parse_id(raw, "id", type_name="Settlement")
    if settlement_id is None:  # pragma: no cover - the schema makes it required
        raise DomainError(ErrorCode.INVALID_INPUT, "id is required.", field="id")
    return settlement_id


async def _move(
    info: strawberry.Info, input: SettlementActionInput, target: SettlementStatus
) -> SettlementRow:
    moves = {
        SettlementStatus.APPROVED: settlement_service.approve_settlement,
        SettlementStatus.PAID: settlement_service.pay_settlement,
        SettlementStatus.VOID: settlement_service.void_settlement,
    }
    require(info.context.actor, Permission.SETTLE)
    return await moves[target](
        info.context.sessions,
        _settlement_id(input.id),
        actor=info.context.actor,
        expected_version=input.expected_version,
        idempotency_key=input.idempotency_key,
    )


@strawberry.type
class SettlementQueries:
    @strawberry.field(
        description="One settlement by its global id; null if it does not exist or is not yours."
    )
    async def settlement(self, info: strawberry.Info, id: relay.GlobalID) -> Settlement | None:
        try:
            ensure_may_view(info.context.actor)
        except DomainError as error:
            raise query_error(error) from error
        if id.type_name != "Settlement" or not id.node_id.isdigit():
            return None
        row = await info.context.loaders.by_id(SettlementRow).load(int(id.node_id))
        if row is None or not may_view(info.context.actor, row.client_id):
            return None
        return Settlement.from_row(row)

    @strawberry.field(description="Settlements, newest first, a page at a time.")
    async def settlements(
        self,
        info: strawberry.Info,
        filter: SettlementFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SettlementConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            settlement_filter = _settlement_filter(filter)
            async with info.context.reads() as session:
                page = await settlement_queries.list_settlements(
                    session,
                    settlement_filter,
                    actor=info.context.actor,
                    after=decode_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            SettlementEdge(cursor=encode_cursor(key), node=Settlement.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return SettlementConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )


@strawberry.type
class SettlementMutations:
    @strawberry.mutation(
        description="Settle a client's devices delivered in a period (whole UTC days): a DRAFT."
    )
    async def generate_settlement(
        self, info: strawberry.Info, input: GenerateSettlementInput
    ) -> GenerateSettlementResult:
        try:
            require(info.context.actor, Permission.SETTLE)
            row = await settlement_service.generate_settlement(
                info.context.sessions,
                client_id=parse_id(input.client_id, "clientId", type_name="Organization") or 0,
                period_start=input.period_start,
                period_end=input.period_end,
                actor=info.context.actor,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return GenerateSettlementPayload(settlement=Settlement.from_row(row))

    @strawberry.mutation(description="DRAFT -> APPROVED.")
    async def approve_settlement(
        self, info: strawberry.Info, input: SettlementActionInput
    ) -> ApproveSettlementResult:
        try:
            row = await _move(info, input, SettlementStatus.APPROVED)
        except DomainError as error:
            return error_result(error)
        return ApproveSettlementPayload(settlement=Settlement.from_row(row))

    @strawberry.mutation(description="APPROVED -> PAID.")
    async def pay_settlement(
        self, info: strawberry.Info, input: SettlementActionInput
    ) -> PaySettlementResult:
        try:
            row = await _move(info, input, SettlementStatus.PAID)
        except DomainError as error:
            return error_result(error)
        return PaySettlementPayload(settlement=Settlement.from_row(row))

    @strawberry.mutation(
        description="DRAFT|APPROVED -> VOID: its devices may be settled again by a new generation."
    )
    async def void_settlement(
        self, info: strawberry.Info, input: SettlementActionInput
    ) -> VoidSettlementResult:
        try:
            row = await _move(info, input, SettlementStatus.VOID)
        except DomainError as error:
            return error_result(error)
        return VoidSettlementPayload(settlement=Settlement.from_row(row))
