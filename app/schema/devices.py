"""Devices and grades as the API shows them, with the inputs and results of intake and grading.

Who sees what of a device: operators everything; the client that consigned it its device,
lot and grades; anyone else who is shown the device (a buyer, through a listing) its specs and
grades but never its client or lot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from app.domain.actors import Actor
from app.schema.enums import BlacklistStatus, CosmeticGrade, DeviceStatus, LockStatus
from app.schema.errors import (
    DuplicateDeviceError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
)
from app.schema.organizations import Organization
from app.schema.pagination import page_info

if TYPE_CHECKING:
    from app.models import Device as DeviceRow
    from app.models import Grade as GradeRow
    from app.schema.lots import Lot


def sees_client_side(actor: Actor, client_id: int) -> bool:
    """Operators, and the client itself: who may see a device's client and lot."""
    return actor.is_operator or (actor.is_client and actor.organization_id == client_id)


@strawberry.type(description="One test of a device; the newest is its current grade.")
class Grade:
    id: strawberry.ID
    cosmetic: CosmeticGrade
    functional_pass: bool
    failed_checks: list[str]
    battery_health_pct: int | None
    data_wiped: bool
    notes: str | None
    graded_at: datetime

    @classmethod
    def from_row(cls, row: GradeRow) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            cosmetic=CosmeticGrade(row.cosmetic),
            functional_pass=row.functional_pass,
            failed_checks=list(row.failed_checks),
            battery_health_pct=row.battery_health_pct,
            data_wiped=row.data_wiped,
            notes=row.notes,
            graded_at=row.graded_at,
        )


@strawberry.type(description="A used phone, tablet or laptop in the refurbisher's care.")
class Device(relay.Node):
    id: relay.NodeID[int]
    imei: str | None
    serial: str | None
    make: str
    model: str
    storage_gb: int | None
    colour: str | None
    location: str | None
    lock_status: LockStatus
    blacklist_status: BlacklistStatus
    status: DeviceStatus
    version: int
    received_at: datetime
    client_id: strawberry.Private[int]
    lot_id: strawberry.Private[int | None]
    current_grade_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: DeviceRow) -> Self:
        return cls(
            id=row.id,
            imei=row.imei,
            serial=row.serial,
            make=row.make,
            model=row.model,
            storage_gb=row.storage_gb,
            colour=row.colour,
            location=row.location,
            lock_status=LockStatus(row.lock_status),
            blacklist_status=BlacklistStatus(row.blacklist_status),
            status=DeviceStatus(row.status),
            version=row.version,
            received_at=row.received_at,
            client_id=row.client_id,
            lot_id=row.lot_id,
            current_grade_id=row.current_grade_id,
        )

    @strawberry.field(
        description="The client that consigned the device: operators and that client only."
    )
    async def client(self, info: strawberry.Info) -> Organization | None:
        if not sees_client_side(info.context.actor, self.client_id):
            return None
        row = await info.context.loaders.organization.load(self.client_id)
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(description="The inbound lot it came in: operators and its client only.")
    async def lot(
        self, info: strawberry.Info
    ) -> Annotated[Lot, strawberry.lazy("app.schema.lots")] | None:
        from app.schema.lots import Lot

        if self.lot_id is None or not sees_client_side(info.context.actor, self.client_id):
            return None
        row = await info.context.loaders.lot.load(self.lot_id)
        return Lot.from_row(row) if row is not None else None

    @strawberry.field(description="The newest grade, if the device has been tested.")
    async def current_grade(self, info: strawberry.Info) -> Grade | None:
        if self.current_grade_id is None:
            return None
        row = await info.context.loaders.grade.load(self.current_grade_id)
        return Grade.from_row(row) if row is not None else None

    @strawberry.field(description="Every test of the device, newest first.")
    async def grades(self, info: strawberry.Info) -> list[Grade]:
        from app.models import Grade as GradeModel

        rows = await info.context.loaders.children(GradeModel.device_id).load(self.id)
        ordered = sorted(rows, key=lambda row: (row.graded_at, row.id), reverse=True)
        return [Grade.from_row(row) for row in ordered]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        """By global id: only devices the actor may see (operators, the device's client)."""
        actor = info.context.actor
        ids = [int(node_id) for node_id in node_ids]
        rows = await info.context.loaders.device.load_many(ids)
        return [
            cls.from_row(row)
            if row is not None and sees_client_side(actor, row.client_id)
            else None
            for row in rows
        ]


@strawberry.type
class DeviceEdge(relay.Edge[Device]):
    pass


@strawberry.type(description="A page of devices.")
class DeviceConnection:
    edges: list[DeviceEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many devices match the filter.")


@strawberry.enum(description="The order of a list of devices.")
class DeviceSort(Enum):
    OLDEST = "OLDEST"
    NEWEST = "NEWEST"
    MAKE_MODEL = "MAKE_MODEL"


@strawberry.input(description="Narrow a list of devices; every field given must match.")
class DeviceFilter:
    status: list[DeviceStatus] | None = None
    client_id: strawberry.ID | None = None
    lot_id: strawberry.ID | None = None
    make: str | None = strawberry.field(default=None, description="Exact, any case.")
    model: str | None = strawberry.field(default=None, description="Exact, any case.")
    storage_gb: int | None = None
    grade: list[CosmeticGrade] | None = strawberry.field(
        default=None, description="The cosmetic grade of the current grade."
    )
    search: str | None = strawberry.field(
        default=None, description="Part of the make, model, IMEI or serial."
    )


@strawberry.input(description="A device arriving at the warehouse: an IMEI or a serial is needed.")
class ReceiveDeviceInput:
    client_id: strawberry.ID
    make: str
    model: str
    imei: str | None = strawberry.field(
        default=None, description="15 digits with a valid check digit; spaces and dashes allowed."
    )
    serial: str | None = None
    storage_gb: int | None = None
    colour: str | None = None
    lot_id: strawberry.ID | None = None
    location: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.type
class ReceiveDevicePayload:
    device: Device


ReceiveDeviceResult = Annotated[
    ReceiveDevicePayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ReceiveDeviceResult"),
]


# --- Grading and quarantine ----------------------------------------------------------------


@strawberry.input(description="The result of testing a device.")
class RecordGradeInput:
    device_id: strawberry.ID
    cosmetic: CosmeticGrade
    functional_pass: bool
    data_wiped: bool
    failed_checks: list[str] = strawberry.field(
        default_factory=list, description="What failed; empty when the device passes."
    )
    battery_health_pct: int | None = None
    notes: str | None = None
    lock_status: LockStatus | None = strawberry.field(
        default=None, description="As found by the test; left unchanged when not given."
    )
    blacklist_status: BlacklistStatus | None = strawberry.field(
        default=None, description="As found by the test; left unchanged when not given."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="The device version you saw; STALE if it changed."
    )
    idempotency_key: str | None = None


@strawberry.type
class RecordGradePayload:
    device: Device
    grade: Grade
    delisted: bool = strawberry.field(
        description="The device was on sale and failed: its listing was withdrawn."
    )


RecordGradeResult = Annotated[
    RecordGradePayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("RecordGradeResult"),
]


@strawberry.input(description="Hold a locked or blacklisted device apart.")
class QuarantineDeviceInput:
    device_id: strawberry.ID
    reason: str
    lock_status: LockStatus | None = None
    blacklist_status: BlacklistStatus | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.type
class QuarantineDevicePayload:
    device: Device


QuarantineDeviceResult = Annotated[
    QuarantineDevicePayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("QuarantineDeviceResult"),
]


@strawberry.input(
    description="The device is now unlocked and clean: it goes back to GRADED with those flags."
)
class ClearQuarantineInput:
    device_id: strawberry.ID
    reason: str | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.type
class ClearQuarantinePayload:
    device: Device


ClearQuarantineResult = Annotated[
    ClearQuarantinePayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("ClearQuarantineResult"),
]


def device_connection(
    rows: list[DeviceRow], keys: list[str], *, has_next: bool, has_previous: bool, total: int
) -> DeviceConnection:
    """A connection from rows and their (encoded) cursors."""
    edges = [
        DeviceEdge(cursor=cursor, node=Device.from_row(row))
        for row, cursor in zip(rows, keys, strict=True)
    ]
    return DeviceConnection(
        edges=edges,
        page_info=page_info(
            [edge.cursor for edge in edges], has_next=has_next, has_previous=has_previous
        ),
        total_count=total,
    )
