"""Lots as the API shows them: counts computed from device rows, and the lot mutations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Self, cast

import strawberry
from sqlalchemy import func, select
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.domain.errors import DomainError, ErrorCode
from app.models import Device as DeviceModel
from app.schema.devices import Device, DeviceConnection, device_connection, sees_client_side
from app.schema.enums import LotStatus
from app.schema.errors import (
    DuplicateDeviceError,
    Error,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
    query_error,
)
from app.schema.organizations import Organization
from app.schema.pagination import decode_cursor, encode_cursor, page_size

if TYPE_CHECKING:
    from app.models import Lot as LotRow

_RECEIVED_COUNT = ("lots", "received_count")


def _received_counts(info: strawberry.Info) -> DataLoader[int, int]:
    """Rule 10: devices per lot counted from the rows, one GROUP BY for the whole request."""
    loaders: dict[Any, DataLoader[Any, Any]] = info.context.loaders._loaders
    if _RECEIVED_COUNT not in loaders:
        sessions = info.context.sessions

        async def load(ids: Sequence[int]) -> list[int]:
            async with sessions() as session:
                rows = await session.execute(
                    select(DeviceModel.lot_id, func.count())
                    .where(DeviceModel.lot_id.in_(ids))
                    .group_by(DeviceModel.lot_id)
                )
                found = {lot_id: int(count) for lot_id, count in rows.all()}
            return [found.get(lot_id, 0) for lot_id in ids]

        loaders[_RECEIVED_COUNT] = DataLoader(load)
    return cast("DataLoader[int, int]", loaders[_RECEIVED_COUNT])


@strawberry.type(description="An inbound batch of devices from a client.")
class Lot(relay.Node):
    id: relay.NodeID[int]
    reference: str
    expected_count: int
    status: LotStatus
    version: int
    created_at: datetime
    client_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: LotRow) -> Self:
        return cls(
            id=row.id,
            reference=row.reference,
            expected_count=row.expected_count,
            status=LotStatus(row.status),
            version=row.version,
            created_at=row.created_at,
            client_id=row.client_id,
        )

    @strawberry.field(description="The client whose batch this is.")
    async def client(self, info: strawberry.Info) -> Organization | None:
        if not sees_client_side(info.context.actor, self.client_id):
            return None
        row = await info.context.loaders.organization.load(self.client_id)
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(description="Devices received into the lot, counted from the devices.")
    async def received_count(self, info: strawberry.Info) -> int:
        return await _received_counts(info).load(self.id)

    @strawberry.field(description="Expected devices not (yet) received: never below zero.")
    async def missing_count(self, info: strawberry.Info) -> int:
        return max(0, self.expected_count - await _received_counts(info).load(self.id))

    @strawberry.field(description="Devices received beyond the expected count.")
    async def extra_count(self, info: strawberry.Info) -> int:
        return max(0, await _received_counts(info).load(self.id) - self.expected_count)

    @strawberry.field(
        description="The lot's devices in intake order. For large lots, page through "
        "`devices(filter: {lotId})` instead: this loads the lot's devices in one batch."
    )
    async def devices(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> DeviceConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            key = decode_cursor(after)
            if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
                raise DomainError(
                    ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field="after"
                )
        except DomainError as error:
            raise query_error(error) from error
        rows = await info.context.loaders.children(DeviceModel.lot_id).load(self.id)
        start = [row for row in rows if key is None or row.id > key[0]]
        page = start[:limit]
        return device_connection(
            page,
            [encode_cursor([row.id]) for row in page],
            has_next=len(start) > limit,
            has_previous=after is not None,
            total=len(rows),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        """By global id: only lots the actor may see (operators, the lot's client)."""
        actor = info.context.actor
        rows = await info.context.loaders.lot.load_many([int(node_id) for node_id in node_ids])
        return [
            cls.from_row(row)
            if row is not None and sees_client_side(actor, row.client_id)
            else None
            for row in rows
        ]


@strawberry.type
class LotEdge(relay.Edge[Lot]):
    pass


@strawberry.type(description="A page of lots.")
class LotConnection:
    edges: list[LotEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many lots match the filter.")


@strawberry.enum(description="The order of a list of lots.")
class LotSort(Enum):
    NEWEST = "NEWEST"
    OLDEST = "OLDEST"
    REFERENCE = "REFERENCE"


@strawberry.input(description="Narrow a list of lots; every field given must match.")
class LotFilter:
    client_id: strawberry.ID | None = None
    status: list[LotStatus] | None = None


@strawberry.input(description="Open a lot for a client's inbound batch.")
class CreateLotInput:
    client_id: strawberry.ID
    reference: str = strawberry.field(description="Unique per client, e.g. the client's ASN.")
    expected_count: int
    idempotency_key: str | None = None


@strawberry.type
class CreateLotPayload:
    lot: Lot


CreateLotResult = Annotated[
    CreateLotPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("CreateLotResult"),
]


@strawberry.input(description="One device of a batch: its client and lot come from the lot.")
class LotDeviceInput:
    make: str
    model: str
    imei: str | None = None
    serial: str | None = None
    storage_gb: int | None = None
    colour: str | None = None
    location: str | None = None


@strawberry.input(description="A batch of devices arriving for a lot, received all or nothing.")
class ReceiveLotInput:
    lot_id: strawberry.ID
    devices: list[LotDeviceInput]
    expected_version: int | None = strawberry.field(
        default=None, description="The lot version you saw; STALE if it changed."
    )
    idempotency_key: str | None = None


@strawberry.type
class ReceiveLotPayload:
    lot: Lot
    devices: list[Device] = strawberry.field(
        description="The devices received, in the order of the input."
    )


@strawberry.type(description="Why one item of a batch was refused.")
class ReceiveLotItemError:
    index: int = strawberry.field(description="The item's position in the input, from 0.")
    code: ErrorCode
    message: str
    field: str | None
    existing_device_id: relay.GlobalID | None = strawberry.field(
        description="The device already received with this IMEI or serial."
    )
    duplicate_of_index: int | None = strawberry.field(
        description="The earlier item of this batch with the same IMEI or serial."
    )


@strawberry.type(
    description="Some items of the batch are wrong, so nothing was received: every wrong item "
    "is listed, fix them and send the batch again."
)
class ReceiveLotRefusedError(Error):
    items: list[ReceiveLotItemError]


ReceiveLotResult = Annotated[
    ReceiveLotPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError
    | ReceiveLotRefusedError,
    strawberry.union("ReceiveLotResult"),
]


@strawberry.input(description="Settle a lot's count: RECEIVING -> RECONCILED.")
class ReconcileLotInput:
    lot_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.type
class ReconcileLotPayload:
    lot: Lot


ReconcileLotResult = Annotated[
    ReconcileLotPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ReconcileLotResult"),
]


@strawberry.input(description="Close a reconciled lot: RECONCILED -> CLOSED.")
class CloseLotInput:
    lot_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.type
class CloseLotPayload:
    lot: Lot


CloseLotResult = Annotated[
    CloseLotPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("CloseLotResult"),
]
