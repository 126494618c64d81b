"""Device queries, warehouse intake, grading and quarantine."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth.policy import Permission, require
from app.domain.errors import DomainError
from app.domain.statuses import BlacklistStatus, CosmeticGrade, LockStatus
from app.resolvers.ids import parse_id
from app.schema.devices import (
    ClearQuarantineInput,
    ClearQuarantinePayload,
    ClearQuarantineResult,
    Device,
    DeviceConnection,
    DeviceFilter,
    DeviceSort,
    Grade,
    QuarantineDeviceInput,
    QuarantineDevicePayload,
    QuarantineDeviceResult,
    ReceiveDeviceInput,
    ReceiveDevicePayload,
    ReceiveDeviceResult,
    RecordGradeInput,
    RecordGradePayload,
    RecordGradeResult,
    device_connection,
)
from app.schema.errors import error_result, query_error
from app.schema.pagination import decode_cursor, encode_cursor, page_size
from app.services import devices as device_service
from app.services import grading


def _device_filter(raw: DeviceFilter | None) -> device_service.DeviceFilter:
    if raw is None:
        return device_service.DeviceFilter()
    return device_service.DeviceFilter(
        statuses=tuple(raw.status or ()),
        client_id=parse_id(raw.client_id, "clientId", type_name="Organization"),
        lot_id=parse_id(raw.lot_id, "lotId", type_name="Lot"),
        make=raw.make,
        model=raw.model,
        storage_gb=raw.storage_gb,
        grades=tuple(CosmeticGrade(grade) for grade in raw.grade or ()),
        search=raw.search,
    )


def _device_id(raw: str) -> int:
    return parse_id(raw, "deviceId", type_name="Device") or 0


@strawberry.type
class DeviceQueries:
    @strawberry.field(
        description="One device by its global id: null if it does not exist or is not yours."
    )
    async def device(self, info: strawberry.Info, id: relay.GlobalID) -> Device | None:
        if id.type_name != "Device" or not id.node_id.isdigit():
            return None
        try:
            async with info.context.reads() as session:
                row = await device_service.get_device(
                    session, int(id.node_id), actor=info.context.actor
                )
        except DomainError as error:
            raise query_error(error) from error
        return Device.from_row(row) if row is not None else None

    @strawberry.field(
        description="Devices a page at a time: operators see all, a client its own; buyers see "
        "devices through listings."
    )
    async def devices(
        self,
        info: strawberry.Info,
        filter: DeviceFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        sort: DeviceSort = DeviceSort.OLDEST,
    ) -> DeviceConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            device_filter = _device_filter(filter)
            async with info.context.reads() as session:
                page = await device_service.list_devices(
                    session,
                    device_filter,
                    after=decode_cursor(after),
                    limit=limit,
                    sort=device_service.DeviceSort(sort.value),
                    actor=info.context.actor,
                )
        except DomainError as error:
            raise query_error(error) from error
        return device_connection(
            page.rows,
            [encode_cursor(key) for key in page.keys],
            has_next=page.has_next,
            has_previous=after is not None,
            total=page.total,
        )


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(description="Record a device arriving at the warehouse.")
    async def receive_device(
        self, info: strawberry.Info, input: ReceiveDeviceInput
    ) -> ReceiveDeviceResult:
        try:
            require(info.context.actor, Permission.RECEIVE_DEVICES)
            intake = device_service.DeviceIntake(
                client_id=parse_id(input.client_id, "clientId", type_name="Organization") or 0,
                lot_id=parse_id(input.lot_id, "lotId", type_name="Lot"),
                make=input.make,
                model=input.model,
                imei=input.imei,
                serial=input.serial,
                storage_gb=input.storage_gb,
                colour=input.colour,
                location=input.location,
            )
            row = await device_service.receive_device(
                info.context.sessions,
                intake,
                actor=info.context.actor.ref,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return ReceiveDevicePayload(device=Device.from_row(row))

    @strawberry.mutation(
        description="Record a test of a device; its newest grade is current. A listed device "
        "that now fails (locked, blacklisted, not wiped) is taken off sale."
    )
    async def record_grade(
        self, info: strawberry.Info, input: RecordGradeInput
    ) -> RecordGradeResult:
        try:
            require(info.context.actor, Permission.GRADE_DEVICES)
            graded = await grading.record_grade(
                info.context.sessions,
                grading.GradeRequest(
                    device_id=_device_id(input.device_id),
                    cosmetic=CosmeticGrade(input.cosmetic),
                    functional_pass=input.functional_pass,
                    data_wiped=input.data_wiped,
                    failed_checks=tuple(input.failed_checks),
                    battery_health_pct=input.battery_health_pct,
                    notes=input.notes,
                    lock_status=LockStatus(input.lock_status) if input.lock_status else None,
                    blacklist_status=(
                        BlacklistStatus(input.blacklist_status) if input.blacklist_status else None
                    ),
                ),
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return RecordGradePayload(
            device=Device.from_row(graded.device),
            grade=Grade.from_row(graded.grade),
            delisted=graded.delisted_listing_id is not None,
        )

    @strawberry.mutation(description="Hold a locked or blacklisted device apart (QUARANTINED).")
    async def quarantine_device(
        self, info: strawberry.Info, input: QuarantineDeviceInput
    ) -> QuarantineDeviceResult:
        try:
            require(info.context.actor, Permission.GRADE_DEVICES)
            row = await grading.quarantine_device(
                info.context.sessions,
                _device_id(input.device_id),
                lock_status=LockStatus(input.lock_status) if input.lock_status else None,
                blacklist_status=(
                    BlacklistStatus(input.blacklist_status) if input.blacklist_status else None
                ),
                reason=input.reason,
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return QuarantineDevicePayload(device=Device.from_row(row))

    @strawberry.mutation(
        description="The quarantined device is now unlocked and clean: back to GRADED."
    )
    async def clear_quarantine(
        self, info: strawberry.Info, input: ClearQuarantineInput
    ) -> ClearQuarantineResult:
        try:
            require(info.context.actor, Permission.GRADE_DEVICES)
            row = await grading.clear_quarantine(
                info.context.sessions,
                _device_id(input.device_id),
                reason=input.reason,
                actor=info.context.actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return ClearQuarantinePayload(device=Device.from_row(row))
