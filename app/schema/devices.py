"""Devices and grades as the API shows them, with the inputs and results of intake."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

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

if TYPE_CHECKING:
    from app.models import Device as DeviceRow
    from app.models import Grade as GradeRow


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
            current_grade_id=row.current_grade_id,
        )

    @strawberry.field(description="The client that consigned the device.")
    async def client(self, info: strawberry.Info) -> Organization | None:
        row = await info.context.loaders.organization.load(self.client_id)
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(description="The newest grade, if the device has been tested.")
    async def current_grade(self, info: strawberry.Info) -> Grade | None:
        if self.current_grade_id is None:
            return None
        row = await info.context.loaders.grade.load(self.current_grade_id)
        return Grade.from_row(row) if row is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        ids = [int(node_id) for node_id in node_ids]
        rows = await info.context.loaders.device.load_many(ids)
        return [cls.from_row(row) if row is not None else None for row in rows]


@strawberry.type
class DeviceEdge(relay.Edge[Device]):
    pass


@strawberry.type(description="A page of devices.")
class DeviceConnection:
    edges: list[DeviceEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many devices match the filter.")


@strawberry.input(description="Narrow a list of devices; every field given must match.")
class DeviceFilter:
    status: list[DeviceStatus] | None = None
    client_id: strawberry.ID | None = None
    lot_id: strawberry.ID | None = None
    make: str | None = None
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
