"""Grades, quarantine and clearance on SQLite and PostgreSQL, including rule 5 on a listed
device, and for every refusal: its code, and that nothing at all was written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor, system
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    BlacklistStatus,
    CosmeticGrade,
    DeviceStatus,
    ListingStatus,
    LockStatus,
    OfferStatus,
)
from app.models import Device, Grade, Listing, Offer, Organization
from app.services import grading, inventory
from app.services.grading import GradeRequest
from tests.support.auth import Person, sign_in_as
from tests.support.events import events_after, kinds, last_event_id, reload
from tests.support.factories import create_client
from tests.support.warehouse import create_device, put_on_sale, snapshot

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def client(sessions: Sessions) -> Organization:
    return await create_client(sessions)


@pytest.fixture
async def grader(sessions: Sessions) -> Person:
    return await sign_in_as(sessions)


def request(device_id: int, **overrides: Any) -> GradeRequest:
    fields: dict[str, Any] = {
        "device_id": device_id,
        "cosmetic": CosmeticGrade.A,
        "functional_pass": True,
        "data_wiped": True,
        "battery_health_pct": 91,
        "notes": "Light scratch on the back.",
    }
    fields.update(overrides)
    return GradeRequest(**fields)


async def refused(sessions: Sessions, action: Awaitable[Any], code: ErrorCode) -> DomainError:
    """Run ``action``; it must fail with ``code`` and change nothing at all."""
    before = await snapshot(sessions)
    with pytest.raises(DomainError) as caught:
        await action
    assert caught.value.code is code, caught.value
    assert await snapshot(sessions) == before, "a refused action must write nothing"
    return caught.value


# --- The lifecycle -------------------------------------------------------------------------


async def test_received_graded_quarantined_cleared(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    device = await create_device(sessions, client)
    assert (device.status, device.version) == (DeviceStatus.RECEIVED, 1)
    start = await last_event_id(sessions)

    graded = await grading.record_grade(sessions, request(device.id), actor=grader.actor)
    assert graded.device.status is DeviceStatus.GRADED
    assert graded.device.current_grade_id == graded.grade.id
    assert graded.device.version == 2
    assert graded.grade.graded_by_id == grader.user.id
    assert graded.grade.cosmetic is CosmeticGrade.A
    assert graded.grade.failed_checks == []
    assert graded.delisted_listing_id is None

    quarantined = await grading.quarantine_device(
        sessions,
        device.id,
        lock_status=LockStatus.LOCKED,
        blacklist_status=None,
        reason="iCloud lock found",
        actor=grader.actor,
        expected_version=2,
    )
    assert quarantined.status is DeviceStatus.QUARANTINED
    assert quarantined.lock_status is LockStatus.LOCKED
    assert quarantined.blacklist_status is BlacklistStatus.CLEAN
    assert quarantined.version == 3

    cleared = await grading.clear_quarantine(
        sessions, device.id, actor=grader.actor, reason="Client removed the lock"
    )
    assert cleared.status is DeviceStatus.GRADED
    assert (cleared.lock_status, cleared.blacklist_status) == (
        LockStatus.UNLOCKED,
        BlacklistStatus.CLEAN,
    )
    assert cleared.version == 4
    assert cleared.current_grade_id == graded.grade.id

    events = await events_after(sessions, start)
    assert kinds(events) == [
        ("device.graded", "Device", device.id),
        ("device.quarantined", "Device", device.id),
        ("device.cleared", "Device", device.id),
    ]
    assert [event.entity_version for event in events] == [2, 3, 4]
    for event in events:
        assert sorted(event.audiences) == ["client:" + str(client.id), "operator"]
        assert event.actor == f"user:{grader.user.id}"
    graded_event, quarantined_event, cleared_event = events
    assert graded_event.changes["status"] == "GRADED"
    assert graded_event.changes["cosmetic"] == "A"
    assert graded_event.changes["gradeId"] == graded.grade.id
    assert "listingId" not in graded_event.changes
    assert quarantined_event.changes == {
        "status": "QUARANTINED",
        "lockStatus": "LOCKED",
        "blacklistStatus": "CLEAN",
        "reason": "iCloud lock found",
    }
    assert cleared_event.changes["status"] == "GRADED"
    assert cleared_event.changes["lockStatus"] == "UNLOCKED"


async def test_regrading_a_graded_device_writes_a_new_current_grade(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    device = await create_device(sessions, client)
    first = await grading.record_grade(sessions, request(device.id), actor=grader.actor)
    second = await grading.record_grade(
        sessions,
        request(
            device.id,
            cosmetic=CosmeticGrade.C,
            functional_pass=False,
            failed_checks=(" camera ", "speaker", "camera"),
        ),
        actor=system("test"),
        expected_version=first.device.version,
    )
    assert second.device.status is DeviceStatus.GRADED
    assert second.device.current_grade_id == second.grade.id != first.grade.id
    assert second.grade.failed_checks == ["camera", "speaker"]
    assert second.grade.graded_by_id is None  # not a user
    async with sessions() as session:
        grades = list(await session.scalars(select(Grade).where(Grade.device_id == device.id)))
    assert len(grades) == 2


async def test_a_quarantined_device_can_be_graded_and_stays_quarantined(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    """Quarantined on arrival, before any grade: clearing needs a grade first."""
    device = await create_device(sessions, client)
    await grading.quarantine_device(
        sessions,
        device.id,
        lock_status=None,
        blacklist_status=BlacklistStatus.BLACKLISTED,
        reason="Reported stolen",
        actor=grader.actor,
    )
    error = await refused(
        sessions,
        grading.clear_quarantine(sessions, device.id, actor=grader.actor),
        ErrorCode.INVALID_TRANSITION,
    )
    assert error.facts["current_status"] == "QUARANTINED"

    graded = await grading.record_grade(sessions, request(device.id), actor=grader.actor)
    assert graded.device.status is DeviceStatus.QUARANTINED
    assert graded.device.blacklist_status is BlacklistStatus.BLACKLISTED
    cleared = await grading.clear_quarantine(sessions, device.id, actor=grader.actor)
    assert cleared.status is DeviceStatus.GRADED
    assert cleared.blacklist_status is BlacklistStatus.CLEAN


# --- Rule 5: a listed device ---------------------------------------------------------------


async def test_regrade_of_a_listed_device_reaches_the_board(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    device = await create_device(sessions, client, status=DeviceStatus.GRADED)
    on_sale = await put_on_sale(sessions, device.id)
    start = await last_event_id(sessions)

    graded = await grading.record_grade(
        sessions, request(device.id, cosmetic=CosmeticGrade.B), actor=grader.actor
    )

    assert graded.device.status is DeviceStatus.AVAILABLE
    assert graded.delisted_listing_id is None
    [event] = await events_after(sessions, start)
    assert (event.type, event.entity_id) == ("device.graded", device.id)
    assert "public" in event.audiences
    assert event.changes["listingId"] == on_sale.listing_id
    assert event.changes["cosmetic"] == "B"
    assert event.changes["status"] == "AVAILABLE"
    assert "clientId" not in event.changes
    assert "notes" not in event.changes
    listing = await reload(sessions, Listing, on_sale.listing_id)
    assert listing.status is ListingStatus.ACTIVE
    for offer_id in on_sale.offer_ids:
        assert (await reload(sessions, Offer, offer_id)).status is OfferStatus.PENDING


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"data_wiped": False}, id="not-wiped"),
        pytest.param({"lock_status": LockStatus.LOCKED}, id="locked"),
        pytest.param({"blacklist_status": BlacklistStatus.BLACKLISTED}, id="blacklisted"),
    ],
)
async def test_a_listed_device_that_fails_is_delisted_in_the_same_transaction(
    sessions: Sessions, client: Organization, grader: Person, failure: dict[str, Any]
) -> None:
    device = await create_device(sessions, client, status=DeviceStatus.GRADED)
    on_sale = await put_on_sale(sessions, device.id, offers=2)
    start = await last_event_id(sessions)

    graded = await grading.record_grade(sessions, request(device.id, **failure), actor=grader.actor)

    assert graded.device.status is DeviceStatus.GRADED
    assert graded.delisted_listing_id == on_sale.listing_id
    listing = await reload(sessions, Listing, on_sale.listing_id)
    assert listing.status is ListingStatus.WITHDRAWN
    offers = [await reload(sessions, Offer, offer_id) for offer_id in on_sale.offer_ids]
    assert [offer.status for offer in offers] == [OfferStatus.INVALIDATED] * 2

    events = await events_after(sessions, start)
    assert kinds(events) == [
        ("device.graded", "Device", device.id),
        ("offer.invalidated", "Offer", on_sale.offer_ids[0]),
        ("offer.invalidated", "Offer", on_sale.offer_ids[1]),
        ("listing.withdrawn", "Listing", on_sale.listing_id),
        ("device.delisted", "Device", device.id),
    ]
    graded_event = events[0]
    assert "public" in graded_event.audiences
    assert graded_event.changes["listingId"] == on_sale.listing_id
    for offer, event in zip(offers, events[1:3], strict=True):
        assert f"buyer:{offer.buyer_id}" in event.audiences
    assert "public" in events[3].audiences
    assert events[4].changes["status"] == "GRADED"
    assert events[4].entity_version == graded.device.version


async def test_a_failure_while_delisting_rolls_the_grade_back(
    sessions: Sessions,
    client: Organization,
    grader: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Grade, events, listing and offers commit together or not at all."""
    device = await create_device(sessions, client, status=DeviceStatus.GRADED)
    await put_on_sale(sessions, device.id)
    original = inventory.delist

    async def delist_then_fail(session: AsyncSession, device: Device, **kwargs: Any) -> Any:
        await original(session, device, **kwargs)
        raise DomainError(ErrorCode.INVALID_INPUT, "injected after the delist")

    monkeypatch.setattr(inventory, "delist", delist_then_fail)
    await refused(
        sessions,
        grading.record_grade(sessions, request(device.id, data_wiped=False), actor=grader.actor),
        ErrorCode.INVALID_INPUT,
    )


# --- Every action from every status ---------------------------------------------------------

Action = Callable[[Sessions, int, Actor], Awaitable[Any]]


async def _grade(sessions: Sessions, device_id: int, actor: Actor) -> Any:
    return await grading.record_grade(sessions, request(device_id), actor=actor)


async def _quarantine(sessions: Sessions, device_id: int, actor: Actor) -> Any:
    return await grading.quarantine_device(
        sessions,
        device_id,
        lock_status=LockStatus.LOCKED,
        blacklist_status=None,
        reason="locked",
        actor=actor,
    )


async def _clear(sessions: Sessions, device_id: int, actor: Actor) -> Any:
    return await grading.clear_quarantine(sessions, device_id, actor=actor)


ACTIONS: dict[str, tuple[Action, set[DeviceStatus], dict[DeviceStatus, DeviceStatus]]] = {
    "grade": (
        _grade,
        {
            DeviceStatus.RECEIVED,
            DeviceStatus.GRADED,
            DeviceStatus.AVAILABLE,
            DeviceStatus.QUARANTINED,
        },
        {DeviceStatus.RECEIVED: DeviceStatus.GRADED},
    ),
    "quarantine": (
        _quarantine,
        {DeviceStatus.RECEIVED, DeviceStatus.GRADED},
        {
            DeviceStatus.RECEIVED: DeviceStatus.QUARANTINED,
            DeviceStatus.GRADED: DeviceStatus.QUARANTINED,
        },
    ),
    "clear": (
        _clear,
        {DeviceStatus.QUARANTINED},
        {DeviceStatus.QUARANTINED: DeviceStatus.GRADED},
    ),
}


@pytest.mark.parametrize("status", list(DeviceStatus), ids=lambda status: status.value)
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_action_matrix(
    sessions: Sessions,
    client: Organization,
    grader: Person,
    action: str,
    status: DeviceStatus,
) -> None:
    run, allowed, moves = ACTIONS[action]
    device = await create_device(sessions, client, status=status)
    if status not in allowed:
        error = await refused(
            sessions, run(sessions, device.id, grader.actor), ErrorCode.INVALID_TRANSITION
        )
        assert error.facts["current_status"] == status.value
        assert error.facts["current_version"] == device.version
        return
    start = await last_event_id(sessions)
    await run(sessions, device.id, grader.actor)
    after = await reload(sessions, Device, device.id)
    assert after.status is moves.get(status, status)
    assert after.version > device.version
    assert len(await events_after(sessions, start)) == 1


# --- Refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_a_stale_version_is_refused(
    sessions: Sessions, client: Organization, grader: Person, action: str
) -> None:
    status = DeviceStatus.QUARANTINED if action == "clear" else DeviceStatus.GRADED
    device = await create_device(sessions, client, status=status)
    calls: dict[str, Callable[[int], Awaitable[Any]]] = {
        "grade": lambda version: grading.record_grade(
            sessions, request(device.id), actor=grader.actor, expected_version=version
        ),
        "quarantine": lambda version: grading.quarantine_device(
            sessions,
            device.id,
            lock_status=LockStatus.LOCKED,
            blacklist_status=None,
            reason="locked",
            actor=grader.actor,
            expected_version=version,
        ),
        "clear": lambda version: grading.clear_quarantine(
            sessions, device.id, actor=grader.actor, expected_version=version
        ),
    }
    error = await refused(sessions, calls[action](device.version - 1), ErrorCode.STALE)
    assert error.facts["current_version"] == device.version
    await calls[action](device.version)  # the version seen: accepted


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"battery_health_pct": 101}, "batteryHealthPct", id="battery"),
        pytest.param({"failed_checks": ("camera",)}, "failedChecks", id="pass-with-failures"),
        pytest.param(
            {"functional_pass": False, "failed_checks": ("  ",)}, "failedChecks", id="blank-check"
        ),
        pytest.param({"notes": "x" * 2001}, "notes", id="notes"),
    ],
)
async def test_invalid_grade_input_is_refused(
    sessions: Sessions,
    client: Organization,
    grader: Person,
    overrides: dict[str, Any],
    field: str,
) -> None:
    device = await create_device(sessions, client)
    error = await refused(
        sessions,
        grading.record_grade(sessions, request(device.id, **overrides), actor=grader.actor),
        ErrorCode.INVALID_INPUT,
    )
    assert error.facts["field"] == field


async def test_grading_an_unknown_device_is_not_found(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    await create_device(sessions, client)
    error = await refused(
        sessions,
        grading.record_grade(sessions, request(999_999), actor=grader.actor),
        ErrorCode.NOT_FOUND,
    )
    assert error.facts["field"] == "deviceId"


@pytest.mark.parametrize(
    ("lock", "blacklist", "reason", "field"),
    [
        pytest.param(None, None, "why", "lockStatus", id="no-flag"),
        pytest.param(LockStatus.UNLOCKED, BlacklistStatus.CLEAN, "why", "lockStatus", id="clean"),
        pytest.param(LockStatus.LOCKED, None, "   ", "reason", id="no-reason"),
    ],
)
async def test_quarantine_needs_a_lock_or_blacklist_and_a_reason(
    sessions: Sessions,
    client: Organization,
    grader: Person,
    lock: LockStatus | None,
    blacklist: BlacklistStatus | None,
    reason: str,
    field: str,
) -> None:
    device = await create_device(sessions, client, status=DeviceStatus.GRADED)
    error = await refused(
        sessions,
        grading.quarantine_device(
            sessions,
            device.id,
            lock_status=lock,
            blacklist_status=blacklist,
            reason=reason,
            actor=grader.actor,
        ),
        ErrorCode.INVALID_INPUT,
    )
    assert error.facts["field"] == field


# --- Idempotency ---------------------------------------------------------------------------


async def test_record_grade_replays_with_its_key(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    device = await create_device(sessions, client)
    first = await grading.record_grade(
        sessions, request(device.id), actor=grader.actor, idempotency_key="grade-1"
    )
    before = await snapshot(sessions)

    again = await grading.record_grade(
        sessions, request(device.id), actor=grader.actor, idempotency_key="grade-1"
    )
    assert again.grade.id == first.grade.id
    assert await snapshot(sessions) == before, "a replay does no work"

    await refused(
        sessions,
        grading.record_grade(
            sessions,
            request(device.id, cosmetic=CosmeticGrade.D),
            actor=grader.actor,
            idempotency_key="grade-1",
        ),
        ErrorCode.IDEMPOTENCY_CONFLICT,
    )


async def test_quarantine_replays_with_its_key(
    sessions: Sessions, client: Organization, grader: Person
) -> None:
    device = await create_device(sessions, client)

    async def quarantine() -> Device:
        return await grading.quarantine_device(
            sessions,
            device.id,
            lock_status=LockStatus.LOCKED,
            blacklist_status=None,
            reason="locked",
            actor=grader.actor,
            idempotency_key="q-1",
        )

    first = await quarantine()
    before = await snapshot(sessions)
    again = await quarantine()  # without the key this would be INVALID_TRANSITION
    assert (again.id, again.status) == (first.id, DeviceStatus.QUARANTINED)
    assert await snapshot(sessions) == before
