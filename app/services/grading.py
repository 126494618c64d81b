"""Testing devices: grades, quarantine and clearance.

Which statuses may be graded, and why:
- RECEIVED: the first test; the device becomes GRADED.
- GRADED: a re-test; a new grade becomes current, the status stays.
- AVAILABLE (listed): a re-test changes what every buyer sees at once (rule 5), so its event
  goes to the public board; a device that now fails (locked, blacklisted or not wiped) is
  delisted in the same transaction: listing WITHDRAWN, pending offers INVALIDATED, device
  back to GRADED.
- QUARANTINED: the test is recorded (the technician's findings are facts worth keeping) and
  the device stays QUARANTINED until it is cleared.
- RESERVED, SOLD, SHIPPED, DELIVERED: refused (INVALID_TRANSITION). A buyer has bought the
  device as it was graded; changing its grade under an order would change what was sold
  after the fact. A defect found then is a return or a claim, not a regrade.

A grade that finds the device locked or blacklisted stores those flags but does not
quarantine it by itself: quarantineDevice does that, with a reason.

Lock order (as in app.services.inventory): the device's open listing first, then the device;
``inventory.delist`` then selects the listing FOR UPDATE again, which this transaction holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    DEVICE_TRANSITIONS,
    BlacklistStatus,
    CosmeticGrade,
    DeviceStatus,
    LockStatus,
)
from app.domain.transitions import ensure_version
from app.models import Device, Grade, Listing
from app.services import inventory
from app.services.common import lock, record, transition
from app.services.idempotency import run_once

GRADABLE = (
    DeviceStatus.RECEIVED,
    DeviceStatus.GRADED,
    DeviceStatus.AVAILABLE,
    DeviceStatus.QUARANTINED,
)
MAX_CHECKS = 50


@dataclass(frozen=True, slots=True)
class GradeRequest:
    device_id: int
    cosmetic: CosmeticGrade
    functional_pass: bool
    data_wiped: bool
    failed_checks: tuple[str, ...] = ()
    battery_health_pct: int | None = None
    notes: str | None = None
    lock_status: LockStatus | None = None
    blacklist_status: BlacklistStatus | None = None


@dataclass(frozen=True, slots=True)
class Graded:
    device: Device
    grade: Grade
    delisted_listing_id: int | None
    """The listing withdrawn because the device now fails, if any."""


def fails(device: Device, grade: Grade) -> bool:
    """Rule 1 read backwards: what may not stay on sale (locked, blacklisted, not wiped)."""
    return (
        device.lock_status is LockStatus.LOCKED
        or device.blacklist_status is BlacklistStatus.BLACKLISTED
        or not grade.data_wiped
    )


def _clean_request(request: GradeRequest) -> tuple[list[str], str | None]:
    checks: list[str] = []
    for check in request.failed_checks:
        cleaned = check.strip()
        if not 1 <= len(cleaned) <= 100:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A failed check is named in 1 to 100 characters.",
                field="failedChecks",
            )
        if cleaned not in checks:
            checks.append(cleaned)
    if len(checks) > MAX_CHECKS:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"At most {MAX_CHECKS} failed checks.",
            field="failedChecks",
        )
    if request.functional_pass and checks:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A device that passes its functional test has no failed checks.",
            field="failedChecks",
        )
    if request.battery_health_pct is not None and not 0 <= request.battery_health_pct <= 100:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Battery health is a percentage from 0 to 100.",
            field="batteryHealthPct",
        )
    notes = request.notes.strip() if request.notes else None
    if notes is not None and len(notes) > 2000:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Notes have at most 2000 characters.", field="notes"
        )
    return checks, notes or None


async def _lock_listing_then_device(
    session: AsyncSession, device_id: int
) -> tuple[Listing | None, Device]:
    """The open listing (if any) is locked before the device, as everywhere else."""
    listing = await inventory.open_listing(session, device_id, for_update=True)
    device = await lock(session, Device, device_id, field="deviceId")
    if (
        listing is None
        and device.status is DeviceStatus.AVAILABLE
        and await inventory.open_listing(session, device_id) is not None
    ):
        # Listed between the two reads: locking the listing now would reverse the order.
        raise DomainError(
            ErrorCode.STALE,
            "The device was listed while it was being graded: reload and try again.",
            current_version=device.version,
        )
    return listing, device


def _user_id(actor: Actor) -> int | None:
    return actor.subject_id if actor.kind is ActorKind.USER else None


async def record_grade(
    sessions: async_sessionmaker[AsyncSession],
    request: GradeRequest,
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Graded:
    """Write a grade and make it the device's current one (see the module docstring)."""
    checks, notes = _clean_request(request)

    async def work(session: AsyncSession) -> dict[str, Any]:
        listing, device = await _lock_listing_then_device(session, request.device_id)
        ensure_version(entity="Device", expected=expected_version, actual=device.version)
        if device.status not in GRADABLE:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"A device that is {device.status.value} cannot be graded: it was sold as graded.",
                current_status=device.status.value,
                current_version=device.version,
            )
        grade = Grade(
            device_id=device.id,
            cosmetic=request.cosmetic,
            functional_pass=request.functional_pass,
            failed_checks=checks,
            battery_health_pct=request.battery_health_pct,
            data_wiped=request.data_wiped,
            notes=notes,
            graded_by_id=_user_id(actor),
        )
        session.add(grade)
        await session.flush()
        device.current_grade_id = grade.id
        if request.lock_status is not None:
            device.lock_status = request.lock_status
        if request.blacklist_status is not None:
            device.blacklist_status = request.blacklist_status
        if device.status is DeviceStatus.RECEIVED:
            transition(device, DEVICE_TRANSITIONS, DeviceStatus.GRADED)
        on_sale = device.status is DeviceStatus.AVAILABLE
        audiences = inventory.device_audiences(device)
        changes: dict[str, Any] = {
            "status": device.status,
            "gradeId": grade.id,
            "cosmetic": grade.cosmetic,
            "functionalPass": grade.functional_pass,
            "failedChecks": checks,
            "batteryHealthPct": grade.battery_health_pct,
            "dataWiped": grade.data_wiped,
            "lockStatus": device.lock_status,
            "blacklistStatus": device.blacklist_status,
        }
        if on_sale and listing is not None:
            # Rule 5: the board shows the grade of a listed device; the event says which
            # listing changed (and nothing about the client).
            audiences = [*audiences, *inventory.listing_audiences(listing)]
            changes["listingId"] = listing.id
        await record(
            session, device, "device.graded", actor=actor, audiences=audiences, changes=changes
        )
        delisted: int | None = None
        if on_sale and fails(device, grade):
            withdrawn = await inventory.delist(
                session, device, actor=actor, reason="The device failed a new grade."
            )
            delisted = withdrawn.id if withdrawn is not None else None
        return {"deviceId": device.id, "gradeId": grade.id, "delistedListingId": delisted}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="recordGrade",
        request={
            "deviceId": request.device_id,
            "cosmetic": request.cosmetic.value,
            "functionalPass": request.functional_pass,
            "failedChecks": checks,
            "batteryHealthPct": request.battery_health_pct,
            "dataWiped": request.data_wiped,
            "notes": notes,
            "lockStatus": request.lock_status,
            "blacklistStatus": request.blacklist_status,
            "expectedVersion": expected_version,
        },
        work=work,
    )
    async with sessions() as session:
        device = await session.get_one(Device, result["deviceId"])
        grade = await session.get_one(Grade, result["gradeId"])
    return Graded(device=device, grade=grade, delisted_listing_id=result["delistedListingId"])


# --- Quarantine ----------------------------------------------------------------------------


async def quarantine_device(
    sessions: async_sessionmaker[AsyncSession],
    device_id: int,
    *,
    lock_status: LockStatus | None,
    blacklist_status: BlacklistStatus | None,
    reason: str,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Device:
    """RECEIVED|GRADED -> QUARANTINED for a device found locked or blacklisted.

    At least one of the flags must say LOCKED or BLACKLISTED; the given flags are stored on
    the device, the reason goes into the ``device.quarantined`` event.
    """
    if lock_status is not LockStatus.LOCKED and blacklist_status is not BlacklistStatus.BLACKLISTED:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A device is quarantined because it is locked or blacklisted: say which.",
            field="lockStatus",
        )
    clean_reason = _reason(reason, required=True)

    async def work(session: AsyncSession) -> dict[str, Any]:
        device = await lock(session, Device, device_id, field="deviceId")
        transition(
            device, DEVICE_TRANSITIONS, DeviceStatus.QUARANTINED, expected_version=expected_version
        )
        if lock_status is not None:
            device.lock_status = lock_status
        if blacklist_status is not None:
            device.blacklist_status = blacklist_status
        await record(
            session,
            device,
            "device.quarantined",
            actor=actor,
            audiences=inventory.device_audiences(device),
            changes={
                "status": device.status,
                "lockStatus": device.lock_status,
                "blacklistStatus": device.blacklist_status,
                "reason": clean_reason,
            },
        )
        return {"deviceId": device.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="quarantineDevice",
        request={
            "deviceId": device_id,
            "lockStatus": lock_status,
            "blacklistStatus": blacklist_status,
            "reason": clean_reason,
            "expectedVersion": expected_version,
        },
        work=work,
    )
    return await _load_device(sessions, result["deviceId"])


async def clear_quarantine(
    sessions: async_sessionmaker[AsyncSession],
    device_id: int,
    *,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Device:
    """QUARANTINED -> GRADED: the caller states the device is now unlocked and clean.

    The device's flags become UNLOCKED and CLEAN. A device quarantined before its first grade
    is refused until a grade is recorded (GRADED means graded; rule 1 relies on it).
    """
    clean_reason = _reason(reason, required=False)

    async def work(session: AsyncSession) -> dict[str, Any]:
        device = await lock(session, Device, device_id, field="deviceId")
        ensure_version(entity="Device", expected=expected_version, actual=device.version)
        if device.status is not DeviceStatus.QUARANTINED:
            # RECEIVED -> GRADED is in the table, but it is grading, not clearing.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Only a quarantined device can be cleared; this one is {device.status.value}.",
                current_status=device.status.value,
                current_version=device.version,
            )
        if device.current_grade_id is None:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This device was never graded: record a grade before clearing it.",
                current_status=device.status.value,
                current_version=device.version,
            )
        transition(device, DEVICE_TRANSITIONS, DeviceStatus.GRADED)
        device.lock_status = LockStatus.UNLOCKED
        device.blacklist_status = BlacklistStatus.CLEAN
        await record(
            session,
            device,
            "device.cleared",
            actor=actor,
            audiences=inventory.device_audiences(device),
            changes={
                "status": device.status,
                "lockStatus": device.lock_status,
                "blacklistStatus": device.blacklist_status,
                "reason": clean_reason,
            },
        )
        return {"deviceId": device.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="clearQuarantine",
        request={
            "deviceId": device_id,
            "reason": clean_reason,
            "expectedVersion": expected_version,
        },
        work=work,
    )
    return await _load_device(sessions, result["deviceId"])


def _reason(reason: str | None, *, required: bool) -> str | None:
    cleaned = reason.strip() if reason else ""
    if required and not cleaned:
        raise DomainError(ErrorCode.INVALID_INPUT, "Give a reason.", field="reason")
    if len(cleaned) > 500:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A reason has at most 500 characters.", field="reason"
        )
    return cleaned or None


async def _load_device(sessions: async_sessionmaker[AsyncSession], device_id: int) -> Device:
    async with sessions() as session:
        return await session.get_one(Device, device_id)
