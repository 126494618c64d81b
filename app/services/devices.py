"""Warehouse intake and device look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import DomainError, ErrorCode
from app.domain.identifiers import normalize_imei, normalize_serial
from app.domain.statuses import DeviceStatus, LotStatus, OrganizationKind
from app.models import Device, Lot, Organization
from app.services.events import append_event, client_audience
from app.services.paging import Page, paginate


@dataclass(frozen=True, slots=True)
class DeviceIntake:
    client_id: int
    make: str
    model: str
    imei: str | None = None
    serial: str | None = None
    storage_gb: int | None = None
    colour: str | None = None
    lot_id: int | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    statuses: tuple[DeviceStatus, ...] = ()
    client_id: int | None = None
    lot_id: int | None = None
    make: str | None = None
    search: str | None = None


def _clean_text(value: str, field: str, max_length: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > max_length:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{field} must have 1 to {max_length} characters.",
            field=field,
        )
    return cleaned


async def receive_device(
    sessions: async_sessionmaker[AsyncSession], intake: DeviceIntake, *, actor: str
) -> Device:
    """Record a device arriving at the warehouse, validated before anything is written."""
    imei = normalize_imei(intake.imei) if intake.imei else None
    serial = normalize_serial(intake.serial) if intake.serial else None
    if imei is None and serial is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A device needs an IMEI or a serial number.", field="imei"
        )
    make = _clean_text(intake.make, "make", 100)
    model = _clean_text(intake.model, "model", 200)
    if intake.storage_gb is not None and not 0 < intake.storage_gb <= 65536:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Storage must be between 1 and 65536 GB.", field="storageGb"
        )

    async with sessions.begin() as session:
        client = await session.get(Organization, intake.client_id)
        if client is None or client.kind is not OrganizationKind.CLIENT:
            raise DomainError(ErrorCode.UNKNOWN_CLIENT, "No client has that id.", field="clientId")
        if intake.lot_id is not None:
            lot = await session.get(Lot, intake.lot_id, with_for_update=True)
            if lot is None or lot.client_id != client.id:
                raise DomainError(
                    ErrorCode.UNKNOWN_LOT, "That client has no lot with that id.", field="lotId"
                )
            if lot.status not in (LotStatus.OPEN, LotStatus.RECEIVING):
                raise DomainError(
                    ErrorCode.INVALID_TRANSITION,
                    f"Lot {lot.reference} is {lot.status.value}: it takes no more devices.",
                    current_status=lot.status.value,
                    current_version=lot.version,
                )
            if lot.status is LotStatus.OPEN:
                lot.status = LotStatus.RECEIVING
        await _refuse_duplicate(session, imei=imei, serial=serial)
        device = Device(
            imei=imei,
            serial=serial,
            make=make,
            model=model,
            storage_gb=intake.storage_gb,
            colour=intake.colour.strip() if intake.colour else None,
            client_id=client.id,
            lot_id=intake.lot_id,
            location=intake.location.strip() if intake.location else None,
            status=DeviceStatus.RECEIVED,
        )
        session.add(device)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Two intakes of one IMEI at the same moment: the unique index decides.
            raise _duplicate_error(imei, serial) from exc
        append_event(
            session,
            type="device.received",
            entity_type="Device",
            entity_id=device.id,
            entity_version=device.version,
            changes={
                "status": device.status,
                "imei": imei,
                "serial": serial,
                "make": make,
                "model": model,
                "lotId": device.lot_id,
            },
            audiences=[client_audience(client.id)],
            actor=actor,
        )
    return device


async def _refuse_duplicate(session: AsyncSession, *, imei: str | None, serial: str | None) -> None:
    if imei is not None:
        existing = await session.scalar(select(Device.id).where(Device.imei == imei))
        if existing is not None:
            raise _duplicate_error(imei, None, existing)
    if serial is not None:
        existing = await session.scalar(select(Device.id).where(Device.serial == serial))
        if existing is not None:
            raise _duplicate_error(None, serial, existing)


def _duplicate_error(
    imei: str | None, serial: str | None, existing_id: int | None = None
) -> DomainError:
    if imei is not None:
        return DomainError(
            ErrorCode.DUPLICATE_IMEI,
            f"A device with IMEI {imei} was already received.",
            field="imei",
            existing_id=existing_id,
        )
    return DomainError(
        ErrorCode.DUPLICATE_SERIAL,
        f"A device with serial {serial} was already received.",
        field="serial",
        existing_id=existing_id,
    )


def _conditions(device_filter: DeviceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if device_filter.statuses:
        conditions.append(Device.status.in_(device_filter.statuses))
    if device_filter.client_id is not None:
        conditions.append(Device.client_id == device_filter.client_id)
    if device_filter.lot_id is not None:
        conditions.append(Device.lot_id == device_filter.lot_id)
    if device_filter.make:
        conditions.append(func.lower(Device.make) == device_filter.make.strip().lower())
    if device_filter.search:
        pattern = f"%{device_filter.search.strip().lower()}%"
        conditions.append(
            func.lower(Device.model).like(pattern)
            | func.lower(Device.make).like(pattern)
            | Device.imei.like(pattern)
            | func.lower(Device.serial).like(pattern)
        )
    return conditions


async def list_devices(
    session: AsyncSession, device_filter: DeviceFilter, *, after: list[Any] | None, limit: int
) -> Page[Device]:
    """One page of devices in intake order, and how many match the filter."""
    statement = select(Device).where(*_conditions(device_filter))
    return await paginate(session, statement, id_column=Device.id, after=after, limit=limit)
