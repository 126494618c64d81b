"""Lots: inbound batches from a client, received as a whole and reconciled against the count.

OPEN -> RECEIVING -> RECONCILED -> CLOSED (``LOT_TRANSITIONS``). The received count is never
stored (rule 10): it is the number of device rows on the lot, so missing and extra units show
the moment a device is received (``app.services.lot_queries`` counts them and reads lots).

Receiving a batch is all or nothing: every item is validated (identifiers, specs, duplicates
within the batch and against devices already received) before anything is written, and if any
item is wrong the whole batch is refused with EVERY item's error and its index, so the
warehouse fixes them at once and sends the batch again. A half-received box is harder to
reconcile than a refused one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import LOT_TRANSITIONS, LotStatus, OrganizationKind
from app.domain.transitions import ensure_version
from app.models import Device, Lot, Organization
from app.services import devices as device_service
from app.services.common import lock, record, transition
from app.services.events import OPERATOR, client_audience
from app.services.idempotency import run_once
from app.services.lot_queries import counts

MAX_BATCH = 500
MAX_EXPECTED = 100_000
RECEIVABLE = (LotStatus.OPEN, LotStatus.RECEIVING)


@dataclass(frozen=True, slots=True)
class LotItem:
    """One device of a batch; its client and lot come from the lot."""

    make: str
    model: str
    imei: str | None = None
    serial: str | None = None
    storage_gb: int | None = None
    colour: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    error: DomainError


class BatchRefused(DomainError):
    """Some items of a batch are wrong: nothing was received. ``items`` says which and why."""

    def __init__(self, items: list[ItemError], total: int) -> None:
        super().__init__(
            ErrorCode.INVALID_INPUT,
            f"{len(items)} of {total} devices were refused, so none was received: "
            "fix them and send the batch again.",
            field="devices",
        )
        self.items = items


@dataclass(frozen=True, slots=True)
class Receipt:
    lot: Lot
    devices: list[Device]
    """In the order of the items sent."""


def lot_audiences(lot: Lot) -> list[str]:
    return [OPERATOR, client_audience(lot.client_id)]


# --- Create --------------------------------------------------------------------------------


async def create_lot(
    sessions: async_sessionmaker[AsyncSession],
    *,
    client_id: int,
    reference: str,
    expected_count: int,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Lot:
    """Open a lot for a client's inbound batch; the reference is unique per client."""
    clean_reference = reference.strip()
    if not 1 <= len(clean_reference) <= 100:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A reference has 1 to 100 characters.", field="reference"
        )
    if not 0 <= expected_count <= MAX_EXPECTED:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"The expected count is between 0 and {MAX_EXPECTED}.",
            field="expectedCount",
        )

    async def work(session: AsyncSession) -> dict[str, Any]:
        client = await session.get(Organization, client_id)
        if client is None or client.kind is not OrganizationKind.CLIENT:
            raise DomainError(ErrorCode.UNKNOWN_CLIENT, "No client has that id.", field="clientId")
        taken = await session.scalar(
            select(Lot.id).where(Lot.client_id == client.id, Lot.reference == clean_reference)
        )
        if taken is not None:
            raise _reference_taken(clean_reference)
        lot = Lot(
            client_id=client.id,
            reference=clean_reference,
            expected_count=expected_count,
            status=LotStatus.OPEN,
        )
        session.add(lot)
        try:
            await session.flush()
        except IntegrityError as exc:  # the same reference created at the same moment
            raise _reference_taken(clean_reference) from exc
        await record(
            session,
            lot,
            "lot.created",
            actor=actor,
            audiences=lot_audiences(lot),
            changes={
                "status": lot.status,
                "reference": lot.reference,
                "clientId": lot.client_id,
                "expectedCount": lot.expected_count,
            },
        )
        return {"lotId": lot.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="createLot",
        request={"clientId": client_id, "reference": clean_reference, "expected": expected_count},
        work=work,
    )
    return await _load_lot(sessions, result["lotId"])


def _reference_taken(reference: str) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_INPUT,
        f"This client already has a lot with reference {reference}.",
        field="reference",
    )


# --- Receive -------------------------------------------------------------------------------


Identity = tuple[str, str]
"""("imei", value) or ("serial", value)."""


def _identities(clean: device_service.CleanDevice) -> list[Identity]:
    found = [("imei", clean.imei), ("serial", clean.serial)]
    return [(kind, value) for kind, value in found if value is not None]


def _duplicate(identity: Identity, existing_id: int | None = None) -> DomainError:
    kind, value = identity
    imei, serial = (value, None) if kind == "imei" else (None, value)
    return device_service.duplicate_error(imei, serial, existing_id)


Cleaned = dict[int, device_service.CleanDevice]
"""The valid items of a batch by their index."""


def _clean_items(items: list[LotItem]) -> tuple[Cleaned, list[ItemError]]:
    """Every item validated on its own and against the earlier ones: the valid items by
    index, and the errors of the others."""
    if not 1 <= len(items) <= MAX_BATCH:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"A batch has 1 to {MAX_BATCH} devices.", field="devices"
        )
    errors: list[ItemError] = []
    cleaned: Cleaned = {}
    seen: dict[Identity, int] = {}
    for index, item in enumerate(items):
        try:
            clean = device_service.clean_device(**asdict(item))
        except DomainError as invalid:
            errors.append(ItemError(index, invalid))
            continue
        twin = next((key for key in _identities(clean) if key in seen), None)
        if twin is not None:
            twice = _duplicate(twin)
            twice.facts["duplicate_of_index"] = seen[twin]
            errors.append(ItemError(index, twice))
            continue
        seen.update({key: index for key in _identities(clean)})
        cleaned[index] = clean
    return cleaned, errors


async def _refuse_wrong_items(
    session: AsyncSession,
    cleaned: Cleaned,
    errors: list[ItemError],
    total: int,
) -> None:
    """Add the items whose IMEI or serial a received device has (one query per kind), then
    refuse the batch if any item is wrong."""
    taken: dict[Identity, int] = {}
    for kind, column in (("imei", Device.imei), ("serial", Device.serial)):
        values = [
            value for clean in cleaned.values() for k, value in _identities(clean) if k == kind
        ]
        if values:
            rows = await session.execute(select(column, Device.id).where(column.in_(values)))
            taken.update({(kind, str(value)): int(row_id) for value, row_id in rows.all()})
    for index, clean in cleaned.items():
        hit = next((key for key in _identities(clean) if key in taken), None)
        if hit is not None:
            errors.append(ItemError(index, _duplicate(hit, taken[hit])))
    if errors:
        raise BatchRefused(sorted(errors, key=lambda item: item.index), total)


async def receive_lot(
    sessions: async_sessionmaker[AsyncSession],
    lot_id: int,
    items: list[LotItem],
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Receive a batch into an OPEN or RECEIVING lot, in one transaction, all or nothing.

    Events: ``device.received`` per device, and one ``lot.devices_received`` with the new
    counts (and the status, when the first batch moves the lot OPEN -> RECEIVING).
    """
    cleaned, item_errors = _clean_items(items)

    async def work(session: AsyncSession) -> dict[str, Any]:
        lot = await lock(session, Lot, lot_id, field="lotId")
        ensure_version(entity="Lot", expected=expected_version, actual=lot.version)
        if lot.status not in RECEIVABLE:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Lot {lot.reference} is {lot.status.value}: it takes no more devices.",
                current_status=lot.status.value,
                current_version=lot.version,
            )
        await _refuse_wrong_items(session, cleaned, list(item_errors), len(items))
        devices = [
            device_service.new_device(clean, client_id=lot.client_id, lot_id=lot.id)
            for clean in cleaned.values()
        ]
        session.add_all(devices)
        started = lot.status is LotStatus.OPEN
        if started:
            transition(lot, LOT_TRANSITIONS, LotStatus.RECEIVING)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Another intake took one of these identifiers at the same moment.
            raise DomainError(
                ErrorCode.DUPLICATE_IMEI,
                "A device of this batch was received elsewhere at the same moment: "
                "send the batch again to see which.",
                field="devices",
            ) from exc
        for device in devices:
            device_service.append_received(session, device, actor=actor.ref)
        lot_counts = await counts(session, lot)
        changes: dict[str, Any] = {
            **({"status": lot.status} if started else {}),
            **lot_counts.changes(),
            "deviceIds": [device.id for device in devices],
        }
        await record(
            session,
            lot,
            "lot.devices_received",
            actor=actor,
            audiences=lot_audiences(lot),
            changes=changes,
        )
        return {"lotId": lot.id, "deviceIds": [device.id for device in devices]}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="receiveLot",
        request={
            "lotId": lot_id,
            "expectedVersion": expected_version,
            "devices": [asdict(item) for item in items],
        },
        work=work,
    )
    async with sessions() as session:
        lot = await session.get_one(Lot, result["lotId"])
        rows = await session.scalars(select(Device).where(Device.id.in_(result["deviceIds"])))
        by_id = {device.id: device for device in rows}
    return Receipt(lot=lot, devices=[by_id[device_id] for device_id in result["deviceIds"]])


# --- Reconcile and close -------------------------------------------------------------------


async def _move(
    sessions: async_sessionmaker[AsyncSession],
    lot_id: int,
    target: LotStatus,
    *,
    event_type: str,
    operation: str,
    actor: Actor,
    expected_version: int | None,
    idempotency_key: str | None,
) -> Lot:
    async def work(session: AsyncSession) -> dict[str, Any]:
        lot = await lock(session, Lot, lot_id, field="lotId")
        transition(lot, LOT_TRANSITIONS, target, expected_version=expected_version)
        lot_counts = await counts(session, lot)
        await record(
            session,
            lot,
            event_type,
            actor=actor,
            audiences=lot_audiences(lot),
            changes={
                "status": lot.status,
                "expectedCount": lot.expected_count,
                **lot_counts.changes(),
            },
        )
        return {"lotId": lot.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation=operation,
        request={"lotId": lot_id, "expectedVersion": expected_version},
        work=work,
    )
    return await _load_lot(sessions, result["lotId"])


async def reconcile_lot(
    sessions: async_sessionmaker[AsyncSession],
    lot_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Lot:
    """RECEIVING -> RECONCILED: the count is settled; missing and extra units are recorded in
    the ``lot.reconciled`` event. A reconciled lot takes no more devices."""
    return await _move(
        sessions,
        lot_id,
        LotStatus.RECONCILED,
        event_type="lot.reconciled",
        operation="reconcileLot",
        actor=actor,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )


async def close_lot(
    sessions: async_sessionmaker[AsyncSession],
    lot_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Lot:
    """RECONCILED -> CLOSED."""
    return await _move(
        sessions,
        lot_id,
        LotStatus.CLOSED,
        event_type="lot.closed",
        operation="closeLot",
        actor=actor,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )


async def _load_lot(sessions: async_sessionmaker[AsyncSession], lot_id: int) -> Lot:
    async with sessions() as session:
        return await session.get_one(Lot, lot_id)
