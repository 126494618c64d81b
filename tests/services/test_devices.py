"""Warehouse intake, on SQLite and PostgreSQL: what is written, and what a refusal leaves."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import DeviceStatus, LotStatus
from app.models import Device, Event, Lot, Organization
from app.services import devices as device_service
from app.services.devices import DeviceIntake
from tests.support.factories import (
    count_rows,
    create_buyer,
    create_client,
    create_lot,
    make_imei,
)

Sessions = async_sessionmaker[AsyncSession]
ACTOR = "user:test-warehouse"


@pytest.fixture
async def client(sessions: Sessions) -> Organization:
    return await create_client(sessions)


def intake(client: Organization, **overrides: Any) -> DeviceIntake:
    fields: dict[str, Any] = {
        "client_id": client.id,
        "make": "Apple",
        "model": "iPhone 12",
        "imei": "490154203237518",
        "storage_gb": 128,
        "colour": "Blue",
        "location": "A-01",
    }
    fields.update(overrides)
    return DeviceIntake(**fields)


async def test_receive_device_writes_device_and_one_event(
    sessions: Sessions, client: Organization
) -> None:
    device = await device_service.receive_device(
        sessions,
        intake(client, imei="49-015420-323751-8", serial="sn-0001", colour=" Blue "),
        actor=ACTOR,
    )

    assert device.id is not None
    async with sessions() as session:
        stored = await session.get_one(Device, device.id)
        events = list((await session.scalars(select(Event))).all())
    assert stored.status is DeviceStatus.RECEIVED
    assert stored.version == 1
    assert stored.imei == "490154203237518"
    assert stored.serial == "SN-0001"
    assert stored.colour == "Blue"
    assert stored.client_id == client.id
    assert stored.lot_id is None
    assert stored.current_grade_id is None
    assert stored.received_at.tzinfo is not None

    assert len(events) == 1
    [event] = events
    assert event.type == "device.received"
    assert event.entity_type == "Device"
    assert event.entity_id == device.id
    assert event.entity_version == 1
    assert event.actor == ACTOR
    assert "operator" in event.audiences
    assert f"client:{client.id}" in event.audiences
    assert not any(audience.startswith("buyer:") for audience in event.audiences)
    assert event.changes["status"] == "RECEIVED"
    assert event.changes["imei"] == "490154203237518"
    assert event.changes["serial"] == "SN-0001"


async def test_receive_device_with_serial_only(sessions: Sessions, client: Organization) -> None:
    device = await device_service.receive_device(
        sessions, intake(client, imei=None, serial="c02xk1abjg5h"), actor=ACTOR
    )
    assert device.imei is None
    assert device.serial == "C02XK1ABJG5H"
    assert await count_rows(sessions) == (1, 1)


async def test_first_device_moves_lot_from_open_to_receiving(
    sessions: Sessions, client: Organization
) -> None:
    lot = await create_lot(sessions, client)
    assert lot.status is LotStatus.OPEN

    first = await device_service.receive_device(
        sessions, intake(client, imei=make_imei(), lot_id=lot.id), actor=ACTOR
    )
    async with sessions() as session:
        after_first = await session.get_one(Lot, lot.id)
    assert after_first.status is LotStatus.RECEIVING
    assert after_first.version == lot.version + 1
    assert first.lot_id == lot.id

    await device_service.receive_device(
        sessions, intake(client, imei=make_imei(), lot_id=lot.id), actor=ACTOR
    )
    async with sessions() as session:
        after_second = await session.get_one(Lot, lot.id)
    assert after_second.status is LotStatus.RECEIVING
    assert after_second.version == after_first.version  # no transition, no new version
    assert await count_rows(sessions) == (2, 2)


async def _assert_refused(
    sessions: Sessions,
    device_intake: DeviceIntake,
    code: ErrorCode,
    field: str | None = None,
) -> DomainError:
    before = await count_rows(sessions)
    with pytest.raises(DomainError) as caught:
        await device_service.receive_device(sessions, device_intake, actor=ACTOR)
    assert caught.value.code is code, caught.value
    assert caught.value.facts.get("field") == field
    assert await count_rows(sessions) == before, "a refused intake must write nothing"
    return caught.value


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"imei": "490154203237519"}, ErrorCode.INVALID_IMEI, "imei", id="check-digit"),
        pytest.param({"imei": "49015420323751"}, ErrorCode.INVALID_IMEI, "imei", id="14-digits"),
        pytest.param({"imei": "4901542032375A8"}, ErrorCode.INVALID_IMEI, "imei", id="letter"),
        pytest.param({"imei": None, "serial": None}, ErrorCode.INVALID_INPUT, "imei", id="no-id"),
        pytest.param({"imei": None, "serial": "AB"}, ErrorCode.INVALID_INPUT, "serial", id="sn"),
        pytest.param({"make": "   "}, ErrorCode.INVALID_INPUT, "make", id="blank-make"),
        pytest.param({"model": "x" * 201}, ErrorCode.INVALID_INPUT, "model", id="long-model"),
        pytest.param({"storage_gb": 0}, ErrorCode.INVALID_INPUT, "storageGb", id="storage"),
    ],
)
async def test_invalid_input_is_refused_and_writes_nothing(
    sessions: Sessions,
    client: Organization,
    overrides: dict[str, Any],
    code: ErrorCode,
    field: str,
) -> None:
    await device_service.receive_device(sessions, intake(client, imei=make_imei()), actor=ACTOR)
    await _assert_refused(sessions, intake(client, **overrides), code, field)


async def test_duplicate_imei_is_refused(sessions: Sessions, client: Organization) -> None:
    first = await device_service.receive_device(sessions, intake(client), actor=ACTOR)
    error = await _assert_refused(
        sessions,
        # The same IMEI as typed by someone else: spaces, and another serial.
        intake(client, imei="490154 203237518", serial="OTHER-1"),
        ErrorCode.DUPLICATE_IMEI,
        "imei",
    )
    assert error.facts.get("existing_id") == first.id
    assert await count_rows(sessions) == (1, 1)


async def test_duplicate_serial_is_refused(sessions: Sessions, client: Organization) -> None:
    await device_service.receive_device(
        sessions, intake(client, imei=None, serial="SN-DUP-1"), actor=ACTOR
    )
    await _assert_refused(
        sessions,
        intake(client, imei=make_imei(), serial="sn-dup-1"),
        ErrorCode.DUPLICATE_SERIAL,
        "serial",
    )


async def test_unknown_client_id_is_refused(sessions: Sessions, client: Organization) -> None:
    await _assert_refused(
        sessions, intake(client, client_id=client.id + 1000), ErrorCode.UNKNOWN_CLIENT, "clientId"
    )


async def test_buyer_is_not_a_client(sessions: Sessions, client: Organization) -> None:
    buyer = await create_buyer(sessions)
    await _assert_refused(
        sessions, intake(client, client_id=buyer.id), ErrorCode.UNKNOWN_CLIENT, "clientId"
    )


async def test_unknown_lot_is_refused(sessions: Sessions, client: Organization) -> None:
    await _assert_refused(sessions, intake(client, lot_id=999_999), ErrorCode.UNKNOWN_LOT, "lotId")


async def test_lot_of_another_client_is_refused(sessions: Sessions, client: Organization) -> None:
    other = await create_client(sessions)
    lot = await create_lot(sessions, other)
    await _assert_refused(sessions, intake(client, lot_id=lot.id), ErrorCode.UNKNOWN_LOT, "lotId")
    async with sessions() as session:
        assert (await session.get_one(Lot, lot.id)).status is LotStatus.OPEN


@pytest.mark.parametrize("status", [LotStatus.RECONCILED, LotStatus.CLOSED])
async def test_closed_lot_takes_no_more_devices(
    sessions: Sessions, client: Organization, status: LotStatus
) -> None:
    lot = await create_lot(sessions, client, status=status)
    error = await _assert_refused(
        sessions, intake(client, lot_id=lot.id), ErrorCode.INVALID_TRANSITION
    )
    assert error.facts["current_status"] == status.value
    assert error.facts["current_version"] == lot.version


async def test_refusal_after_lot_change_rolls_the_lot_back(
    sessions: Sessions, client: Organization
) -> None:
    """The lot moves to RECEIVING in the same transaction, so a refusal undoes it."""
    await device_service.receive_device(sessions, intake(client), actor=ACTOR)
    lot = await create_lot(sessions, client)
    await _assert_refused(sessions, intake(client, lot_id=lot.id), ErrorCode.DUPLICATE_IMEI, "imei")
    async with sessions() as session:
        reloaded = await session.get_one(Lot, lot.id)
    assert reloaded.status is LotStatus.OPEN
    assert reloaded.version == lot.version


async def test_concurrent_intake_of_one_imei_admits_exactly_one(
    sessions: Sessions, client: Organization
) -> None:
    imei = make_imei()
    results = await asyncio.gather(
        *(
            device_service.receive_device(
                sessions, intake(client, imei=imei, serial=f"RACE-{n}"), actor=ACTOR
            )
            for n in range(2)
        ),
        return_exceptions=True,
    )

    devices = [result for result in results if isinstance(result, Device)]
    errors = [result for result in results if isinstance(result, BaseException)]
    assert len(devices) == 1, results
    assert len(errors) == 1, results
    assert isinstance(errors[0], DomainError), repr(errors[0])
    assert errors[0].code is ErrorCode.DUPLICATE_IMEI
    assert await count_rows(sessions) == (1, 1)
    async with sessions() as session:
        [event] = (await session.scalars(select(Event))).all()
    assert event.entity_id == devices[0].id


async def test_many_concurrent_intakes_of_one_imei(
    sessions: Sessions, client: Organization
) -> None:
    imei = make_imei()
    base = intake(client, imei=imei)
    results = await asyncio.gather(
        *(
            device_service.receive_device(
                sessions, dataclasses.replace(base, serial=f"RACE-{n}"), actor=ACTOR
            )
            for n in range(8)
        ),
        return_exceptions=True,
    )
    codes = sorted(
        result.code.value if isinstance(result, DomainError) else type(result).__name__
        for result in results
    )
    assert codes == ["DUPLICATE_IMEI"] * 7 + ["Device"]
    assert await count_rows(sessions) == (1, 1)
