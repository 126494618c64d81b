"""Settlements as the API shows them: lines with the device and its amounts, never the buyer.

Totals and the line count are computed from the line rows when read (rule 10); the lines come
through one batched loader per request, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Self

import strawberry
from strawberry import relay

from app.domain.settlements import SettlementLineAmounts, may_view, totals
from app.domain.statuses import SettlementStatus
from app.models import Settlement as SettlementRow
from app.models import SettlementLine as SettlementLineRow
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
from app.schema.money import Money
from app.schema.organizations import Organization

strawberry.enum(SettlementStatus, description="DRAFT -> APPROVED -> PAID; DRAFT|APPROVED -> VOID.")


def _amounts(row: SettlementLineRow) -> SettlementLineAmounts:
    return SettlementLineAmounts(
        gross=row.gross_minor,
        commission=row.commission_minor,
        fees=row.fees_minor,
        net=row.net_minor,
    )


async def _line_rows(info: strawberry.Info, settlement_id: int) -> list[SettlementLineRow]:
    rows: list[SettlementLineRow] = await info.context.loaders.children(
        SettlementLineRow.settlement_id
    ).load(settlement_id)
    return rows


def _visible(info: strawberry.Info, row: SettlementRow) -> bool:
    return may_view(info.context.actor, row.client_id)


@strawberry.type(description="One sold device in a settlement: the device and its amounts.")
class SettlementLine:
    id: strawberry.ID
    gross: Money = strawberry.field(description="The sale price.")
    commission: Money = strawberry.field(description="gross x commission, rounded half up.")
    fees: Money = strawberry.field(description="The fee per device.")
    net: Money = strawberry.field(
        description="gross - commission - fees; negative when the client owes the fee."
    )
    device_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: SettlementLineRow, currency: str) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            gross=Money.of(row.gross_minor, currency),
            commission=Money.of(row.commission_minor, currency),
            fees=Money.of(row.fees_minor, currency),
            net=Money.of(row.net_minor, currency),
            device_id=row.device_id,
        )

    @strawberry.field(description="The device that was sold.")
    async def device(self, info: strawberry.Info) -> Device | None:
        row = await info.context.loaders.device.load(self.device_id)
        return Device.from_row(row) if row is not None else None


@strawberry.type(description="The sums of a settlement's lines.")
class SettlementTotals:
    gross: Money
    commission: Money
    fees: Money
    net: Money


@strawberry.type(description="What a client is owed for its devices delivered in a period.")
class Settlement(relay.Node):
    id: relay.NodeID[int]
    period_start: date
    period_end: date = strawberry.field(description="Inclusive: whole days in UTC.")
    currency: str
    status: SettlementStatus
    version: int
    created_at: datetime
    client_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: SettlementRow) -> Self:
        return cls(
            id=row.id,
            period_start=row.period_start,
            period_end=row.period_end,
            currency=row.currency,
            status=SettlementStatus(row.status),
            version=row.version,
            created_at=row.created_at,
            client_id=row.client_id,
        )

    @strawberry.field(description="The client being paid.")
    async def client(self, info: strawberry.Info) -> Organization | None:
        row = await info.context.loaders.organization.load(self.client_id)
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(description="One line per settled device, in the order they were written.")
    async def lines(self, info: strawberry.Info) -> list[SettlementLine]:
        rows = await _line_rows(info, self.id)
        return [SettlementLine.from_row(row, self.currency) for row in rows]

    @strawberry.field(description="The sums of the lines, computed from them.")
    async def totals(self, info: strawberry.Info) -> SettlementTotals:
        summed = totals(_amounts(row) for row in await _line_rows(info, self.id))
        return SettlementTotals(
            gross=Money.of(summed.gross, self.currency),
            commission=Money.of(summed.commission, self.currency),
            fees=Money.of(summed.fees, self.currency),
            net=Money.of(summed.net, self.currency),
        )

    @strawberry.field(description="How many devices the settlement holds.")
    async def line_count(self, info: strawberry.Info) -> int:
        return len(await _line_rows(info, self.id))

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        rows = await info.context.loaders.by_id(SettlementRow).load_many([int(i) for i in node_ids])
        return [
            cls.from_row(row) if row is not None and _visible(info, row) else None for row in rows
        ]


@strawberry.type
class SettlementEdge(relay.Edge[Settlement]):
    pass


@strawberry.type(description="A page of settlements, newest first.")
class SettlementConnection:
    edges: list[SettlementEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many settlements match the filter.")


@strawberry.input(description="Narrow a list of settlements; every field given must match.")
class SettlementFilter:
    client_id: strawberry.ID | None = None
    status: list[SettlementStatus] | None = None


@strawberry.input(description="Settle a client's devices delivered in a period.")
class GenerateSettlementInput:
    client_id: strawberry.ID
    period_start: date
    period_end: date = strawberry.field(description="Inclusive: whole days in UTC.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first settlement."
    )


@strawberry.input(description="Move a settlement on: approve, pay or void it.")
class SettlementActionInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="Refused as STALE if the settlement changed since."
    )
    idempotency_key: str | None = None


@strawberry.type
class GenerateSettlementPayload:
    settlement: Settlement


@strawberry.type
class ApproveSettlementPayload:
    settlement: Settlement


@strawberry.type
class PaySettlementPayload:
    settlement: Settlement


@strawberry.type
class VoidSettlementPayload:
    settlement: Settlement


GenerateSettlementResult = Annotated[
    GenerateSettlementPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("GenerateSettlementResult"),
]
ApproveSettlementResult = Annotated[
    ApproveSettlementPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ApproveSettlementResult"),
]
PaySettlementResult = Annotated[
    PaySettlementPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("PaySettlementResult"),
]
VoidSettlementResult = Annotated[
    VoidSettlementPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("VoidSettlementResult"),
]
