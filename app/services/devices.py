"""Warehouse intake and device look-ups, with who may see which device.

Visibility (DOMAIN.md's parties table): operators see every device, a client only its own,
a buyer no device list at all (buyers see devices through listings), nobody signed in nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.identifiers import normalize_imei, normalize_serial
from app.domain.statuses import CosmeticGrade, DeviceStatus, LotStatus, OrganizationKind
from app.models import Device, Grade, Lot, Organization
from app.services.events import append_event, client_audience
from app.services.idempotency import run_once
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
class CleanDevice:
    """A device's identity and specs after validation: what intake writes."""

    imei: str | None
    serial: str | None
    make: str
    model: str
    storage_gb: int | None
    colour: str | None
    location: str | None


class DeviceSort(StrEnum):
    OLDEST = "OLDEST"
    """Intake order: received first, first (the default)."""
    NEWEST = "NEWEST"
    MAKE_MODEL = "MAKE_MODEL"
    """Alphabetical by make, then model, then intake order."""


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    statuses: tuple[DeviceStatus, ...] = ()
    client_id: int | None = None
    lot_id: int | None = None
    make: str | None = None
    model: str | None = None
    storage_gb: int | None = None
    grades: tuple[CosmeticGrade, ...] = ()
    """Cosmetic grade of the current grade; ungraded devices never match."""
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


def _optional_text(value: str | None, field: str, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _clean_text(value, field, max_length)


def clean_device(
    *,
    make: str,
    model: str,
    imei: str | None = None,
    serial: str | None = None,
    storage_gb: int | None = None,
    colour: str | None = None,
    location: str | None = None,
) -> CleanDevice:
    """Validate a device's identity and specs before anything is written."""
    clean_imei = normalize_imei(imei) if imei else None
    clean_serial = normalize_serial(serial) if serial else None
    if clean_imei is None and clean_serial is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A device needs an IMEI or a serial number.", field="imei"
        )
    clean_make = _clean_text(make, "make", 100)
    clean_model = _clean_text(model, "model", 200)
    if storage_gb is not None and not 0 < storage_gb <= 65536:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Storage must be between 1 and 65536 GB.", field="storageGb"
        )
    return CleanDevice(
        imei=clean_imei,
        serial=clean_serial,
        make=clean_make,
        model=clean_model,
        storage_gb=storage_gb,
        colour=_optional_text(colour, "colour", 50),
        location=_optional_text(location, "location", 50),
    )


def new_device(clean: CleanDevice, *, client_id: int, lot_id: int | None) -> Device:
    return Device(
        imei=clean.imei,
        serial=clean.serial,
        make=clean.make,
        model=clean.model,
        storage_gb=clean.storage_gb,
        colour=clean.colour,
        client_id=client_id,
        lot_id=lot_id,
        location=clean.location,
        status=DeviceStatus.RECEIVED,
    )


def append_received(session: AsyncSession, device: Device, *, actor: str) -> None:
    """The ``device.received`` event of a flushed device: the operator and its client see it."""
    append_event(
        session,
        type="device.received",
        entity_type="Device",
        entity_id=device.id,
        entity_version=device.version,
        changes={
            "status": device.status,
            "imei": device.imei,
            "serial": device.serial,
            "make": device.make,
            "model": device.model,
            "lotId": device.lot_id,
        },
        audiences=[client_audience(device.client_id)],
        actor=actor,
    )


async def receive_device(
    sessions: async_sessionmaker[AsyncSession],
    intake: DeviceIntake,
    *,
    actor: str,
    idempotency_key: str | None = None,
) -> Device:
    """Record a device arriving at the warehouse, validated before anything is written.

    ``actor`` is the actor's ref: it is also the idempotency scope (rule 8). A retry with the
    same key and intake returns the first device instead of a DUPLICATE_IMEI refusal.
    """
    clean = clean_device(
        make=intake.make,
        model=intake.model,
        imei=intake.imei,
        serial=intake.serial,
        storage_gb=intake.storage_gb,
        colour=intake.colour,
        location=intake.location,
    )

    async def work(session: AsyncSession) -> dict[str, Any]:
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
        await _refuse_duplicate(session, imei=clean.imei, serial=clean.serial)
        device = new_device(clean, client_id=client.id, lot_id=intake.lot_id)
        session.add(device)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Two intakes of one IMEI at the same moment: the unique index decides.
            raise duplicate_error(clean.imei, clean.serial) from exc
        append_received(session, device, actor=actor)
        return {"deviceId": device.id}

    result = await run_once(
        sessions,
        scope=actor,
        key=idempotency_key,
        operation="receiveDevice",
        request={
            "clientId": intake.client_id,
            "lotId": intake.lot_id,
            "imei": clean.imei,
            "serial": clean.serial,
            "make": clean.make,
            "model": clean.model,
            "storageGb": clean.storage_gb,
            "colour": clean.colour,
            "location": clean.location,
        },
        work=work,
    )
    async with sessions() as session:
        return await session.get_one(Device, int(result["deviceId"]))


async def _refuse_duplicate(session: AsyncSession, *, imei: str | None, serial: str | None) -> None:
    if imei is not None:
        existing = await session.scalar(select(Device.id).where(Device.imei == imei))
        if existing is not None:
            raise duplicate_error(imei, None, existing)
    if serial is not None:
        existing = await session.scalar(select(Device.id).where(Device.serial == serial))
        if existing is not None:
            raise duplicate_error(None, serial, existing)


def duplicate_error(
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


# --- Look-ups ------------------------------------------------------------------------------


def visibility(actor: Actor) -> list[ColumnElement[bool]]:
    """The rows of devices an actor may list, as conditions; refuse who may list none."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to see devices.")
    if actor.is_operator:
        return []
    if actor.is_client and actor.organization_id is not None:
        return [Device.client_id == actor.organization_id]
    raise DomainError(
        ErrorCode.FORBIDDEN, "Buyers see devices through listings, not the warehouse."
    )


def may_see(actor: Actor, device: Device) -> bool:
    """One device: operators, and the client that consigned it."""
    if actor.is_operator:
        return True
    return actor.is_client and actor.organization_id == device.client_id


def _conditions(device_filter: DeviceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if device_filter.statuses:
        conditions.append(Device.status.in_(device_filter.statuses))
    if device_filter.client_id is not None:
        conditions.append(Device.client_id == device_filter.client_id)
    if device_filter.lot_id is not None:
        conditions.append(Device.lot_id == device_filter.lot_id)
    if device_filter.make and device_filter.make.strip():
        conditions.append(func.lower(Device.make) == device_filter.make.strip().lower())
    if device_filter.model and device_filter.model.strip():
        conditions.append(func.lower(Device.model) == device_filter.model.strip().lower())
    if device_filter.storage_gb is not None:
        conditions.append(Device.storage_gb == device_filter.storage_gb)
    if device_filter.grades:
        current = select(Grade.id).where(Grade.cosmetic.in_(device_filter.grades))
        conditions.append(Device.current_grade_id.in_(current))
    if device_filter.search and device_filter.search.strip():
        pattern = f"%{device_filter.search.strip().lower()}%"
        conditions.append(
            func.lower(Device.model).like(pattern)
            | func.lower(Device.make).like(pattern)
            | Device.imei.like(pattern)
            | func.lower(Device.serial).like(pattern)
        )
    return conditions


async def get_device(session: AsyncSession, device_id: int, *, actor: Actor) -> Device | None:
    """The device, or None when it does not exist or the actor may not see it."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to see devices.")
    device = await session.get(Device, device_id)
    return device if device is not None and may_see(actor, device) else None


async def list_devices(
    session: AsyncSession,
    device_filter: DeviceFilter,
    *,
    after: list[Any] | None,
    limit: int,
    sort: DeviceSort = DeviceSort.OLDEST,
    actor: Actor | None = None,
) -> Page[Device]:
    """One page of devices and how many match the filter.

    With an ``actor`` only the rows it may see (see ``visibility``); without one, every row
    (for the system's own use).
    """
    scope = visibility(actor) if actor is not None else []
    statement = select(Device).where(*scope, *_conditions(device_filter))
    if sort is DeviceSort.MAKE_MODEL:
        return await _paginate_columns(
            session, statement, (Device.make, Device.model), after=after, limit=limit
        )
    return await paginate(
        session,
        statement,
        id_column=Device.id,
        sort=Device.received_at,
        descending=sort is DeviceSort.NEWEST,
        after=after,
        limit=limit,
    )


async def _paginate_columns(
    session: AsyncSession,
    statement: Select[Any],
    columns: tuple[InstrumentedAttribute[str], ...],
    *,
    after: list[Any] | None,
    limit: int,
) -> Page[Device]:
    """Keyset pagination on several NOT NULL text columns and the id, ascending."""
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    page = statement
    if after is not None:
        if (
            len(after) != len(columns) + 1
            or not all(isinstance(value, str) for value in after[:-1])
            or not isinstance(after[-1], int)
        ):
            raise DomainError(
                ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field="after"
            )
        keyed: list[InstrumentedAttribute[Any]] = [*columns, Device.id]
        branches = [
            and_(
                *(keyed[j] == after[j] for j in range(i)),
                keyed[i] > after[i],
            )
            for i in range(len(keyed))
        ]
        page = page.where(or_(*branches))
    order = [column.asc() for column in columns] + [Device.id.asc()]
    rows = list((await session.scalars(page.order_by(*order).limit(limit + 1))).all())
    has_next = len(rows) > limit
    rows = rows[:limit]
    keys = [[*(getattr(row, column.key) for column in columns), row.id] for row in rows]
    return Page(rows=rows, keys=keys, has_next=has_next, total=int(total or 0))
