"""Device queries and warehouse intake."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.domain.errors import DomainError
from app.resolvers.ids import parse_id
from app.schema.devices import (
    Device,
    DeviceConnection,
    DeviceEdge,
    DeviceFilter,
    ReceiveDeviceInput,
    ReceiveDevicePayload,
    ReceiveDeviceResult,
)
from app.schema.errors import error_result, query_error
from app.schema.pagination import decode_cursor, encode_cursor, page_size
from app.services import devices as device_service


def _device_filter(raw: DeviceFilter | None) -> device_service.DeviceFilter:
    if raw is None:
        return device_service.DeviceFilter()
    return device_service.DeviceFilter(
        statuses=tuple(raw.status or ()),
        client_id=parse_id(raw.client_id, "clientId", type_name="Organization"),
        lot_id=parse_id(raw.lot_id, "lotId", type_name="Lot"),
        make=raw.make,
        search=raw.search,
    )


@strawberry.type
class DeviceQueries:
    @strawberry.field(description="One device by its global id.")
    async def device(self, info: strawberry.Info, id: relay.GlobalID) -> Device | None:
        if id.type_name != "Device" or not id.node_id.isdigit():
            return None
        row = await info.context.loaders.device.load(int(id.node_id))
        return Device.from_row(row) if row is not None else None

    @strawberry.field(description="Devices in intake order, a page at a time.")
    async def devices(
        self,
        info: strawberry.Info,
        filter: DeviceFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> DeviceConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            device_filter = _device_filter(filter)
            async with info.context.sessions() as session:
                page = await device_service.list_devices(
                    session, device_filter, after=decode_cursor(after), limit=limit
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            DeviceEdge(cursor=encode_cursor(key), node=Device.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return DeviceConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
        )


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(description="Record a device arriving at the warehouse.")
    async def receive_device(
        self, info: strawberry.Info, input: ReceiveDeviceInput
    ) -> ReceiveDeviceResult:
        try:
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
                info.context.sessions, intake, actor=info.context.actor.ref
            )
        except DomainError as error:
            return error_result(error)
        return ReceiveDevicePayload(device=Device.from_row(row))
